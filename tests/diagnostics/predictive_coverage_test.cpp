// Posterior predictive coverage in measurement space: the replicated measurements'
// noise against closed forms (real and complex fields, masked entries left out), and
// over SBC replicates: calibrated with the right noise, flagged with 2× noise.
#include <twofold/twofold.hpp>

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

namespace twofold {
namespace {
using namespace twofold::testing;

double normal_cdf(double z) { return boost::math::cdf(boost::math::normal_distribution<double>(), z); }
double normal_quantile(double p) { return boost::math::quantile(boost::math::normal_distribution<double>(), p); }

/// A posterior that is a point mass x₀ (n copies): y_rep,k = A x₀ + n_k, so a
/// held-out A x₀ + n' with the assumed noise is exchangeable with the y_rep,k: its
/// randomised PIT is uniform and it is covered at p exactly, and by the Gaussian
/// interval A x₀ ± z_p σ̂ at p too; with noise c·σ the Gaussian interval
/// covers 2Φ(z_p/c) − 1 (closed form). Real (dense) and complex
/// (Cartesian MRI with unmeasured lines, left out) fields: the noise convention
/// CN(0, σ²) puts σ²/2 on each part. Tolerance: 4 standard errors, the held-out sets'
/// (reported) and the intervals' own from n draws, √(p(1 − p)/(n d)) for d coordinates.
TEST(PredictiveCoverage, PointMassPosteriorMatchesClosedForms) {
  const context ctx(backend_request::cpu);
  const double sigma = 0.5;
  const std::size_t n = 400, S = 300;
  struct problem_case {
    std::shared_ptr<const linear_operator> op;
    field values;
  };
  const image_shape mri{6, 6};
  const problem_case cases[] = {
      {std::make_shared<dense_operator>(ctx, random_matrix(7, 12, true, 4), 7, image_shape{1, 12}), field::real},
      {std::make_shared<fourier_mask_operator>(ctx, mri, line_mask(mri, {0, 2, 3})), field::complex}};
  for (const auto& c : cases) {
    const image_shape s = c.op->domain();
    auto x0 = random_image(s, 5);
    if (c.values == field::real)
      for (auto& z : x0) z.im = 0.0f;
    const auto y = simulate_measurements(ctx, *c.op, x0, sigma, c.values, 1);
    const inverse_problem problem(ctx, c.op, y, sigma, c.values);
    std::vector<cfloat> draws;
    for (std::size_t k = 0; k < n; ++k) draws.insert(draws.end(), x0.begin(), x0.end());
    const auto levels = default_coverage_levels();
    for (const double scale : {1.0, 2.0}) {
      std::vector<cfloat> heldout;
      for (std::size_t g = 0; g < S; ++g) {
        const auto h = simulate_measurements(ctx, *c.op, x0, sigma * scale, c.values, 100 + g);
        heldout.insert(heldout.end(), h.begin(), h.end());
      }
      const auto r = predictive_coverage(ctx, problem, draws, heldout, levels, 7);
      const std::size_t d = (c.values == field::complex ? 2 : 1) * problem.measured_entries();
      ASSERT_EQ(r.coordinates, d);
      ASSERT_EQ(r.groups, S);
      ASSERT_EQ(r.draws, n);
      for (std::size_t i = 0; i < levels.size(); ++i) {
        const double p = levels[i];
        const double tol = 4 * std::sqrt(r.quantile_standard_error[i] * r.quantile_standard_error[i] +
                                          p * (1 - p) / double(n * d));
        if (scale == 1.0) {
          EXPECT_NEAR(r.curve.quantile[i], p, tol) << "level " << p << " " << c.op->name();
          EXPECT_NEAR(r.curve.gaussian[i], p, tol) << "level " << p << " " << c.op->name();
        } else {
          EXPECT_NEAR(r.curve.gaussian[i], 2 * normal_cdf(normal_quantile(0.5 + p / 2) / scale) - 1, tol)
              << "level " << p << " " << c.op->name();
        }
      }
    }
  }
}

/// SBC with pto (exact for Gaussian priors) on a dense real problem: 24 unknowns seen
/// through 8 rows, so two thirds of the prior is null space. Right noise: the held-out
/// measurement is covered at p at every level (4 standard errors over the L
/// independent replicates; 11 correlated levels). Noise twice the assumed std: the
/// 90 % predictive interval covers far less (measured 0.649 ± 0.008 here, 30 standard errors below 0.9).
TEST(PredictiveCoverage, SbcFlagsTwiceTheAssumedNoise) {
  const context ctx(backend_request::cpu);
  const std::size_t m = 8, n = 24;
  auto a = random_matrix(m, n, true, 11);
  for (auto& z : a) z = cfloat(cdouble(z) * (1.0 / std::sqrt(double(n))));
  const auto op = std::make_shared<dense_operator>(ctx, a, m, image_shape{1, n});
  const gaussian_prior prior(ctx, gaussian_basis::pixel, {1, n}, std::vector<cfloat>(n), std::vector<float>(n, 1.0f));
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  sbc_params params;
  params.replicates = 400;
  params.draws = 19;
  params.bins = 10;
  params.seed = 3;
  const double sigma = 0.3;
  const auto good = simulation_based_calibration(ctx, op, sigma, field::real, prior, sp, params);
  const auto& pc = good.predictive_coverage;
  ASSERT_EQ(pc.groups, 400u);
  ASSERT_EQ(pc.coordinates, m);
  ASSERT_EQ(pc.draws, 19u);
  const auto& levels = pc.curve.nominal;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    EXPECT_GT(pc.quantile_standard_error[i], 0.0);
    EXPECT_NEAR(pc.curve.quantile[i], levels[i], 4 * pc.quantile_standard_error[i]) << levels[i];
  }
  params.truth_noise_scale = 2.0;
  const auto bad = simulation_based_calibration(ctx, op, sigma, field::real, prior, sp, params);
  const auto& bc = bad.predictive_coverage;
  std::printf("90 %% predictive coverage: right noise %.3f +- %.3f, 2x noise %.3f +- %.3f; "
              "90 %% coverage of x*: %.3f and %.3f\n",
              pc.curve.quantile[8], pc.quantile_standard_error[8], bc.curve.quantile[8], bc.quantile_standard_error[8],
              good.coverage.quantile[8], bad.coverage.quantile[8]);
  EXPECT_LT(bc.curve.quantile[8], 0.9 - 10 * bc.quantile_standard_error[8]);
  EXPECT_LT(bc.curve.quantile[8], 0.7);
  // Stage 2 sees no data: no predictive coverage.
  params.truth_noise_scale = 1.0;
  params.stage2 = true;
  params.replicates = 4;
  EXPECT_EQ(simulation_based_calibration(ctx, op, sigma, field::real, prior, sp, params).predictive_coverage.groups, 0u);
}

TEST(PredictiveCoverage, BadInputIsRefused) {
  const context ctx(backend_request::cpu);
  const auto op = std::make_shared<dense_operator>(ctx, random_matrix(3, 4, true, 2), 3, image_shape{1, 4});
  const std::vector<cfloat> y(3), x(8);
  const inverse_problem problem(ctx, op, y, 0.1, field::real);
  const auto levels = default_coverage_levels();
  EXPECT_CONTAINS(bad_input_message([&] { predictive_coverage(ctx, problem, x, std::vector<cfloat>(5), levels); }),
                  "not a whole number of measurements");
  std::vector<cfloat> nan(3);
  nan[1] = {std::nanf(""), 0.0f};
  EXPECT_CONTAINS(bad_input_message([&] { predictive_coverage(ctx, problem, x, nan, levels); }), "not finite");
  std::vector<cfloat> complex_values(3);
  complex_values[2] = {0.0f, 1.0f};
  EXPECT_CONTAINS(bad_input_message([&] { predictive_coverage(ctx, problem, x, complex_values, levels); }),
                  "imaginary part");
  sbc_params p;
  p.replicates = 2;
  p.draws = 1;
  p.bins = 2;
  p.truth_noise_scale = 0;
  EXPECT_CONTAINS(bad_input_message([&] {
                    simulation_based_calibration(ctx, op, 0.1, field::real,
                                                 gaussian_prior(ctx, gaussian_basis::pixel, {1, 4},
                                                                std::vector<cfloat>(4), std::vector<float>(4, 1.0f)),
                                                 sampler_params{}, p);
                  }),
                  "simulated noise scale");
}

}  // namespace
}  // namespace twofold
