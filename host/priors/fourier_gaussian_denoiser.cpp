#include "host/priors/fourier_gaussian_denoiser.hpp"

#include <twofold/core/fft.hpp>

#include "host/backend/fft_engine.hpp"
#include "host/backend/for_each.hpp"
#include "host/math/elementwise.hpp"
#include "host/math/gaussian.hpp"

namespace twofold::detail {

std::shared_ptr<denoiser_scratch> make_denoiser_scratch() { return std::make_shared<denoiser_scratch>(); }

void fourier_gaussian_denoise(const context& ctx, const_chain_view z, chain_view out, const cfloat* mean_kspace,
                              const float* variance, double s, fourier_denoiser_images& images) {
  const image_shape shape = z.shape;
  const std::size_t N = shape.pixels();
  if (images.raw_mean.size() < N) {  // μ_raw = F m/N with m = F_cᴴ μ̃
    grow_to(ctx, images.raw_mean, N);
    copy_bytes(ctx, images.raw_mean.data(), mean_kspace, N * sizeof(cfloat));
    const chain_view mean{images.raw_mean.data(), 1, shape};
    fft2c(ctx, mean, fft_direction::inverse);
    ctx.fft().transform(mean.data, 1, shape, fft_direction::forward);
    for_each(ctx, N, math::scale_by{mean.data, static_cast<float>(1.0 / double(N))});
  }
  grow_to(ctx, images.shrink_map, N);
  grow_to(ctx, images.mean_term, N);
  for_each(ctx, N,
           math::raw_order_shrink_map{images.shrink_map.data(), images.mean_term.data(), images.raw_mean.data(),
                                      variance, shape.height, shape.width, s * s, 1.0 / double(N)});
  ctx.fft().transform(z.data, out.data, z.chains, shape, fft_direction::forward);
  for_each(ctx, out.size(), math::raw_order_denoise{out.data, images.shrink_map.data(), images.mean_term.data(), N});
  ctx.fft().transform(out.data, z.chains, shape, fft_direction::inverse);
}

}  // namespace twofold::detail
