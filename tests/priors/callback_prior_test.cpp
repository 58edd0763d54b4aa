// External denoisers through callback_prior, and raw posterior draws.
#include <twofold/twofold.hpp>
#include <twofold/priors/callback.hpp>
#include <twofold/sampling/sample.hpp>

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace twofold {
namespace {
using namespace twofold::testing;

struct small_problem {
  context ctx{backend_request::cpu};
  image_shape shape{6, 5};
  std::vector<float> variance;
  gaussian_prior prior;
  inverse_problem problem;
  small_problem()
      : variance(shape.pixels(), 0.7f),
        prior(ctx, gaussian_basis::pixel, shape, random_image(shape, 1), variance),
        problem(ctx, std::make_shared<fourier_mask_operator>(ctx, shape, line_mask(shape, {0, 2, 3})),
                random_image(shape, 2), 0.2) {}
};

sampler_params few_levels() {
  sampler_params sp;
  sp.kind = sampler_kind::langevin;
  sp.schedule.levels = 20;
  return sp;
}

TEST(CallbackPrior, SamplesExactlyLikeThePriorItWraps) {
  small_problem p;
  const callback_prior wrapped(p.shape, "wrapped-gaussian",
                               [&](const context& ctx, const_chain_view z, double s, chain_view out) {
                                 p.prior.denoise(ctx, z, s, out);
                               });
  design_params d;
  d.runs = 2;
  d.chains_per_run = 4;
  const auto a = posterior_draws(p.ctx, p.problem, p.prior, few_levels(), d);
  const auto b = posterior_draws(p.ctx, p.problem, wrapped, few_levels(), d);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "element " << i;
}

TEST(CallbackPrior, WithoutAVjpSaysSo) {
  small_problem p;
  const callback_prior net(p.shape, "my-net", [](const context&, const_chain_view, double, chain_view) {});
  EXPECT_FALSE(net.has_vjp());
  chain_buffer z(p.ctx, 1, p.shape);
  EXPECT_CONTAINS(bad_input_message([&] { net.vjp(p.ctx, z.view(), 1.0, z.view(), z.view()); }),
                  "prior 'my-net' has no vector-Jacobian product");
  EXPECT_CONTAINS(bad_input_message([&] { callback_prior(p.shape, "empty", {}); }), "the denoise callback is empty");
}

TEST(PosteriorDraws, AreTheChainsTheReplicateDesignAccumulates) {
  small_problem p;
  design_params d;
  d.kind = run_design::replicate;
  d.runs = 2;
  d.chains_per_run = 8;
  d.wave_chains = 5;  // waves must not change the draws
  const auto draws = posterior_draws(p.ctx, p.problem, p.prior, few_levels(), d);
  const auto maps = sample(p.ctx, p.problem, p.prior, few_levels(), d).maps;
  const std::size_t N = p.shape.pixels();
  for (std::size_t q = 0; q < N; ++q) {
    cdouble mean;
    for (std::size_t c = 0; c < 16; ++c) mean += cdouble(draws[c * N + q]);
    EXPECT_NEAR(abs((1.0 / 16) * mean - maps.mean[q]), 0.0, 1e-6) << "pixel " << q;
  }
}

}  // namespace
}  // namespace twofold
