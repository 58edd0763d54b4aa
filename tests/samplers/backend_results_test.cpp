// Results left in backend memory (device memory on CUDA) for callers that go on
// working there: sample()'s maps with design_params::maps_on_backend, and
// posterior_draws_on_backend / prior_draws_on_backend. On the CPU each must hold the
// bits of its host counterpart (tests/gpu checks the maps on CUDA).
#include <twofold/twofold.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace twofold {
namespace {

struct small_mri {
  context ctx{backend_request::cpu};
  image_shape shape{6, 5};
  std::shared_ptr<fourier_mask_operator> op;
  std::unique_ptr<inverse_problem> problem;
  std::unique_ptr<gaussian_prior> prior;
  small_mri() {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    std::vector<float> mask(shape.pixels()), variance(shape.pixels());
    std::vector<cfloat> y(shape.pixels());
    for (std::size_t i = 0; i < mask.size(); ++i) {
      mask[i] = i % 3 == 0 ? 1.0f : 0.0f;
      variance[i] = 0.5f + float(i % 4);
      y[i] = {normal(rng), normal(rng)};
    }
    op = std::make_shared<fourier_mask_operator>(ctx, shape, mask);
    problem = std::make_unique<inverse_problem>(ctx, op, y, 0.2);
    prior = std::make_unique<gaussian_prior>(ctx, gaussian_basis::pixel, shape, std::vector<cfloat>(shape.pixels()),
                                             variance);
  }
};

bool same_bits(const std::vector<cfloat>& a, const buffer<cfloat>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(cfloat)) == 0;
}

// The maps left on the backend are the host maps' bits, buffer by buffer, with the
// replicate design's missing maps empty; sample_result::maps then holds only the shape.
TEST(BackendMaps, HoldTheHostMapsBitForBit) {
  const small_mri m;
  const auto& ctx = m.ctx;
  const auto shape = m.shape;
  sampler_params sp;
  sp.kind = sampler_kind::langevin;
  sp.schedule.levels = 20;
  for (const run_design kind : {run_design::cascade, run_design::replicate}) {
    design_params d;
    d.kind = kind;
    d.runs = 3;
    d.chains_per_run = 5;
    const auto on_host = sample(ctx, *m.problem, *m.prior, sp, d);
    d.maps_on_backend = true;
    const auto kept = sample(ctx, *m.problem, *m.prior, sp, d);
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

// The draws left on the backend are posterior_draws()' and prior_draws()' bits, and a
// draw sink still receives every wave on the host.
TEST(BackendDraws, HoldTheHostDrawsBitForBit) {
  const small_mri m;
  sampler_params sp;
  sp.kind = sampler_kind::langevin;
  sp.schedule.levels = 20;
  design_params d;
  d.kind = run_design::replicate;
  d.runs = 3;
  d.chains_per_run = 5;
  d.wave_chains = 4;
  const auto on_host = posterior_draws(m.ctx, *m.problem, *m.prior, sp, d);
  std::vector<cfloat> sunk(on_host.size());
  d.draw_sink = [&](std::size_t first, std::span<const cfloat> draws) {
    std::copy(draws.begin(), draws.end(), sunk.begin() + std::ptrdiff_t(first * m.shape.pixels()));
  };
  const auto kept = posterior_draws_on_backend(m.ctx, *m.problem, *m.prior, sp, d);
  EXPECT_EQ(kept.backend(), backend_kind::cpu);
  EXPECT_TRUE(same_bits(on_host, kept));
  EXPECT_EQ(sunk, on_host);
  const auto prior_host = prior_draws(m.ctx, m.shape, field::complex, *m.prior, sp, 7, 3);
  EXPECT_TRUE(same_bits(prior_host, prior_draws_on_backend(m.ctx, m.shape, field::complex, *m.prior, sp, 7, 3)));
  EXPECT_FALSE(same_bits(prior_host, prior_draws_on_backend(m.ctx, m.shape, field::complex, *m.prior, sp, 7, 4)));
}

}  // namespace
}  // namespace twofold
