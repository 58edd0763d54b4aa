#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/gaussian.hpp"
#include <twofold/exact/fourier.hpp>

#include <cmath>

namespace twofold {

gaussian_posterior_maps fourier_posterior(const context& ctx, const gaussian_prior& prior,
                                          const fourier_mask_operator& op, std::span<const cfloat> kspace,
                                          double sigma_y) {
  TWOFOLD_EXPECTS(prior.basis() == gaussian_basis::fourier, "closed-form posterior needs a Fourier-basis prior");
  TWOFOLD_EXPECTS(prior.shape() == op.domain(), "prior and operator image shapes differ");
  TWOFOLD_EXPECTS(std::isfinite(sigma_y) && sigma_y > 0, "sigma_y must be finite and > 0");
  const image_shape shape = op.domain();
  const std::size_t N = shape.pixels();
  TWOFOLD_EXPECTS(kspace.size() == N, "k-space size differs from the operator's");

  chain_buffer work(ctx, 1, shape);
  detail::copy_bytes(ctx, work.storage.data(), prior.mean().data(), N * sizeof(cfloat));
  fft2c(ctx, work.view(), fft_direction::forward);
  const auto mu_k = to_host(ctx, work.storage);

  const double s2 = sigma_y * sigma_y;
  std::vector<cfloat> mean_k(N);
  double ambiguity = 0, estimation = 0;
  for (std::size_t k = 0; k < N; ++k) {
    const double a = op.mask()[k];
    const auto post = math::gaussian_coefficient_posterior(mu_k[k], prior.variance()[k], a, kspace[k], s2);
    mean_k[k] = cfloat(post.mean);
    if (a > 0) estimation += post.variance;
    else ambiguity += prior.variance()[k];
  }
  detail::copy_bytes(ctx, work.storage.data(), mean_k.data(), N * sizeof(cfloat));
  fft2c(ctx, work.view(), fft_direction::inverse);
  const auto mean = to_host(ctx, work.storage);

  gaussian_posterior_maps m;
  m.shape = shape;
  m.mean.resize(N);
  for (std::size_t p = 0; p < N; ++p) m.mean[p] = cdouble(mean[p]);
  m.ambiguity.assign(N, ambiguity / double(N));
  m.estimation.assign(N, estimation / double(N));
  m.variance.assign(N, (ambiguity + estimation) / double(N));
  m.range_variance = m.estimation;
  m.null_variance = m.ambiguity;
  return m;
}

}  // namespace twofold
