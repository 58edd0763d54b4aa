#pragma once
/// \file
/// Plain parameter structs of the samplers (docs/design.md §1.5).

#include <twofold/sampling/schedule.hpp>

#include <cstddef>
#include <string_view>

namespace twofold {

enum class sampler_kind {
  exact,     ///< reverse ancestral SDE with the exact posterior score (Gaussian and mixture priors)
  langevin,  ///< annealed Langevin dynamics with the annealed likelihood (Jalal et al. 2021); any prior
  pto,       ///< perturb-then-optimise: exact Gaussian posterior draws by batched CG; any operator
  dps,       ///< diffusion posterior sampling (Chung et al. 2023); needs the denoiser's VJP
  pigdm,     ///< pseudo-inverse guided diffusion (Song et al. 2023); needs the denoiser's VJP
  ddrm,      ///< denoising diffusion restoration (Kawar et al. 2022); needs a spectral form
  ddnm,      ///< null-space diffusion (Wang et al. 2023, DDNM+ for σ_y > 0); needs a spectral form
  smc,       ///< sequential Monte Carlo over the diffusion, particles = chains of a run
};

/// Annealed Langevin (Jalal et al. 2021). At level s the step is δ = ε / L(s) with
/// L(s) = 1/s² + 1/(σ_y² + γ s²) the Lipschitz bound of the annealed posterior score;
/// Jalal et al. use δ = ε s²/s_L², the same up to the likelihood term. ε ∈ (0, 1].
/// The stationary variance of a direction of precision p is inflated by 1/(1 − δp/2),
/// i.e. by at most ε/2 relative: this is the method's discretisation bias.
struct langevin_params {
  std::size_t inner_steps = 3;  ///< steps per noise level (Jalal et al.: 3)
  double step = 0.5;            ///< ε (measured bias: README, "Samplers")
  double gamma = 1.0;           ///< γ of the annealed likelihood (Jalal et al.: 1)
};

/// Batched (preconditioned) conjugate gradients: stop chain c when
/// ‖r_c‖ ≤ tolerance · ‖b_c‖; fail when any chain is not there after max_iterations.
struct cg_params {
  double tolerance = 1e-5;
  std::size_t max_iterations = 3000;
};

/// DPS (Chung et al. 2023, Alg. 1): after each ancestral step,
/// x ← x − ζ ∇_x ‖y − A x̂₀(x)‖, the authors' code (the gradient of the residual
/// norm times ζ; the paper writes it as ζ_i = ζ/‖y − A x̂₀‖ times the gradient of
/// ½‖y − A x̂₀‖²). The paper's values are ζ ∈ [0.1, 1], 1.0 for inpainting and
/// super-resolution, 0.4 for Gaussian deblurring.
struct dps_params {
  double zeta = 1.0;
};

/// ΠGDM (Song et al. 2023): p(x₀ | x_t) ≈ N(x̂₀, r² I) with r² = s² v/(v + s²)
/// (their r_t² = σ_t²/(1 + σ_t²) for data of variance v = 1) and the guidance
/// Jᵀ Aᴴ (r² AAᴴ + σ_y² I)⁻¹ (y − A x̂₀); ancestral steps with DDIM η (paper: 1.0).
struct pigdm_params {
  double data_variance = 1.0;
  double eta = 1.0;
};

/// DDRM (Kawar et al. 2022): η = 0.85, η_b = 1 in the paper.
struct ddrm_params {
  double eta = 0.85;
  double eta_b = 1.0;
};

/// DDNM (Wang et al. 2023): DDIM η = 0.85 as in the paper; DDNM+ noise handling when σ_y > 0.
struct ddnm_params {
  double eta = 0.85;
};

/// SMC over the reverse diffusion: each run's chains are one particle system;
/// resample (systematic) when the effective sample size drops below
/// ess_threshold × particles (0.5 is the common choice, e.g. Wu et al. 2023).
struct smc_params {
  double ess_threshold = 0.5;
};

struct sampler_params {
  sampler_kind kind = sampler_kind::langevin;
  schedule_params schedule{};
  langevin_params langevin{};
  cg_params cg{};
  dps_params dps{};
  pigdm_params pigdm{};
  ddrm_params ddrm{};
  ddnm_params ddnm{};
  smc_params smc{};
};

sampler_kind parse_sampler(std::string_view text);
std::string_view to_string(sampler_kind kind);

}  // namespace twofold
