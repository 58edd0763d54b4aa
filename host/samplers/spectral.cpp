// The spectral samplers DDRM (Kawar et al. 2022) and DDNM+ (Wang et al. 2023) for
// operators with a known SVD A = U diag(a) Vᴴ (include/twofold/operators/linear_operator.hpp). Both
// take the unconditional DDIM-like step of the whole image and then correct the
// coefficients Vᴴu where a_k > 0 towards the data ȳ_k = (Uᴴy)_k / a_k, whose noise
// level is σ_k = σ_y / a_k (host/math/spectral_steps.hpp has the per-
// coefficient formulas). Per level: one denoiser call, Vᴴ on [D, ζ] (and on u for
// DDRM), one V, and three element-wise passes.
//
// Cascade stage 2 (x ~ p(x | P_R x = x_R)). DDNM is run with noiseless data σ_k = 0
// and ȳ = Vᴴ x_R of each chain's run: the range coefficients of D are replaced by
// the data at every level and the run ends on P_R x = x_R to round-off. DDRM's η
// sets its noise to η·s_next, which does not shrink with the step, so DDRM is no
// consistent discretisation as the levels grow (its bias grows with them, see
// tests/samplers/sample_spectral_test.cpp); its stage 2 is therefore the prior's ancestral
// diffusion with hard range projection (pinned_prior_diffusion). Either stage 2 is
// exact up to time discretisation when the prior is diagonal in V (the null
// coefficients then evolve as the prior's own diffusion); the stage-1 posterior is
// not (the bias is measured in tests/samplers/sample_spectral_test.cpp).
#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/spectral_steps.hpp"

#include "host/sampling/diffusion_steps.hpp"
#include "host/backend/for_each.hpp"
#include "host/sampling/sampler.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

enum class spectral_method { ddrm, ddnm };

const char* name_of(spectral_method m) { return m == spectral_method::ddrm ? "ddrm" : "ddnm"; }

const spectral_form& require_spectral(const inverse_problem& problem, spectral_method m) {
  const spectral_form* form = problem.op().spectral();
  TWOFOLD_EXPECTS(form != nullptr, std::string("sampler '") + name_of(m) +
                                       "' needs an operator with a known SVD (spectral form); operator '" +
                                       problem.op().name() +
                                       "' has none here (multi-coil MRI has one only for line masks) — use pto, "
                                       "langevin, dps or pigdm");
  return *form;
}

