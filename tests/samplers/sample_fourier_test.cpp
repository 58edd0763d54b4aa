// Closed-form cases (docs/design.md §1.4): a Fourier-basis Gaussian prior with a line mask.
// The exact-score sampler is compared with its discretised expectation (a pure
// Monte Carlo test) and that expectation with the closed form (its bias);
// perturb-then-optimise has no discretisation and is compared with the closed form.
// Tolerances are multiples of Monte Carlo standard errors stated next to each check.
#include <twofold/twofold.hpp>
#include <twofold/exact/fourier.hpp>
#include <twofold/sampling/sample.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/pixel_prior_case.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>

namespace twofold {
namespace {

using namespace twofold::testing;

void expect_means_match(const uncertainty_maps& got, const gaussian_posterior_maps& want, double per_part_se) {
  // 4.5 standard errors per real/imaginary part: with ≤ 96 parts the chance of a
  // false alarm is < 1e-3.
  for (std::size_t p = 0; p < got.mean.size(); ++p) {
    EXPECT_NEAR(got.mean[p].re, want.mean[p].re, 4.5 * per_part_se) << "pixel " << p;
    EXPECT_NEAR(got.mean[p].im, want.mean[p].im, 4.5 * per_part_se) << "pixel " << p;
  }
}

TEST(ExactSampler, CascadeMatchesItsDiscretisedClosedForm) {
  fourier_case fc;
  const auto problem = fc.problem();
  sampler_params sp;
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 300;
  design_params d;
  d.runs = 64;
  d.chains_per_run = 32;
  d.seed = 5;
  const auto result = sample(fc.ctx, problem, fc.prior, sp, d);
  const auto levels = noise_levels(sp.schedule);
  const auto [a_true, e_true] = fc.split([](double c) { return c; });
  const auto [a, e] = fc.split([&](double c) { return ancestral_variance(c, levels); });
  const std::size_t R = d.runs, K = d.chains_per_run;

  // Maps are constant in space; the spatial mean is compared with the per-pixel
  // standard error (conservative: averaging correlated pixels only shrinks it).
  EXPECT_NEAR(mean_of(result.maps.ambiguity), a, 4 * se_ambiguity(a, R, K));
  EXPECT_NEAR(mean_of(result.maps.estimation), e, 4 * se_estimation(a, e, R, K));
  for (std::size_t p = 0; p < fc.shape.pixels(); ++p)
    EXPECT_NEAR(result.maps.ambiguity[p], a, 5 * se_ambiguity(a, R, K)) << "pixel " << p;
  expect_means_match(result.maps, fc.closed_form(), std::sqrt((e + a / double(K)) / (2.0 * double(R))));

  // The sampler's discretisation bias at 300 EDM levels: a few percent (documented).
  EXPECT_LT(std::abs(a / a_true - 1), 0.05);
  EXPECT_LT(std::abs(e / e_true - 1), 0.05);
  RecordProperty("ambiguity_discretisation_bias", std::to_string(a / a_true - 1));
  RecordProperty("estimation_discretisation_bias", std::to_string(e / e_true - 1));
}

TEST(PtoSampler, CascadeMatchesClosedForm) {
  fourier_case fc;
  const auto problem = fc.problem();
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  sp.cg.tolerance = 1e-6;
  design_params d;
  d.runs = 64;
  d.chains_per_run = 32;
  d.seed = 8;
  const auto result = sample(fc.ctx, problem, fc.prior, sp, d);
  const auto want = fc.closed_form();
  const double a = want.ambiguity[0], e = want.estimation[0];
  const std::size_t R = d.runs, K = d.chains_per_run;
  EXPECT_NEAR(mean_of(result.maps.ambiguity), a, 4 * se_ambiguity(a, R, K));
  EXPECT_NEAR(mean_of(result.maps.estimation), e, 4 * se_estimation(a, e, R, K));
  EXPECT_NEAR(mean_of(result.maps.null_variance), a, 4 * se_ambiguity(a, R, K) + 4 * se_estimation(0, 0, R, K));
  expect_means_match(result.maps, want, std::sqrt((e + a / double(K)) / (2.0 * double(R))));
}

TEST(ReplicateDesign, BetweenRunVarianceIsTotalOverK) {
  fourier_case fc;
  const auto problem = fc.problem();
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  design_params d;
  d.kind = run_design::replicate;
  d.runs = 96;
  d.chains_per_run = 8;
  d.seed = 21;
  const auto result = sample(fc.ctx, problem, fc.prior, sp, d);
  const auto want = fc.closed_form();
  const double v = want.variance[0];
  const std::size_t R = d.runs, K = d.chains_per_run;
  // total: mean within-run variance, SE v/√(R(K−1)); between: var_r(m_r) ≈ v/K with
  // 2(R−1) real degrees of freedom, relative SE 1/√(R−1).
  EXPECT_NEAR(mean_of(result.maps.total_variance), v, 4 * v / std::sqrt(double(R * (K - 1))));
  EXPECT_NEAR(mean_of(result.maps.between_run_variance) / (mean_of(result.maps.total_variance) / double(K)), 1.0,
              4 / std::sqrt(double(R - 1)));
  EXPECT_TRUE(result.maps.ambiguity.empty());
}

TEST(CascadeLimits, SmallNoiseLeavesOnlyAmbiguity) {
  fourier_case fc({1, 3, 4}, 1e-3);
  const auto problem = fc.problem();
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  sp.cg.tolerance = 1e-6;
  design_params d;
  d.runs = 32;
  d.chains_per_run = 16;
  const auto result = sample(fc.ctx, problem, fc.prior, sp, d);
  const auto want = fc.closed_form();
  const double a = want.ambiguity[0], e = want.estimation[0];
  ASSERT_LT(e, 1e-4 * a);  // the closed form itself: estimation ∝ σ_y²
  EXPECT_NEAR(mean_of(result.maps.estimation), e, 4 * se_estimation(a, e, d.runs, d.chains_per_run));
  EXPECT_LT(std::abs(mean_of(result.maps.estimation)), 0.05 * a);
}

TEST(CascadeLimits, FullMaskHasNoAmbiguity) {
  std::vector<int> all(6);
  for (int w = 0; w < 6; ++w) all[std::size_t(w)] = w;
  fourier_case fc(all, 0.1);
  const auto problem = fc.problem();
  for (const auto kind : {sampler_kind::exact, sampler_kind::pto, sampler_kind::langevin}) {
    sampler_params sp;
    sp.kind = kind;
    sp.schedule.levels = 50;
    design_params d;
    d.runs = 4;
    d.chains_per_run = 4;
    const auto result = sample(fc.ctx, problem, fc.prior, sp, d);
    for (double a : result.maps.ambiguity) EXPECT_EQ(a, 0.0) << to_string(kind);
  }
}

TEST(Determinism, SameSeedIsBitIdenticalForAnyWaveSize) {
  fourier_case fc;
  const auto problem = fc.problem();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                          sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm, sampler_kind::smc}) {
    sampler_params sp;
    sp.kind = kind;
    sp.schedule.levels = 40;
    design_params d;
    d.runs = 5;
    d.chains_per_run = 40;  // tiles of 32 and 8 per run
    d.seed = 77;
    std::vector<uncertainty_maps> maps;
    for (const std::size_t wave : {std::size_t{0}, std::size_t{32}, std::size_t{72}, std::size_t{1000}}) {
      d.wave_chains = wave;
      maps.push_back(sample(fc.ctx, problem, fc.prior, sp, d).maps);
    }
    for (std::size_t i = 1; i < maps.size(); ++i) {
      for (std::size_t p = 0; p < fc.shape.pixels(); ++p) {
        EXPECT_EQ(maps[i].mean[p], maps[0].mean[p]) << to_string(kind) << " wave setting " << i;
        EXPECT_EQ(maps[i].ambiguity[p], maps[0].ambiguity[p]) << to_string(kind);
        EXPECT_EQ(maps[i].estimation[p], maps[0].estimation[p]) << to_string(kind);
        EXPECT_EQ(maps[i].null_variance[p], maps[0].null_variance[p]) << to_string(kind);
      }
    }
    d.seed = 78;
    d.wave_chains = 0;
    const auto other = sample(fc.ctx, problem, fc.prior, sp, d).maps;
    EXPECT_NE(other.mean[0], maps[0].mean[0]) << to_string(kind);
  }
}

