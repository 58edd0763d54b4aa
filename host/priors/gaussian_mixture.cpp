#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/mixture.hpp"
#include <twofold/priors/gaussian_mixture.hpp>

#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <string>

namespace twofold {
namespace {

void check_batch(const_chain_view v, image_shape shape, const char* what) {
  TWOFOLD_EXPECTS(v.shape == shape, std::string(what) + ": batch shape " + to_string(v.shape) +
                                        " differs from the prior's " + to_string(shape));
}

}  // namespace

gaussian_mixture_prior::gaussian_mixture_prior(const context& ctx, gaussian_basis basis, image_shape shape,
                                               std::span<const double> weights, std::span<const cfloat> means,
                                               std::span<const float> variances, field values)
    : gaussian_mixture_prior(ctx, basis, shape, weights, means, variances, values, false) {}

gaussian_mixture_prior gaussian_mixture_prior::degenerate(const context& ctx, gaussian_basis basis, image_shape shape,
                                                          std::span<const double> weights,
                                                          std::span<const cfloat> means,
                                                          std::span<const float> variances, field values) {
  return gaussian_mixture_prior(ctx, basis, shape, weights, means, variances, values, true);
}

gaussian_mixture_prior::gaussian_mixture_prior(const context& ctx, gaussian_basis basis, image_shape shape,
                                               std::span<const double> weights, std::span<const cfloat> means,
                                               std::span<const float> variances, field values, bool allow_zero)
    : basis_(basis), shape_(shape), field_(values), weights_(weights.begin(), weights.end()),
      means_host_(means.begin(), means.end()), variances_host_(variances.begin(), variances.end()) {
  const std::size_t N = shape.pixels(), K = weights.size();
  TWOFOLD_EXPECTS(N > 0, "mixture prior image shape must be non-empty");
  TWOFOLD_EXPECTS(K >= 1, "a mixture prior needs at least one component");
  double total = 0;
  for (std::size_t k = 0; k < K; ++k) {
    TWOFOLD_EXPECTS(std::isfinite(weights[k]) && weights[k] >= 0,
                    "mixture weight " + std::to_string(k) + " must be finite and >= 0 (got " +
                        std::to_string(weights[k]) + ")");
    total += weights[k];
  }
  TWOFOLD_EXPECTS(std::abs(total - 1.0) <= 1e-6,
                  "mixture weights must sum to 1 (they sum to " + std::to_string(total) + ")");
  TWOFOLD_EXPECTS(means.size() == K * N, "mixture means have " + std::to_string(means.size()) +
                                             " values, expected components*H*W = " + std::to_string(K * N));
  TWOFOLD_EXPECTS(variances.size() == K * N, "mixture variances have " + std::to_string(variances.size()) +
                                                 " values, expected components*H*W = " + std::to_string(K * N));
  TWOFOLD_EXPECTS(values == field::complex || basis == gaussian_basis::pixel,
                  "a real-valued mixture prior needs the pixel basis (a Fourier-basis prior draws complex images)");
  for (std::size_t i = 0; i < K * N; ++i) {
    TWOFOLD_EXPECTS(is_finite(means[i]), "mixture mean of component " + std::to_string(i / N) +
                                             " is not finite at pixel " + std::to_string(i % N));
    TWOFOLD_EXPECTS(values == field::complex || means[i].im == 0.0f,
                    "a real-valued mixture prior needs real means (component " + std::to_string(i / N) + ")");
    TWOFOLD_EXPECTS(std::isfinite(variances[i]) && (variances[i] > 0 || (allow_zero && variances[i] == 0)),
                    "mixture variance of component " + std::to_string(i / N) + " must be finite and > 0 (index " +
                        std::to_string(i % N) + " is " + std::to_string(variances[i]) + ")");
  }
  constant_variance_.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    const auto v = variances.subspan(k * N, N);
    constant_variance_[k] = std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; });
  }
  chain_buffer m(ctx, K, shape);
  detail::copy_bytes(ctx, m.storage.data(), means.data(), means.size_bytes());
  if (basis == gaussian_basis::fourier) fft2c(ctx, m.view(), fft_direction::forward);
  means_ = std::move(m.storage);
  variances_ = to_backend(ctx, variances);
}

