#include <twofold/error.hpp>
#include <twofold/problem.hpp>

#include <cmath>
#include <string>

namespace twofold {

inverse_problem::inverse_problem(const context& ctx, std::shared_ptr<const linear_operator> op,
                                 std::span<const cfloat> measurements, double sigma_y, field values)
    : op_(std::move(op)), sigma_y_(sigma_y), field_(values) {
  TWOFOLD_EXPECTS(op_ != nullptr, "inverse problem needs an operator");
  TWOFOLD_EXPECTS(std::isfinite(sigma_y) && sigma_y > 0,
                  "sigma_y must be finite and > 0 (got " + std::to_string(sigma_y) + ")");
  const image_shape m = op_->codomain();
  TWOFOLD_EXPECTS(measurements.size() == m.pixels(),
                  "measurements have " + std::to_string(measurements.size()) + " values, the operator expects " +
                      to_string(m) + " = " + std::to_string(m.pixels()));
  for (std::size_t i = 0; i < measurements.size(); ++i) {
    TWOFOLD_EXPECTS(is_finite(measurements[i]),
                    "measurements contain a non-finite value at flat index " + std::to_string(i));
    TWOFOLD_EXPECTS(values == field::complex || measurements[i].im == 0.0f,
                    "measurements of a real problem have a non-zero imaginary part at flat index " + std::to_string(i));
  }
  // Only Aᴴy enters the samplers, so entries outside A's range (unsampled k-space) drop out.
  chain_buffer y(ctx, 1, m), aty(ctx, 1, op_->domain());
  detail::copy_bytes(ctx, y.storage.data(), measurements.data(), measurements.size_bytes());
  op_->adjoint(ctx, y.view(), aty.view());
  y_host_.assign(measurements.begin(), measurements.end());
  aty_host_ = to_host(ctx, aty.storage);
  y_ = std::move(y.storage);
  aty_ = std::move(aty.storage);
}

}  // namespace twofold
