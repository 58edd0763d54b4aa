#pragma once
/// \file
/// Per-coefficient Gaussian formulas (docs/design.md §1.3–§1.4), used in the pixel basis
/// directly and in the Fourier basis on centred k-space coefficients.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>
#include <twofold/core/philox.hpp>

#include "host/math/element.hpp"
#include "host/math/fft_phase.hpp"

#include <cmath>
#include <cstddef>

namespace twofold::math {

/// The shrink factor v/(v + s²) of the Gaussian denoiser; 0 for a zero variance.
TWOFOLD_HD double gaussian_shrink_factor(float v, double s2) { return v > 0 ? double(v) / (double(v) + s2) : 0.0; }

/// μ + shrink · (z − μ), in double.
TWOFOLD_HD cfloat shrink_toward(cfloat z, cfloat mu, double shrink) {
  return {static_cast<float>(mu.re + shrink * (double(z.re) - mu.re)),
          static_cast<float>(mu.im + shrink * (double(z.im) - mu.im))};
}

/// Tweedie denoiser of CN(μ, v) at data-unit noise s: μ + v/(v + s²) (z − μ).
/// A zero variance (a coefficient fixed by conditioning) returns μ for any s.
TWOFOLD_HD cfloat gaussian_denoise(cfloat z, cfloat mu, float v, double s2) {
  return shrink_toward(z, mu, gaussian_shrink_factor(v, s2));
}

/// Posterior of one coefficient with prior CN(μ, λ) and observation ỹ = a x + CN(0, σ²):
///   λ_post = 1/(1/λ + |a|²/σ²),  m_post = λ_post (μ/λ + conj(a) ỹ/σ²).
struct coefficient_posterior {
  cdouble mean;
  double variance;
};
TWOFOLD_HD coefficient_posterior gaussian_coefficient_posterior(cfloat mu, double lambda, double a, cfloat y, double sigma2) {
  const double var = 1.0 / (1.0 / lambda + a * a / sigma2);
  return {{var * (mu.re / lambda + a * y.re / sigma2), var * (mu.im / lambda + a * y.im / sigma2)}, var};
}

/// out[i] = D(z[i], s) with per-image mean/variance maps (pixel or k-space basis).
struct gaussian_shrink {
  cfloat* out;
  const cfloat* z;
  const cfloat* mean;
  const float* variance;
  std::size_t pixels;
  double s2;
  TWOFOLD_HD void at(element e) const { out[e.i] = gaussian_denoise(z[e.i], mean[e.pixel], variance[e.pixel], s2); }
};

/// The Fourier-basis Gaussian denoiser without the centring passes: with
/// F_c = fftshift ∘ F ∘ ifftshift, F_cᴴ diag(w) F_c is circulant and equals
/// Fᴴ diag(w_raw) F, so D(z) = Fᴴ[w_raw ⊙ F z]/N + F_cᴴ[(1 − w) ⊙ μ̃] with
/// w = v/(v + s²). Its middle factor w_raw / N is one image, computed here once per
/// call (and applied to the batch by multiply_by_map): entry p = (h, w) in raw DFT
/// order holds the shrink of the centred variance at ((h + ⌊H/2⌋) mod H,
/// (w + ⌊W/2⌋) mod W), times `scale`.
struct raw_order_shrink_map {
  float* map;
  cfloat* mean_term;       ///< (1 − w_raw) ⊙ raw_mean, raw order
  const cfloat* raw_mean;  ///< F m / N of the prior mean image m, raw order
  const float* variance;  ///< centred k-space order, one image
  std::size_t height, width;
  double s2;
  double scale;  ///< 1/N of the unnormalised transform pair
  TWOFOLD_HD void operator()(std::size_t p) const {
    const std::size_t h = p / width, w = p % width;
    const float v = variance[centred_index(h, height) * width + centred_index(w, width)];
    const double shrink = v > 0 ? double(v) / (double(v) + s2) : 0.0;
    map[p] = static_cast<float>(shrink * scale);
    mean_term[p] = static_cast<float>(1.0 - shrink) * raw_mean[p];
  }
};

/// x[i] = w[pixel] x[i] + b[pixel]: the Fourier-basis Gaussian denoiser's one pass in
/// raw k-space order (host/priors/fourier_gaussian_denoiser.hpp).
struct raw_order_denoise {
  cfloat* x;
  const float* w;
  const cfloat* b;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const { x[e.i] = w[e.pixel] * x[e.i] + b[e.pixel]; }
};

/// u[i] = μ[p] + sqrt(v[p] + s²) ζ: a draw from CN(μ, v + s²) per coefficient
/// (s = 0: a prior draw; s = s_max: the exact diffusion marginal).
struct gaussian_draw {
  cfloat* u;
  const cfloat* mean;
  const float* variance;
  std::size_t pixels;
  double s2;
  rng_stream rng;
  TWOFOLD_HD void at(element e, cfloat z) const {
    const float scale = static_cast<float>(std::sqrt(double(variance[e.pixel]) + s2));
    u[e.i] = mean[e.pixel] + scale * z;
  }
};

/// out[i] = v/(1 + shift·v) · x[i] with v the per-coefficient variance: (Σ⁻¹ + shift I)⁻¹ x
/// in the basis where Σ is diagonal 
/// (shift = 0: Σ x; the CG preconditioner of perturb-then-optimise otherwise).
struct regularised_covariance {
  cfloat* x;
  const float* variance;
  std::size_t pixels;
  double shift;
  TWOFOLD_HD void at(element e) const {
    const double v = variance[e.pixel];
    x[e.i] *= static_cast<float>(v / (1.0 + shift * v));
  }
};

/// x[i] *= v/(v + s²): the Jacobian Σ(Σ + s²I)⁻¹ of the Gaussian denoiser, applied
/// in the basis where Σ is diagonal.
struct shrink_by_variance {
  cfloat* x;
  const float* variance;
  std::size_t pixels;
  double s2;
  TWOFOLD_HD void at(element e) const {
    const double v = variance[e.pixel];
    x[e.i] *= static_cast<float>(v / (v + s2));
  }
};

}  // namespace twofold::math
