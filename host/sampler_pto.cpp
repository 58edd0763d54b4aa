// Perturb-then-optimise (SPEC §1.4): exact draws from a Gaussian posterior with any
// operator. Each chain draws x' ~ N(μ, Σ) and y' = y + n', then solves
//   (Σ⁻¹ + AᴴA/σ_y²) x = Σ⁻¹x' + Aᴴy'/σ_y²
// by batched CG; the solution is an exact posterior draw. Cascade stage 2 solves
// the constrained version min (x − x')ᴴΣ⁻¹(x − x') subject to P_R x = x_R, i.e.
// P_N Σ⁻¹ P_N w = P_N Σ⁻¹ (x' − x_R), x = x_R + w: an exact draw of x | P_R x.
#include <twofold/operators.hpp>
#include <twofold/error.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/math/sampler_steps.hpp>

#include "host/conjugate_gradient.hpp"
#include "host/for_each.hpp"
#include "host/sampler.hpp"

#include <cmath>

namespace twofold::detail {
namespace {

class pto_sampler final : public sampler {
 public:
  pto_sampler(const inverse_problem& problem, const gaussian_prior& prior, const sampler_params& params)
      : problem_(problem), prior_(prior), cg_(params.cg) {
    TWOFOLD_EXPECTS(cg_.tolerance > 0 && cg_.tolerance < 1, "CG tolerance must be in (0, 1)");
    TWOFOLD_EXPECTS(cg_.max_iterations >= 1, "CG max iterations must be >= 1");
    // Jacobi-type preconditioner (Σ⁻¹ + ρ/σ_y² I)⁻¹ in the prior's basis, with ρ the mean
    // diagonal of AᴴA (the sampled fraction for a Cartesian mask).
    const auto* mask_op = dynamic_cast<const fourier_mask_operator*>(&problem.op());
    const double rho = mask_op ? double(mask_op->sampled()) / double(problem.shape().pixels()) : 1.0;
    shift_ = rho / (problem.sigma_y() * problem.sigma_y());
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
    const std::size_t N = x.shape.pixels(), n = x.size();
    const auto shift_anchor = [&](chain_view v, float beta) {
      for_each(ctx, n, math::add_run_anchor{v.data, anchors, N, rng.first_chain, chains_per_run, beta});
    };
    // rhs = P_N Σ⁻¹ (x' − x_R); start from w = P_N x'.
    chain_buffer rhs(ctx, x.chains, x.shape);
    prior_.draw(ctx, x, 0.0, rng.with(rng_purpose::prior_perturbation));
    copy_bytes(ctx, rhs.view().data, x.data, n * sizeof(cfloat));
    shift_anchor(rhs.view(), -1.0f);
    prior_.apply_precision(ctx, rhs.view(), rhs.view());
    problem_.op().null_project(ctx, rhs.view());
    problem_.op().null_project(ctx, x);

    const batch_map op = [&](const_chain_view in, chain_view out) {
      copy_bytes(ctx, out.data, in.data, in.size() * sizeof(cfloat));
      problem_.op().null_project(ctx, out);
      prior_.apply_precision(ctx, out, out);
      problem_.op().null_project(ctx, out);
    };
    const batch_map precondition = [&](const_chain_view in, chain_view out) {  // P_N Σ P_N
      copy_bytes(ctx, out.data, in.data, in.size() * sizeof(cfloat));
      problem_.op().null_project(ctx, out);
      prior_.apply_covariance(ctx, out, out);
      problem_.op().null_project(ctx, out);
    };
    batched_cg(ctx, op, precondition, rhs.view(), x, cg_);
    shift_anchor(x, 1.0f);
    if (observe) observe(1, 1);
  }

 private:
  const inverse_problem& problem_;
  const gaussian_prior& prior_;
  cg_params cg_;
  double shift_ = 0;
};

}  // namespace

std::unique_ptr<sampler> make_pto_sampler(const context&, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& params) {
  const auto* gaussian = dynamic_cast<const gaussian_prior*>(&prior);
  TWOFOLD_EXPECTS(gaussian != nullptr, "sampler 'pto' (perturb-then-optimise) needs a Gaussian prior");
  return std::make_unique<pto_sampler>(problem, *gaussian, params);
}

}  // namespace twofold::detail
