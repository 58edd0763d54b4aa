// CPU/GPU parity: the raw Philox bits of the CUDA kernels equal the host's, and the
// samplers' maps agree between backends. Skips with a reason without a usable
// device; TWOFOLD_REQUIRE_GPU=1 turns the skip into a failure.
#include <twofold/twofold.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/exact/fourier.hpp>
#include <twofold/sampling/sample.hpp>

#include "host/backend/for_each.hpp"
#include "host/samplers/resampling.hpp"
#include "tests/support/operator_cases.hpp"
#include "tests/support/require_gpu.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace twofold {
namespace {

using namespace twofold::testing;

TEST(GpuParity, NormalsAreIdenticalOnBothBackends) {
  TWOFOLD_NEED_GPU();
  const image_shape s{17, 12};
  const std::size_t chains = 9;
  std::vector<std::vector<cfloat>> out;
  for (const auto req : {backend_request::cpu, backend_request::cuda}) {
    context ctx(req);
    chain_buffer x(ctx, chains, s);
    detail::for_each(ctx, x.view().size(),
                     math::scaled_normal{x.view().data, {}, s.pixels(), 1.0f, rng_stream{123, 40, 7, rng_purpose::test, 2}});
    out.push_back(to_host(ctx, x.storage));
  }
  std::size_t differ = 0;
  for (std::size_t i = 0; i < out[0].size(); ++i) differ += !(out[0][i] == out[1][i]);
  // Box–Muller uses IEEE-rounded float operations only (no libm, no contracted
  // multiply-adds: include/twofold/core/philox.hpp), so every normal has the same bits.
  EXPECT_EQ(differ, 0u) << differ << " normals differ";
}

// Every operator of tests/support/operator_cases.hpp on both backends: apply, adjoint, normal,
// P_R and P_N of the same inputs agree to float round-off (cuFFT/FFTW and cuBLAS/
// OpenBLAS sum in different orders: 1e-5 of the result's norm; the multi-coil CG
// projection amplifies that by its iterations, 1e-3).
TEST(GpuParity, OperatorsAgreeAcrossBackends) {
  TWOFOLD_NEED_GPU();
  for (const auto& c : operator_cases()) {
    std::vector<std::vector<cfloat>> results[2];
    for (int b = 0; b < 2; ++b) {
      context ctx(b == 0 ? backend_request::cpu : backend_request::cuda);
      const auto op = c.make(ctx);
      const image_shape in = op->domain(), out = op->codomain();
      const std::size_t chains = 5;
      auto x = to_backend<cfloat>(ctx, random_image({chains * in.height, in.width * in.coils}, 31));
      auto y = to_backend<cfloat>(ctx, random_image({chains * out.height, out.width * out.coils}, 32));
      const const_chain_view xv{x.data(), chains, in}, yv{y.data(), chains, out};
      chain_buffer ax(ctx, chains, out), aty(ctx, chains, in), ahax(ctx, chains, in), pr(ctx, chains, in),
          pn(ctx, chains, in);
      op->apply(ctx, xv, ax.view());
      op->adjoint(ctx, yv, aty.view());
      op->normal(ctx, xv, ahax.view());
      detail::copy_bytes(ctx, pr.view().data, x.data(), x.size() * sizeof(cfloat));
      detail::copy_bytes(ctx, pn.view().data, x.data(), x.size() * sizeof(cfloat));
      op->range_project(ctx, pr.view());
      op->null_project(ctx, pn.view());
      for (const auto* r : {&ax, &aty, &ahax, &pr, &pn}) results[b].push_back(to_host(ctx, r->storage));
    }
    const char* names[] = {"apply", "adjoint", "normal", "range_project", "null_project"};
    const double tol = c.label.find("multicoil") != std::string::npos ? 1e-3 : 1e-5;
    for (std::size_t k = 0; k < results[0].size(); ++k) {
      double diff = 0, norm = 0;
      for (std::size_t i = 0; i < results[0][k].size(); ++i) {
        diff += norm2(results[0][k][i] - results[1][k][i]);
        norm += norm2(results[0][k][i]);
      }
      EXPECT_LE(std::sqrt(diff), tol * std::sqrt(norm) + 1e-30) << c.label << " " << names[k];
    }
  }
}

TEST(GpuParity, SamplersAgreeAcrossBackends) {
  TWOFOLD_NEED_GPU();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                          sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm, sampler_kind::smc}) {
    std::vector<uncertainty_maps> maps;
    for (const auto req : {backend_request::cpu, backend_request::cuda}) {
      context ctx(req);
      const image_shape s{16, 12};
      auto op = std::make_shared<fourier_mask_operator>(ctx, s, line_mask(s, {1, 5, 6, 9}));
      gaussian_prior prior(ctx, gaussian_basis::fourier, s, random_image(s, 3, 0.3f), decaying_spectrum(s, 0.5, 2.0));
      const inverse_problem problem(ctx, op, simulate_kspace(ctx, prior, *op, 0.1, 9), 0.1);
      sampler_params sp;
      sp.kind = kind;
      sp.schedule.levels = 50;
      design_params d;
      d.runs = kind == sampler_kind::smc ? 16 : 4;
      d.chains_per_run = kind == sampler_kind::smc ? 32 : 8;
      maps.push_back(sample(ctx, problem, prior, sp, d).maps);
    }
    const std::size_t n = maps[0].mean.size();
    if (kind == sampler_kind::smc) {
      // SMC resamples when a run's ESS crosses a threshold: one ancestor chosen
      // differently (log-weights differ in their last bits between cuFFT and FFTW)
      // moves a whole run, so the backends agree in distribution, not draw by draw.
      // Each map averages at least R = 16 independent particle systems: the per-pixel
      // Monte Carlo std of a mean is at most √(v/16) = 0.25 posterior std, of the
      // difference of two 0.35; the RMS over pixels must stay below 0.5 (1.4 times that
      // worst case). The spatial sum of the total variance is, by Parseval, the sum of
      // the 192 independent k-space coefficients' variances, each estimated from at
      // least 16 effective draws (relative std √(2/16) = 0.35), so the sum's relative
      // std is at most 0.35/√192 = 0.026 and the ratio of two 0.036: the window
      // [0.75, 1.33] is more than 7 of those standard errors wide on either side.
      double z2 = 0, v0 = 0, v1 = 0;
      for (std::size_t p = 0; p < n; ++p) {
        z2 += norm2(cdouble(maps[0].mean[p]) - cdouble(maps[1].mean[p])) / maps[0].total_variance[p];
        v0 += maps[0].total_variance[p];
        v1 += maps[1].total_variance[p];
      }
      EXPECT_LT(std::sqrt(z2 / double(n)), 0.5) << "smc: mean maps differ beyond Monte Carlo error";
      EXPECT_GT(v1 / v0, 0.75) << "smc: total variance";
      EXPECT_LT(v1 / v0, 1.33) << "smc: total variance";
      continue;
    }
    // Same random numbers, same math, float rounding differences only.
    for (std::size_t p = 0; p < n; ++p) {
      EXPECT_NEAR(maps[0].mean[p].re, maps[1].mean[p].re, 1e-3) << to_string(kind);
      EXPECT_NEAR(maps[0].ambiguity[p], maps[1].ambiguity[p], 1e-3 * (1 + maps[0].ambiguity[p])) << to_string(kind);
    }
  }
}

