#pragma once
/// \file
/// Pieces the reverse-diffusion samplers share: the DDIM-η step coefficients in
/// data units and cascade stage 2 by pinned prior diffusion.

#include <twofold/priors/prior.hpp>
#include <twofold/problem/inverse_problem.hpp>

#include "host/sampling/sampler.hpp"

#include <cstddef>
#include <vector>

namespace twofold::detail {

/// DDIM (Song et al. 2021) from level s to s_next in data units u = x₀ + s ε:
///   u ← D + keep (u − D) + noise ζ,  noise = η √(T(S − T)/S),  keep = √(T − noise²)/√S
/// with S = s², T = s_next². η = 1 is the ancestral (DDPM) step (keep = T/S), η = 0
/// the deterministic one; s_next = 0 returns D.
struct ddim_coefficients {
  float keep;
  float noise;
};
ddim_coefficients ddim_step(double s, double s_next, double eta);

/// Cascade stage 2, x ~ p(x | P_R x = x_R), for samplers without a closed form:
/// DDIM-η with the prior's denoiser from CN(0, s_max²) over `levels`, and after
/// every step u ← x_R + P_N u (hard range projection), so P_R u = x_R holds at every
/// level. Exact when the prior is diagonal in the operator's V (the null part then
/// evolves independently of the range part); the replacement approximation otherwise.
void pinned_prior_diffusion(const context& ctx, const inverse_problem& problem, const prior& prior,
                            const std::vector<double>& levels, double eta, chain_view x, const rng_stream& rng,
                            const cfloat* anchors, std::size_t chains_per_run, const step_observer& observe);

}  // namespace twofold::detail
