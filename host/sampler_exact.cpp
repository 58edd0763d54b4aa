// The exact-score sampler: reverse ancestral steps whose denoiser is the exact
// posterior one (SPEC §1.4). The posterior of a Gaussian or Gaussian-mixture prior
// is a mixture (include/twofold/reference_mixture.hpp); its denoiser is that of a
// mixture prior diagonal in the shared basis, or, for small images with any
// operator, of a mixture whose components each have their own eigenbasis (dense
// form, one GEMM pair per component). The only error is time discretisation.
#include <twofold/error.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/math/mixture.hpp>
#include <twofold/math/sampler_steps.hpp>
#include <twofold/reference_mixture.hpp>

#include "host/blas_engine.hpp"
#include "host/diffusion_steps.hpp"
#include "host/for_each.hpp"
#include "host/reductions.hpp"
#include "host/sampler.hpp"

#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

/// What ancestral sampling needs of its target: the denoiser and exact draws of the
/// smoothed target at the first level.
class diffusion_target {
 public:
  virtual ~diffusion_target() = default;
  virtual void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const = 0;
  virtual void draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const = 0;
};

/// A mixture diagonal in one basis, owned or borrowed.
class diagonal_target final : public diffusion_target {
 public:
  explicit diagonal_target(gaussian_mixture_prior&& owned) : owned_(std::move(owned)), mixture_(*owned_) {}
  explicit diagonal_target(const gaussian_mixture_prior& borrowed) : mixture_(borrowed) {}
  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override {
    mixture_.denoise(ctx, z, s, out);
  }
  void draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const override {
    mixture_.draw(ctx, u, s, rng);
  }

 private:
  std::optional<gaussian_mixture_prior> owned_;
  const gaussian_mixture_prior& mixture_;
};

/// Σ_k w̃_k CN(m_k, Q_k diag(λ_k) Q_kᴴ): every component diagonal in its own basis
/// Q_k, so the mixture functors run on the coefficients Q_kᴴz.
class dense_target final : public diffusion_target {
 public:
  dense_target(const context& ctx, const mixture_posterior& post)
      : shape_(post.shape), kappa_(post.values == field::real ? 0.5 : 1.0), weights_(post.weights) {
    const std::size_t N = shape_.pixels(), K = post.components();
    std::vector<cfloat> q(K * N * N), m(K * N);
    std::vector<float> lambda(K * N);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = cfloat(post.eigenvectors[i]);
    for (std::size_t i = 0; i < lambda.size(); ++i) lambda[i] = float(post.eigenvalues[i]);
    for (std::size_t k = 0; k < K; ++k)  // coefficient means Q_kᴴ m_k
      for (std::size_t j = 0; j < N; ++j) {
        cdouble t;
        for (std::size_t p = 0; p < N; ++p) t += conj(post.eigenvectors[k * N * N + j * N + p]) * post.means[k * N + p];
        m[k * N + j] = cfloat(t);
      }
    lambda_host_ = lambda;
    q_ = to_backend(ctx, std::span<const cfloat>(q));
    means_ = to_backend(ctx, std::span<const cfloat>(m));
    lambda_ = to_backend(ctx, std::span<const float>(lambda));
  }

  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override {
    const std::size_t N = shape_.pixels(), K = weights_.size(), C = z.chains;
    const double s2 = s * s;
    buffer<cfloat> coefficients(ctx, K * C * N);
    chain_buffer scratch(ctx, C, shape_);
    buffer<cdouble> quadratic(ctx, K * C);
    std::vector<double> offset(K);
    for (std::size_t k = 0; k < K; ++k) {
      cfloat* c = coefficients.data() + k * C * N;
      ctx.blas().gemm(blas_op::conj_transpose, N, C, N, q_.data() + k * N * N, N, z.data, N, c, N);
      for_each(ctx, C * N, math::mixture_scaled_residual{scratch.view().data, c, means_.data() + k * N,
                                                         lambda_.data() + k * N, N, s2});
      batched_dot(ctx, scratch.view().data, scratch.view().data, C, N, quadratic.data() + k * C);
      double log_det = 0;
      for (std::size_t j = 0; j < N; ++j) log_det += std::log(double(lambda_host_[k * N + j]) + s2);
      offset[k] = std::log(weights_[k]) - kappa_ * log_det;
    }
    const auto offsets = to_backend(ctx, std::span<const double>(offset));
    buffer<double> r(ctx, K * C);
    for_each(ctx, C, math::mixture_responsibilities{r.data(), quadratic.data(), offsets.data(), K, C, kappa_});
    chain_buffer term(ctx, C, shape_);
    for (std::size_t k = 0; k < K; ++k) {
      const cfloat* c = coefficients.data() + k * C * N;
      for_each(ctx, C * N, math::mixture_accumulate{scratch.view().data, c, means_.data() + k * N,
                                                    lambda_.data() + k * N, r.data() + k * C, N, s2, true});
      ctx.blas().gemm(blas_op::none, N, C, N, q_.data() + k * N * N, N, scratch.view().data, N,
                      k == 0 ? out.data : term.view().data, N);
      if (k > 0) for_each(ctx, out.size(), math::axpby{out.data, out.data, term.view().data, 1.0f});
    }
  }

