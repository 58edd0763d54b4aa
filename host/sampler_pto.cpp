// Perturb-then-optimise (SPEC §1.4): exact draws from a Gaussian posterior with any
// operator. Each chain draws x' ~ N(μ, Σ) and y' = y + n', then solves
//   (Σ⁻¹ + AᴴA/σ_y²) x = Σ⁻¹x' + Aᴴy'/σ_y²
// by batched CG; the solution is an exact posterior draw. Cascade stage 2 draws
// x | P_R x = x_R exactly as min (x − x')ᴴΣ⁻¹(x − x') subject to P_R x = x_R, in one
// of two equivalent forms:
//  - operators with a spectral form (cheap exact P_N): P_N Σ⁻¹ P_N w = P_N Σ⁻¹ (x' − x_R),
//    x = x_R + w, preconditioned by P_N Σ P_N;
//  - other operators (P_N itself needs CG, e.g. multi-coil MRI): Matheron's update
//    x = x' − Σ Aᴴ λ with (A Σ Aᴴ) λ = A (x' − x_R), one CG in the measurement space
//    (A x = A x_R is the same constraint as P_R x = x_R for x_R in the row space).
#include <twofold/operators.hpp>
#include <twofold/error.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/math/sampler_steps.hpp>

#include "host/conjugate_gradient.hpp"
#include "host/for_each.hpp"
#include "host/reductions.hpp"
#include "host/sampler.hpp"

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
  for_each(ctx, z.view().size(), math::scaled_normal{z.view().data, nullptr, N, 1.0f, rng_stream{0, 0, 0, rng_purpose::operator_probe}});
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
  }

  std::size_t steps() const override { return 1; }

  void posterior(const context& ctx, chain_view x, const rng_stream& rng, const step_observer& observe) const override {
    const double sigma2 = problem_.sigma_y() * problem_.sigma_y();
    const image_shape m = problem_.op().codomain();
    // x' ~ N(μ, Σ) (also the CG starting point); y' = y + n', n' ~ CN(0, σ_y² I);
    // b = Σ⁻¹x' + Aᴴy'/σ_y².
    prior_.draw(ctx, x, 0.0, rng.with(rng_purpose::prior_perturbation));
    chain_buffer b(ctx, x.chains, x.shape), t(ctx, x.chains, x.shape);
    {
      chain_buffer y(ctx, x.chains, m);
      for_each(ctx, y.view().size(),
               math::scaled_normal{y.view().data, problem_.measurements_device(), m.pixels(),
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
    batched_cg(ctx, precision_op, precondition, b.view(), x, cg_);
    if (observe) observe(1, 1);
  }

  void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                   std::size_t chains_per_run, const step_observer& observe) const override {
    prior_.draw(ctx, x, 0.0, rng.with(rng_purpose::prior_perturbation));
    if (problem_.op().spectral()) constrain_in_null_space(ctx, x, rng, anchors, chains_per_run);
    else constrain_by_matheron(ctx, x, rng, anchors, chains_per_run);
    if (observe) observe(1, 1);
  }

 private:
  // x holds x' ~ N(μ, Σ). rhs = P_N Σ⁻¹ (x' − x_R); start from w = P_N x'; x = x_R + w.
  void constrain_in_null_space(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                               std::size_t chains_per_run) const {
    const std::size_t N = x.shape.pixels(), n = x.size();
    const auto shift_anchor = [&](chain_view v, float beta) {
      for_each(ctx, n, math::add_run_anchor{v.data, anchors, N, rng.first_chain, chains_per_run, beta});
    };
    chain_buffer rhs(ctx, x.chains, x.shape);
    copy_bytes(ctx, rhs.view().data, x.data, n * sizeof(cfloat));
    shift_anchor(rhs.view(), -1.0f);
    prior_.apply_precision(ctx, rhs.view(), rhs.view());
    problem_.op().null_project(ctx, rhs.view());
    problem_.op().null_project(ctx, x);

    const batch_map op = [&](const_chain_view in, chain_view out) {
      copy_if_distinct(ctx, in, out);
      problem_.op().null_project(ctx, out);
      prior_.apply_precision(ctx, out, out);
      problem_.op().null_project(ctx, out);
    };
    const batch_map precondition = [&](const_chain_view in, chain_view out) {  // P_N Σ P_N
      copy_if_distinct(ctx, in, out);
      problem_.op().null_project(ctx, out);
      prior_.apply_covariance(ctx, out, out);
      problem_.op().null_project(ctx, out);
    };
    batched_cg(ctx, op, precondition, rhs.view(), x, cg_);
    shift_anchor(x, 1.0f);
  }

  // x holds x' ~ N(μ, Σ). (A Σ Aᴴ) λ = A (x' − x_R) from λ = 0; x ← x' − Σ Aᴴ λ.
  void constrain_by_matheron(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                             std::size_t chains_per_run) const {
    const linear_operator& A = problem_.op();
    const std::size_t N = x.shape.pixels(), n = x.size();
    chain_buffer t(ctx, x.chains, x.shape), rhs(ctx, x.chains, A.codomain()), lambda(ctx, x.chains, A.codomain());
    copy_bytes(ctx, t.view().data, x.data, n * sizeof(cfloat));
    for_each(ctx, n, math::add_run_anchor{t.view().data, anchors, N, rng.first_chain, chains_per_run, -1.0f});
    A.apply(ctx, t.view(), rhs.view());
    const batch_map op = [&](const_chain_view in, chain_view out) {
      A.adjoint(ctx, in, t.view());
      prior_.apply_covariance(ctx, t.view(), t.view());
      A.apply(ctx, t.view(), out);
    };
    const batch_map identity = [&](const_chain_view in, chain_view out) { copy_if_distinct(ctx, in, out); };
    batched_cg(ctx, op, identity, rhs.view(), lambda.view(), cg_);
    A.adjoint(ctx, lambda.view(), t.view());
    prior_.apply_covariance(ctx, t.view(), t.view());
    for_each(ctx, n, math::axpby{x.data, x.data, t.view().data, -1.0f});
  }

  const inverse_problem& problem_;
  const gaussian_prior& prior_;
  cg_params cg_;
  double shift_ = 0;
};

}  // namespace

std::unique_ptr<sampler> make_pto_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& params) {
  const auto* gaussian = dynamic_cast<const gaussian_prior*>(&prior);
  TWOFOLD_EXPECTS(gaussian != nullptr, "sampler 'pto' (perturb-then-optimise) needs a Gaussian prior");
  return std::make_unique<pto_sampler>(ctx, problem, *gaussian, params);
}

}  // namespace twofold::detail
