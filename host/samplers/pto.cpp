// Perturb-then-optimise (docs/design.md §1.4): exact draws from a Gaussian posterior with any
// operator. Each chain draws x' ~ N(μ, Σ) and y' = y + n', then solves
//   (Σ⁻¹ + AᴴA/σ_y²) x = Σ⁻¹x' + Aᴴy'/σ_y²
// by batched CG; the solution is an exact posterior draw. Cascade stage 2 draws
// x | P_R x = x_R exactly by Matheron's update for a linear constraint B x = B x_R
// whose rows span A's row space:
//   x = x' − Σ Bᴴ λ,  (B Σ Bᴴ) λ = B (x' − x_R)   (λ = 0 to start)
//  - operators with a spectral form: B = 1[a > 0] Vᴴ, orthonormal rows, so B Σ Bᴴ is
//    as well conditioned as Σ and masked coefficients stay exactly zero; the
//    preconditioner 1[a > 0] Vᴴ Σ⁻¹ V 1[a > 0] is its exact inverse when the prior is
//    diagonal in V (Fourier prior with MRI or blur, pixel prior with inpainting);
//  - other operators (multi-coil MRI with a 2-D mask): B = A itself, CG in the measurement space
//    (A x = A x_R is the same constraint as P_R x = x_R for x_R in the row space);
//    A Σ Aᴴ is singular there when A has more rows than rank, which CG tolerates for
//    the consistent right-hand side but which makes its accuracy depend on cond(A)².
#include <twofold/priors/gaussian.hpp>
#include <twofold/operators/convolution.hpp>
#include <twofold/operators/dense.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/operators/multicoil.hpp>
#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/sampling/conjugate_gradient.hpp"
#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"
#include "host/sampling/sampler.hpp"

#include <algorithm>
#include <cmath>

namespace twofold::detail {
namespace {

/// ρ = tr(AᴴA)/N: from the singular values when A has a spectral form, else a
/// Hutchinson estimate E‖A z‖²/N over 16 white probes (a preconditioner needs no more).
double mean_normal_diagonal(const context& ctx, const linear_operator& op) {
  const std::size_t N = op.domain().pixels();
  if (const spectral_form* s = op.spectral()) {
    double sum = 0;
    for (const float a : s->singular_values()) sum += double(a) * a;
    return sum / double(N);
  }
  constexpr std::size_t probes = 16;
  chain_buffer z(ctx, probes, op.domain()), y(ctx, probes, op.codomain());
  for_each(ctx, z.view().size(), math::scaled_normal{z.view().data, {}, N, 1.0f, rng_stream{0, 0, 0, rng_purpose::operator_probe}});
  op.apply(ctx, z.view(), y.view());
  buffer<cdouble> norms(ctx, probes);
  batched_dot(ctx, y.view().data, y.view().data, probes, op.codomain().pixels(), norms.data());
  double sum = 0;
  for (const cdouble v : to_host(ctx, norms)) sum += v.re;
  return std::max(sum / double(probes * N), 1e-12);
}

class pto_sampler final : public sampler {
 public:
  pto_sampler(const context& ctx, const inverse_problem& problem, const gaussian_prior& prior, const sampler_params& params)
      : problem_(problem), prior_(prior), cg_(params.cg) {
    TWOFOLD_EXPECTS(cg_.tolerance > 0 && cg_.tolerance < 1, "CG tolerance must be in (0, 1)");
    TWOFOLD_EXPECTS(cg_.max_iterations >= 1, "CG max iterations must be >= 1");
    // Jacobi-type preconditioner (Σ⁻¹ + ρ/σ_y² I)⁻¹ in the prior's basis, with ρ the mean
    // diagonal of AᴴA (the sampled fraction for a Cartesian mask).
    shift_ = mean_normal_diagonal(ctx, problem.op()) / (problem.sigma_y() * problem.sigma_y());
    if (const spectral_form* sf = problem.op().spectral()) {
      std::vector<float> support(sf->singular_values().size());
      for (std::size_t k = 0; k < support.size(); ++k) support[k] = sf->singular_values()[k] > 0 ? 1.0f : 0.0f;
      support_ = to_backend(ctx, std::span<const float>(support));
    }
  }

  std::size_t steps() const override { return 1; }

