// Twisted sequential Monte Carlo over the reverse diffusion (Wu et al. 2023, TDS),
// asymptotically exact in the number of particles. A run's K chains are one particle
// system. Target at level s_i: γ_i(u) ∝ p_{s_i}(u) p̃_i(y | u), with the ΠGDM
// twisting p̃_i(y | u) = N(y; A D(u, s_i), σ_y² I + r_i² AAᴴ), log p̃_i = −κ Q_i + const
// (host/samplers/likelihood_guidance.hpp); at s = 0 it is the true likelihood, so the final
// target is the posterior. Proposal: the ancestral (η = 1) prior step shifted by the
// twisting's gradient g_i, u′ = D + keep (u − D) + ν² g + ν ζ. Log-weights, per chain
// in double on the backend:
//   start            −κ Q_0(u_0)
//   step i → i+1     −κ ν Re⟨2ζ + ν g, g⟩ (= log p(u′|u) − log q(u′|u)) + κ Q_i(u) − κ Q_{i+1}(u′)
// (log-determinants are common to all particles of a level and cancel). After the
// weight of level i is complete, systems whose ESS = (Σw)²/Σw² falls below
// ess_threshold · K are resampled (systematic, host/samplers/resampling.hpp); at the end every
// system is resampled once more, so the output is K unweighted draws per run.
// Per step: one denoiser call, one VJP, the guidance solve, one proposal pass, one
// reduction, K log-weights to the host, and when resampling three gathers.
// Cascade stage 2: pinned prior diffusion (no likelihood, no weights).
#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/particles.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/sampling/diffusion_steps.hpp"
#include "host/backend/for_each.hpp"
#include "host/samplers/likelihood_guidance.hpp"
#include "host/backend/reductions.hpp"
#include "host/samplers/resampling.hpp"
#include "host/sampling/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace twofold::detail {
namespace {

class smc_sampler final : public sampler {
 public:
  smc_sampler(const context& ctx, const inverse_problem& problem, const prior& prior, const sampler_params& params,
              std::size_t particles)
      : problem_(problem), prior_(prior), ess_threshold_(params.smc.ess_threshold), particles_(particles),
        levels_(noise_levels(params.schedule)), guidance_(ctx, problem, params.pigdm.data_variance, params.cg) {
    TWOFOLD_EXPECTS(std::isfinite(ess_threshold_) && ess_threshold_ > 0 && ess_threshold_ <= 1,
                    "smc ESS threshold must be in (0, 1] (got " + std::to_string(ess_threshold_) + ")");
    TWOFOLD_EXPECTS(particles_ >= 2, "smc needs at least 2 particles (chains per run) per system");
    TWOFOLD_EXPECTS(particles_ < (std::size_t{1} << 31), "smc: too many particles per system");
  }

  std::size_t steps() const override { return levels_.size(); }
  std::size_t particles() const override { return particles_; }

