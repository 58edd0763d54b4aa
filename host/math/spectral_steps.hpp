#pragma once
/// \file
/// Per-element updates of the spectral samplers DDRM (Kawar et al. 2022) and
/// DDNM+ (Wang et al. 2023), in data units u = x/α (host/samplers/spectral.cpp).
///
/// The spectral samplers work on A = U diag(a) Vᴴ (include/twofold/operators/linear_operator.hpp):
/// per chain, r coefficients c = Vᴴu plus the complement u − V Vᴴu that A never
/// sees. A step is: the unconditional DDIM-like update of the whole image,
///   u' = D + keep (u − D) + noise ζ                         (ddim_with_noise)
/// then a coefficient correction δ (r values per chain, non-zero only where a_k > 0)
/// and u ← u' + V δ. Coefficient noise is ζ_c = Vᴴζ, the coefficients of the same
/// white pixel noise ζ, so it is CN(0, I) (N(0, I) for real V and real fields,
/// Hermitian-symmetric for a Fourier V and a real field) and a pure function of
/// (seed, global chain, step) like every other draw.
///
/// Coefficient data: ȳ_k = (Uᴴy)_k / a_k with noise level σ_k = σ_y / a_k; σ_k < 0
/// marks a_k = 0 (no data). Cascade stage 2 uses σ_k = 0 and ȳ = Vᴴ x_R per chain.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>
#include <twofold/core/run_data.hpp>

#include <cmath>
#include <cstddef>

namespace twofold::math {

/// u ← d + keep (u − d) + noise · z with a given noise image z (one pass).
struct ddim_with_noise {
  cfloat* u;
  const cfloat* d;
  const cfloat* z;
  float keep;
  float noise;
  TWOFOLD_HD void operator()(std::size_t i) const { u[i] = d[i] + keep * (u[i] - d[i]) + noise * z[i]; }
};

/// The coefficient arrays the spectral corrections read; index i runs over
/// chains × r, k = i % r.
struct spectral_coefficients {
  cfloat* delta;          ///< out: the correction δ (chains × r)
  const cfloat* current;  ///< c_u = Vᴴu before the step (DDRM only; may alias delta)
  const cfloat* denoised; ///< c̄₀ = Vᴴ D(u, s)
  const cfloat* noise;    ///< ζ_c = Vᴴζ
  run_data data;          ///< ȳ of each chain (r values per run, or per chain)
  const float* sigma;     ///< σ_k = σ_y/a_k, 0 for noiseless data, < 0 where a_k = 0
  std::size_t r;
  TWOFOLD_HD cfloat ybar(std::size_t i) const { return data[i]; }
};

/// DDRM (Kawar et al. 2022, eq. 8–9) from level s to s_next. The unconditional update
/// u' = D + keep(u − D) + noise ζ with keep = √(1−η²) s_next/s, noise = η s_next has
/// coefficients c' = c̄₀ + keep(c_u − c̄₀) + noise ζ_c; where a_k > 0 they are replaced by
///   s_next < σ_k:  c̄₀ + s_next (η ζ_c + √(1−η²) (ȳ − c̄₀)/σ_k)
///   s_next ≥ σ_k:  (1 − η_b) c̄₀ + η_b ȳ + √(s_next² − σ_k² η_b²) ζ_c
/// and δ = c_new − c'.
struct ddrm_correction {
  spectral_coefficients c;
  float keep, noise;
  float s_next, eta, eta_b;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const float sigma = c.sigma[i % c.r];
    if (sigma < 0) {
      c.delta[i] = cfloat{};
      return;
    }
    const cfloat d0 = c.denoised[i], z = c.noise[i], y = c.ybar(i);
    const cfloat unconditional = d0 + keep * (c.current[i] - d0) + noise * z;
    cfloat target;
    if (s_next < sigma) {
      target = d0 + s_next * (eta * z + (std::sqrt(1.0f - eta * eta) / sigma) * (y - d0));
    } else {
      const float spread = s_next * s_next - sigma * sigma * eta_b * eta_b;
      target = (1.0f - eta_b) * d0 + eta_b * y + std::sqrt(spread > 0 ? spread : 0.0f) * z;
    }
    c.delta[i] = target - unconditional;
  }
};

/// DDNM+ (Wang et al. 2023, §3.3) for the DDIM-η step u' = D + keep(u − D) + noise ζ:
/// where a_k > 0, c̄₀ ← c̄₀ + λ_k (ȳ − c̄₀) with λ_k = min(1, noise / ((1 − keep) σ_k))
/// (1 when σ_k = 0: the range is replaced by the data), and that coefficient's added
/// noise drops to √(noise² − ((1 − keep) λ_k σ_k)²), so data noise plus added noise
/// has the schedule's variance. δ = (1 − keep) λ_k (ȳ − c̄₀) + (reduced − noise) ζ_c.
struct ddnm_correction {
  spectral_coefficients c;
  float keep, noise;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const float sigma = c.sigma[i % c.r];
    if (sigma < 0) {
      c.delta[i] = cfloat{};
      return;
    }
    const float pull = 1.0f - keep;  // weight of D in u'
    float lambda = 1.0f;
    if (sigma > 0 && pull > 0) {
      const float limit = noise / (pull * sigma);
      lambda = limit < 1.0f ? limit : 1.0f;
    }
    const float carried = pull * lambda * sigma;  // std of data noise entering u'
    const float left = noise * noise - carried * carried;
    const float reduced = left > 0 ? std::sqrt(left) : 0.0f;
    c.delta[i] = (pull * lambda) * (c.ybar(i) - c.denoised[i]) + (reduced - noise) * c.noise[i];
  }
};

/// DDRM's initial state where a_k > 0 (Kawar et al. 2022, eq. 7): c = ȳ + √(s_max² − σ_k²) ζ_c
/// from the prior-style start u = s_max ζ (so ζ_c = c_u / s_max); coefficients with
/// σ_k ≥ s_max keep their pure-noise start. δ = c_new − c_u.
struct ddrm_initial_correction {
  spectral_coefficients c;
  float s_max;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const float sigma = c.sigma[i % c.r];
    if (sigma < 0 || sigma >= s_max) {
      c.delta[i] = cfloat{};
      return;
    }
    const cfloat u = c.current[i];
    const float spread = std::sqrt(s_max * s_max - sigma * sigma);
    c.delta[i] = c.ybar(i) + (spread / s_max) * u - u;
  }
};

}  // namespace twofold::math