chain_buffer gaussian_mixture_prior::responsibilities_in_basis(const context& ctx, const_chain_view z, double s,
                                                               buffer<double>& r, double* log_total) const {
  const std::size_t N = shape_.pixels(), K = components(), C = z.chains;
  chain_buffer zb(ctx, C, shape_);
  detail::copy_bytes(ctx, zb.storage.data(), z.data, z.size() * sizeof(cfloat));
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, zb.view(), fft_direction::forward);

  const double s2 = s * s;
  chain_buffer scaled(ctx, C, shape_);
  buffer<cdouble> quadratic(ctx, K * C);
  std::vector<double> offset(K);
  for (std::size_t k = 0; k < K; ++k) {
    const float* v = variances_.data() + k * N;
    detail::for_each(ctx, zb.view().size(),
                     math::mixture_scaled_residual{scaled.view().data, zb.view().data, shared(k), v, N, s2});
    detail::batched_dot(ctx, scaled.view().data, scaled.view().data, C, N, quadratic.data() + k * C);
    double log_det = 0;
    if (constant_variance_[k]) {
      log_det = double(N) * std::log(double(variances_host_[k * N]) + s2);
    } else {
      for (std::size_t p = 0; p < N; ++p) log_det += std::log(double(variances_host_[k * N + p]) + s2);
    }
    offset[k] = std::log(weights_[k]) - kappa() * log_det;
    TWOFOLD_EXPECTS(std::isfinite(log_det), "mixture responsibilities at s = " + std::to_string(s) +
                                                " need every variance of component " + std::to_string(k) + " > 0");
  }
  const auto offsets = to_backend(ctx, std::span<const double>(offset));
  r = buffer<double>(ctx, K * C);
  detail::for_each(ctx, C,
                   math::mixture_responsibilities{r.data(), quadratic.data(), {offsets.data(), K}, K, C, kappa(), log_total});
  return zb;
}

void gaussian_mixture_prior::denoise(const context& ctx, const_chain_view z, double s, chain_view out) const {
  check_batch(z, shape_, "mixture denoiser input");
  check_batch(out, shape_, "mixture denoiser output");
  TWOFOLD_EXPECTS(z.chains == out.chains && s > 0, "mixture denoiser: chain counts differ or s <= 0");
  const std::size_t N = shape_.pixels(), C = z.chains;
  if (components() == 1) {  // a Gaussian: one shrink, no responsibilities
    detail::copy_if_distinct(ctx, z, out);
    if (basis_ == gaussian_basis::fourier) fft2c(ctx, out, fft_direction::forward);
    detail::for_each(ctx, out.size(), math::gaussian_shrink{out.data, out.data, means_.data(), variances_.data(), N, s * s});
    if (basis_ == gaussian_basis::fourier) fft2c(ctx, out, fft_direction::inverse);
    return;
  }
  buffer<double> r;
  const chain_buffer zb = responsibilities_in_basis(ctx, z, s, r);
  for (std::size_t k = 0; k < components(); ++k)
    detail::for_each(ctx, out.size(),
                     math::mixture_accumulate{out.data, zb.view().data, shared(k), variances_.data() + k * N,
                                              r.data() + k * C, N, s * s, k == 0});
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, out, fft_direction::inverse);
}

