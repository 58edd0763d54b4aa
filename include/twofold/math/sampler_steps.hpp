#pragma once
/// \file
/// The per-element updates of the diffusion samplers, in data units u = x/α at
/// noise level s (include/twofold/schedule.hpp). Complex scores are Wirtinger
/// gradients ∂/∂ū log p, for which Langevin reads u ← u + δ ψ + √(2δ) ζ with
/// ζ ~ CN(0, I), exactly as in the real case.

#include <twofold/math/complex.hpp>
#include <twofold/math/hd.hpp>
#include <twofold/math/philox.hpp>

#include <cstddef>

namespace twofold::math {

/// Annealed Langevin step with the annealed likelihood (Jalal et al. 2021):
///   u ← u + δ [ (D(u,s) − u)/s² + (Aᴴy − AᴴA u)/(σ_y² + γ s²) ] + √(2δ) ζ.
/// Reads u, d = D(u,s), g = AᴴA u, aty = Aᴴy (one image); writes u: one pass.
struct langevin_step {
  cfloat* u;
  const cfloat* d;
  const cfloat* g;
  const cfloat* aty;  ///< null: no likelihood term (cascade stage 2)
  std::size_t pixels;
  float inv_s2;
  float likelihood_weight;  ///< 1/(σ_y² + γ s²)
  float delta;
  float noise;  ///< √(2δ)
  rng_stream rng;
  TWOFOLD_HD void operator()(std::size_t i) const {
    cfloat score = inv_s2 * (d[i] - u[i]);
    if (aty) score += likelihood_weight * (aty[i % pixels] - g[i]);
    u[i] += delta * score + noise * rng.normal(i / pixels, i % pixels);
  }
};

/// Reverse step from level S = s_i² to T = s_{i+1}²: u ← D + keep (u − D) + noise ζ.
/// Ancestral (DDPM) is the exact transition of u = x₀ + s ε for x₀ at the denoised
/// point, keep = T/S and noise = √(T(S − T)/S); DDIM-η coefficients come from
/// detail::ddim_step (host/diffusion_steps.hpp). T = 0 returns D.
struct ancestral_step {
  cfloat* u;
  const cfloat* d;
  std::size_t pixels;
  float keep;   ///< T/S
  float noise;  ///< √(T(S − T)/S)
  rng_stream rng;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const cfloat z = noise > 0 ? noise * rng.normal(i / pixels, i % pixels) : cfloat{};
    u[i] = d[i] + keep * (u[i] - d[i]) + z;
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
  TWOFOLD_HD void operator()(std::size_t i) const {
    const float a = static_cast<float>(alpha[i / pixels]);
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
  TWOFOLD_HD void operator()(std::size_t i) const {
    p[i] = z[i] + static_cast<float>(beta[i / pixels]) * p[i];
  }
};

}  // namespace twofold::math
