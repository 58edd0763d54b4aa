// Annealed Langevin dynamics (Jalal et al. 2021) for any prior with a denoiser
// and any operator. Per step: one denoiser call, one AᴴA, one fused update pass
// (which also computes the denoiser of a pixel-basis Gaussian prior).
#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/backend/for_each.hpp"
#include "host/sampling/sampler.hpp"

#include <twofold/priors/gaussian.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

class langevin_sampler final : public sampler {
 public:
  langevin_sampler(const inverse_problem& problem, const prior& prior, const sampler_params& params, double c2)
      : problem_(problem), prior_(prior), params_(params.langevin), levels_(noise_levels(params.schedule)), c2_(c2) {
    TWOFOLD_EXPECTS(params_.inner_steps >= 1, "langevin inner steps must be >= 1");
    TWOFOLD_EXPECTS(std::isfinite(params_.step) && params_.step > 0 && params_.step <= 1,
                    "langevin step epsilon must be in (0, 1] (got " + std::to_string(params_.step) + ")");
    TWOFOLD_EXPECTS(std::isfinite(params_.gamma) && params_.gamma >= 0, "langevin gamma must be finite and >= 0");
  }

  std::size_t steps() const override { return levels_.size() * params_.inner_steps; }

  void posterior(const context& ctx, chain_view x, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    run(ctx, x, rng, nullptr, chains_per_run, observe);
  }

  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    run(ctx, x, rng, anchors, chains_per_run, observe);
  }

 private:
  // anchors == nullptr: the posterior. Otherwise cascade stage 2: no likelihood,
  // and every step ends with u ← x_R + P_N u, so P_R u = x_R holds exactly.
  void run(const context& ctx, chain_view u, const rng_stream& rng, const cfloat* anchors, std::size_t per_run,
           const step_observer& observe) const {
    const std::size_t N = u.shape.pixels(), n = u.size();
    const double sigma2 = problem_.sigma_y() * problem_.sigma_y();
    const auto pin = [&](chain_view v) {
      problem_.op().null_project(ctx, v);
      for_each(ctx, n, math::add_run_data{v.data, {anchors, N, rng.first_chain, per_run}, 1.0f, N});
    };
    for_each(ctx, n, math::scaled_normal{u.data, {}, N, float(levels_.front()), rng.with(rng_purpose::initial_state)});
    if (anchors) pin(u);

    const math::run_data aty = anchors ? math::run_data{}
                                       : problem_.adjoint_measurements_for({rng.first_chain, per_run});
    // A pixel-basis Gaussian prior's denoiser is element-wise: the step computes it
    // (fused_langevin_step) instead of reading it from a pass of its own.
    const gaussian_prior* fused = prior_.gaussian_form();
    if (fused && fused->basis() != gaussian_basis::pixel) fused = nullptr;
    chain_buffer d, g;
    if (!fused) d = chain_buffer(ctx, u.chains, u.shape);
    if (!anchors) g = chain_buffer(ctx, u.chains, u.shape);
    std::size_t step = 0;
    for (const double s : levels_) {
      const double s2 = s * s;
      // With c = max(1, ‖A‖): the likelihood annealed as σ² + γ c² s², and the step
      // ε over the drift's Lipschitz bound 1/s² + c²/(σ² + γ c² s²). For ‖A‖ ≤ 1 this is
      // Jalal et al.'s rule; above, it samples as if from A/c, y/c, σ/c (the same posterior).
      const double lik = anchors ? 0.0 : 1.0 / (sigma2 + params_.gamma * c2_ * s2);
      const double delta = params_.step / (1.0 / s2 + c2_ * lik);
      for (std::size_t j = 0; j < params_.inner_steps; ++j, ++step) {
        if (!anchors) problem_.op().normal(ctx, u, g.view());
        const rng_stream noise = rng.with(rng_purpose::diffusion_noise).at_step(step);
        const float inv_s2 = float(1.0 / s2), step_size = float(delta), noise_scale = float(std::sqrt(2 * delta));
        const auto step_with = [&](const auto& denoised) {
          const auto run = [&](const auto& likelihood) {
            for_each(ctx, n,
                     math::langevin_step_with<std::decay_t<decltype(denoised)>, std::decay_t<decltype(likelihood)>>{
                         u.data, denoised, likelihood, N, inv_s2, step_size, noise_scale, noise});
          };
          if (anchors)
            run(math::no_likelihood{});
          else
            run(math::annealed_likelihood{aty, g.view().data, float(lik)});
        };
        if (fused) {
          step_with(math::pixel_gaussian_denoiser{fused->mean_device(), fused->variance_device(), N, s2});
        } else {
          prior_.denoise(ctx, u, s, d.view());
          step_with(math::denoised_input{d.view().data});
        }
        if (anchors) pin(u);
        if (observe) observe(step + 1, steps());
      }
    }
  }

  const inverse_problem& problem_;
  const prior& prior_;
  langevin_params params_;
  std::vector<double> levels_;
  double c2_;  ///< max(1, ‖A‖)²
};

}  // namespace

std::unique_ptr<sampler> make_langevin_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                               const sampler_params& params) {
  const double c = std::max(1.0, problem.op().norm_bound(ctx));
  return std::make_unique<langevin_sampler>(problem, prior, params, c * c);
}

}  // namespace twofold::detail
