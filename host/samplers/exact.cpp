// The exact-score sampler: reverse ancestral steps whose denoiser is the exact
// posterior one (docs/design.md §1.4). The posterior of a Gaussian or Gaussian-mixture prior
// is a mixture (include/twofold/exact/mixture.hpp); its denoiser is that of a
// mixture prior diagonal in the shared basis, or, for small images with any
// operator, of a mixture whose components each have their own eigenbasis (dense
// form, one GEMM pair per component). The only error is time discretisation.
#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/mixture.hpp"
#include "host/math/sampler_steps.hpp"
#include <twofold/exact/mixture.hpp>

#include "host/backend/blas_engine.hpp"
#include "host/sampling/diffusion_steps.hpp"
#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"
#include "host/sampling/sampler.hpp"

#include <cmath>
#include <memory>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

/// What ancestral sampling needs of its target: the denoiser and exact draws of the
/// smoothed target at the first level, for a batch of chains laid out as `runs`
/// (targets over several measurement sets give each run its own set's posterior).
class diffusion_target {
 public:
  virtual ~diffusion_target() = default;
  virtual void denoise(const context& ctx, const_chain_view z, double s, chain_view out, run_layout runs) const = 0;
  virtual void draw(const context& ctx, chain_view u, double s, const rng_stream& rng, run_layout runs) const = 0;
};

/// A mixture diagonal in one basis, owned or borrowed, the same for every run.
class diagonal_target final : public diffusion_target {
 public:
  explicit diagonal_target(gaussian_mixture_prior&& owned) : owned_(std::move(owned)), mixture_(*owned_) {}
  explicit diagonal_target(const gaussian_mixture_prior& borrowed) : mixture_(borrowed) {}
  void denoise(const context& ctx, const_chain_view z, double s, chain_view out, run_layout) const override {
    mixture_.denoise(ctx, z, s, out);
  }
  void draw(const context& ctx, chain_view u, double s, const rng_stream& rng, run_layout) const override {
    mixture_.draw(ctx, u, s, rng);
  }

 private:
  std::optional<gaussian_mixture_prior> owned_;
  const gaussian_mixture_prior& mixture_;
};

/// The exact posteriors of S ≥ 1 measurement sets, Σ_k w̃_k⁽ʳ⁾ CN(m_k⁽ʳ⁾, Q_k diag(λ_k) Q_kᴴ)
/// for run r. The covariances do not depend on y, so the bases Q_k and variances λ_k
/// are shared and only weights and means are per set. Q_k is one basis for every k
/// (diagonal form: pixel or centred Fourier) or each component's eigenvectors (dense
/// form: one GEMM pair per component). The mixture functors run on the coefficients
/// Q_kᴴz and read the means and weights of each chain's run.
class mixture_target final : public diffusion_target {
 public:
  mixture_target(const context& ctx, std::span<const mixture_posterior> sets)
      : shape_(sets.front().shape), kappa_(sets.front().values == field::real ? 0.5 : 1.0), sets_(sets.size()),
        components_(sets.front().components()), basis_(sets.front().basis) {
    const std::size_t N = shape_.pixels(), K = components_, S = sets_;
    for (const auto& post : sets)
      TWOFOLD_ENSURES(post.components() == K && post.basis == basis_ && post.shape == shape_,
                      "the posteriors of a set batch must share their components' covariances");
    const auto& first = sets.front();
    lambda_host_.resize(K * N);
    for (std::size_t i = 0; i < K * N; ++i)
      lambda_host_[i] = basis_ ? first.basis_variances[i] : float(first.eigenvalues[i]);
    for (const auto& post : sets)
      for (const double w : post.weights) log_weights_.push_back(std::log(w));
    // Coefficient means Q_kᴴ m_k⁽ʳ⁾, [K, S, N].
    std::vector<cfloat> m(K * S * N);
    if (basis_) {
      for (std::size_t k = 0; k < K; ++k)
        for (std::size_t r = 0; r < S; ++r)
          for (std::size_t p = 0; p < N; ++p) m[(k * S + r) * N + p] = cfloat(sets[r].means[k * N + p]);
      means_ = to_backend(ctx, std::span<const cfloat>(m));
      to_basis(ctx, chain_view{means_.data(), K * S, shape_}, fft_direction::forward);
    } else {
      std::vector<cfloat> q(K * N * N);
      for (std::size_t i = 0; i < q.size(); ++i) q[i] = cfloat(first.eigenvectors[i]);
      for (std::size_t k = 0; k < K; ++k)
        for (std::size_t r = 0; r < S; ++r)
          for (std::size_t j = 0; j < N; ++j) {
            cdouble t;
            for (std::size_t p = 0; p < N; ++p) t += conj(first.eigenvectors[k * N * N + j * N + p]) * sets[r].means[k * N + p];
            m[(k * S + r) * N + j] = cfloat(t);
          }
      q_ = to_backend(ctx, std::span<const cfloat>(q));
      means_ = to_backend(ctx, std::span<const cfloat>(m));
    }
    lambda_ = to_backend(ctx, std::span<const float>(lambda_host_));
  }

