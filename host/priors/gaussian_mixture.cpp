#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/mixture.hpp"
#include <twofold/priors/gaussian_mixture.hpp>

#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"
#include "host/priors/fourier_gaussian_denoiser.hpp"
#include "host/priors/mixture_scratch.hpp"

#include <algorithm>
#include <mutex>
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
  workspace_ = std::make_shared<workspace>();
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

struct gaussian_mixture_prior::workspace {
  std::mutex lock;
  buffer<cfloat> basis_input, scaled, denoised, basis_vector, deviation;
  buffer<cdouble> quadratic, dot;
  buffer<double> offsets, responsibilities;
  detail::fourier_denoiser_images fourier;  ///< one component in the Fourier basis
  buffer<float> residual_scale;             ///< [K, N] of the few-pixel denoiser
  buffer<double> shrink;                    ///< [K, N] of the few-pixel denoiser

  /// Room for `C` chains of N pixels and K components (grows, never shrinks); the
  /// vjp's batches only when a vjp asks. Wave sizing counts all of it
  /// (mixture_scratch_bytes_per_chain).
  void reserve(const context& ctx, std::size_t C, std::size_t N, std::size_t K, bool vjp) {
    for (buffer<cfloat>* b : {&basis_input, &scaled}) detail::grow_to(ctx, *b, C * N);
    detail::grow_to(ctx, quadratic, K * C);
    detail::grow_to(ctx, responsibilities, K * C);
    detail::grow_to(ctx, offsets, K);
    if (!vjp) return;
    for (buffer<cfloat>* b : {&denoised, &basis_vector, &deviation}) detail::grow_to(ctx, *b, C * N);
    detail::grow_to(ctx, dot, C);
  }
};

std::size_t detail::mixture_scratch_bytes_per_chain(std::size_t pixels, std::size_t components) {
  // workspace::reserve with the vjp: five images, K quadratic forms and K
  // responsibilities, and one dot product.
  return 5 * pixels * sizeof(cfloat) + components * (sizeof(cdouble) + sizeof(double)) + sizeof(cdouble);
}

namespace {
chain_view chains_of(buffer<cfloat>& b, std::size_t chains, image_shape s) { return {b.data(), chains, s}; }
}  // namespace

void gaussian_mixture_prior::responsibilities_in_basis(const context& ctx, const_chain_view z, double s, workspace& ws,
                                                       double* log_total) const {
  const std::size_t N = shape_.pixels(), K = components(), C = z.chains;
  ws.reserve(ctx, C, N, K, false);
  const chain_view zb = chains_of(ws.basis_input, C, shape_), scaled = chains_of(ws.scaled, C, shape_);
  detail::copy_bytes(ctx, zb.data, z.data, z.size() * sizeof(cfloat));
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, zb, fft_direction::forward);

  const double s2 = s * s;
  for (std::size_t k = 0; k < K; ++k) {
    const float* v = variances_.data() + k * N;
    detail::for_each(ctx, zb.size(), math::mixture_scaled_residual{scaled.data, zb.data, shared(k), v, N, s2});
    detail::batched_dot(ctx, scaled.data, scaled.data, C, N, ws.quadratic.data() + k * C);
  }
  const std::vector<double> offset = component_offsets(s);
  detail::copy_bytes(ctx, ws.offsets.data(), offset.data(), K * sizeof(double));
  detail::for_each(ctx, C,
                   math::mixture_responsibilities{ws.responsibilities.data(), ws.quadratic.data(),
                                                  {ws.offsets.data(), K}, K, C, kappa(), log_total});
}