TEST(Determinism, ExactSamplerIsBitIdenticalForAnyWaveSizeAndThreadCount) {
  // The exact sampler's dense forms (a pixel-basis Gaussian and a two-component
  // pixel-basis mixture under a line mask: no shared basis, so per-component
  // eigenvectors and GEMMs over the chains) for several wave sizes and 1 or 2 OpenMP
  // threads: the same bits every time (replicate design: the dense forms have no
  // cascade stage 2).
  testing::pixel_prior_case pc({8, 8});
  const auto problem = pc.problem();
  std::vector<cfloat> means(pc.prior.mean());
  for (const cfloat m : pc.prior.mean()) means.push_back(m + cfloat{0.3f, 0.0f});
  std::vector<float> variances(pc.prior.variance());
  variances.insert(variances.end(), pc.prior.variance().begin(), pc.prior.variance().end());
  const gaussian_mixture_prior mixture(pc.ctx, gaussian_basis::pixel, pc.shape, std::vector<double>{0.7, 0.3}, means,
                                       variances);
  sampler_params sp;
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 30;
  design_params d;
  d.kind = run_design::replicate;
  d.runs = 3;
  d.chains_per_run = 40;
  d.seed = 5;
  const int threads = omp_get_max_threads();
  for (const prior* p : {static_cast<const prior*>(&pc.prior), static_cast<const prior*>(&mixture)}) {
    std::vector<uncertainty_maps> maps;
    for (const int t : {1, 2})
      for (const std::size_t wave : {std::size_t{0}, std::size_t{32}, std::size_t{72}}) {
        omp_set_num_threads(t);
        d.wave_chains = wave;
        maps.push_back(sample(pc.ctx, problem, *p, sp, d).maps);
      }
    omp_set_num_threads(threads);
    for (std::size_t i = 1; i < maps.size(); ++i)
      for (std::size_t q = 0; q < pc.shape.pixels(); ++q) {
        ASSERT_EQ(maps[i].mean[q], maps[0].mean[q]) << p->name() << " setting " << i << " pixel " << q;
        ASSERT_EQ(maps[i].total_variance[q], maps[0].total_variance[q]) << p->name() << " setting " << i;
        ASSERT_EQ(maps[i].between_run_variance[q], maps[0].between_run_variance[q]) << p->name() << " setting " << i;
      }
  }
}

