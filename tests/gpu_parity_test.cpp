// CPU/GPU parity: the raw Philox bits of the CUDA kernels equal the host's, and the
// samplers' maps agree between backends. Skips with a reason without a usable
// device; TWOFOLD_REQUIRE_GPU=1 turns the skip into a failure.
#include <twofold/operators.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/reference_fourier.hpp>
#include <twofold/sample.hpp>

#include "host/for_each.hpp"
#include "tests/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace twofold {
namespace {

using namespace twofold::testing;

bool require_gpu() {
  const char* v = std::getenv("TWOFOLD_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

#define TWOFOLD_NEED_GPU()                                                                       \
  do {                                                                                           \
    if (!cuda_usable()) {                                                                        \
      if (require_gpu()) FAIL() << "TWOFOLD_REQUIRE_GPU=1 but " << cuda_unavailable_reason();    \
      GTEST_SKIP() << "no usable CUDA device: " << cuda_unavailable_reason();                     \
    }                                                                                            \
  } while (0)

TEST(GpuParity, NormalsAreIdenticalOnBothBackends) {
  TWOFOLD_NEED_GPU();
  const image_shape s{17, 12};
  const std::size_t chains = 9;
  std::vector<std::vector<cfloat>> out;
  for (const auto req : {backend_request::cpu, backend_request::cuda}) {
    context ctx(req);
    chain_buffer x(ctx, chains, s);
    detail::for_each(ctx, x.view().size(),
                     math::scaled_normal{x.view().data, nullptr, s.pixels(), 1.0f, rng_stream{123, 40, 7, rng_purpose::test, 2}});
    out.push_back(to_host(ctx, x.storage));
  }
  std::size_t differ = 0;
  for (std::size_t i = 0; i < out[0].size(); ++i) differ += !(out[0][i] == out[1][i]);
  // Raw bits are identical; Box–Muller runs in double on both, so the rounded
  // normals agree except where libm and CUDA's log/sincos round differently.
  EXPECT_LE(differ, out[0].size() / 1000) << differ << " normals differ";
}

TEST(GpuParity, SamplersAgreeAcrossBackends) {
  TWOFOLD_NEED_GPU();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto}) {
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
      d.runs = 4;
      d.chains_per_run = 8;
      maps.push_back(sample(ctx, problem, prior, sp, d).maps);
    }
    // Same random numbers, same math, float rounding differences only.
    for (std::size_t p = 0; p < maps[0].mean.size(); ++p) {
      EXPECT_NEAR(maps[0].mean[p].re, maps[1].mean[p].re, 1e-3) << to_string(kind);
      EXPECT_NEAR(maps[0].ambiguity[p], maps[1].ambiguity[p], 1e-3 * (1 + maps[0].ambiguity[p])) << to_string(kind);
    }
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
