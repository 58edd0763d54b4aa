// maps_from_draws: the nested accumulators of sample() run on host draws. Fed
// sample()'s own kept draws they must give sample()'s maps bit for bit (same tiles,
// same order); fed x = F z of draws z of the problem (A F) z they give the cascade maps
// of the prior F Fᵀ (checked against its exact posterior in tests/eeg).
#include <twofold/twofold.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

namespace twofold {
namespace {

TEST(MapsFromDraws, ReproducesSamplesMapsFromItsDraws) {
  const context ctx(backend_request::cpu);
  const std::size_t m = 3, n = 8;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<cfloat> a(m * n), y(m);
  for (auto& v : a) v = {normal(rng), 0.0f};
  for (auto& v : y) v = {normal(rng), 0.0f};
  const auto op = std::make_shared<dense_operator>(ctx, a, m, image_shape{1, n});
  const inverse_problem problem(ctx, op, y, 0.3, field::real);
  const gaussian_prior prior(ctx, gaussian_basis::pixel, {1, n}, std::vector<cfloat>(n),
                             std::vector<float>{1, 2, 3, 1, 2, 3, 1, 2});
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  for (const run_design kind : {run_design::cascade, run_design::replicate}) {
    design_params d;
    d.kind = kind;
    d.runs = 4;
    d.chains_per_run = 40;  // more than one 32-chain tile per run
    d.keep_draws = true;
    const auto result = sample(ctx, problem, prior, sp, d);
    const auto maps = maps_from_draws(ctx, *op, kind, result.draws, d.runs, d.chains_per_run);
    EXPECT_EQ(maps.mean.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(maps.mean[i].re, result.maps.mean[i].re);
      EXPECT_EQ(maps.total_variance[i], result.maps.total_variance[i]);
      EXPECT_EQ(maps.range_variance[i], result.maps.range_variance[i]);
      EXPECT_EQ(maps.null_variance[i], result.maps.null_variance[i]);
      if (kind == run_design::cascade) {
        EXPECT_EQ(maps.ambiguity[i], result.maps.ambiguity[i]);
        EXPECT_EQ(maps.estimation[i], result.maps.estimation[i]);
      }
    }
  }
  EXPECT_THROW(maps_from_draws(ctx, *op, run_design::cascade, std::vector<cfloat>(10), 4, 40), bad_input);
}

}  // namespace
}  // namespace twofold