std::vector<double> gaussian_mixture_prior::component_offsets(double s) const {
  const std::size_t N = shape_.pixels(), K = components();
  const double s2 = s * s;
  std::vector<double> offset(K);
  for (std::size_t k = 0; k < K; ++k) {
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
  return offset;
}

void gaussian_mixture_prior::denoise(const context& ctx, const_chain_view z, double s, chain_view out) const {
  check_batch(z, shape_, "mixture denoiser input");
  check_batch(out, shape_, "mixture denoiser output");
  TWOFOLD_EXPECTS(z.chains == out.chains && s > 0, "mixture denoiser: chain counts differ or s <= 0");
  const std::size_t N = shape_.pixels(), C = z.chains;
  if (components() == 1) {  // a Gaussian: one shrink, no responsibilities
    if (basis_ == gaussian_basis::pixel) {
      detail::for_each(ctx, out.size(), math::gaussian_shrink{out.data, z.data, means_.data(), variances_.data(), N, s * s});
      return;
    }
    workspace& ws = *workspace_;
    const std::lock_guard hold(ws.lock);
    detail::fourier_gaussian_denoise(ctx, z, out, means_.data(), variances_.data(), s, ws.fourier);
    return;
  }
  workspace& ws = *workspace_;
  const std::lock_guard hold(ws.lock);
  if (basis_ == gaussian_basis::pixel && N <= math::small_mixture_pixels &&
      components() <= math::small_mixture_components) {
    // Few pixels (1-D and toy problems with many chains): one pass, one chain per index.
    const std::size_t K = components();
    const std::vector<double> offset = component_offsets(s);
    detail::grow_to(ctx, ws.offsets, K);
    detail::grow_to(ctx, ws.residual_scale, K * N);
    detail::grow_to(ctx, ws.shrink, K * N);
    detail::copy_bytes(ctx, ws.offsets.data(), offset.data(), K * sizeof(double));
    detail::for_each(ctx, K * N,
                     math::mixture_component_factors{ws.residual_scale.data(), ws.shrink.data(), variances_.data(), s * s});
    detail::for_each(ctx, C,
                     math::small_mixture_denoise{out.data, z.data, means_.data(), ws.residual_scale.data(),
                                                 ws.shrink.data(), ws.offsets.data(), K, N, kappa()});
    return;
  }
  responsibilities_in_basis(ctx, z, s, ws);
  const cfloat* zb = ws.basis_input.data();
  for (std::size_t k = 0; k < components(); ++k)
    detail::for_each(ctx, out.size(),
                     math::mixture_accumulate{out.data, zb, shared(k), variances_.data() + k * N,
                                              ws.responsibilities.data() + k * C, N, s * s, k == 0});
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
  workspace& ws = *workspace_;
  const std::lock_guard hold(ws.lock);
  responsibilities_in_basis(ctx, z, s, ws);
  ws.reserve(ctx, C, N, components(), true);
  const cfloat* zb = ws.basis_input.data();
  const double* r = ws.responsibilities.data();
  const chain_view d = chains_of(ws.denoised, C, shape_), wb = chains_of(ws.basis_vector, C, shape_),
                   deviation = chains_of(ws.deviation, C, shape_);
  for (std::size_t k = 0; k < components(); ++k)
    detail::for_each(ctx, d.size(),
                     math::mixture_accumulate{d.data, zb, shared(k), variances_.data() + k * N, r + k * C, N, s2,
                                              k == 0});
  detail::copy_bytes(ctx, wb.data, w.data, w.size() * sizeof(cfloat));
  if (basis_ == gaussian_basis::fourier) fft2c(ctx, wb, fft_direction::forward);
  for (std::size_t k = 0; k < components(); ++k) {
    const float* v = variances_.data() + k * N;
    detail::for_each(ctx, out.size(), math::mixture_deviation{deviation.data, zb, d.data, shared(k), v, N, s2});
    detail::batched_dot(ctx, deviation.data, wb.data, C, N, ws.dot.data());
    detail::for_each(ctx, out.size(),
                     math::mixture_vjp_accumulate{out.data, wb.data, deviation.data, v, r + k * C, ws.dot.data(), N, s2,
                                                  2 * kappa() / s2, k == 0});
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
  workspace& ws = *workspace_;
  const std::lock_guard hold(ws.lock);
  responsibilities_in_basis(ctx, z, s, ws);
  return to_host(ctx, ws.responsibilities.data(), components() * z.chains);
}

std::vector<double> gaussian_mixture_prior::log_density(const context& ctx, const_chain_view x) const {
  check_batch(x, shape_, "mixture log density");
  buffer<double> log_total(ctx, x.chains);
  workspace& ws = *workspace_;
  const std::lock_guard hold(ws.lock);
  responsibilities_in_basis(ctx, x, 0.0, ws, log_total.data());
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