// design_params::maps_on_backend and posterior_draws_on_backend on CUDA: the results
// stay in device memory, and copied down they are those of the same run made without
// it (the same kernels on the same device, in the same order: bit for bit).
TEST(GpuParity, ResultsLeftOnTheDeviceAreThoseOfTheHostPath) {
  TWOFOLD_NEED_GPU();
  context ctx(backend_request::cuda);
  const image_shape s{16, 12};
  auto op = std::make_shared<fourier_mask_operator>(ctx, s, line_mask(s, {1, 5, 6, 9}));
  gaussian_prior prior(ctx, gaussian_basis::fourier, s, random_image(s, 3, 0.3f), decaying_spectrum(s, 0.5, 2.0));
  const inverse_problem problem(ctx, op, simulate_kspace(ctx, prior, *op, 0.1, 9), 0.1);
  sampler_params sp;
  sp.kind = sampler_kind::langevin;
  sp.schedule.levels = 30;
  design_params d;
  d.runs = 4;
  d.chains_per_run = 8;
  const auto on_host = sample(ctx, problem, prior, sp, d).maps;
  d.maps_on_backend = true;
  const auto kept = sample(ctx, problem, prior, sp, d);
  ASSERT_EQ(kept.backend_maps.mean.backend(), backend_kind::cuda);
  EXPECT_TRUE(kept.maps.mean.empty());
  const auto down = to_host(ctx, kept.backend_maps);
  for (std::size_t p = 0; p < s.pixels(); ++p) {
    EXPECT_EQ(on_host.mean[p].re, down.mean[p].re);
    EXPECT_EQ(on_host.ambiguity[p], down.ambiguity[p]);
    EXPECT_EQ(on_host.estimation[p], down.estimation[p]);
    EXPECT_EQ(on_host.null_variance[p], down.null_variance[p]);
  }
  d.kind = run_design::replicate;
  const auto draws = posterior_draws(ctx, problem, prior, sp, d);
  const auto kept_draws = posterior_draws_on_backend(ctx, problem, prior, sp, d);
  ASSERT_EQ(kept_draws.backend(), backend_kind::cuda);
  const auto down_draws = to_host(ctx, kept_draws);
  ASSERT_EQ(draws.size(), down_draws.size());
  for (std::size_t i = 0; i < draws.size(); ++i) EXPECT_EQ(draws[i], down_draws[i]) << "draw value " << i;
}

