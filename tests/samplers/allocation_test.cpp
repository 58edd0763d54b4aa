// Sampler steps allocate no backend memory: every buffer a run needs is allocated
// once per wave, so doubling the number of noise levels leaves the number of
// allocations unchanged. On the GPU each allocation and free is a device-wide
// synchronisation; on the CPU a large one is a fresh mapping paid in page faults.
#include <twofold/twofold.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/operator_cases.hpp"
#include "tests/support/step_counters.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace twofold {
namespace {

TEST(Allocations, NoSamplerAllocatesPerStep) {
  testing::fourier_case fc;
  const auto problem = fc.problem();
  const std::vector<double> w{0.6, 0.4};
  std::vector<cfloat> means(fc.prior.mean());
  for (const cfloat m : fc.prior.mean()) means.push_back(m + cfloat{0.5f, 0.0f});
  std::vector<float> variances(fc.prior.variance());
  variances.insert(variances.end(), fc.prior.variance().begin(), fc.prior.variance().end());
  const gaussian_mixture_prior mixture(fc.ctx, gaussian_basis::fourier, fc.shape, w, means, variances);
  for (const prior* p : {static_cast<const prior*>(&fc.prior), static_cast<const prior*>(&mixture)})
    for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                            sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm, sampler_kind::smc}) {
      if (kind == sampler_kind::pto && p == &mixture) continue;  // pto needs a Gaussian prior
      // Cascade: stage 1 and the stage-2 completions (range/null projections per step).
      EXPECT_EQ(testing::per_twenty_steps(fc.ctx, problem, *p, kind, run_design::replicate).allocations, 0u)
          << to_string(kind) << " with " << p->name() << ", replicate";
      EXPECT_EQ(testing::per_twenty_steps(fc.ctx, problem, *p, kind).allocations, 0u)
          << to_string(kind) << " with " << p->name();
    }
}

TEST(HostWaits, StepsOfTheSpectralPathNeverWaitForTheBackend) {
  // On a GPU every wait is a synchronisation of the stream. The samplers' steps on
  // an operator with a spectral form queue their work and read nothing back; smc
  // reads each system's log-weights once per step to decide on resampling.
  testing::fourier_case fc;
  const auto problem = fc.problem();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::dps, sampler_kind::pigdm,
                          sampler_kind::ddrm, sampler_kind::ddnm})
    EXPECT_EQ(testing::per_twenty_steps(fc.ctx, problem, fc.prior, kind, run_design::replicate).host_waits, 0u)
        << to_string(kind);
  EXPECT_EQ(testing::per_twenty_steps(fc.ctx, problem, fc.prior, sampler_kind::smc, run_design::replicate).host_waits,
            20u)
      << "smc: one read per step";
}

TEST(Allocations, NoOperatorAllocatesPerLangevinStep) {
  const context ctx(backend_request::cpu);
  for (const auto& c : testing::operator_cases()) {
    // Replicate: the likelihood step's AᴴA; cascade: stage 2's projections as well
    // (where the operator allows the cascade).
    EXPECT_EQ(testing::per_twenty_langevin_steps(ctx, c, run_design::replicate).allocations, 0u)
        << c.label << " replicate";
    EXPECT_EQ(testing::per_twenty_langevin_steps(ctx, c, run_design::cascade).allocations, 0u)
        << c.label << " cascade";
  }
}

}  // namespace
}  // namespace twofold
