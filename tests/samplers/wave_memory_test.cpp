// A wave that runs out of backend memory is run again with half as many chains when
// the waves are sized automatically (design_params::wave_chains = 0), and so is an SBC
// batch of replicates (sbc_params::batch_replicates = 0). On the CPU the
// maps do not depend on the wave size, so they equal, bit for bit, those of a run
// whose memory never ran out. The CPU's allocations are limited here the way a full
// device limits them (detail::limit_host_allocations).
#include <twofold/twofold.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace twofold {
namespace {

/// Limits every CPU allocation to `bytes` while alive.
struct allocation_limit {
  explicit allocation_limit(std::size_t bytes) { detail::limit_host_allocations(bytes); }
  ~allocation_limit() { detail::limit_host_allocations(std::numeric_limits<std::size_t>::max()); }
};

struct wave_case {
  testing::fourier_case fc;
  inverse_problem problem = fc.problem();
  sampler_params sp;
  design_params d;
  wave_case() {
    sp.kind = sampler_kind::langevin;
    sp.schedule.levels = 8;
    sp.langevin.step = 0.05;
    d.runs = 4;
    d.chains_per_run = 64;  // stage 2: one wave of 256 chains when memory allows
    d.seed = 7;
  }
  /// Bytes of a chain batch of `chains` chains.
  std::size_t batch_bytes(std::size_t chains) const { return chains * fc.shape.pixels() * sizeof(cfloat); }
};

void expect_same_maps(const uncertainty_maps& a, const uncertainty_maps& b) {
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.total_variance, b.total_variance);
  EXPECT_EQ(a.ambiguity, b.ambiguity);
  EXPECT_EQ(a.estimation, b.estimation);
  EXPECT_EQ(a.range_variance, b.range_variance);
  EXPECT_EQ(a.null_variance, b.null_variance);
}

TEST(WaveMemory, AWaveThatDoesNotFitIsHalvedAndTheMapsAreUnchanged) {
  wave_case c;
  const auto free_run = sample(c.fc.ctx, c.problem, c.fc.prior, c.sp, c.d);
  ASSERT_EQ(free_run.report.wave_chains, 256u);
  ASSERT_EQ(free_run.report.waves_halved, 0u);
  sample_result limited;
  {
    const allocation_limit limit(c.batch_bytes(64));  // 256 and 128 chains do not fit, 64 do
    limited = sample(c.fc.ctx, c.problem, c.fc.prior, c.sp, c.d);
  }
  EXPECT_EQ(limited.report.waves_halved, 2u);
  EXPECT_EQ(limited.report.wave_chains, 64u);
  EXPECT_EQ(limited.report.waves, free_run.report.waves + 3);  // stage 2 in four waves instead of one
  expect_same_maps(limited.maps, free_run.maps);
  // The same for posterior_draws (the replicate design's path).
  design_params rd = c.d;
  rd.kind = run_design::replicate;
  const auto free_draws = posterior_draws(c.fc.ctx, c.problem, c.fc.prior, c.sp, rd);
  const allocation_limit limit(c.batch_bytes(64));
  EXPECT_EQ(posterior_draws(c.fc.ctx, c.problem, c.fc.prior, c.sp, rd), free_draws);
}

TEST(WaveMemory, AFixedWaveSizeOrTheSmallestWaveThatDoesNotFitIsAnOutOfMemoryNamingTheSetting) {
  wave_case c;
  {
    c.d.wave_chains = 256;  // the user's choice is kept: no retry, an error naming it
    const allocation_limit limit(c.batch_bytes(64));
    try {
      (void)sample(c.fc.ctx, c.problem, c.fc.prior, c.sp, c.d);
      ADD_FAILURE() << "a wave of 256 chains fitted under a 64-chain limit";
    } catch (const out_of_memory& e) {
      EXPECT_CONTAINS(std::string(e.what()), "wave_chains");
      EXPECT_CONTAINS(std::string(e.what()), "256 chains");
    }
  }
  c.d.wave_chains = 0;
  {
    const allocation_limit limit(c.batch_bytes(16));  // below one accumulation tile (32 chains)
    try {
      (void)sample(c.fc.ctx, c.problem, c.fc.prior, c.sp, c.d);
      ADD_FAILURE() << "a wave fitted under a 16-chain limit";
    } catch (const out_of_memory& e) {
      EXPECT_CONTAINS(std::string(e.what()), "smallest wave");
    }
  }
  // The context stays usable once memory is back.
  EXPECT_EQ(sample(c.fc.ctx, c.problem, c.fc.prior, c.sp, c.d).report.waves_halved, 0u);
}

// SBC sizes its own batches of replicates: a batch that does not fit is sampled again
// with half the replicates, and the ranks equal those of a run that never ran out.
TEST(WaveMemory, AnSbcBatchThatDoesNotFitIsHalvedAndTheRanksAreUnchanged) {
  wave_case c;
  sbc_params params;
  params.replicates = 16;
  params.draws = 9;
  params.bins = 5;
  params.seed = 3;
  const auto sbc = [&] {
    return simulation_based_calibration(c.fc.ctx, c.fc.op, c.fc.sigma, field::complex, c.fc.prior, c.sp, params);
  };
  const auto free_run = sbc();
  ASSERT_EQ(free_run.batches, 1u);
  ASSERT_EQ(free_run.batches_halved, 0u);
  sbc_result limited;
  {
    const allocation_limit limit(c.batch_bytes(4 * params.draws));  // 16 replicates do not fit, 4 do
    limited = sbc();
  }
  EXPECT_GE(limited.batches_halved, 2u);
  EXPECT_GE(limited.batches, 4u);
  for (std::size_t t = 0; t < free_run.tests.size(); ++t)
    EXPECT_EQ(limited.tests[t].ranks, free_run.tests[t].ranks) << free_run.tests[t].name;
  // A fixed batch size is the user's choice: no retry, an error naming it.
  params.batch_replicates = 16;
  const allocation_limit limit(c.batch_bytes(4 * params.draws));
  try {
    (void)sbc();
    ADD_FAILURE() << "a batch of 16 replicates fitted under a 4-replicate limit";
  } catch (const out_of_memory& e) {
    EXPECT_CONTAINS(std::string(e.what()), "batch_replicates");
  }
}

}  // namespace
}  // namespace twofold