TEST(Determinism, FewPixelMixtureIsBitIdenticalForAnyWaveSizeAndThreadCount) {
  // A 2 × 2 real image under inpainting with a three-component pixel-basis mixture:
  // the exact sampler's posterior stays a pixel-basis mixture, denoised by the
  // few-pixel functor, whose CPU tiles of chains start at each wave's first chain.
  // 18 000 chains (over the CPU's parallel threshold) in waves of several sizes, with
  // 1 and 2 OpenMP threads: the same bits every time.
  context ctx(backend_request::cpu);
  const image_shape shape{2, 2};
  const auto op = std::make_shared<inpainting_operator>(ctx, shape, std::vector<float>{1, 0, 1, 1});
  const std::vector<double> weights{0.5, 0.3, 0.2};
  std::vector<cfloat> means;
  std::vector<float> variances;
  for (const float m : {-3.0f, 0.5f, 4.0f})
    for (std::size_t p = 0; p < shape.pixels(); ++p)
      means.push_back({m + 0.1f * float(p), 0.0f}), variances.push_back(0.2f + 0.1f * float(p));
  const gaussian_mixture_prior mixture(ctx, gaussian_basis::pixel, shape, weights, means, variances, field::real);
  const inverse_problem problem(ctx, op, std::vector<cfloat>{{2.5f, 0.0f}, {0.0f, 0.0f}, {-1.0f, 0.0f}, {0.3f, 0.0f}}, 0.5,
                                field::real);
  sampler_params sp;
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 20;
  design_params d;
  d.kind = run_design::replicate;
  d.runs = 3;
  d.chains_per_run = 6000;
  d.seed = 11;
  const int threads = omp_get_max_threads();
  std::vector<uncertainty_maps> maps;
  for (const int t : {1, 2})
    for (const std::size_t wave : {std::size_t{0}, std::size_t{37}, std::size_t{5000}}) {
      omp_set_num_threads(t);
      d.wave_chains = wave;
      maps.push_back(sample(ctx, problem, mixture, sp, d).maps);
    }
  omp_set_num_threads(threads);
  for (std::size_t i = 1; i < maps.size(); ++i)
    for (std::size_t q = 0; q < shape.pixels(); ++q) {
      ASSERT_EQ(maps[i].mean[q], maps[0].mean[q]) << "setting " << i << " pixel " << q;
      ASSERT_EQ(maps[i].total_variance[q], maps[0].total_variance[q]) << "setting " << i;
      ASSERT_EQ(maps[i].between_run_variance[q], maps[0].between_run_variance[q]) << "setting " << i;
    }
}

}  // namespace
}  // namespace twofold