  void denoise(const context& ctx, const_chain_view z, double s, chain_view out, run_layout runs) const override {
    const std::size_t N = shape_.pixels(), K = components_, S = sets_, C = z.chains;
    const double s2 = s * s;
    // The scratch is the target's own, grown to the largest batch and reused.
    const std::lock_guard hold(scratch_->lock);
    buffer<cfloat>& coefficients = scratch_->coefficients;
    // Shared basis: one coefficient batch for every component; dense: one per component.
    grow_to(ctx, coefficients, (basis_ ? 1 : K) * C * N);
    if (basis_) {
      copy_bytes(ctx, coefficients.data(), z.data, z.size() * sizeof(cfloat));
      to_basis(ctx, chain_view{coefficients.data(), C, shape_}, fft_direction::forward);
    }
    const auto coefficients_of = [&](std::size_t k) { return coefficients.data() + (basis_ ? 0 : k * C * N); };
    grow_to(ctx, scratch_->residual, C * N);
    const chain_view scratch{scratch_->residual.data(), C, shape_};
    buffer<double>& r = scratch_->responsibilities;
    if (K == 1) {
      // One component (a Gaussian prior): every responsibility is exactly 1, as the
      // normalised exponentials below would give; no residual, dot or reduction pass.
      if (r.size() < C) {
        r = buffer<double>(ctx, C);
        const std::vector<double> ones(C, 1.0);
        copy_bytes(ctx, r.data(), ones.data(), C * sizeof(double));
      }
      if (!basis_) ctx.blas().gemm(blas_op::conj_transpose, N, C, N, q_.data(), N, z.data, N, coefficients.data(), N);
    } else {
      grow_to(ctx, scratch_->quadratic, K * C);
      cdouble* quadratic = scratch_->quadratic.data();
      std::vector<double> offset(S * K);
      for (std::size_t k = 0; k < K; ++k) {
        cfloat* c = coefficients_of(k);
        if (!basis_) ctx.blas().gemm(blas_op::conj_transpose, N, C, N, q_.data() + k * N * N, N, z.data, N, c, N);
        for_each(ctx, C * N, math::mixture_scaled_residual{scratch.data, c, means(k, runs),
                                                           lambda_.data() + k * N, N, s2});
        batched_dot(ctx, scratch.data, scratch.data, C, N, quadratic + k * C);
        double log_det = 0;
        for (std::size_t j = 0; j < N; ++j) log_det += std::log(double(lambda_host_[k * N + j]) + s2);
        for (std::size_t q = 0; q < S; ++q) offset[q * K + k] = log_weights_[q * K + k] - kappa_ * log_det;
      }
      grow_to(ctx, scratch_->offsets, S * K);
      copy_bytes(ctx, scratch_->offsets.data(), offset.data(), S * K * sizeof(double));
      grow_to(ctx, r, K * C);
      for_each(ctx, C, math::mixture_responsibilities{r.data(), quadratic, per_set(scratch_->offsets.data(), K, runs),
                                                      K, C, kappa_});
    }
    if (basis_) {
      for (std::size_t k = 0; k < K; ++k)
        for_each(ctx, C * N, math::mixture_accumulate{out.data, coefficients.data(), means(k, runs),
                                                      lambda_.data() + k * N, r.data() + k * C, N, s2, k == 0});
      to_basis(ctx, out, fft_direction::inverse);
      return;
    }
    grow_to(ctx, scratch_->term, C * N);
    const chain_view term{scratch_->term.data(), C, shape_};
    for (std::size_t k = 0; k < K; ++k) {
      for_each(ctx, C * N, math::mixture_accumulate{scratch.data, coefficients_of(k), means(k, runs),
                                                    lambda_.data() + k * N, r.data() + k * C, N, s2, true});
      ctx.blas().gemm(blas_op::none, N, C, N, q_.data() + k * N * N, N, scratch.data, N,
                      k == 0 ? out.data : term.data, N);
      if (k > 0) for_each(ctx, out.size(), math::axpby{out.data, out.data, term.data, 1.0f});
    }
  }

