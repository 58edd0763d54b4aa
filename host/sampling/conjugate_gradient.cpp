#include "host/sampling/conjugate_gradient.hpp"

#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace twofold::detail {
namespace {

std::vector<cdouble> dots(const context& ctx, const_chain_view a, const_chain_view b, buffer<cdouble>& scratch) {
  batched_dot(ctx, a.data, b.data, a.chains, a.shape.pixels(), scratch.data());
  return to_host(ctx, scratch);
}

}  // namespace

cg_report batched_cg(const context& ctx, const batch_map& op, const batch_map& precondition, const_chain_view b,
                     chain_view x, const cg_params& params, std::string_view what) {
  const std::size_t C = x.chains, N = x.shape.pixels();
  chain_buffer r(ctx, C, x.shape), z(ctx, C, x.shape), p(ctx, C, x.shape), ap(ctx, C, x.shape);
  buffer<cdouble> scratch(ctx, C);
  buffer<double> coef(ctx, C);

  op(x, r.view());  // r = b − A x
  for_each(ctx, r.view().size(), math::axpby{r.view().data, b.data, r.view().data, -1.0f});
  precondition(r.view(), z.view());
  copy_bytes(ctx, p.view().data, z.view().data, z.view().size() * sizeof(cfloat));

  const auto bb = dots(ctx, b, b, scratch);
  std::vector<double> rz(C), limit(C), rr(C);
  const auto rz0 = dots(ctx, r.view(), z.view(), scratch);
  const auto rr0 = dots(ctx, r.view(), r.view(), scratch);
  for (std::size_t c = 0; c < C; ++c) {
    rz[c] = rz0[c].re;
    rr[c] = rr0[c].re;
    limit[c] = params.tolerance * params.tolerance * bb[c].re;
  }
  auto all_done = [&] {
    for (std::size_t c = 0; c < C; ++c)
      if (!(rr[c] <= limit[c])) return false;
    return true;
  };

  cg_report report;
  std::vector<double> alpha(C), beta(C);
  while (!all_done() && report.iterations < params.max_iterations) {
    op(p.view(), ap.view());
    const auto pap = dots(ctx, p.view(), ap.view(), scratch);
    for (std::size_t c = 0; c < C; ++c)
      alpha[c] = rr[c] <= limit[c] || pap[c].re <= 0 ? 0.0 : rz[c] / pap[c].re;
    copy_bytes(ctx, coef.data(), alpha.data(), C * sizeof(double));
    for_each(ctx, C * N, math::cg_advance{x.data, r.view().data, p.view().data, ap.view().data, coef.data(), N});
    precondition(r.view(), z.view());
    const auto rz_new = dots(ctx, r.view(), z.view(), scratch);
    const auto rr_new = dots(ctx, r.view(), r.view(), scratch);
    for (std::size_t c = 0; c < C; ++c) {
      beta[c] = rz[c] > 0 ? rz_new[c].re / rz[c] : 0.0;
      rz[c] = rz_new[c].re;
      rr[c] = rr_new[c].re;
    }
    copy_bytes(ctx, coef.data(), beta.data(), C * sizeof(double));
    for_each(ctx, C * N, math::cg_direction{p.view().data, z.view().data, coef.data(), N});
    ++report.iterations;
  }
  // The recursively updated residual can drift from the true one in float (after a
  // near-breakdown, or on a singular system); recompute it once so that a solve is
  // never reported converged while b − A x is large. 10× the tolerance allows for the
  // rounding of the recomputation itself.
  op(x, r.view());
  for_each(ctx, r.view().size(), math::axpby{r.view().data, b.data, r.view().data, -1.0f});
  const auto true_rr = dots(ctx, r.view(), r.view(), scratch);
  std::size_t worst = 0;
  bool converged = true;
  for (std::size_t c = 0; c < C; ++c) {
    const double rel = bb[c].re > 0 ? std::sqrt(std::max(rr[c], true_rr[c].re) / bb[c].re) : 0.0;
    converged = converged && rr[c] <= limit[c] && true_rr[c].re <= 100 * limit[c];
    if (rel >= report.worst_relative_residual) {
      report.worst_relative_residual = rel;
      worst = c;
    }
  }
  TWOFOLD_ENSURES(converged, std::string(what) + ": conjugate gradients did not converge: chain " + std::to_string(worst) +
                                 " has relative residual " + std::to_string(report.worst_relative_residual) +
                                 " after " + std::to_string(report.iterations) + " iterations (tolerance " +
                                 std::to_string(params.tolerance) + ")");
  return report;
}

}  // namespace twofold::detail
