// The exact-score sampler: reverse ancestral steps whose denoiser is the exact
// posterior one. Available when prior and operator share a basis: a Fourier-basis
// Gaussian prior with a Cartesian mask, where the posterior is diagonal in k-space
// (SPEC §1.4). Its only error is time discretisation.
#include <twofold/operators.hpp>
#include <twofold/error.hpp>
#include <twofold/fft.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/math/gaussian.hpp>
#include <twofold/math/sampler_steps.hpp>

#include "host/for_each.hpp"
#include "host/sampler.hpp"

#include <cmath>
#include <optional>
#include <vector>

namespace twofold::detail {
namespace {

/// The posterior CN(m, C) in k-space, per coefficient (SPEC §1.4).
gaussian_prior fourier_posterior(const context& ctx, const inverse_problem& problem, const gaussian_prior& prior,
                                 const fourier_mask_operator& op) {
  const image_shape shape = problem.shape();
  const std::size_t N = shape.pixels();
  chain_buffer mu(ctx, 1, shape);
  copy_bytes(ctx, mu.storage.data(), prior.mean().data(), N * sizeof(cfloat));
  fft2c(ctx, mu.view(), fft_direction::forward);
  const std::vector<cfloat> mu_k = to_host(ctx, mu.storage);
  const double sigma2 = problem.sigma_y() * problem.sigma_y();
  std::vector<cfloat> mean_k(N);
  std::vector<float> var_k(N);
  for (std::size_t k = 0; k < N; ++k) {
    const auto post = math::gaussian_coefficient_posterior(mu_k[k], prior.variance()[k], op.mask()[k],
                                                           problem.measurements()[k], sigma2);
    mean_k[k] = cfloat(post.mean);
    var_k[k] = static_cast<float>(post.variance);
  }
  copy_bytes(ctx, mu.storage.data(), mean_k.data(), N * sizeof(cfloat));
  fft2c(ctx, mu.view(), fft_direction::inverse);
  const std::vector<cfloat> mean_image = to_host(ctx, mu.storage);
  return gaussian_prior(ctx, gaussian_basis::fourier, shape, mean_image, var_k);
}

class exact_sampler final : public sampler {
 public:
  exact_sampler(const context& ctx, const inverse_problem& problem, const gaussian_prior& prior,
                const fourier_mask_operator& op, const sampler_params& params)
      : problem_(problem), prior_(prior), posterior_(fourier_posterior(ctx, problem, prior, op)),
        levels_(noise_levels(params.schedule)) {}

  std::size_t steps() const override { return levels_.size(); }

  void posterior(const context& ctx, chain_view x, const rng_stream& rng, const step_observer& observe) const override {
    ancestral(ctx, posterior_, x, rng, observe);
  }

  // The prior and P_N are both diagonal in k-space, so p(x | P_R x = x_R) draws the
  // unsampled coefficients from the prior: x = x_R + P_N w with w an exact-score
  // draw from the prior.
  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    ancestral(ctx, prior_, x, rng, observe);
    problem_.op().null_project(ctx, x);
    for_each(ctx, x.size(), math::add_run_anchor{x.data, anchors, x.shape.pixels(), rng.first_chain, chains_per_run, 1.0f});
  }

 private:
  // Starts from the exact marginal CN(m, C + s_max²) and steps down the levels,
  // ending with a step to s = 0 (which returns the denoised mean of the last level).
  void ancestral(const context& ctx, const gaussian_prior& target, chain_view u, const rng_stream& rng,
                 const step_observer& observe) const {
    target.draw(ctx, u, levels_.front(), rng.with(rng_purpose::initial_state));
    chain_buffer d(ctx, u.chains, u.shape);
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const double S = levels_[i] * levels_[i];
      const double T = i + 1 < levels_.size() ? levels_[i + 1] * levels_[i + 1] : 0.0;
      target.denoise(ctx, u, levels_[i], d.view());
      for_each(ctx, u.size(),
               math::ancestral_step{u.data, d.view().data, u.shape.pixels(), float(T / S),
                                    float(std::sqrt(T * (S - T) / S)), rng.with(rng_purpose::diffusion_noise).at_step(i)});
      if (observe) observe(i + 1, steps());
    }
  }

  const inverse_problem& problem_;
  const gaussian_prior& prior_;
  gaussian_prior posterior_;
  std::vector<double> levels_;
};

}  // namespace

std::unique_ptr<sampler> make_exact_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                            const sampler_params& params) {
  const auto* gaussian = dynamic_cast<const gaussian_prior*>(&prior);
  const auto* mask_op = dynamic_cast<const fourier_mask_operator*>(&problem.op());
  TWOFOLD_EXPECTS(gaussian && mask_op && gaussian->basis() == gaussian_basis::fourier,
                  "sampler 'exact' needs a prior and operator that share a basis (a Fourier-basis Gaussian prior "
                  "with a Cartesian mask); use 'pto' for exact Gaussian draws with any other pair");
  return std::make_unique<exact_sampler>(ctx, problem, *gaussian, *mask_op, params);
}

}  // namespace twofold::detail
