// design_params::draw_sink (include/twofold/sampling/sample.hpp): every accumulated draw
// handed over once, wave by wave in chain order, with the values keep_draws keeps —
// for sample() in both designs, for any wave size, after a resume, and for
// posterior_draws(), which then returns nothing of its own.
#include <twofold/twofold.hpp>

#include "tests/support/fourier_case.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace twofold {
namespace {

using namespace twofold::testing;

/// What a sink received: the draws at their chains, and whether they came in order.
struct received {
  std::vector<cfloat> draws;
  std::size_t next = 0, calls = 0;
  bool in_order = true;
  design_params::draw_sink_type sink(std::size_t pixels) {
    return [this, pixels](std::size_t first, std::span<const cfloat> d) {
      in_order = in_order && first == next;
      next = first + d.size() / pixels;
      draws.insert(draws.end(), d.begin(), d.end());
      ++calls;
    };
  }
};

bool same_bits(const std::vector<cfloat>& a, const std::vector<cfloat>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(cfloat)) == 0;
}

TEST(DrawSink, HandsOverTheKeptDrawsWaveByWave) {
  fourier_case c;
  const auto problem = c.problem();
  const std::size_t N = c.shape.pixels();
  sampler_params sp;
  sp.schedule.levels = 20;
  for (const auto kind : {run_design::cascade, run_design::replicate}) {
    design_params kept;
    kept.kind = kind;
    kept.runs = 3;
    kept.chains_per_run = 4;
    kept.seed = 9;
    kept.keep_draws = true;
    const auto reference = sample(c.ctx, problem, c.prior, sp, kept);
    for (const std::size_t wave : {std::size_t{0}, std::size_t{4}, std::size_t{8}}) {
      received got;
      design_params streamed = kept;
      streamed.keep_draws = false;
      streamed.wave_chains = wave;
      streamed.draw_sink = got.sink(N);
      const auto result = sample(c.ctx, problem, c.prior, sp, streamed);
      EXPECT_TRUE(result.draws.empty());
      EXPECT_TRUE(got.in_order);
      EXPECT_TRUE(same_bits(got.draws, reference.draws)) << to_string(kind) << ", waves of " << wave;
      EXPECT_EQ(result.maps.mean, reference.maps.mean);
      if (wave == 4) {
        EXPECT_EQ(got.calls, 3u);  // one run per wave
      }
    }
  }
}

TEST(DrawSink, ResumedRunHandsOverTheRest) {
  fourier_case c;
  const auto problem = c.problem();
  const std::size_t N = c.shape.pixels();
  sampler_params sp;
  sp.schedule.levels = 20;
  design_params d;
  d.kind = run_design::replicate;
  d.runs = 4;
  d.chains_per_run = 4;
  d.wave_chains = 4;
  std::vector<sample_checkpoint> states;
  checkpoint_params save;
  save.every_seconds = 0;
  save.save = [&](const sample_checkpoint& s) { states.push_back(s); };
  received all;
  d.draw_sink = all.sink(N);
  sample(c.ctx, problem, c.prior, sp, d, {}, save);
  ASSERT_GE(states.size(), 2u);
  const sample_checkpoint& middle = states[1];  // after two runs
  EXPECT_TRUE(middle.draws.empty());            // the sink has them; the checkpoint does not
  received rest;
  rest.next = middle.next_chain;
  d.draw_sink = rest.sink(N);
  checkpoint_params resume;
  resume.resume = &middle;
  sample(c.ctx, problem, c.prior, sp, d, {}, resume);
  EXPECT_TRUE(rest.in_order);
  const std::vector<cfloat> tail(all.draws.begin() + std::ptrdiff_t(middle.next_chain * N), all.draws.end());
  EXPECT_TRUE(same_bits(rest.draws, tail));
}

TEST(DrawSink, PosteriorDrawsGoToTheSinkAlone) {
  fourier_case c;
  const auto problem = c.problem();
  sampler_params sp;
  sp.schedule.levels = 20;
  design_params d;
  d.runs = 2;
  d.chains_per_run = 5;
  d.wave_chains = 3;
  const auto reference = posterior_draws(c.ctx, problem, c.prior, sp, d);
  received got;
  d.draw_sink = got.sink(c.shape.pixels());
  EXPECT_TRUE(posterior_draws(c.ctx, problem, c.prior, sp, d).empty());
  EXPECT_TRUE(got.in_order);
  EXPECT_TRUE(same_bits(got.draws, reference));
  received both;
  d.keep_draws = true;
  d.draw_sink = both.sink(c.shape.pixels());
  EXPECT_TRUE(same_bits(posterior_draws(c.ctx, problem, c.prior, sp, d), reference));
  EXPECT_TRUE(same_bits(both.draws, reference));
}

}  // namespace
}  // namespace twofold
