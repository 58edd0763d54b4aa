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

void cg_workspace::reserve(const context& ctx, std::size_t chains, std::size_t pixels) {
  for (buffer<cfloat>* b : {&r, &z, &p, &ap}) grow_to(ctx, *b, chains * pixels);
  grow_to(ctx, dots, chains);
  grow_to(ctx, coefficients, chains);
}

cg_report batched_cg(const context& ctx, const batch_map& op, const batch_map& precondition, const_chain_view b,
                     chain_view x, const cg_params& params, std::string_view what, cg_workspace* workspace) {
  const std::size_t C = x.chains, N = x.shape.pixels();
  cg_workspace local;
  cg_workspace& ws = workspace ? *workspace : local;
  ws.reserve(ctx, C, N);
  const auto batch = [&](buffer<cfloat>& storage) { return chain_view{storage.data(), C, x.shape}; };
  const auto r = batch(ws.r), z = batch(ws.z), p = batch(ws.p), ap = batch(ws.ap);
  buffer<cdouble>& scratch = ws.dots;
  buffer<double>& coef = ws.coefficients;

  op(x, r);  // r = b − A x
  for_each(ctx, r.size(), math::axpby{r.data, b.data, r.data, -1.0f});
  precondition(r, z);
  copy_bytes(ctx, p.data, z.data, z.size() * sizeof(cfloat));

  const auto bb = dots(ctx, b, b, scratch);
  std::vector<double> rz(C), limit(C), rr(C);
  const auto rz0 = dots(ctx, r, z, scratch);
  const auto rr0 = dots(ctx, r, r, scratch);
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
    op(p, ap);
    const auto pap = dots(ctx, p, ap, scratch);
    for (std::size_t c = 0; c < C; ++c)
      alpha[c] = rr[c] <= limit[c] || pap[c].re <= 0 ? 0.0 : rz[c] / pap[c].re;
    copy_bytes(ctx, coef.data(), alpha.data(), C * sizeof(double));
    for_each(ctx, C * N, math::cg_advance{x.data, r.data, p.data, ap.data, coef.data(), N});
    precondition(r, z);
    const auto rz_new = dots(ctx, r, z, scratch);
    const auto rr_new = dots(ctx, r, r, scratch);
    for (std::size_t c = 0; c < C; ++c) {
      beta[c] = rz[c] > 0 ? rz_new[c].re / rz[c] : 0.0;
      rz[c] = rz_new[c].re;
      rr[c] = rr_new[c].re;
    }
    copy_bytes(ctx, coef.data(), beta.data(), C * sizeof(double));
    for_each(ctx, C * N, math::cg_direction{p.data, z.data, coef.data(), N});
    ++report.iterations;
  }
  // The recursively updated residual can drift from the true one in float (after a
  // near-breakdown, or on a singular system); recompute it once so that a solve is
  // never reported converged while b − A x is large. 10× the tolerance allows for the
  // rounding of the recomputation itself.
  op(x, r);
  for_each(ctx, r.size(), math::axpby{r.data, b.data, r.data, -1.0f});
  const auto true_rr = dots(ctx, r, r, scratch);
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
