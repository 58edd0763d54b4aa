#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/gaussian.hpp"
#include <twofold/priors/gaussian.hpp>

#include "host/backend/for_each.hpp"
#include "host/priors/fourier_gaussian_denoiser.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {
namespace {

std::vector<cfloat> to_fourier(const context& ctx, image_shape shape, std::span<const cfloat> image) {
  chain_buffer k(ctx, 1, shape);
  detail::copy_bytes(ctx, k.storage.data(), image.data(), image.size_bytes());
  fft2c(ctx, k.view(), fft_direction::forward);
  return to_host(ctx, k.storage);
}

}  // namespace

gaussian_prior::gaussian_prior(const context& ctx, gaussian_basis basis, image_shape shape,
                               std::span<const cfloat> mean, std::span<const float> variance)
    : gaussian_prior(ctx, basis, shape, mean, variance, false) {}

gaussian_prior gaussian_prior::degenerate(const context& ctx, gaussian_basis basis, image_shape shape,
                                          std::span<const cfloat> mean, std::span<const float> variance) {
  return gaussian_prior(ctx, basis, shape, mean, variance, true);
}

gaussian_prior::gaussian_prior(const context& ctx, gaussian_basis basis, image_shape shape,
                               std::span<const cfloat> mean, std::span<const float> variance, bool allow_zero)
    : basis_(basis), shape_(shape), mean_host_(mean.begin(), mean.end()), variance_host_(variance.begin(), variance.end()) {
  const std::string n = std::to_string(shape.pixels());
  TWOFOLD_EXPECTS(shape.pixels() > 0, "prior image shape must be non-empty");
  TWOFOLD_EXPECTS(mean.size() == shape.pixels(),
                  "prior mean has " + std::to_string(mean.size()) + " values, expected H*W = " + n);
  TWOFOLD_EXPECTS(variance.size() == shape.pixels(),
                  "prior variance has " + std::to_string(variance.size()) + " values, expected H*W = " + n);
  for (std::size_t i = 0; i < mean.size(); ++i)
    TWOFOLD_EXPECTS(is_finite(mean[i]), "prior mean is not finite at index " + std::to_string(i));
  for (std::size_t i = 0; i < variance.size(); ++i)
    TWOFOLD_EXPECTS(std::isfinite(variance[i]) && (variance[i] > 0 || (allow_zero && variance[i] == 0)),
                    "prior variance must be finite and > 0 (index " + std::to_string(i) + " is " +
                        std::to_string(variance[i]) + ")");
  std::vector<float> precision(variance.size());
  std::transform(variance.begin(), variance.end(), precision.begin(), [](float v) { return v > 0 ? 1.0f / v : 0.0f; });
  const std::vector<cfloat> basis_mean = basis == gaussian_basis::fourier ? to_fourier(ctx, shape, mean)
                                                                          : std::vector<cfloat>(mean.begin(), mean.end());
  mean_ = to_backend(ctx, std::span<const cfloat>(basis_mean));
  variance_ = to_backend(ctx, variance);
  precision_ = to_backend(ctx, std::span<const float>(precision));
}

void gaussian_prior::denoise(const context& ctx, const_chain_view z, double s, chain_view out) const {
  TWOFOLD_EXPECTS(z.shape == shape_ && out.shape == shape_ && z.chains == out.chains,
                  "denoiser input and output must be batches of the prior's image shape");
  const std::size_t N = shape_.pixels();
  if (basis_ == gaussian_basis::pixel) {
    detail::for_each(ctx, z.size(), math::gaussian_shrink{out.data, z.data, mean_.data(), variance_.data(), N, s * s});
    return;
  }
  const std::lock_guard hold(scratch_->lock);
  detail::fourier_gaussian_denoise(ctx, z, out, mean_.data(), variance_.data(), s, scratch_->images);
}

void gaussian_prior::vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const {
  TWOFOLD_EXPECTS(z.shape == shape_ && w.shape == shape_ && out.shape == shape_ && z.chains == w.chains &&
                      w.chains == out.chains,
                  "vjp: batches must have the prior's image shape and the same chain count");
  in_basis(ctx, w, out, [&](chain_view v) {
    return math::shrink_by_variance{v.data, variance_.data(), shape_.pixels(), s * s};
  });
}

