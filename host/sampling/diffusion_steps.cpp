#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/sampling/diffusion_steps.hpp"
#include "host/backend/for_each.hpp"

#include <algorithm>
#include <cmath>

namespace twofold::detail {

ddim_coefficients ddim_step(double s, double s_next, double eta) {
  const double S = s * s, T = s_next * s_next;
  const double noise = eta * std::sqrt(std::max(0.0, T * (S - T) / S));
  return {static_cast<float>(std::sqrt(std::max(0.0, T - noise * noise) / S)), static_cast<float>(noise)};
}

void pinned_prior_diffusion(const context& ctx, const inverse_problem& problem, const prior& prior,
                            const std::vector<double>& levels, double eta, chain_view u, const rng_stream& rng,
                            const cfloat* anchors, std::size_t chains_per_run, const step_observer& observe) {
  const std::size_t N = u.shape.pixels(), n = u.size();
  const auto pin = [&] {
    problem.op().null_project(ctx, u);
    for_each(ctx, n, math::add_run_data{u.data, {anchors, N, rng.first_chain, chains_per_run}, 1.0f, N});
  };
  for_each(ctx, n, math::scaled_normal{u.data, {}, N, float(levels.front()), rng.with(rng_purpose::initial_state)});
  pin();
  chain_buffer d(ctx, u.chains, u.shape);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const auto c = ddim_step(levels[i], i + 1 < levels.size() ? levels[i + 1] : 0.0, eta);
    prior.denoise(ctx, u, levels[i], d.view());
    for_each(ctx, n, math::ancestral_step{u.data, d.view().data, N, c.keep, c.noise,
                                          rng.with(rng_purpose::diffusion_noise).at_step(i)});
    pin();
    if (observe) observe(i + 1, levels.size());
  }
}

}  // namespace twofold::detail
