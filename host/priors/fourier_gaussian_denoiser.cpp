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
  grow_to(ctx, images.mean_image, N);
  grow_to(ctx, images.shrink_map, N);
  const chain_view mean_term{images.mean_image.data(), 1, shape};
  for_each(ctx, N, math::shrunk_mean{mean_term.data, mean_kspace, variance, s * s});
  fft2c(ctx, mean_term, fft_direction::inverse);
  for_each(ctx, N,
           math::raw_order_shrink_map{images.shrink_map.data(), variance, shape.height, shape.width, s * s,
                                      1.0 / double(N)});
  ctx.fft().transform(z.data, out.data, z.chains, shape, fft_direction::forward);
  for_each(ctx, out.size(), math::multiply_by_map{out.data, images.shrink_map.data(), N});
  ctx.fft().transform(out.data, z.chains, shape, fft_direction::inverse);
  for_each(ctx, out.size(), math::add_run_data{out.data, {mean_term.data, N}, 1.0f, N});
}

}  // namespace twofold::detail