void gaussian_prior::draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const {
  TWOFOLD_EXPECTS(u.shape == shape_, "prior draw: batch shape differs from the prior's");
  detail::for_each(ctx, u.size(), math::gaussian_draw{u.data, mean_.data(), variance_.data(), shape_.pixels(), s * s, rng});
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, u, fft_direction::inverse);
}

// Copies x to out, moves it to the basis where Σ is diagonal, runs one element-wise
// pass there, and moves back.
template <class F>
void gaussian_prior::in_basis(const context& ctx, const_chain_view x, chain_view out, F&& diagonal_pass) const {
  TWOFOLD_EXPECTS(x.shape == shape_ && out.shape == shape_ && x.chains == out.chains,
                  "prior operator: batch shape differs from the prior's");
  detail::copy_if_distinct(ctx, x, out);
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, out, fft_direction::forward);
  detail::for_each(ctx, out.size(), diagonal_pass(out));
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, out, fft_direction::inverse);
}

void gaussian_prior::apply_covariance(const context& ctx, const_chain_view x, chain_view out) const {
  in_basis(ctx, x, out, [&](chain_view v) { return math::multiply_by_map{v.data, variance_.data(), shape_.pixels()}; });
}

void gaussian_prior::apply_precision(const context& ctx, const_chain_view x, chain_view out) const {
  in_basis(ctx, x, out, [&](chain_view v) { return math::multiply_by_map{v.data, precision_.data(), shape_.pixels()}; });
}

void gaussian_prior::apply_regularised_covariance(const context& ctx, const_chain_view x, chain_view out,
                                                  double shift) const {
  TWOFOLD_EXPECTS(shift >= 0 && std::isfinite(shift), "covariance shift must be finite and >= 0");
  in_basis(ctx, x, out, [&](chain_view v) {
    return math::regularised_covariance{v.data, variance_.data(), shape_.pixels(), shift};
  });
}

gaussian_prior estimate_gaussian_prior(const context& ctx, gaussian_basis basis, image_shape shape,
                                       std::span<const cfloat> images, double relative_floor) {
  const std::size_t N = shape.pixels();
  TWOFOLD_EXPECTS(N > 0 && images.size() % N == 0,
                  "image stack size " + std::to_string(images.size()) + " is not a multiple of H*W = " + std::to_string(N));
  const std::size_t count = images.size() / N;
  TWOFOLD_EXPECTS(count >= 2, "estimating a prior needs at least 2 images (got " + std::to_string(count) + ")");
  TWOFOLD_EXPECTS(relative_floor >= 0 && std::isfinite(relative_floor), "variance floor must be finite and >= 0");
  for (std::size_t i = 0; i < images.size(); ++i)
    TWOFOLD_EXPECTS(is_finite(images[i]), "image stack is not finite at flat index " + std::to_string(i));

  std::vector<cdouble> mean(N);
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t p = 0; p < N; ++p) mean[p] += cdouble(images[k * N + p]);
  std::vector<cfloat> mean_f(N);
  for (std::size_t p = 0; p < N; ++p) mean_f[p] = cfloat(mean[p] * (1.0 / double(count)));

  std::vector<cfloat> deviations(images.size());
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t p = 0; p < N; ++p) deviations[k * N + p] = images[k * N + p] - mean_f[p];
  if (basis == gaussian_basis::fourier) {
    chain_buffer d(ctx, count, shape);
    detail::copy_bytes(ctx, d.storage.data(), deviations.data(), deviations.size() * sizeof(cfloat));
    fft2c(ctx, d.view(), fft_direction::forward);
    deviations = to_host(ctx, d.storage);
  }
  std::vector<double> var(N, 0.0);
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t p = 0; p < N; ++p) var[p] += norm2(cdouble(deviations[k * N + p]));
  const double largest = *std::max_element(var.begin(), var.end()) / double(count - 1);
  TWOFOLD_EXPECTS(largest > 0, "image stack has zero variance everywhere (all images identical)");
  std::vector<float> variance(N);
  for (std::size_t p = 0; p < N; ++p)
    variance[p] = static_cast<float>(var[p] / double(count - 1) + relative_floor * largest);
  return gaussian_prior(ctx, basis, shape, mean_f, variance);
}

}  // namespace twofold
