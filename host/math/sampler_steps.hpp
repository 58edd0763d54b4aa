#pragma once
/// \file
/// The per-element updates of the diffusion samplers, in data units u = x/α at
/// noise level s (include/twofold/sampling/schedule.hpp). Complex scores are Wirtinger
/// gradients ∂/∂ū log p, for which Langevin reads u ← u + δ ψ + √(2δ) ζ with
/// ζ ~ CN(0, I), exactly as in the real case.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/core/run_data.hpp>

#include "host/math/element.hpp"
#include "host/math/gaussian.hpp"

#include <cmath>
#include <cstddef>
#include <type_traits>

namespace twofold::math {

/// D(u, s) as a Langevin step reads it: from the denoiser's output...
struct denoised_input {
  const cfloat* d;
  TWOFOLD_HD cfloat operator()(element e, cfloat) const { return d[e.i]; }
};

/// ...or computed in the step itself for a pixel-basis Gaussian prior (the same
/// gaussian_denoise as gaussian_prior::denoise, so the same bits, one pass fewer).
struct pixel_gaussian_denoiser {
  const cfloat* mean;
  const float* variance;
  std::size_t pixels;
  double s2;
  TWOFOLD_HD cfloat operator()(element e, cfloat u) const { return gaussian_denoise(u, mean[e.pixel], variance[e.pixel], s2); }
};

/// The likelihood term of a Langevin step, (Aᴴy − AᴴA u)/(σ_y² + γ s²), from g = AᴴA u
/// and each chain's run's Aᴴy...
struct annealed_likelihood {
  run_data aty;  ///< Aᴴy of each chain's run
  const cfloat* g;
  float weight;  ///< 1/(σ_y² + γ s²)
  TWOFOLD_HD cfloat operator()(element e) const { return weight * (aty.at(e.chain, e.pixel) - g[e.i]); }
};
/// ...or none (cascade stage 2: the chains' range part is pinned to their anchors).
/// A type rather than a flag, so the CPU's element loop has no branch to vectorise around.
struct no_likelihood {};

/// Annealed Langevin step with the annealed likelihood (Jalal et al. 2021):
///   u ← u + δ [ (D(u,s) − u)/s² + (Aᴴy − AᴴA u)/(σ_y² + γ s²) ] + √(2δ) ζ.
/// Reads u, D(u,s) (an array, or nothing when the denoiser is element-wise),
/// g = AᴴA u, aty = Aᴴy (one image); writes u: one pass.
template <class Denoised, class Likelihood>
struct langevin_step_with {
  cfloat* u;
  Denoised denoised;
  Likelihood likelihood;
  std::size_t pixels;
  float inv_s2;
  float delta;
  float noise;  ///< √(2δ)
  rng_stream rng;
  TWOFOLD_HD void at(element e, cfloat z) const {
    const cfloat ui = u[e.i];
    cfloat score = inv_s2 * (denoised(e, ui) - ui);
    if constexpr (!std::is_same_v<Likelihood, no_likelihood>) score += likelihood(e);
    u[e.i] = ui + (delta * score + noise * z);
  }
};

template <class Likelihood>
using langevin_step = langevin_step_with<denoised_input, Likelihood>;
template <class Likelihood>
using fused_langevin_step = langevin_step_with<pixel_gaussian_denoiser, Likelihood>;

/// Reverse step from level S = s_i² to T = s_{i+1}²: u ← D + keep (u − D) + noise ζ.
/// Ancestral (DDPM) is the exact transition of u = x₀ + s ε for x₀ at the denoised
/// point, keep = T/S and noise = √(T(S − T)/S); DDIM-η coefficients come from
/// detail::ddim_step (host/sampling/diffusion_steps.hpp). T = 0 returns D.
struct ancestral_step {
  cfloat* u;
  const cfloat* d;
  std::size_t pixels;
  float keep;   ///< T/S
  float noise;  ///< √(T(S − T)/S)
  rng_stream rng;
  TWOFOLD_HD void at(element e, cfloat zeta) const {
    const std::size_t i = e.i;
    const cfloat z = noise > 0 ? noise * zeta : cfloat{};
    u[i] = d[i] + keep * (u[i] - d[i]) + z;
  }
};

/// The ΠGDM residual in a spectral basis A = U diag(a) Vᴴ (host/samplers/likelihood_guidance.cpp):
/// per coefficient with a_k > 0, ρ = ỹ_k − a_k c_k (ỹ = Uᴴy, c = Vᴴx̂₀) and
///   c ← a_k ρ / (σ_y² + r² a_k²),   whitened ← ρ / √(σ_y² + r² a_k²)   (0 where a_k = 0),
/// so V c = Aᴴ(r²AAᴴ + σ_y²I)⁻¹(y − A x̂₀) and ‖whitened‖² is the likelihood's
/// quadratic form up to a term common to all chains. `whitened` may be null.
struct spectral_likelihood_residual {
  cfloat* c;
  cfloat* whitened;
  run_data y_coefficients;  ///< Uᴴy of each chain's run
  const float* a;
  std::size_t coefficients;
  float r2;
  float sigma2;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t k = i % coefficients;
    const float ak = a[k];
    if (ak > 0) {
      const cfloat rho = y_coefficients[i] - ak * c[i];
      const float den = sigma2 + r2 * ak * ak;
      c[i] = (ak / den) * rho;
      if (whitened) whitened[i] = (1.0f / std::sqrt(den)) * rho;
    } else {
      c[i] = cfloat{};
      if (whitened) whitened[i] = cfloat{};
    }
  }
};

/// The twisted SMC proposal (host/samplers/smc.cpp): the ancestral step from the
/// denoised point shifted by the guidance, u ← D + keep (u − D) + ν² g + ν ζ, and
/// d ← 2ζ + ν g, from which the per-chain Gaussian ratio log p − log q =
/// −κ ν Re⟨2ζ + ν g, g⟩ follows by one reduction. ν = 0 (the last step) returns D.
struct twisted_proposal {
  cfloat* u;
  cfloat* d;  ///< in: D(u, s); out: 2ζ + ν g
  const cfloat* g;
  std::size_t pixels;
  float keep;
  float noise;  ///< ν
  rng_stream rng;
  TWOFOLD_HD void at(element e, cfloat zeta) const {
    const std::size_t i = e.i;
    const cfloat z = noise > 0 ? zeta : cfloat{};
    const cfloat gi = g[i], di = d[i];
    u[i] = di + keep * (u[i] - di) + (noise * noise) * gi + noise * z;
    d[i] = 2.0f * z + noise * gi;
  }
};

/// Batched conjugate gradients, per chain c with its own scalars:
/// x += α_c p, r −= α_c Ap.
struct cg_advance {
  cfloat* x;
  cfloat* r;
  const cfloat* p;
  const cfloat* ap;
  const double* alpha;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const {
    const std::size_t i = e.i;
    const float a = static_cast<float>(alpha[e.chain]);
    x[i] += a * p[i];
    r[i] -= a * ap[i];
  }
};

/// p = z + β_c p.
struct cg_direction {
  cfloat* p;
  const cfloat* z;
  const double* beta;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const { p[e.i] = z[e.i] + static_cast<float>(beta[e.chain]) * p[e.i]; }
};

}  // namespace twofold::math