  void posterior(const context& ctx, chain_view u, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    const run_layout runs{rng.first_chain, chains_per_run};
    const std::size_t K = particles_, C = u.chains, N = u.shape.pixels(), n = u.size();
    TWOFOLD_ENSURES(C % K == 0 && rng.first_chain % K == 0, "smc: a batch must hold whole particle systems");
    const double kappa = guidance_.kappa();
    for_each(ctx, n, math::scaled_normal{u.data, {}, N, float(levels_.front()), rng.with(rng_purpose::initial_state)});
    state st(ctx, u, K);
    auto work = guidance_.make_workspace(ctx, C);
    zero_bytes(ctx, st.log_weight.data(), C * sizeof(double));
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const double s = levels_[i];
      guidance_.guide(ctx, prior_, u, runs, s, st.d.view(), st.g.view(), st.q.data(), work);
      for_each(ctx, C, math::add_log_weight{st.log_weight.data(), st.q.data(), nullptr, -kappa, 0.0});
      resample(ctx, u, st, rng, i, false);
      const auto c = ddim_step(s, i + 1 < levels_.size() ? levels_[i + 1] : 0.0, 1.0);
      for_each(ctx, n, math::twisted_proposal{u.data, st.d.view().data, st.g.view().data, N, c.keep, c.noise,
                                              rng.with(rng_purpose::diffusion_noise).at_step(i)});
      batched_dot(ctx, st.d.view().data, st.g.view().data, C, N, st.cross.data());
      for_each(ctx, C, math::add_log_weight{st.log_weight.data(), st.q.data(), st.cross.data(), kappa,
                                            -kappa * double(c.noise)});
      if (observe) observe(i + 1, steps());
    }
    // The final target: the true likelihood N(y; A u, σ_y² I) (r = 0), then K
    // unweighted draws per system.
    guidance_.residual_gradient(ctx, u, runs, 0.0, st.g.view(), st.q.data(), work);
    for_each(ctx, C, math::add_log_weight{st.log_weight.data(), st.q.data(), nullptr, -kappa, 0.0});
    resample(ctx, u, st, rng, levels_.size(), true);
  }

  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    pinned_prior_diffusion(ctx, problem_, prior_, levels_, 1.0, x, rng, anchors, chains_per_run, observe);
  }

 private:
  /// Per-batch buffers: denoised points, guidance, a spare image batch for gathers,
  /// and per-chain scalars (log-weights, Q, weights, ancestors) and per-system ones.
  struct state {
    chain_buffer d, g, spare;
    buffer<double> log_weight, q, spare_q, weight, shift;
    buffer<cdouble> cross;
    buffer<std::uint32_t> ancestor;
    buffer<std::uint8_t> flag;
    resampling_workspace resampling;
    state(const context& ctx, const_chain_view u, std::size_t K)
        : d(ctx, u.chains, u.shape), g(ctx, u.chains, u.shape), spare(ctx, u.chains, u.shape),
          log_weight(ctx, u.chains), q(ctx, u.chains), spare_q(ctx, u.chains), weight(ctx, u.chains),
          shift(ctx, u.chains / K), cross(ctx, u.chains), ancestor(ctx, u.chains), flag(ctx, u.chains / K) {}
  };

  // Resamples the systems whose ESS is below the threshold (all of them when
  // `always`): u, d, g and Q follow their ancestors, log-weights restart at 0.
  void resample(const context& ctx, chain_view u, state& st, const rng_stream& rng, std::size_t step,
                bool always) const {
    const std::size_t K = particles_, R = u.chains / K, N = u.shape.pixels();
    const std::vector<double> lw = to_host(ctx, st.log_weight);
    std::vector<double> shift(R);
    std::vector<std::uint8_t> flag(R);
    bool any = false;
    for (std::size_t r = 0; r < R; ++r) {
      const double* w = lw.data() + r * K;
      const double m = *std::max_element(w, w + K);
      TWOFOLD_ENSURES(std::isfinite(m), "smc: the log-weights of run " + std::to_string((rng.first_chain + r * K) / K) +
                                            " are not finite at step " + std::to_string(step) +
                                            " (every particle lost; try more noise levels or particles)");
      double sum = 0, sum2 = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const double e = std::exp(w[k] - m);
        sum += e;
        sum2 += e * e;
      }
      shift[r] = m;
      flag[r] = always || sum * sum < ess_threshold_ * double(K) * sum2;
      any = any || flag[r];
    }
    if (!any) return;
    copy_bytes(ctx, st.shift.data(), shift.data(), R * sizeof(double));
    copy_bytes(ctx, st.flag.data(), flag.data(), R);
    for_each(ctx, u.chains, math::particle_weight{st.weight.data(), st.log_weight.data(), st.shift.data(), K});
    systematic_ancestors(ctx, st.weight.data(), st.flag.data(), R, K, rng, step, st.ancestor.data(), st.resampling);
    const auto gather = [&](const cfloat* src) {
      for_each(ctx, u.size(), math::gather_chains{st.spare.view().data, src, st.ancestor.data(), N});
    };
    gather(u.data);
    copy_bytes(ctx, u.data, st.spare.view().data, u.size() * sizeof(cfloat));
    gather(st.d.view().data);
    std::swap(st.d, st.spare);
    gather(st.g.view().data);
    std::swap(st.g, st.spare);
    for_each(ctx, u.chains, math::gather_particle_scalars{st.spare_q.data(), st.q.data(), st.log_weight.data(),
                                                          st.ancestor.data(), st.flag.data(), K});
    std::swap(st.q, st.spare_q);
  }

  const inverse_problem& problem_;
  const prior& prior_;
  double ess_threshold_;
  std::size_t particles_;
  std::vector<double> levels_;
  likelihood_guidance guidance_;
};

}  // namespace

std::unique_ptr<sampler> make_smc_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& params, std::size_t particles) {
  TWOFOLD_EXPECTS(prior.has_vjp(), "sampler 'smc' needs a prior whose denoiser has a vector-Jacobian product "
                                   "(for its twisting); prior '" + prior.name() + "' has none");
  return std::make_unique<smc_sampler>(ctx, problem, prior, params, particles);
}

}  // namespace twofold::detail