  void posterior(const context& ctx, chain_view x, const rng_stream& rng, std::size_t chains_per_run,
                 const step_observer& observe) const override {
    const double sigma2 = problem_.sigma_y() * problem_.sigma_y();
    const image_shape m = problem_.op().codomain();
    // x' ~ N(μ, Σ) (also the CG starting point); y' = y + n', n' ~ CN(0, σ_y² I);
    // b = Σ⁻¹x' + Aᴴy'/σ_y².
    prior_.draw(ctx, x, 0.0, rng.with(rng_purpose::prior_perturbation));
    chain_buffer b(ctx, x.chains, x.shape), t(ctx, x.chains, x.shape);
    {
      chain_buffer y(ctx, x.chains, m);
      for_each(ctx, y.view().size(),
               math::scaled_normal{y.view().data, problem_.measurements_for({rng.first_chain, chains_per_run}), m.pixels(),
                                   float(problem_.sigma_y()), rng.with(rng_purpose::noise_perturbation)});
      problem_.op().adjoint(ctx, y.view(), b.view());
    }
    prior_.apply_precision(ctx, x, t.view());
    for_each(ctx, x.size(), math::axpby{b.view().data, t.view().data, b.view().data, float(1.0 / sigma2)});

    const batch_map precision_op = [&](const_chain_view in, chain_view out) {
      problem_.op().normal(ctx, in, out);
      prior_.apply_precision(ctx, in, t.view());
      for_each(ctx, out.size(), math::axpby{out.data, t.view().data, out.data, float(1.0 / sigma2)});
    };
    const batch_map precondition = [&](const_chain_view in, chain_view out) {
      prior_.apply_regularised_covariance(ctx, in, out, shift_);
    };
    batched_cg(ctx, precision_op, precondition, b.view(), x, cg_,
               "pto posterior solve (ill-conditioned in float32 when σ_y is tiny next to the prior std times "
               "|A|; loosen --cg-tolerance)");
    if (observe) observe(1, 1);
  }

  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    prior_.draw(ctx, x, 0.0, rng.with(rng_purpose::prior_perturbation));
    const linear_operator& A = problem_.op();
    if (const spectral_form* sf = A.spectral()) {
      const image_shape c = sf->coefficient_shape();
      chain_buffer u(ctx, x.chains, x.shape);
      const batch_map constraint = [&](const_chain_view in, chain_view out) {
        sf->analyse(ctx, in, out);
        detail::for_each(ctx, out.size(), math::multiply_by_map{out.data, support_.data(), c.pixels()});
      };
      // Every vector of the λ-solve is a combination of masked ones (right-hand side,
      // operator and preconditioner outputs all end in the mask), so it is exactly 0
      // where a = 0 and Bᴴ needs no second mask.
      const batch_map constraint_adjoint = [&](const_chain_view in, chain_view out) { sf->synthesise(ctx, in, out); };
      const batch_map precondition = [&](const_chain_view in, chain_view out) {
        constraint_adjoint(in, u.view());
        prior_.apply_precision(ctx, u.view(), u.view());
        constraint(u.view(), out);
      };
      constrain_by_matheron(ctx, x, rng, anchors, chains_per_run, c, constraint, constraint_adjoint, precondition);
      // x ← x_R + P_N (x − x_R): removes the CG's round-off from the range, so that
      // P_R x = x_R holds to the projector's accuracy (exactly for 0/1 spectra).
      const std::size_t N = x.shape.pixels();
      for_each(ctx, x.size(), math::add_run_data{x.data, {anchors, N, rng.first_chain, chains_per_run}, -1.0f, N});
      A.null_project(ctx, x);
      for_each(ctx, x.size(), math::add_run_data{x.data, {anchors, N, rng.first_chain, chains_per_run}, 1.0f, N});
    } else {
      const batch_map apply = [&](const_chain_view in, chain_view out) { A.apply(ctx, in, out); };
      const batch_map adjoint = [&](const_chain_view in, chain_view out) { A.adjoint(ctx, in, out); };
      const batch_map identity = [&](const_chain_view in, chain_view out) { copy_if_distinct(ctx, in, out); };
      constrain_by_matheron(ctx, x, rng, anchors, chains_per_run, A.codomain(), apply, adjoint, identity);
    }
    if (observe) observe(1, 1);
  }

 private:
  // x holds x' ~ N(μ, Σ). (B Σ Bᴴ) λ = B (x' − x_R) from λ = 0; x ← x' − Σ Bᴴ λ.
  void constrain_by_matheron(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                             std::size_t chains_per_run, image_shape constraint_shape, const batch_map& B,
                             const batch_map& B_adjoint, const batch_map& precondition) const {
    const std::size_t N = x.shape.pixels(), n = x.size();
    chain_buffer t(ctx, x.chains, x.shape), rhs(ctx, x.chains, constraint_shape), lambda(ctx, x.chains, constraint_shape);
    copy_bytes(ctx, t.view().data, x.data, n * sizeof(cfloat));
    for_each(ctx, n, math::add_run_data{t.view().data, {anchors, N, rng.first_chain, chains_per_run}, -1.0f, N});
    B(t.view(), rhs.view());
    zero_bytes(ctx, lambda.view().data, lambda.view().size() * sizeof(cfloat));
    const batch_map op = [&](const_chain_view in, chain_view out) {
      B_adjoint(in, t.view());
      prior_.apply_covariance(ctx, t.view(), t.view());
      B(t.view(), out);
    };
    batched_cg(ctx, op, precondition, rhs.view(), lambda.view(), cg_,
               "pto cascade stage 2 (constraint solve; loosen --cg-tolerance)");
    B_adjoint(lambda.view(), t.view());
    prior_.apply_covariance(ctx, t.view(), t.view());
    for_each(ctx, n, math::axpby{x.data, x.data, t.view().data, -1.0f});
  }

  const inverse_problem& problem_;
  const gaussian_prior& prior_;
  cg_params cg_;
  double shift_ = 0;
  buffer<float> support_;  // 1[a_k > 0] over the spectral coefficients
};

}  // namespace

std::unique_ptr<sampler> make_pto_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& params) {
  const gaussian_prior* gaussian = prior.gaussian_form();
  TWOFOLD_EXPECTS(gaussian != nullptr, "sampler 'pto' (perturb-then-optimise) needs a Gaussian prior");
  return std::make_unique<pto_sampler>(ctx, problem, *gaussian, params);
}

}  // namespace twofold::detail
