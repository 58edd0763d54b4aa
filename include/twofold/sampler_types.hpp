#pragma once
/// \file
/// Plain parameter structs of the samplers (SPEC §1.5).

#include <twofold/schedule.hpp>

#include <cstddef>
#include <string_view>

namespace twofold {

enum class sampler_kind {
  exact,     ///< reverse ancestral SDE with the exact posterior score (prior and operator share a basis)
  langevin,  ///< annealed Langevin dynamics with the annealed likelihood (Jalal et al. 2021); any prior
  pto,       ///< perturb-then-optimise: exact Gaussian posterior draws by batched CG; any operator
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

struct sampler_params {
  sampler_kind kind = sampler_kind::langevin;
  schedule_params schedule{};
  langevin_params langevin{};
  cg_params cg{};
};

sampler_kind parse_sampler(std::string_view text);
std::string_view to_string(sampler_kind kind);

}  // namespace twofold
