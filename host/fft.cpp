#include <twofold/fft.hpp>
#include <twofold/math/fft_phase.hpp>

#include "host/fft_engine.hpp"
#include "host/for_each.hpp"

#include <cmath>

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

}  // namespace twofold