  void draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const override {
    const std::size_t N = shape_.pixels(), K = weights_.size();
    std::vector<double> cumulative(K);
    std::partial_sum(weights_.begin(), weights_.end(), cumulative.begin());
    cumulative.back() = 2.0;
    const auto cum = to_backend(ctx, std::span<const double>(cumulative));
    chain_buffer c(ctx, u.chains, shape_), term(ctx, u.chains, shape_);
    for (std::size_t k = 0; k < K; ++k) {
      for_each(ctx, c.view().size(), math::mixture_draw{c.view().data, means_.data() + k * N, lambda_.data() + k * N,
                                                        cum.data(), K, N, s * s, rng, k});
      ctx.blas().gemm(blas_op::none, N, u.chains, N, q_.data() + k * N * N, N, c.view().data, N,
                      k == 0 ? u.data : term.view().data, N);
      if (k > 0) for_each(ctx, u.size(), math::axpby{u.data, u.data, term.view().data, 1.0f});
    }
  }

 private:
  image_shape shape_;
  double kappa_;
  std::vector<double> weights_;
  std::vector<float> lambda_host_;
  buffer<cfloat> q_, means_;
  buffer<float> lambda_;
};

std::unique_ptr<diffusion_target> make_target(const context& ctx, const mixture_posterior& post) {
  if (!post.basis) return std::make_unique<dense_target>(ctx, post);
  std::vector<cfloat> means(post.means.size());
  for (std::size_t i = 0; i < means.size(); ++i) means[i] = cfloat(post.means[i]);
  return std::make_unique<diagonal_target>(gaussian_mixture_prior::degenerate(
      ctx, *post.basis, post.shape, post.weights, means, post.basis_variances, post.values));
}

/// m(y_r) − m(y_0) for every measurement set r of a Gaussian posterior N(m(y), C):
/// the covariance C does not depend on y and m(y_r) − m(y_0) = C Aᴴ(y_r − y_0)/σ_y²,
/// so draws for set 0 shifted by it are exact draws for set r. Diagonal form: the
/// closed form of each set (cheap); dense form: C from set 0's eigenvectors.
std::vector<cfloat> gaussian_mean_shifts(const context& ctx, const inverse_problem& problem,
                                         const gaussian_mixture_prior& prior, const mixture_posterior& first) {
  const std::size_t S = problem.sets(), N = problem.shape().pixels();
  std::vector<cfloat> shifts(S * N);
  if (first.basis) {
    for (std::size_t r = 1; r < S; ++r) {
      const auto m = exact_mixture_posterior(ctx, problem.measurement_set(ctx, r), prior).means;
      for (std::size_t p = 0; p < N; ++p) shifts[r * N + p] = cfloat(m[p] - first.means[p]);
    }
    return shifts;
  }
  const auto& q = first.eigenvectors;  // column-major N×N
  const auto& aty = problem.zero_filled();
  const double inv_s2 = 1.0 / (problem.sigma_y() * problem.sigma_y());
  std::vector<cdouble> v(N), c(N);
  for (std::size_t r = 1; r < S; ++r) {
    for (std::size_t p = 0; p < N; ++p) v[p] = (cdouble(aty[r * N + p]) - cdouble(aty[p])) * inv_s2;
    for (std::size_t j = 0; j < N; ++j) {  // c = diag(λ) Qᴴ v
      cdouble t;
      for (std::size_t p = 0; p < N; ++p) t += conj(q[j * N + p]) * v[p];
      c[j] = first.eigenvalues[j] * t;
    }
    for (std::size_t p = 0; p < N; ++p) {  // Q c
      cdouble t;
      for (std::size_t j = 0; j < N; ++j) t += q[j * N + p] * c[j];
      shifts[r * N + p] = cfloat(t);
    }
  }
  return shifts;
}

class exact_sampler final : public sampler {
 public:
  /// `converted`: a Gaussian prior as a one-component mixture (owned); otherwise `prior`.
  /// With several measurement sets: a Gaussian prior samples set 0's posterior and
  /// shifts each run by its set's mean (gaussian_mean_shifts); a mixture builds each
  /// run's posterior when its chains are drawn (weights and means depend on y).
  exact_sampler(const context& ctx, const inverse_problem& problem, std::optional<gaussian_mixture_prior> converted,
                const gaussian_mixture_prior* prior, const sampler_params& params)
      : problem_(problem), converted_(std::move(converted)), prior_(converted_ ? *converted_ : *prior),
        levels_(noise_levels(params.schedule)) {
    if (problem.sets() > 1 && prior_.components() > 1) return;
    if (problem.sets() == 1) {
      posterior_ = make_target(ctx, exact_mixture_posterior(ctx, problem, prior_));
      return;
    }
    const auto first = exact_mixture_posterior(ctx, problem.measurement_set(ctx, 0), prior_);
    shifts_ = to_backend(ctx, std::span<const cfloat>(gaussian_mean_shifts(ctx, problem, prior_, first)));
    posterior_ = make_target(ctx, first);
  }