  void draw(const context& ctx, chain_view u, double s, const rng_stream& rng, run_layout runs) const override {
    const std::size_t N = shape_.pixels(), K = components_, S = sets_;
    std::vector<double> cumulative(S * K);
    for (std::size_t r = 0; r < S; ++r) {
      double sum = 0;
      for (std::size_t k = 0; k < K; ++k) cumulative[r * K + k] = sum += std::exp(log_weights_[r * K + k]);
      cumulative[r * K + K - 1] = 2.0;  // the last component takes any rounding remainder
    }
    const auto cum = to_backend(ctx, std::span<const double>(cumulative));
    if (basis_) {
      for_each(ctx, u.size(), math::mixture_draw{u.data, means(0, runs), S * N, lambda_.data(),
                                                 per_set(cum.data(), K, runs), K, N, s * s, rng, K});
      to_basis(ctx, u, fft_direction::inverse);
      return;
    }
    chain_buffer c(ctx, u.chains, shape_), term(ctx, u.chains, shape_);
    for (std::size_t k = 0; k < K; ++k) {
      for_each(ctx, c.view().size(), math::mixture_draw{c.view().data, means(k, runs), 0, lambda_.data() + k * N,
                                                        per_set(cum.data(), K, runs), K, N, s * s, rng, k});
      ctx.blas().gemm(blas_op::none, N, u.chains, N, q_.data() + k * N * N, N, c.view().data, N,
                      k == 0 ? u.data : term.view().data, N);
      if (k > 0) for_each(ctx, u.size(), math::axpby{u.data, u.data, term.view().data, 1.0f});
    }
  }

 private:
  // The shared basis (diagonal form): coefficients = Bᴴ image (forward), image = B coefficients.
  void to_basis(const context& ctx, chain_view v, fft_direction direction) const {
    if (basis_ == gaussian_basis::fourier) fft2c(ctx, v, direction);
  }
  template <class T>
  math::basic_run_data<T> per_set(const T* data, std::size_t size, run_layout runs) const {
    return {data, size, runs.first_chain, sets_ == 1 ? 0 : runs.chains_per_run};
  }
  math::run_data means(std::size_t k, run_layout runs) const {
    return per_set(means_.data() + k * sets_ * shape_.pixels(), shape_.pixels(), runs);
  }

  image_shape shape_;
  double kappa_;
  std::size_t sets_, components_;
  std::optional<gaussian_basis> basis_;  // diagonal form; otherwise the dense q_
  std::vector<double> log_weights_;      // [S, K]
  std::vector<float> lambda_host_;       // [K, N]
  /// denoise()'s scratch, kept across calls (steps allocate nothing); calls serialised.
  struct denoise_scratch {
    std::mutex lock;
    buffer<cfloat> coefficients, residual, term;
    buffer<cdouble> quadratic;
    buffer<double> offsets, responsibilities;
  };
  std::unique_ptr<denoise_scratch> scratch_ = std::make_unique<denoise_scratch>();
  buffer<cfloat> q_, means_;             // q_: [K, N, N] column-major; means_: [K, S, N] coefficients
  buffer<float> lambda_;
};

