#pragma once
/// \file
/// ΠGDM's Gaussian likelihood of the denoised estimate (Song et al. 2023), shared by
/// the pigdm sampler and the twisting of the smc sampler. At level s with
/// x̂₀ = D(u, s) ≈ E[x₀ | u] and p(x₀ | u) ≈ N(x̂₀, r² I), r² = s² v/(v + s²):
///   p̃(y | u) = N(y; A x̂₀, σ_y² I + r² AAᴴ),
///   log p̃ = −κ Q(u) + (a constant common to all chains),  κ = 1 complex, ½ real,
///   Q(u) = ⟨ρ, (σ_y² I + r² AAᴴ)⁻¹ ρ⟩,  ρ = y − A x̂₀,
///   g = ∇_ū log p̃ ≈ Jᵀ h,  h = Aᴴ(r² AAᴴ + σ_y² I)⁻¹ ρ   (J the Jacobian of D; the
///   gradient of the covariance is ignored, as in the paper; for a white Gaussian
///   prior with v its variance, r² is the exact Var[x₀ | u] and g the exact score).
/// h in closed form when A has a spectral form A = U diag(a) Vᴴ:
///   h = V diag(a/(r²a² + σ_y²)) Uᴴρ,  Q = Σ_{a>0} |(Uᴴρ)_k|²/(σ_y² + r²a_k²) + const;
/// otherwise h = (σ_y² I + r² AᴴA)⁻¹ Aᴴρ by batched CG (the push-through identity) and
/// Q = (‖ρ‖² − r² ⟨Aᴴρ, h⟩)/σ_y² (Woodbury). For real problems the same formulas
/// hold with real vectors.

#include "host/sampling/conjugate_gradient.hpp"
#include <twofold//core/buffer.hpp>
#include <twofold/priors/prior.hpp>
#include <twofold/problem/inverse_problem.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <cstddef>

namespace twofold::detail {

class likelihood_guidance {
 public:
  /// `data_variance` v > 0 (finite); `cg` for operators without a spectral form.
  /// `force_cg` ignores the spectral form (tests of the CG path).
  likelihood_guidance(const context& ctx, const inverse_problem& problem, double data_variance, const cg_params& cg,
                      bool force_cg = false);

  /// r² = s² v/(v + s²) (0 at s = 0).
  double r2(double s) const { return s * s * v_ / (v_ + s * s); }
  /// κ: 1 for complex problems, ½ for real ones.
  double kappa() const { return kappa_; }

  /// Scratch for one batch of `chains` chains (allocate once per batch, not per step).
  struct workspace {
    chain_buffer coefficients, whitened;  // spectral path
    chain_buffer residual, data_term;     // CG path: y − A d (measurements), Aᴴ(y − A d)
    buffer<cdouble> dots, more_dots;
    cg_workspace cg;                      // CG path: the solver's batches
  };
  workspace make_workspace(const context& ctx, std::size_t chains) const;

  /// h = Aᴴ(r² AAᴴ + σ_y² I)⁻¹ (y − A d) for every chain (h must not alias d), y the
  /// measurement set of the chain's run (`runs`: the batch's chains by run).
  /// If `quadratic` is not null (backend memory, d.chains doubles) it receives Q per
  /// chain (up to the common constant). Queued on ctx's stream; the CG path syncs.
  void residual_gradient(const context& ctx, const_chain_view d, run_layout runs, double r2, chain_view h,
                         double* quadratic, workspace& w) const;

  /// The guidance at level s > 0: d = D(u, s), g = Jᵀ h (prior.vjp) with h as above,
  /// Q into `quadratic` when not null. d and g must not alias u or each other.
  void guide(const context& ctx, const prior& prior, const_chain_view u, run_layout runs, double s, chain_view d,
             chain_view g, double* quadratic, workspace& w) const;

 private:
  const inverse_problem& problem_;
  double v_;
  double kappa_;
  cg_params cg_;
  const spectral_form* spectral_ = nullptr;
  buffer<float> singular_;          // a_k (spectral path)
  buffer<cfloat> y_coefficients_;   // Uᴴy of every measurement set (spectral path)
};

}  // namespace twofold::detail
