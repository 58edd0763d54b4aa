// Diffusion posterior sampling (Chung et al. 2023, Algorithm 1) for any operator
// and any prior with a denoiser VJP. Per level: x̂₀ = D(u, s), the ancestral (DDPM)
// step to s_next, then u ← u − ζ/(α_next α_s) ∇_u ‖A x̂₀(u) − y‖. The gradient of the
// residual norm is Jᵀ Aᴴ(A x̂₀ − y)/‖A x̂₀ − y‖ per chain, as in the authors' code
// (autograd of the norm times ζ), i.e. the paper's ζ_i = ζ/‖y − A x̂₀‖ step on
// ½‖y − A x̂₀‖². The α factors make it the paper's step in x = α u units
// (∇_x = ∇_u/α_s, and the step lands on level s_next, u = x/α_next). DPS is an
// approximation with no exactness claim; its bias is measured in tests/samplers/sample_dps_test.cpp.
// Per level: one denoiser call and one VJP, one A and one Aᴴ, one per-chain
// reduction and three element-wise passes.
// The residual uses inverse_problem's y, whose entries A never reaches are 0.
#include <twofold/core/error.hpp>
#include "host/math/dps_steps.hpp"
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/sampling/diffusion_steps.hpp"
#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"
#include "host/sampling/sampler.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

class dps_sampler final : public sampler {
 public:
  dps_sampler(const context&, const inverse_problem& problem, const prior& prior, const sampler_params& params)
      : problem_(problem), prior_(prior), zeta_(params.dps.zeta), kind_(params.schedule.kind),
        levels_(noise_levels(params.schedule)) {
    TWOFOLD_EXPECTS(std::isfinite(zeta_) && zeta_ > 0, "dps step size zeta must be finite and > 0 (got " +
                                                           std::to_string(zeta_) + ")");
    TWOFOLD_EXPECTS(prior.has_vjp(), "sampler 'dps' needs the vector-Jacobian product of the prior's denoiser; "
                                     "prior '" + prior.name() + "' has none — use langevin, pto, ddrm or ddnm");
  }

  std::size_t steps() const override { return levels_.size(); }

  void posterior(const context& ctx, chain_view u, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    const std::size_t N = u.shape.pixels(), n = u.size();
    const image_shape mshape = problem_.op().codomain();
    for_each(ctx, n, math::scaled_normal{u.data, {}, N, float(levels_.front()), rng.with(rng_purpose::initial_state)});
    chain_buffer d(ctx, u.chains, u.shape), g(ctx, u.chains, u.shape), r(ctx, u.chains, mshape);
    buffer<cdouble> norms(ctx, u.chains);
    const math::run_data y = problem_.measurements_for({rng.first_chain, chains_per_run});
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const double s = levels_[i], s_next = i + 1 < levels_.size() ? levels_[i + 1] : 0.0;
      prior_.denoise(ctx, u, s, d.view());
      // g = Jᵀ Aᴴ (y − A x̂₀) = −∇_u ½‖A x̂₀ − y‖² at the current u, before the step moves it.
      problem_.op().apply(ctx, d.view(), r.view());
      for_each(ctx, r.view().size(), math::subtract_from{r.view().data, y});
      batched_dot(ctx, r.view().data, r.view().data, u.chains, mshape.pixels(), norms.data());
      problem_.op().adjoint(ctx, r.view(), g.view());
      prior_.vjp(ctx, u, s, g.view(), g.view());
      const auto c = ddim_step(s, s_next, 1.0);
      for_each(ctx, n, math::ancestral_step{u.data, d.view().data, N, c.keep, c.noise,
                                            rng.with(rng_purpose::diffusion_noise).at_step(i)});
      const double scale = zeta_ / (alpha_at(kind_, s) * (s_next > 0 ? alpha_at(kind_, s_next) : 1.0));
      for_each(ctx, n, math::normalised_descent{u.data, g.view().data, norms.data(), N, -scale});  // ascent on −‖r‖
      if (observe) observe(i + 1, steps());
    }
  }

  // Stage 2 is a noiseless problem with the constraint P_R x = x_R: the prior's
  // ancestral diffusion with hard range projection after every step.
  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    pinned_prior_diffusion(ctx, problem_, prior_, levels_, 1.0, x, rng, anchors, chains_per_run, observe);
  }

 private:
  const inverse_problem& problem_;
  const prior& prior_;
  double zeta_;
  schedule_kind kind_;
  std::vector<double> levels_;
};

}  // namespace

std::unique_ptr<sampler> make_dps_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& params) {
  return std::make_unique<dps_sampler>(ctx, problem, prior, params);
}

}  // namespace twofold::detail
