// ΠGDM, pseudo-inverse guided diffusion (Song et al. 2023), for any prior with a
// denoiser VJP and any operator. Per level s: x̂₀ = D(u, s), the guidance
// g = Jᵀ Aᴴ(r²AAᴴ + σ_y²I)⁻¹(y − A x̂₀) (host/samplers/likelihood_guidance.hpp), the guided
// denoiser D_y = x̂₀ + s² g, and a DDIM-η step with D_y. For a white Gaussian prior
// N(μ, vI) with data variance v, D_y is the exact posterior denoiser and the sampler
// is the exact one up to time discretisation. Per step: one denoiser call, one VJP,
// the closed-form (spectral) or CG solve, one fused update pass.
// Cascade stage 2: pinned prior diffusion with the same η.
#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/sampling/diffusion_steps.hpp"
#include "host/backend/for_each.hpp"
#include "host/samplers/likelihood_guidance.hpp"
#include "host/sampling/sampler.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

class pigdm_sampler final : public sampler {
 public:
  pigdm_sampler(const context& ctx, const inverse_problem& problem, const prior& prior, const sampler_params& params)
      : problem_(problem), prior_(prior), eta_(params.pigdm.eta), levels_(noise_levels(params.schedule)),
        guidance_(ctx, problem, params.pigdm.data_variance, params.cg) {
    TWOFOLD_EXPECTS(std::isfinite(eta_) && eta_ >= 0 && eta_ <= 1,
                    "pigdm eta must be in [0, 1] (got " + std::to_string(eta_) + ")");
  }

  std::size_t steps() const override { return levels_.size(); }

  void posterior(const context& ctx, chain_view u, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    const run_layout runs{rng.first_chain, chains_per_run};
    const std::size_t N = u.shape.pixels(), n = u.size();
    for_each(ctx, n, math::scaled_normal{u.data, {}, N, float(levels_.front()), rng.with(rng_purpose::initial_state)});
    chain_buffer d(ctx, u.chains, u.shape), g(ctx, u.chains, u.shape);
    auto work = guidance_.make_workspace(ctx, u.chains);
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const double s = levels_[i];
      guidance_.guide(ctx, prior_, u, runs, s, d.view(), g.view(), nullptr, work);
      for_each(ctx, n, math::axpby{d.view().data, d.view().data, g.view().data, float(s * s)});  // D_y
      const auto c = ddim_step(s, i + 1 < levels_.size() ? levels_[i + 1] : 0.0, eta_);
      for_each(ctx, n, math::ancestral_step{u.data, d.view().data, N, c.keep, c.noise,
                                            rng.with(rng_purpose::diffusion_noise).at_step(i)});
      if (observe) observe(i + 1, steps());
    }
  }

  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    pinned_prior_diffusion(ctx, problem_, prior_, levels_, eta_, x, rng, anchors, chains_per_run, observe);
  }

 private:
  const inverse_problem& problem_;
  const prior& prior_;
  double eta_;
  std::vector<double> levels_;
  likelihood_guidance guidance_;
};

}  // namespace

std::unique_ptr<sampler> make_pigdm_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                            const sampler_params& params) {
  TWOFOLD_EXPECTS(prior.has_vjp(), "sampler 'pigdm' needs a prior whose denoiser has a vector-Jacobian product; prior '" +
                                       prior.name() + "' has none");
  return std::make_unique<pigdm_sampler>(ctx, problem, prior, params);
}

}  // namespace twofold::detail