class spectral_sampler final : public sampler {
 public:
  spectral_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                   const sampler_params& params, spectral_method method)
      : problem_(problem), prior_(prior), form_(require_spectral(problem, method)), method_(method),
        eta_(method == spectral_method::ddrm ? params.ddrm.eta : params.ddnm.eta), eta_b_(params.ddrm.eta_b),
        levels_(noise_levels(params.schedule)) {
    const std::string name = name_of(method);
    TWOFOLD_EXPECTS(std::isfinite(eta_) && eta_ >= 0 && eta_ <= 1,
                    name + " eta must be in [0, 1] (got " + std::to_string(eta_) + ")");
    if (method == spectral_method::ddrm)
      TWOFOLD_EXPECTS(std::isfinite(eta_b_) && eta_b_ >= 0 && eta_b_ <= 1,
                      "ddrm eta_b must be in [0, 1] (got " + std::to_string(eta_b_) + ")");
    // ȳ = (Uᴴy)/a and σ_k = σ_y/a on the coefficients a_k > 0; −1 marks a_k = 0.
    const std::vector<float>& a = form_.singular_values();
    const image_shape cshape = form_.coefficient_shape();
    const std::size_t S = problem.sets(), r = cshape.pixels();
    chain_buffer yc(ctx, S, cshape);
    form_.measurement_coefficients(ctx, const_chain_view{problem.measurements_device(), S, problem.op().codomain()},
                                   yc.view());
    std::vector<cfloat> ybar = to_host(ctx, yc.storage);
    std::vector<float> sigma(a.size(), -1.0f), pinned(a.size(), -1.0f);
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (a[k] > 0) {
        sigma[k] = float(problem.sigma_y() / a[k]);
        pinned[k] = 0.0f;
      }
      for (std::size_t set = 0; set < S; ++set)
        ybar[set * r + k] = a[k] > 0 ? (1.0f / a[k]) * ybar[set * r + k] : cfloat{};
    }
    ybar_ = to_backend(ctx, std::span<const cfloat>(ybar));
    sigma_ = to_backend(ctx, std::span<const float>(sigma));
    pinned_sigma_ = to_backend(ctx, std::span<const float>(pinned));
  }

  std::size_t steps() const override { return levels_.size(); }

  void posterior(const context& ctx, chain_view u, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    const auto ybar = problem_.per_set(ybar_.data(), form_.coefficient_shape().pixels(), {rng.first_chain, chains_per_run});
    run(ctx, u, rng, ybar, sigma_.data(), observe);
  }

  void conditional(const context& ctx, chain_view u, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    if (method_ == spectral_method::ddrm) {
      pinned_prior_diffusion(ctx, problem_, prior_, levels_, 1.0, u, rng, anchors, chains_per_run, observe);
      return;
    }
    // ȳ = Vᴴ x_R per chain: each chain's run anchor, analysed.
    chain_buffer spread(ctx, u.chains, u.shape), data(ctx, u.chains, form_.coefficient_shape());
    zero_bytes(ctx, spread.storage.data(), spread.storage.size() * sizeof(cfloat));
    for_each(ctx, u.size(),
             math::add_run_data{spread.view().data, {anchors, u.shape.pixels(), rng.first_chain, chains_per_run}, 1.0f, u.shape.pixels()});
    form_.analyse(ctx, spread.view(), data.view());
    // One ȳ per chain: a run of one chain each.
    const math::run_data per_chain{data.view().data, data.view().shape.pixels(), 0, 1};
    run(ctx, u, rng, per_chain, pinned_sigma_.data(), observe);
  }

 private:
  void run(const context& ctx, chain_view u, const rng_stream& rng, math::run_data data, const float* sigma,
           const step_observer& observe) const {
    const std::size_t N = u.shape.pixels(), n = u.size(), chains = u.chains;
    const image_shape cshape = form_.coefficient_shape();
    const std::size_t r = cshape.pixels(), nc = chains * r;
    // work = [D | ζ] (2 batches of images); coef = [c̄₀ | ζ_c | c_u, later δ].
    chain_buffer work(ctx, 2 * chains, u.shape), coef(ctx, 3 * chains, cshape);
    const chain_view d{work.view().data, chains, u.shape}, z{work.view().data + n, chains, u.shape};
    cfloat* const c_denoised = coef.view().data;
    cfloat* const c_noise = c_denoised + nc;
    cfloat* const c_delta = c_noise + nc;
    const auto coefficients = [&] {
      return math::spectral_coefficients{c_delta, c_delta, c_denoised, c_noise, data, sigma, r};
    };
    // u ← u + V δ (z is free by then).
    const auto apply_correction = [&] {
      form_.synthesise(ctx, const_chain_view{c_delta, chains, cshape}, z);
      for_each(ctx, n, math::axpby{u.data, u.data, z.data, 1.0f});
    };

    const double s_max = levels_.front();
    for_each(ctx, n, math::scaled_normal{u.data, {}, N, float(s_max), rng.with(rng_purpose::initial_state)});
    if (method_ == spectral_method::ddrm) {
      form_.analyse(ctx, u, chain_view{c_delta, chains, cshape});
      for_each(ctx, nc, math::ddrm_initial_correction{coefficients(), float(s_max)});
      apply_correction();
    }

    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const double s = levels_[i], s_next = i + 1 < levels_.size() ? levels_[i + 1] : 0.0;
      prior_.denoise(ctx, u, s, d);
      for_each(ctx, n, math::scaled_normal{z.data, {}, N, 1.0f, rng.with(rng_purpose::diffusion_noise).at_step(i)});
      form_.analyse(ctx, work.view(), chain_view{c_denoised, 2 * chains, cshape});
      float keep, noise;
      if (method_ == spectral_method::ddrm) {
        keep = float(std::sqrt(1 - eta_ * eta_) * s_next / s);
        noise = float(eta_ * s_next);
        form_.analyse(ctx, u, chain_view{c_delta, chains, cshape});
        for_each(ctx, nc, math::ddrm_correction{coefficients(), keep, noise, float(s_next), float(eta_), float(eta_b_)});
      } else {
        const auto c = ddim_step(s, s_next, eta_);
        keep = c.keep;
        noise = c.noise;
        for_each(ctx, nc, math::ddnm_correction{coefficients(), keep, noise});
      }
      for_each(ctx, n, math::ddim_with_noise{u.data, d.data, z.data, keep, noise});
      apply_correction();
      if (observe) observe(i + 1, steps());
    }
  }

  const inverse_problem& problem_;
  const prior& prior_;
  const spectral_form& form_;
  spectral_method method_;
  double eta_, eta_b_;
  std::vector<double> levels_;
  buffer<cfloat> ybar_;
  buffer<float> sigma_, pinned_sigma_;
};

}  // namespace

std::unique_ptr<sampler> make_ddrm_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                           const sampler_params& params) {
  return std::make_unique<spectral_sampler>(ctx, problem, prior, params, spectral_method::ddrm);
}

std::unique_ptr<sampler> make_ddnm_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                           const sampler_params& params) {
  return std::make_unique<spectral_sampler>(ctx, problem, prior, params, spectral_method::ddnm);
}

}  // namespace twofold::detail