void gaussian_mixture_prior::vjp(const context& ctx, const_chain_view z, double s, const_chain_view w,
                                 chain_view out) const {
  check_batch(z, shape_, "mixture vjp point");
  check_batch(w, shape_, "mixture vjp vector");
  check_batch(out, shape_, "mixture vjp output");
  TWOFOLD_EXPECTS(z.chains == w.chains && w.chains == out.chains && s > 0, "mixture vjp: chain counts differ or s <= 0");
  const std::size_t N = shape_.pixels(), C = z.chains;
  const double s2 = s * s;
  buffer<double> r;
  const chain_buffer zb = responsibilities_in_basis(ctx, z, s, r);
  chain_buffer d(ctx, C, shape_), wb(ctx, C, shape_), deviation(ctx, C, shape_);
  for (std::size_t k = 0; k < components(); ++k)
    detail::for_each(ctx, d.view().size(),
                     math::mixture_accumulate{d.view().data, zb.view().data, shared(k), variances_.data() + k * N,
                                              r.data() + k * C, N, s2, k == 0});
  detail::copy_bytes(ctx, wb.storage.data(), w.data, w.size() * sizeof(cfloat));
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, wb.view(), fft_direction::forward);
  buffer<cdouble> dot(ctx, C);
  for (std::size_t k = 0; k < components(); ++k) {
    const float* v = variances_.data() + k * N;
    detail::for_each(ctx, out.size(),
                     math::mixture_deviation{deviation.view().data, zb.view().data, d.view().data, shared(k), v, N, s2});
    detail::batched_dot(ctx, deviation.view().data, wb.view().data, C, N, dot.data());
    detail::for_each(ctx, out.size(),
                     math::mixture_vjp_accumulate{out.data, wb.view().data, deviation.view().data, v, r.data() + k * C,
                                                  dot.data(), N, s2, 2 * kappa() / s2, k == 0});
  }
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, out, fft_direction::inverse);
}

void gaussian_mixture_prior::draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const {
  check_batch(u, shape_, "mixture draw");
  std::vector<double> cumulative(components());
  std::partial_sum(weights_.begin(), weights_.end(), cumulative.begin());
  cumulative.back() = 2.0;  // the last component takes any rounding remainder
  const auto c = to_backend(ctx, std::span<const double>(cumulative));
  const std::size_t N = shape_.pixels();
  detail::for_each(ctx, u.size(), math::mixture_draw{u.data, shared(0), N, variances_.data(), {c.data(), components()},
                                                     components(), N, s * s, rng, components()});
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, u, fft_direction::inverse);
}

std::vector<double> gaussian_mixture_prior::responsibilities(const context& ctx, const_chain_view z, double s) const {
  check_batch(z, shape_, "mixture responsibilities");
  TWOFOLD_EXPECTS(s >= 0 && std::isfinite(s), "mixture responsibilities: s must be finite and >= 0");
  buffer<double> r;
  responsibilities_in_basis(ctx, z, s, r);
  return to_host(ctx, r);
}

std::vector<double> gaussian_mixture_prior::log_density(const context& ctx, const_chain_view x) const {
  check_batch(x, shape_, "mixture log density");
  buffer<double> r, log_total(ctx, x.chains);
  responsibilities_in_basis(ctx, x, 0.0, r, log_total.data());
  auto out = to_host(ctx, log_total);
  // The Gaussians' normalisation: (π^N det Σ_k)⁻¹ complex, ((2π)^N det Σ_k)^(−½) real.
  const double pi = field_ == field::real ? 2 * std::numbers::pi : std::numbers::pi;
  const double pi_term = kappa() * double(shape_.pixels()) * std::log(pi);
  for (double& v : out) v -= pi_term;
  return out;
}

gaussian_mixture_prior make_empirical_prior(const context& ctx, image_shape shape, std::span<const cfloat> images,
                                            field values) {
  const std::size_t N = shape.pixels();
  TWOFOLD_EXPECTS(N > 0 && !images.empty() && images.size() % N == 0,
                  "empirical prior: image stack size " + std::to_string(images.size()) +
                      " is not a positive multiple of H*W = " + std::to_string(N) + " (" + to_string(shape) + ")");
  const std::size_t count = images.size() / N;
  const std::vector<double> weights(count, 1.0 / double(count));
  const std::vector<float> zero(images.size(), 0.0f);
  return gaussian_mixture_prior::degenerate(ctx, gaussian_basis::pixel, shape, weights, images, zero, values);
}

}  // namespace twofold
