// sample() continued from any of its checkpoints, and assembled from shares of its
// runs sampled apart (include/twofold/sampling/scale_out.hpp), gives the maps and
// draws of the uninterrupted single call bit for bit (on the CPU, for any wave size).
#include <twofold/twofold.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace twofold {
namespace {

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

/// Every map and the draws, bit for bit; names the first that differs.
std::string difference(const sample_result& a, const sample_result& b) {
  const auto& x = a.maps;
  const auto& y = b.maps;
  if (!same_bits(x.mean, y.mean)) return "mean";
  if (!same_bits(x.total_variance, y.total_variance)) return "total_variance";
  if (!same_bits(x.ambiguity, y.ambiguity)) return "ambiguity";
  if (!same_bits(x.estimation, y.estimation)) return "estimation";
  if (!same_bits(x.between_run_variance, y.between_run_variance)) return "between_run_variance";
  if (!same_bits(x.range_variance, y.range_variance)) return "range_variance";
  if (!same_bits(x.null_variance, y.null_variance)) return "null_variance";
  if (!same_bits(a.draws, b.draws)) return "draws";
  return "";
}

struct design_case {
  sampler_kind kind;
  run_design design;
  std::size_t runs, chains, wave_chains;
};

std::string name(const design_case& c) {
  return std::string(to_string(c.kind)) + " " + std::string(to_string(c.design)) + " R=" + std::to_string(c.runs) +
         " K=" + std::to_string(c.chains) + " wave=" + std::to_string(c.wave_chains);
}

std::vector<design_case> cases() {
  return {{sampler_kind::langevin, run_design::cascade, 5, 40, 32},   // runs cut across waves (tiles of 32)
          {sampler_kind::langevin, run_design::replicate, 6, 4, 8},   // several runs per wave
          {sampler_kind::smc, run_design::cascade, 4, 4, 8},          // particle systems: whole runs per wave
          {sampler_kind::pto, run_design::replicate, 3, 3, 1}};       // one tile per wave
}

sampler_params params_of(sampler_kind kind) {
  sampler_params sp;
  sp.kind = kind;
  sp.schedule.levels = 12;
  sp.langevin.step = 0.1;
  return sp;
}

design_params design_of(const design_case& c) {
  design_params d;
  d.kind = c.design;
  d.runs = c.runs;
  d.chains_per_run = c.chains;
  d.wave_chains = c.wave_chains;
  d.seed = 7;
  d.keep_draws = true;
  return d;
}

TEST(Checkpoint, ResumingFromAnyCheckpointIsBitIdentical) {
  testing::fourier_case fc;
  const auto problem = fc.problem();
  for (const auto& c : cases()) {
    const auto sp = params_of(c.kind);
    const auto d = design_of(c);
    std::vector<sample_checkpoint> saved;
    checkpoint_params every_wave;
    every_wave.every_seconds = 0;
    every_wave.save = [&](const sample_checkpoint& s) { saved.push_back(s); };
    const auto whole = sample(fc.ctx, problem, fc.prior, sp, d, {}, every_wave);
    // Without checkpoints the same bits: saving does not disturb the run.
    ASSERT_EQ(difference(whole, sample(fc.ctx, problem, fc.prior, sp, d)), "") << name(c);
    ASSERT_GE(saved.size(), 3u) << name(c);
    for (std::size_t i = 0; i < saved.size(); ++i) {
      checkpoint_params resume;
      resume.resume = &saved[i];
      const auto resumed = sample(fc.ctx, problem, fc.prior, sp, d, {}, resume);
      EXPECT_EQ(difference(whole, resumed), "") << name(c) << ", resumed from checkpoint " << i << " (stage "
                                                << saved[i].stage << ", chain " << saved[i].next_chain << ")";
      EXPECT_EQ(resumed.report.waves, whole.report.waves - (i + 1)) << name(c) << ": the waves done are skipped";
    }
    // The state is used: a different one gives different maps.
    auto altered = saved[saved.size() - 2];
    altered.accumulators.back() += 1.0;  // the sum of run variances of P_N x at the last pixel
    checkpoint_params from_altered;
    from_altered.resume = &altered;
    EXPECT_EQ(difference(whole, sample(fc.ctx, problem, fc.prior, sp, d, {}, from_altered)), "null_variance")
        << name(c);
    // On the CPU another wave size continues bit-identically too (one tile per wave).
    auto other = d;
    other.wave_chains = c.kind == sampler_kind::smc ? c.chains : 1;
    checkpoint_params resume;
    resume.resume = &saved[saved.size() / 2];
    EXPECT_EQ(difference(whole, sample(fc.ctx, problem, fc.prior, sp, other, {}, resume)), "") << name(c);
  }
}

TEST(Checkpoint, StatesThatDoNotFitTheDesignAreRefused) {
  testing::fourier_case fc;
  const auto problem = fc.problem();
  const design_case c{sampler_kind::langevin, run_design::cascade, 4, 4, 8};
  const auto sp = params_of(c.kind);
  const auto d = design_of(c);
  std::vector<sample_checkpoint> saved;
  checkpoint_params every_wave;
  every_wave.every_seconds = 0;
  every_wave.save = [&](const sample_checkpoint& s) { saved.push_back(s); };
  (void)sample(fc.ctx, problem, fc.prior, sp, d, {}, every_wave);
  ASSERT_FALSE(saved.empty());
  const auto refused = [&](sample_checkpoint s, const design_params& design, const std::string& why) {
    checkpoint_params resume;
    resume.resume = &s;
    EXPECT_THROW((void)sample(fc.ctx, problem, fc.prior, sp, design, {}, resume), bad_input) << why;
  };
  auto wrong_stage = saved.back();
  wrong_stage.stage = 0;
  refused(wrong_stage, d, "stage 0 is not a cascade stage");
  auto off_wave = saved.back();
  off_wave.next_chain += 1;
  refused(off_wave, d, "a chain that starts no wave");
  auto few_draws = saved.back();
  few_draws.draws.pop_back();
  refused(few_draws, d, "draws missing");
  auto other_size = saved.back();
  other_size.accumulators.pop_back();
  refused(other_size, d, "accumulator state of another size");
  auto replicate = d;
  replicate.kind = run_design::replicate;
  refused(saved.back(), replicate, "a cascade checkpoint for the replicate design");
}

TEST(ScaleOut, SharesMergedInRunOrderAreBitIdenticalForAnySplit) {
  testing::fourier_case fc;
  const auto problem = fc.problem();
  for (const auto& c : cases()) {
    const auto sp = params_of(c.kind);
    const auto d = design_of(c);
    const auto whole = sample(fc.ctx, problem, fc.prior, sp, d);
    for (std::size_t processes = 1; processes <= 4; ++processes) {
      share_merger merge(fc.ctx, problem.op(), d);
      for (std::size_t rank = 0; rank < processes; ++rank) {
        const auto [first, runs] = share_of(d.runs, processes, rank);
        if (runs == 0) continue;
        // Through bytes, as between processes.
        merge.add(deserialize_share(serialize(sample_share(fc.ctx, problem, fc.prior, sp, d, first, runs))));
      }
      const auto merged = merge.finish();
      EXPECT_EQ(difference(whole, merged), "") << name(c) << " over " << processes << " processes";
      EXPECT_EQ(merged.report.chains, whole.report.chains) << name(c);
    }
  }
}

TEST(ScaleOut, SharesAreSplitEvenlyAndMergedOnlyInOrder) {
  EXPECT_EQ(share_of(10, 3, 0), (std::pair<std::size_t, std::size_t>{0, 4}));
  EXPECT_EQ(share_of(10, 3, 1), (std::pair<std::size_t, std::size_t>{4, 3}));
  EXPECT_EQ(share_of(10, 3, 2), (std::pair<std::size_t, std::size_t>{7, 3}));
  EXPECT_EQ(share_of(2, 3, 2), (std::pair<std::size_t, std::size_t>{2, 0}));
  EXPECT_THROW((void)share_of(4, 2, 2), bad_input);

  testing::fourier_case fc;
  const auto problem = fc.problem();
  const auto sp = params_of(sampler_kind::langevin);
  const auto d = design_of({sampler_kind::langevin, run_design::cascade, 4, 4, 8});
  const auto late = sample_share(fc.ctx, problem, fc.prior, sp, d, 2, 2);
  share_merger merge(fc.ctx, problem.op(), d);
  EXPECT_THROW(merge.add(late), bad_input);  // runs 0 and 1 come first
  merge.add(sample_share(fc.ctx, problem, fc.prior, sp, d, 0, 2));
  EXPECT_THROW((void)merge.finish(), bad_input);  // runs 2 and 3 are missing
  EXPECT_THROW((void)sample_share(fc.ctx, problem, fc.prior, sp, d, 3, 2), bad_input);  // beyond run 4
  auto bytes = serialize(late);
  bytes.pop_back();
  EXPECT_THROW((void)deserialize_share(bytes), bad_input);
}

}  // namespace
}  // namespace twofold