  std::size_t steps() const override { return levels_.size(); }

  void posterior(const context& ctx, chain_view x, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    if (!posterior_) {
      by_run(ctx, x, rng, chains_per_run, observe, [&](std::size_t run) {
        return make_target(ctx, exact_mixture_posterior(ctx, problem_.measurement_set(ctx, run), prior_));
      });
      return;
    }
    ancestral(ctx, *posterior_, x, rng, observe);
    if (problem_.sets() > 1)
      for_each(ctx, x.size(),
               math::add_run_data{
                   x.data, problem_.per_set(shifts_.data(), x.shape.pixels(), {rng.first_chain, chains_per_run}), 1.0f});
  }

  // p(x | P_R x = x_R) with the prior in the operator's basis. One component: P_N
  // commutes with the prior covariance, so x = x_R + P_N w with w an exact-score
  // prior draw. Several: per run, the mixture with observed coefficients pinned to
  // x_R's and weights given x_R (exact_mixture_conditional).
  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    TWOFOLD_EXPECTS(shares_basis(problem_.op(), prior_),
                    "sampler 'exact' in cascade mode needs the prior in the operator's basis (pixel prior with "
                    "inpainting, Fourier prior with a Cartesian mask); use --design replicate");
    const std::size_t N = x.shape.pixels();
    if (prior_.components() == 1) {
      ancestral(ctx, diagonal_target(prior_), x, rng, observe);
      problem_.op().null_project(ctx, x);
      for_each(ctx, x.size(), math::add_run_data{x.data, {anchors, N, rng.first_chain, chains_per_run}, 1.0f});
      return;
    }
    by_run(ctx, x, rng, chains_per_run, observe, [&](std::size_t run) {
      const auto anchor = to_host(ctx, anchors + run * N, N);
      return make_target(ctx, exact_mixture_conditional(ctx, problem_.op(), prior_, anchor));
    });
  }

 private:
  // Each run's chains of the batch with the target `target_of(run)`.
  template <class TargetOf>
  void by_run(const context& ctx, chain_view x, const rng_stream& rng, std::size_t chains_per_run,
              const step_observer& observe, TargetOf&& target_of) const {
    for (std::size_t c = 0; c < x.chains;) {
      const std::size_t global = rng.first_chain + c, run = global / chains_per_run;
      const std::size_t count = std::min(x.chains - c, (run + 1) * chains_per_run - global);
      rng_stream slice = rng;
      slice.first_chain = global;
      ancestral(ctx, *target_of(run), chain_view{x.chain(c), count, x.shape}, slice, observe);
      c += count;
    }
  }

  // Starts from the exact marginal at s_max and steps down the levels, ending with
  // a step to s = 0 (which returns the denoised mean of the last level).
  void ancestral(const context& ctx, const diffusion_target& target, chain_view u, const rng_stream& rng,
                 const step_observer& observe) const {
    target.draw(ctx, u, levels_.front(), rng.with(rng_purpose::initial_state));
    chain_buffer d(ctx, u.chains, u.shape);
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const auto c = ddim_step(levels_[i], i + 1 < levels_.size() ? levels_[i + 1] : 0.0, 1.0);
      target.denoise(ctx, u, levels_[i], d.view());
      for_each(ctx, u.size(), math::ancestral_step{u.data, d.view().data, u.shape.pixels(), c.keep, c.noise,
                                                   rng.with(rng_purpose::diffusion_noise).at_step(i)});
      if (observe) observe(i + 1, steps());
    }
  }

  const inverse_problem& problem_;
  std::optional<gaussian_mixture_prior> converted_;
  const gaussian_mixture_prior& prior_;
  std::vector<double> levels_;
  std::unique_ptr<diffusion_target> posterior_;  // null: one posterior per run (a mixture with several sets)
  buffer<cfloat> shifts_;                         // a Gaussian's per-set mean shifts (several sets)
};

}  // namespace

std::unique_ptr<sampler> make_exact_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                            const sampler_params& params) {
  if (const auto* mixture = dynamic_cast<const gaussian_mixture_prior*>(&prior))
    return std::make_unique<exact_sampler>(ctx, problem, std::nullopt, mixture, params);
  const auto* gaussian = dynamic_cast<const gaussian_prior*>(&prior);
  TWOFOLD_EXPECTS(gaussian, "sampler 'exact' needs an analytic prior (Gaussian or Gaussian mixture), not '" +
                                prior.name() + "'");
  const std::vector<double> one{1.0};
  return std::make_unique<exact_sampler>(
      ctx, problem,
      gaussian_mixture_prior(ctx, gaussian->basis(), gaussian->shape(), one, gaussian->mean(), gaussian->variance(),
                             problem.values()),
      nullptr, params);
}

}  // namespace twofold::detail
