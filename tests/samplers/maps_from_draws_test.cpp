// How sample()'s maps are formed. maps_from_draws: the nested accumulators of sample()
// run on host draws. Fed sample()'s own kept draws they must give sample()'s maps bit
// for bit (same tiles, same order); fed x = F z of draws z of the problem (A F) z they
// give the cascade maps of the prior F Fᵀ (checked against its exact posterior in
// tests/eeg). design_params::maps_on_backend: the same maps left in backend memory.
#include <twofold/twofold.hpp>

#include <gtest/gtest.h>

#include <algorithm>
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

// The maps left on the backend are the host maps' bits, buffer by buffer, with the
// replicate design's missing maps empty; sample_result::maps then holds only the shape.
TEST(BackendMaps, HoldTheHostMapsBitForBit) {
  const context ctx(backend_request::cpu);
  const image_shape shape{6, 5};
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> mask(shape.pixels());
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = i % 3 == 0 ? 1.0f : 0.0f;
  std::vector<cfloat> y(shape.pixels());
  for (auto& v : y) v = {normal(rng), normal(rng)};
  const auto op = std::make_shared<fourier_mask_operator>(ctx, shape, mask);
  const inverse_problem problem(ctx, op, y, 0.2);
  std::vector<float> variance(shape.pixels());
  for (std::size_t i = 0; i < variance.size(); ++i) variance[i] = 0.5f + float(i % 4);
  const gaussian_prior prior(ctx, gaussian_basis::pixel, shape, std::vector<cfloat>(shape.pixels()), variance);
  sampler_params sp;
  sp.kind = sampler_kind::langevin;
  sp.schedule.levels = 20;
  for (const run_design kind : {run_design::cascade, run_design::replicate}) {
    design_params d;
    d.kind = kind;
    d.runs = 3;
    d.chains_per_run = 5;
    const auto on_host = sample(ctx, problem, prior, sp, d);
    d.maps_on_backend = true;
    const auto kept = sample(ctx, problem, prior, sp, d);
    EXPECT_EQ(kept.maps.shape, shape);
    EXPECT_TRUE(kept.maps.mean.empty() && kept.maps.total_variance.empty());
    ASSERT_EQ(kept.backend_maps.mean.size(), shape.pixels());
    EXPECT_EQ(kept.backend_maps.ambiguity.empty(), kind == run_design::replicate);
    const auto a = on_host.maps, b = to_host(ctx, kept.backend_maps);
    ASSERT_EQ(a.ambiguity.size(), b.ambiguity.size());
    for (std::size_t p = 0; p < shape.pixels(); ++p) {
      EXPECT_EQ(a.mean[p].re, b.mean[p].re);
      EXPECT_EQ(a.mean[p].im, b.mean[p].im);
      EXPECT_EQ(a.total_variance[p], b.total_variance[p]);
      EXPECT_EQ(a.between_run_variance[p], b.between_run_variance[p]);
      EXPECT_EQ(a.range_variance[p], b.range_variance[p]);
      EXPECT_EQ(a.null_variance[p], b.null_variance[p]);
      if (kind == run_design::cascade) {
        EXPECT_EQ(a.ambiguity[p], b.ambiguity[p]);
        EXPECT_EQ(a.estimation[p], b.estimation[p]);
        EXPECT_EQ(a.estimation_clipped[p], std::max(0.0, a.estimation[p]));
        EXPECT_EQ(a.estimation_clipped[p], b.estimation_clipped[p]);
        EXPECT_DOUBLE_EQ(a.total_variance[p], a.ambiguity[p] + a.estimation[p]);
      } else {
        EXPECT_TRUE(b.estimation.empty() && b.estimation_clipped.empty());
      }
    }
  }
}

}  // namespace
}  // namespace twofold
