#include <twofold/core/fft.hpp>
#include "host/math/fft_phase.hpp"

#include "host/backend/fft_engine.hpp"
#include "host/backend/for_each.hpp"

#include <twofold/core/error.hpp>

#include <cmath>
#include <numbers>
#include <vector>

namespace twofold {

void fft2c(const context& ctx, chain_view x, fft_direction dir) {
  if (x.size() == 0) return;
  const int sign = dir == fft_direction::forward ? 1 : -1;
  const double scale = 1.0 / std::sqrt(static_cast<double>(x.shape.plane()));
  const std::size_t H = x.shape.height, W = x.shape.width;
  detail::for_each(ctx, x.size(), math::centred_fft_phase{x.data, H, W, sign, false, 1.0});
  ctx.fft().transform(x.data, x.chains * x.shape.coils, image_shape{H, W}, dir);
  detail::for_each(ctx, x.size(), math::centred_fft_phase{x.data, H, W, sign, true, scale});
}

std::vector<cdouble> centred_dft_matrix(std::size_t n) {
  TWOFOLD_EXPECTS(n > 0, "n: the DFT size must be positive");
  const long long nn = static_cast<long long>(n), c = nn / 2;
  const double scale = 1.0 / std::sqrt(static_cast<double>(n));
  std::vector<cdouble> f(n * n);
  for (long long k = 0; k < nn; ++k)
    for (long long j = 0; j < nn; ++j) {
      const long long t = (((k - c) * (j - c)) % nn + nn) % nn;
      const double phase = -2.0 * std::numbers::pi * static_cast<double>(t) / static_cast<double>(nn);
      f[static_cast<std::size_t>(k * nn + j)] = {scale * std::cos(phase), scale * std::sin(phase)};
    }
  return f;
}

}  // namespace twofold
