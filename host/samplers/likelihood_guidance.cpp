#include "host/samplers/likelihood_guidance.hpp"

#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/particles.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/sampling/conjugate_gradient.hpp"
#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"

#include <cmath>
#include <span>
#include <string>

namespace twofold::detail {

likelihood_guidance::likelihood_guidance(const context& ctx, const inverse_problem& problem, double data_variance,
                                         const cg_params& cg, bool force_cg)
    : problem_(problem), v_(data_variance), kappa_(problem.is_real() ? 0.5 : 1.0), cg_(cg) {
  TWOFOLD_EXPECTS(std::isfinite(data_variance) && data_variance > 0,
                  "pigdm data variance must be finite and > 0 (got " + std::to_string(data_variance) + ")");
  TWOFOLD_EXPECTS(cg_.tolerance > 0 && cg_.tolerance < 1, "CG tolerance must be in (0, 1)");
  TWOFOLD_EXPECTS(cg_.max_iterations >= 1, "CG max iterations must be >= 1");
  // σ_y > 0 is guaranteed by inverse_problem; σ_y → 0 makes r²AAᴴ + σ_y²I singular on
  // A's null space only, which the spectral path never divides by (a = 0 → 0).
  spectral_ = force_cg ? nullptr : problem.op().spectral();
  if (spectral_) {
    singular_ = to_backend(ctx, std::span<const float>(spectral_->singular_values()));
    chain_buffer yc(ctx, problem.sets(), spectral_->coefficient_shape());
    spectral_->measurement_coefficients(
        ctx, const_chain_view{problem.measurements_device(), problem.sets(), problem.op().codomain()}, yc.view());
    y_coefficients_ = std::move(yc.storage);
  }
}

likelihood_guidance::workspace likelihood_guidance::make_workspace(const context& ctx, std::size_t chains) const {
  workspace w;
  if (spectral_) {
    w.coefficients = chain_buffer(ctx, chains, spectral_->coefficient_shape());
    w.whitened = chain_buffer(ctx, chains, spectral_->coefficient_shape());
  } else {
    w.residual = chain_buffer(ctx, chains, problem_.op().codomain());
    w.data_term = chain_buffer(ctx, chains, problem_.shape());
  }
  w.dots = buffer<cdouble>(ctx, chains);
  w.more_dots = buffer<cdouble>(ctx, chains);
  return w;
}

void likelihood_guidance::residual_gradient(const context& ctx, const_chain_view d, run_layout runs, double r2,
                                            chain_view h, double* quadratic, workspace& w) const {
  const double sigma2 = problem_.sigma_y() * problem_.sigma_y();
  const std::size_t C = d.chains;
  if (spectral_) {
    const chain_view c = w.coefficients.view(), z = w.whitened.view();
    spectral_->analyse(ctx, d, c);
    for_each(ctx, c.size(),
             math::spectral_likelihood_residual{c.data, quadratic ? z.data : nullptr,
                                                problem_.per_set(y_coefficients_.data(), c.shape.pixels(), runs),
                                                singular_.data(), c.shape.pixels(), float(r2), float(sigma2)});
    spectral_->synthesise(ctx, c, h);
    if (quadratic) {
      batched_dot(ctx, z.data, z.data, C, z.shape.pixels(), w.dots.data());
      for_each(ctx, C, math::combine_quadratic{quadratic, w.dots.data(), nullptr, 0.0, 1.0});
    }
    return;
  }
  // ρ = y − A d, b = Aᴴρ; (I + (r²/σ_y²) AᴴA) h̃ = b by CG from 0, h = h̃/σ_y².
  const linear_operator& A = problem_.op();
  const chain_view rho = w.residual.view(), b = w.data_term.view();
  A.apply(ctx, d, rho);
  for_each(ctx, rho.size(), math::subtract_from{rho.data, problem_.measurements_for(runs)});
  A.adjoint(ctx, rho, b);
  const float t = float(r2 / sigma2);
  const batch_map op = [&](const_chain_view in, chain_view out) {
    A.normal(ctx, in, out);
    for_each(ctx, out.size(), math::axpby{out.data, in.data, out.data, t});
  };
  const batch_map identity = [&](const_chain_view in, chain_view out) { copy_if_distinct(ctx, in, out); };
  zero_bytes(ctx, h.data, h.size() * sizeof(cfloat));
  batched_cg(ctx, op, identity, b, h, cg_,
             "likelihood guidance (r²AᴴA + σ_y²I)h = Aᴴ(y − A x̂₀) (ill-conditioned when σ_y is tiny next to the "
             "data std times |A|; loosen --cg-tolerance)",
             &w.cg);
  for_each(ctx, h.size(), math::scale_by{h.data, float(1.0 / sigma2)});
  if (quadratic) {
    batched_dot(ctx, rho.data, rho.data, C, rho.shape.pixels(), w.dots.data());
    batched_dot(ctx, b.data, h.data, C, b.shape.pixels(), w.more_dots.data());
    for_each(ctx, C, math::combine_quadratic{quadratic, w.dots.data(), w.more_dots.data(), r2, 1.0 / sigma2});
  }
}

void likelihood_guidance::guide(const context& ctx, const prior& prior, const_chain_view u, run_layout runs, double s,
                                chain_view d, chain_view g, double* quadratic, workspace& w) const {
  prior.denoise(ctx, u, s, d);
  residual_gradient(ctx, d, runs, r2(s), g, quadratic, w);
  prior.vjp(ctx, u, s, g, g);
}

}  // namespace twofold::detail
