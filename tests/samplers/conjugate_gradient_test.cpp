// Batched CG (host/sampling/conjugate_gradient.cpp) against closed-form solutions of
// diagonal systems, and its host waits: the per-chain scalars stay on the backend and
// the residuals are read back only every cg_check_interval iterations.
#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/error.hpp>

#include "host/sampling/conjugate_gradient.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace twofold {
namespace {

constexpr std::size_t pixels = 64;

/// Chain 0 solves 4·x = b (one iteration); chain 1 a diagonal system with 64 distinct
/// entries spread over [1, 100] (many iterations).
float diagonal(std::size_t chain, std::size_t i) {
  return chain == 0 ? 4.0f : 1.0f + 99.0f * float(i * 37 % pixels) / float(pixels - 1);
}

struct diagonal_systems {
  context ctx{backend_request::cpu};
  image_shape shape{8, 8};
  std::vector<cfloat> b_host;
  chain_buffer b, x;
  diagonal_systems() : b_host(2 * pixels) {
    for (std::size_t i = 0; i < b_host.size(); ++i)
      b_host[i] = {std::cos(0.3f * float(i)) + 1.5f, std::sin(0.7f * float(i))};
    b = to_backend(ctx, b_host, 2, shape);
    x = to_backend(ctx, std::vector<cfloat>(2 * pixels), 2, shape);
  }
  // CPU buffers: the maps loop over host memory directly (and never wait).
  detail::batch_map op() const {
    return [](const_chain_view in, chain_view out) {
      for (std::size_t c = 0; c < in.chains; ++c)
        for (std::size_t i = 0; i < pixels; ++i) out.data[c * pixels + i] = diagonal(c, i) * in.data[c * pixels + i];
    };
  }
  static detail::batch_map identity() {
    return [](const_chain_view in, chain_view out) {
      for (std::size_t i = 0; i < in.size(); ++i) out.data[i] = in.data[i];
    };
  }
  detail::cg_report solve(const cg_params& params, detail::cg_workspace* workspace = nullptr) {
    return detail::batched_cg(ctx, op(), identity(), b.view(), x.view(), params, "test solve", workspace);
  }
};

TEST(ConjugateGradient, SolvesDiagonalSystemsAndFreezesConvergedChains) {
  diagonal_systems s;
  cg_params params;
  params.tolerance = 1e-5;
  const auto report = s.solve(params);
  // Chain 1 needs more than one check interval, so chain 0 (converged after one
  // iteration) was stepped on with α = 0 for many iterations.
  ASSERT_GT(report.iterations, 2 * detail::cg_check_interval);
  EXPECT_LE(report.iterations, pixels + 8) << "64 distinct eigenvalues: at most 64 iterations in exact arithmetic";
  const auto x = to_host(s.ctx, s.x.view());
  for (std::size_t c = 0; c < 2; ++c) {
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < pixels; ++i) {
      const cfloat exact = (1.0f / diagonal(c, i)) * s.b_host[c * pixels + i];
      const cfloat d = x[c * pixels + i] - exact;
      err += double(d.re) * d.re + double(d.im) * d.im;
      norm += double(exact.re) * exact.re + double(exact.im) * exact.im;
    }
    // ‖x − x*‖/‖x*‖ ≤ κ · (relative residual) = 100 · 1e-5 for chain 1; chain 0's one
    // step is exact up to float rounding (a few ulp), and frozen ever after.
    EXPECT_LE(std::sqrt(err / norm), c == 0 ? 1e-6 : 1e-3) << "chain " << c;
  }
}

TEST(ConjugateGradient, ReportsTheIterationsTheSlowestChainNeeded) {
  // One iteration solves 4·x = b: the report says 1, not the check interval.
  diagonal_systems s;
  const auto single = [&] {
    return detail::batched_cg(s.ctx, s.op(), diagonal_systems::identity(),
                              const_chain_view{s.b.view().data, 1, s.shape}, chain_view{s.x.view().data, 1, s.shape},
                              cg_params{}, "test solve");
  };
  EXPECT_EQ(single().iterations, 1u);
}

TEST(HostWaits, ConjugateGradientReadsItsResidualsOnlyEveryFewIterations) {
  diagonal_systems s;
  cg_params params;
  params.tolerance = 1e-5;
  const std::size_t before = detail::host_wait_count();
  const auto report = s.solve(params);
  const std::size_t waits = detail::host_wait_count() - before;
  RecordProperty("iterations", static_cast<int>(report.iterations));
  RecordProperty("host_waits", static_cast<int>(waits));
  // A fresh workspace: one read every cg_check_interval iterations, one at the end (the
  // iterations may run up to an interval past the last convergence).
  EXPECT_LE(waits, report.iterations / detail::cg_check_interval + 2) << report.iterations << " iterations";
  EXPECT_GE(waits, 2u);
}

TEST(HostWaits, ConjugateGradientChecksFirstWhereThePreviousSolveConverged) {
  // A sampler solves similar systems every step with one workspace: the second solve
  // reads its residuals first after the first solve's iteration count (rounded up to
  // an interval), so it waits twice — that check and the final read — with the same result.
  diagonal_systems s;
  cg_params params;
  params.tolerance = 1e-5;
  detail::cg_workspace workspace;
  const auto first = s.solve(params, &workspace);
  const std::vector<cfloat> x_first = to_host(s.ctx, s.x.storage);
  s.x = to_backend(s.ctx, std::vector<cfloat>(2 * pixels), 2, s.shape);
  const std::size_t before = detail::host_wait_count();
  const auto second = s.solve(params, &workspace);
  const std::size_t waits = detail::host_wait_count() - before;
  RecordProperty("host_waits_second_solve", static_cast<int>(waits));
  ASSERT_GT(first.iterations, 2 * detail::cg_check_interval);  // else the first solve would wait as little
  EXPECT_EQ(second.iterations, first.iterations);
  EXPECT_EQ(waits, 2u);
  EXPECT_EQ(to_host(s.ctx, s.x.storage), x_first);
}

TEST(ConjugateGradient, NamesTheSolveWhenItDoesNotConverge) {
  diagonal_systems s;
  cg_params params;
  params.tolerance = 1e-5;
  params.max_iterations = 3;
  try {
    (void)s.solve(params);
    FAIL() << "three iterations cannot solve chain 1";
  } catch (const runtime_failure& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("test solve"), std::string::npos) << what;
    EXPECT_NE(what.find("chain 1"), std::string::npos) << what;
    EXPECT_NE(what.find("after 3 iterations"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace twofold
