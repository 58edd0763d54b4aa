#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/problem/inverse_problem.hpp>

#include "host/backend/for_each.hpp"

#include <cmath>
#include <string>

namespace twofold {

inverse_problem::inverse_problem(const context& ctx, std::shared_ptr<const linear_operator> op,
                                 std::span<const cfloat> measurements, double sigma_y, field values,
                                 std::size_t sets)
    : op_(std::move(op)), sigma_y_(sigma_y), field_(values), sets_(sets) {
  TWOFOLD_EXPECTS(op_ != nullptr, "inverse problem needs an operator");
  TWOFOLD_EXPECTS(std::isfinite(sigma_y) && sigma_y > 0,
                  "sigma_y must be finite and > 0 (got " + std::to_string(sigma_y) + ")");
  TWOFOLD_EXPECTS(sets >= 1, "an inverse problem needs at least one measurement set");
  const image_shape m = op_->codomain();
  TWOFOLD_EXPECTS(measurements.size() == sets * m.pixels(),
                  "measurements have " + std::to_string(measurements.size()) + " values, the operator expects " +
                      (sets > 1 ? std::to_string(sets) + " sets of " : std::string()) + to_string(m) + " = " +
                      std::to_string(sets * m.pixels()));
  for (std::size_t i = 0; i < measurements.size(); ++i) {
    TWOFOLD_EXPECTS(is_finite(measurements[i]),
                    "measurements contain a non-finite value at flat index " + std::to_string(i));
    TWOFOLD_EXPECTS(values == field::complex || measurements[i].im == 0.0f,
                    "measurements of a real problem have a non-zero imaginary part at flat index " + std::to_string(i));
  }
  // Entries that A maps every image to exactly 0 (unsampled k-space, unobserved
  // pixels) are not measurements: found once with a white probe, set to 0, so that
  // residuals ‖A x − y‖ and Aᴴy see only what A measures.
  chain_buffer probe(ctx, 1, op_->domain()), reach(ctx, 1, m);
  detail::for_each(ctx, probe.view().size(),
                   math::scaled_normal{probe.view().data, {}, probe.view().size(), 1.0f,
                                       rng_stream{0, 0, 0, rng_purpose::operator_probe, 1, false}});
  op_->apply(ctx, probe.view(), reach.view());
  const std::vector<cfloat> reached = to_host(ctx, reach.storage);
  y_host_.assign(measurements.begin(), measurements.end());
  measured_.resize(m.pixels());
  for (std::size_t i = 0; i < m.pixels(); ++i) measured_[i] = reached[i] == cfloat{} ? 0 : 1;
  for (const std::uint8_t r : measured_) measured_entries_ += r;
  for (std::size_t i = 0; i < y_host_.size(); ++i)
    if (reached[i % m.pixels()] == cfloat{}) y_host_[i] = cfloat{};
  chain_buffer y(ctx, sets, m), aty(ctx, sets, op_->domain());
  detail::copy_bytes(ctx, y.storage.data(), y_host_.data(), y_host_.size() * sizeof(cfloat));
  op_->adjoint(ctx, y.view(), aty.view());
  aty_host_ = to_host(ctx, aty.storage);
  y_ = std::move(y.storage);
  aty_ = std::move(aty.storage);
}

inverse_problem inverse_problem::measurement_set(const context& ctx, std::size_t r) const {
  TWOFOLD_EXPECTS(r < sets_, "measurement set " + std::to_string(r) + " requested, the problem has " +
                                 std::to_string(sets_));
  const std::size_t M = op_->codomain().pixels(), N = shape().pixels();
  inverse_problem one;
  one.op_ = op_;
  one.sigma_y_ = sigma_y_;
  one.field_ = field_;
  one.measured_entries_ = measured_entries_;
  one.measured_ = measured_;
  one.y_host_.assign(y_host_.begin() + std::ptrdiff_t(r * M), y_host_.begin() + std::ptrdiff_t((r + 1) * M));
  one.aty_host_.assign(aty_host_.begin() + std::ptrdiff_t(r * N), aty_host_.begin() + std::ptrdiff_t((r + 1) * N));
  one.y_ = to_backend(ctx, std::span<const cfloat>(one.y_host_));
  one.aty_ = to_backend(ctx, std::span<const cfloat>(one.aty_host_));
  return one;
}

void inverse_problem::check_sets(std::size_t runs) const {
  TWOFOLD_EXPECTS(sets_ == 1 || sets_ == runs, "the problem has " + std::to_string(sets_) +
                                                   " measurement sets; a design over them needs runs = " +
                                                   std::to_string(sets_) + " (got " + std::to_string(runs) + ")");
}

}  // namespace twofold
