#include <twofold/problem/simulate.hpp>

#include <twofold/core/buffer.hpp>
#include <twofold/core/error.hpp>

#include <cmath>
#include <string>

namespace twofold {

std::vector<cfloat> simulate_measurements(const context& ctx, const linear_operator& op, const_chain_view x,
                                          double sigma_y, const rng_stream& noise) {
  TWOFOLD_EXPECTS(std::isfinite(sigma_y) && sigma_y >= 0,
                  "simulated measurements: sigma must be finite and >= 0 (got " + std::to_string(sigma_y) + ")");
  TWOFOLD_EXPECTS(x.shape == op.domain(), "simulated measurements: x is " + to_string(x.shape) +
                                              ", the operator's domain is " + to_string(op.domain()));
  chain_buffer y(ctx, x.chains, op.codomain());
  op.apply(ctx, x, y.view());
  auto out = to_host(ctx, y.storage);
  const std::size_t m = op.codomain().pixels();
  for (std::size_t i = 0; i < out.size(); ++i) out[i] += float(sigma_y) * noise.normal(i / m, i % m);
  return out;
}

std::vector<cfloat> simulate_measurements(const context& ctx, const linear_operator& op, std::span<const cfloat> x,
                                          double sigma_y, field values, std::uint64_t seed) {
  TWOFOLD_EXPECTS(x.size() == op.domain().pixels(), "simulated measurements: x has " + std::to_string(x.size()) +
                                                        " values, the operator's domain " +
                                                        std::to_string(op.domain().pixels()));
  const auto image = to_backend(ctx, x, 1, op.domain());
  return simulate_measurements(ctx, op, image.view(), sigma_y,
                               rng_stream{seed, 0, 0, rng_purpose::measurement_noise, 0, values == field::real});
}

}  // namespace twofold