/// The target of one posterior: a diagonal one through the mixture prior's own
/// denoiser (a Gaussian takes its one-shrink path), a dense one as a mixture_target.
std::unique_ptr<diffusion_target> make_target(const context& ctx, const mixture_posterior& post) {
  if (!post.basis) return std::make_unique<mixture_target>(ctx, std::span<const mixture_posterior>(&post, 1));
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
  /// shifts each run by its set's mean (gaussian_mean_shifts); a mixture samples one
  /// mixture_target holding every set's posterior weights and means.
  exact_sampler(const context& ctx, const inverse_problem& problem, std::optional<gaussian_mixture_prior> converted,
                const gaussian_mixture_prior* prior, const sampler_params& params)
      : problem_(problem), converted_(std::move(converted)), prior_(converted_ ? *converted_ : *prior),
        levels_(noise_levels(params.schedule)) {
    if (problem.sets() == 1) {
      posterior_ = make_target(ctx, exact_mixture_posterior(ctx, problem, prior_));
    } else if (prior_.components() > 1) {
      std::vector<mixture_posterior> sets;
      for (std::size_t r = 0; r < problem.sets(); ++r)
        sets.push_back(exact_mixture_posterior(ctx, problem.measurement_set(ctx, r), prior_));
      posterior_ = std::make_unique<mixture_target>(ctx, sets);
    } else {
      const auto first = exact_mixture_posterior(ctx, problem.measurement_set(ctx, 0), prior_);
      shifts_ = to_backend(ctx, std::span<const cfloat>(gaussian_mean_shifts(ctx, problem, prior_, first)));
      posterior_ = make_target(ctx, first);
    }
  }

  std::size_t steps() const override { return levels_.size(); }

  void posterior(const context& ctx, chain_view x, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    ancestral(ctx, *posterior_, x, rng, {rng.first_chain, chains_per_run}, observe);
    if (shifts_.size() > 0)
      for_each(ctx, x.size(),
               math::add_run_data{x.data,
                                  problem_.per_set(shifts_.data(), x.shape.pixels(), {rng.first_chain, chains_per_run}),
                                  1.0f, x.shape.pixels()});
  }

  // p(x | P_R x = x_R) with the prior in the operator's basis. One component: P_N
  // commutes with the prior covariance, so x = x_R + P_N w with w an exact-score
  // prior draw. Several: for each run of the batch, the mixture with observed
  // coefficients pinned to x_R's and weights given x_R (exact_mixture_conditional),
  // all runs in one mixture_target.
  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    TWOFOLD_EXPECTS(shares_basis(problem_.op(), prior_),
                    "sampler 'exact' in cascade mode needs the prior in the operator's basis (pixel prior with "
                    "inpainting, Fourier prior with a Cartesian mask); use --design replicate");
    const std::size_t N = x.shape.pixels();
    if (prior_.components() == 1) {
      ancestral(ctx, diagonal_target(prior_), x, rng, {}, observe);
      problem_.op().null_project(ctx, x);
      for_each(ctx, x.size(), math::add_run_data{x.data, {anchors, N, rng.first_chain, chains_per_run}, 1.0f, N});
      return;
    }
    const std::size_t first_run = rng.first_chain / chains_per_run;
    const std::size_t last_run = (rng.first_chain + x.chains - 1) / chains_per_run;
    std::vector<mixture_posterior> runs;
    for (std::size_t r = first_run; r <= last_run; ++r)
      runs.push_back(exact_mixture_conditional(ctx, problem_.op(), prior_, to_host(ctx, anchors + r * N, N)));
    ancestral(ctx, mixture_target(ctx, runs), x, rng, {rng.first_chain - first_run * chains_per_run, chains_per_run},
              observe);
  }

 private:
  // Starts from the exact marginal at s_max and steps down the levels, ending with
  // a step to s = 0 (which returns the denoised mean of the last level).
  void ancestral(const context& ctx, const diffusion_target& target, chain_view u, const rng_stream& rng,
                 run_layout runs, const step_observer& observe) const {
    target.draw(ctx, u, levels_.front(), rng.with(rng_purpose::initial_state), runs);
    chain_buffer d(ctx, u.chains, u.shape);
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const auto c = ddim_step(levels_[i], i + 1 < levels_.size() ? levels_[i + 1] : 0.0, 1.0);
      target.denoise(ctx, u, levels_[i], d.view(), runs);
      for_each(ctx, u.size(), math::ancestral_step{u.data, d.view().data, u.shape.pixels(), c.keep, c.noise,
                                                   rng.with(rng_purpose::diffusion_noise).at_step(i)});
      if (observe) observe(i + 1, steps());
    }
  }

  const inverse_problem& problem_;
  std::optional<gaussian_mixture_prior> converted_;
  const gaussian_mixture_prior& prior_;
  std::vector<double> levels_;
  std::unique_ptr<diffusion_target> posterior_;
  buffer<cfloat> shifts_;  // a Gaussian's per-set mean shifts (several sets; empty otherwise)
};

}  // namespace

std::unique_ptr<sampler> make_exact_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                            const sampler_params& params) {
  if (const gaussian_mixture_prior* mixture = prior.mixture_form())
    return std::make_unique<exact_sampler>(ctx, problem, std::nullopt, mixture, params);
  const gaussian_prior* gaussian = prior.gaussian_form();
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