// A batch of three measurement sets: every sampler reads its run's y through
// math::run_data on both backends, draw by draw (smc, whose resampling makes the
// backends agree only in distribution, is compared statistically above).
TEST(GpuParity, MeasurementSetsAgreeAcrossBackends) {
  TWOFOLD_NEED_GPU();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                          sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm}) {
    std::vector<std::vector<cfloat>> draws;
    for (const auto req : {backend_request::cpu, backend_request::cuda}) {
      context ctx(req);
      const image_shape s{16, 12};
      auto op = std::make_shared<fourier_mask_operator>(ctx, s, line_mask(s, {1, 5, 6, 9}));
      gaussian_prior prior(ctx, gaussian_basis::fourier, s, random_image(s, 3, 0.3f), decaying_spectrum(s, 0.5, 2.0));
      std::vector<cfloat> y;
      for (std::uint64_t seed = 9; seed < 12; ++seed) {
        const auto one = simulate_kspace(ctx, prior, *op, 0.1, seed);
        y.insert(y.end(), one.begin(), one.end());
      }
      const inverse_problem problem(ctx, op, y, 0.1, field::complex, 3);
      sampler_params sp;
      sp.kind = kind;
      sp.schedule.levels = 50;
      design_params d;
      d.runs = 3;
      d.chains_per_run = 8;
      draws.push_back(posterior_draws(ctx, problem, prior, sp, d));
    }
    double worst = 0;  // relative to 1 + |x|
    for (std::size_t i = 0; i < draws[0].size(); ++i)
      worst = std::max(worst, double(abs(draws[0][i] - draws[1][i])) / (1 + double(abs(draws[0][i]))));
    EXPECT_LT(worst, 1e-3) << to_string(kind);
  }
}

// Systematic resampling: the CUB segmented scan and the CPU's sequential one give the
// same prefix sums bit for bit for dyadic weights (exact in any summation order) and
// the same ancestors for random weights.
TEST(GpuParity, ResamplingIsIdenticalOnBothBackends) {
  TWOFOLD_NEED_GPU();
  const std::size_t K = 64, R = 37;
  for (const bool dyadic : {true, false}) {
    std::vector<double> w(R * K);
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double u = uniform(11, i, rng_purpose::test);
      w[i] = dyadic ? std::floor(u * 1024) / 256 : std::pow(u, 4.0);
    }
    std::vector<std::uint8_t> flags(R);
    for (std::size_t r = 0; r < R; ++r) flags[r] = r % 5 != 0;
    std::vector<std::vector<double>> sums;
    std::vector<std::vector<std::uint32_t>> ancestors;
    for (const auto req : {backend_request::cpu, backend_request::cuda}) {
      context ctx(req);
      auto wd = to_backend(ctx, std::span<const double>(w));
      auto fd = to_backend(ctx, std::span<const std::uint8_t>(flags));
      buffer<double> cum(ctx, w.size());
      buffer<std::uint32_t> anc(ctx, w.size());
      detail::resampling_workspace scratch;
      detail::segmented_inclusive_sum(ctx, wd.data(), cum.data(), w.size(), K, scratch);
      detail::systematic_ancestors(ctx, wd.data(), fd.data(), R, K, rng_stream{5, 128, 0}, 17, anc.data(), scratch);
      sums.push_back(to_host(ctx, cum));
      ancestors.push_back(to_host(ctx, anc));
    }
    if (dyadic) EXPECT_EQ(sums[0], sums[1]);
    else
      for (std::size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(sums[0][i], sums[1][i], 1e-13 * sums[0][i]);
    EXPECT_EQ(ancestors[0], ancestors[1]) << (dyadic ? "dyadic" : "random") << " weights";
  }
}

TEST(Backend, CudaRequestWithoutDeviceFailsClearly) {
  if (cuda_usable()) GTEST_SKIP() << "a CUDA device is usable here";
  try {
    context ctx(backend_request::cuda);
    FAIL() << "expected device_failure";
  } catch (const device_failure& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos);
  }
  EXPECT_EQ(context(backend_request::automatic).backend(), backend_kind::cpu);
}

}  // namespace
}  // namespace twofold
