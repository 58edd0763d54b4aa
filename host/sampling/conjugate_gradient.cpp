#include "host/sampling/conjugate_gradient.hpp"

#include <twofold/core/error.hpp>
#include "host/math/cg_scalars.hpp"
#include "host/math/elementwise.hpp"
#include "host/math/sampler_steps.hpp"

#include "host/backend/for_each.hpp"
#include "host/backend/reductions.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace twofold::detail {

void cg_workspace::reserve(const context& ctx, std::size_t chains, std::size_t pixels) {
  for (buffer<cfloat>* b : {&r, &z, &p, &ap}) grow_to(ctx, *b, chains * pixels);
  grow_to(ctx, dots, 3 * chains);
  grow_to(ctx, scalars, math::cg_rows * chains);
}

cg_report batched_cg(const context& ctx, const batch_map& op, const batch_map& precondition, const_chain_view b,
                     chain_view x, const cg_params& params, std::string_view what, cg_workspace* workspace) {
  const std::size_t C = x.chains, N = x.shape.pixels();
  cg_workspace local;
  cg_workspace& ws = workspace ? *workspace : local;
  ws.reserve(ctx, C, N);
  const auto batch = [&](buffer<cfloat>& storage) { return chain_view{storage.data(), C, x.shape}; };
  const auto r = batch(ws.r), z = batch(ws.z), p = batch(ws.p), ap = batch(ws.ap);
  cdouble* const d0 = ws.dots.data();
  cdouble* const d1 = d0 + C;
  cdouble* const d2 = d1 + C;
  double* const s = ws.scalars.data();
  const auto dot = [&](const_chain_view a, const_chain_view v, cdouble* out) {
    batched_dot(ctx, a.data, v.data, C, N, out);
  };
  const auto row = [&](math::cg_row k) { return s + k * C; };

  op(x, r);  // r = b − A x
  for_each(ctx, r.size(), math::axpby{r.data, b.data, r.data, -1.0f});
  precondition(r, z);
  copy_bytes(ctx, p.data, z.data, z.size() * sizeof(cfloat));
  dot(b, b, d0);
  dot(r, z, d1);
  dot(r, r, d2);
  for_each(ctx, C, math::cg_start{s, d0, d1, d2, C, params.tolerance});

  // The scalars stay on the backend. The host reads the residuals (one wait each)
  // first after the iterations the previous solve on this workspace needed (rounded
  // up to a multiple of cg_check_interval, at least one interval: consecutive solves
  // of a sampler need about as many), then every cg_check_interval iterations, to
  // learn whether all chains have converged. A converged chain's α is 0, so the
  // iterations run past its convergence leave its x as it was: the result is that of
  // checking every iteration.
  const std::size_t first_check =
      std::max(cg_check_interval, (ws.expected_iterations + cg_check_interval - 1) / cg_check_interval * cg_check_interval);
  std::vector<double> limit;  // read with the first residuals
  const auto all_done = [&] {
    const std::vector<double> h = to_host(ctx, row(math::cg_rr), limit.empty() ? 2 * C : C);  // [rr | limit]
    if (limit.empty()) limit.assign(h.begin() + C, h.end());
    for (std::size_t c = 0; c < C; ++c)
      if (!(h[c] <= limit[c])) return false;
    return true;
  };
  std::size_t iteration = 0;
  for (bool done = false; !done && iteration < params.max_iterations;) {
    op(p, ap);
    dot(p, ap, d0);
    for_each(ctx, C, math::cg_step_length{s, d0, C, static_cast<double>(iteration)});
    for_each(ctx, C * N, math::cg_advance{x.data, r.data, p.data, ap.data, row(math::cg_alpha), N});
    precondition(r, z);
    dot(r, z, d1);
    dot(r, r, d2);
    for_each(ctx, C, math::cg_direction_update{s, d1, d2, C});
    for_each(ctx, C * N, math::cg_direction{p.data, z.data, row(math::cg_beta), N});
    ++iteration;
    if (iteration >= first_check && (iteration - first_check) % cg_check_interval == 0) done = all_done();
  }
  // The recursively updated residual can drift from the true one in float (after a
  // near-breakdown, or on a singular system); recompute it once so that a solve is
  // never reported converged while b − A x is large. 10× the tolerance allows for the
  // rounding of the recomputation itself.
  op(x, r);
  for_each(ctx, r.size(), math::axpby{r.data, b.data, r.data, -1.0f});
  dot(r, r, d0);
  for_each(ctx, C, math::cg_record_true_residual{s, d0, C});
  const std::vector<double> h = to_host(ctx, s, math::cg_rows * C);
  const auto at = [&](math::cg_row k, std::size_t c) { return h[k * C + c]; };
  cg_report report;
  std::size_t worst = 0;
  bool converged = true;
  for (std::size_t c = 0; c < C; ++c) {
    const double rr = at(math::cg_rr, c), bb = at(math::cg_bb, c), true_rr = at(math::cg_true_rr, c);
    const double rel = bb > 0 ? std::sqrt(std::max(rr, true_rr) / bb) : 0.0;
    const double limit_c = at(math::cg_limit, c);
    converged = converged && rr <= limit_c && true_rr <= 100 * limit_c;
    report.iterations = std::max(report.iterations, static_cast<std::size_t>(at(math::cg_iterations, c)));
    if (rel >= report.worst_relative_residual) {
      report.worst_relative_residual = rel;
      worst = c;
    }
  }
  ws.expected_iterations = report.iterations;
  TWOFOLD_ENSURES(converged, std::string(what) + ": conjugate gradients did not converge: chain " + std::to_string(worst) +
                                 " has relative residual " + std::to_string(report.worst_relative_residual) +
                                 " after " + std::to_string(report.iterations) + " iterations (tolerance " +
                                 std::to_string(params.tolerance) + ")");
  return report;
}

}  // namespace twofold::detail
