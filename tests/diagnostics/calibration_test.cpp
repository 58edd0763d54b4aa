// Calibration diagnostics: the χ² p-value function, quantile coverage of i.i.d.
// draws, SBC of the exact sampler (posterior and stage 2) against a deliberately
// miscalibrated one, conformal risk control, residuals and entanglement.
#include <twofold/twofold.hpp>
#include <twofold/twofold.hpp>
#include <twofold/priors/gaussian_mixture.hpp>

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace twofold {
namespace {
using namespace twofold::testing;

TEST(Calibration, ChiSquareTailMatchesClosedForms) {
  for (const double x : {0.01, 0.5, 1.0, 3.0, 10.0, 40.0}) {
    // 2 degrees of freedom: P(χ² ≥ 2x) = e^{-x}; 1 degree: P(χ² ≥ 2x) = erfc(√x).
    EXPECT_NEAR(chi_square_upper_tail(2 * x, 2), std::exp(-x), 1e-12 + 1e-10 * std::exp(-x)) << x;
    EXPECT_NEAR(chi_square_upper_tail(2 * x, 1), std::erfc(std::sqrt(x)), 1e-12 + 1e-10 * std::erfc(std::sqrt(x))) << x;
  }
  // χ² with 9 degrees of freedom: the 95 % point is 16.919.
  EXPECT_NEAR(chi_square_upper_tail(16.919, 9), 0.05, 1e-4);
  EXPECT_THROW(chi_square_upper_tail(-1, 3), bad_input);
}

TEST(Calibration, QuantileIntervalsCoverIidTruthAtTheNominalRate) {
  // Every pixel's draws and truth come from one distribution: coverage must be
  // nominal up to Monte Carlo error. N = 4000 pixels: SE of a fraction ≤ 0.008;
  // 200 draws add the quantile error (a 90 % interval from 200 draws covers about
  // 0.9 ± 0.02 on average). Tolerance 0.04.
  const image_shape s{40, 100};
  const std::size_t n = 200, N = s.pixels();
  std::vector<cfloat> draws(n * N), truth(N);
  const rng_stream r{3, 0, 0, rng_purpose::test, 0, true};
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t p = 0; p < N; ++p) draws[c * N + p] = r.normal(c, p);
  for (std::size_t p = 0; p < N; ++p) truth[p] = r.normal(n, p);
  const auto levels = default_coverage_levels();
  const auto c = coverage(draws, truth, s, field::real, levels);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    EXPECT_NEAR(c.quantile[i], levels[i], 0.04) << levels[i];
    EXPECT_NEAR(c.gaussian[i], levels[i], 0.04) << levels[i];
  }
  const auto q = pixel_quantiles(draws, s, field::real);
  EXPECT_NEAR(mean_of(q.hi), 1.645, 0.05);  // the 95 % point of N(0, 1)
  EXPECT_NEAR(mean_of(q.lo), -1.645, 0.05);
}

/// Uniform ranks leave the simultaneous band with probability α (all thresholds at
/// once). Band from 2000 simulations at α = 0.1, judged on 4000 fresh rank sets:
/// SE of the fresh fraction √(0.09/4000) = 0.005, of the band's level from its own
/// 2000 simulations √(0.09/2000) = 0.007; tolerance 4 × 0.0084 ≈ 0.035. An ECDF is
/// inside the band exactly when its γ reaches γ_α.
TEST(Calibration, EcdfBandHoldsUniformRanksWithProbabilityOneMinusAlpha) {
  const std::size_t L = 200, K = 19, fresh = 4000;
  const auto band = uniform_rank_ecdf_band(L, K, 0.1, 3, 2000);
  ASSERT_EQ(band.z.size(), K);
  std::size_t outside = 0;
  for (std::size_t m = 0; m < fresh; ++m) {
    std::vector<std::size_t> ranks(L);
    for (std::size_t i = 0; i < L; ++i) ranks[i] = std::size_t(uniform(17, m * L + i, rng_purpose::test) * (K + 1));
    const auto d = rank_ecdf_difference(ranks, band);
    bool inside = true;
    for (std::size_t j = 0; j < d.size(); ++j) inside = inside && d[j] >= band.lower[j] - 1e-12 && d[j] <= band.upper[j] + 1e-12;
    EXPECT_EQ(inside, rank_ecdf_gamma(ranks, band) >= band.gamma) << "rank set " << m;
    outside += inside ? 0 : 1;
  }
  EXPECT_NEAR(double(outside) / double(fresh), 0.1, 0.035);
  // The band is wider than any single pointwise 90 % interval: at z = 0.5 the
  // pointwise half-width is 1.645 √(0.25/200) = 0.058.
  EXPECT_GT(band.upper[9] - band.lower[9], 2 * 0.058);
  // Many draws: 100 evenly spaced thresholds.
  EXPECT_EQ(uniform_rank_ecdf_band(50, 999, 0.01, 1, 200).z.size(), 100u);
}

struct sbc_case {
  context ctx{backend_request::cpu};
  image_shape shape{6, 6};
  std::shared_ptr<fourier_mask_operator> op =
      std::make_shared<fourier_mask_operator>(ctx, shape, line_mask(shape, {0, 2, 3}));
  gaussian_prior prior{ctx, gaussian_basis::fourier, shape, random_image(shape, 3, 0.5f), decaying_spectrum(shape, 1.0, 2.0)};
  sampler_params sp;
  sbc_params params;
  sbc_case() {
    sp.kind = sampler_kind::exact;
    sp.schedule.levels = 300;
    params.replicates = 200;
    params.draws = 19;
    params.bins = 10;
  }
};

/// The exact sampler: every rank histogram uniform. 8 (posterior) and 5 (stage 2)
/// tests per seed, two seeds: rejecting at p < 10⁻³ each, a correct sampler fails
/// with probability below 3 %. The discretisation at 300 levels (variance −4 %) is
/// below what L = 200 replicates can detect.
TEST(Calibration, SbcOfTheExactSamplerIsUniform) {
  sbc_case c;
  for (const bool stage2 : {false, true}) {
    for (const std::uint64_t seed : {1u, 2u}) {
      c.params.stage2 = stage2;
      c.params.seed = seed;
      const auto r = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, c.params);
      ASSERT_EQ(r.tests.size(), stage2 ? 5u : 8u);
      for (const auto& t : r.tests) {
        EXPECT_GT(t.chi2_p, 1e-3) << t.name << (stage2 ? " (stage 2)" : "") << " seed " << seed;
        EXPECT_GT(t.ecdf_p, 1e-3) << t.name << (stage2 ? " (stage 2)" : "") << " seed " << seed;
        EXPECT_EQ(t.ranks.size(), 200u);
      }
      // Coverage over replicates: with K = 19 draws the type-7 quantile interval of
      // nominal p covers p (K − 1)/(K + 1) = 0.81 at p = 0.9 in expectation (its ends
      // sit at fractional order statistics); 36 pixels × 200 replicates, SE ≈ 0.01.
      EXPECT_NEAR(r.coverage.quantile[8], 0.9 * 18 / 20, 0.03) << "stage 2: " << stage2;
    }
  }
}

/// The miscalibrated case: x* from the prior, the sampler told a prior 4× too
/// narrow. Its posterior means still track the data (small residuals), but SBC
/// rejects and coverage collapses; conformal calibration widens the intervals
/// until the held-out risk is back near α.
TEST(Calibration, SbcAndCoverageFlagAMiscalibratedPrior) {
  sbc_case c;
  auto narrow = c.prior.variance();
  for (auto& v : narrow) v *= 0.25f;
  const gaussian_prior wrong(c.ctx, gaussian_basis::fourier, c.shape, c.prior.mean(), narrow);
  const auto bad = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, wrong, c.sp, c.params, &c.prior);
  double smallest = 1, smallest_ecdf = 1;
  for (const auto& t : bad.tests) smallest = std::min(smallest, t.chi2_p), smallest_ecdf = std::min(smallest_ecdf, t.ecdf_p);
  EXPECT_LT(smallest, 1e-6);
  EXPECT_EQ(smallest_ecdf, 1.0 / 2001);  // outside every one of the 2000 simulated uniform ECDFs
  EXPECT_LT(bad.coverage.quantile[8], 0.75);

  const auto good = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, c.params);
  const auto fixed = conformal_scale(bad, 0.1, 100);
  const auto kept = conformal_scale(good, 0.1, 100);
  EXPECT_GT(fixed.scale, 1.3);          // the narrow intervals must widen
  EXPECT_LT(kept.scale, fixed.scale);
  // Held-out risk: 100 test replicates of 36 pixels; SE of a mean miscoverage about
  // 0.01; the guarantee is in expectation, tolerance 3 SE.
  EXPECT_LT(fixed.test_risk, 0.1 + 0.03);
  EXPECT_LT(kept.test_risk, 0.1 + 0.03);
}

/// A two-mode Fourier mixture: the exact sampler runs every replicate's own posterior
/// mixture (weights and means depend on y), and the prior's log density joins the
/// test functions. 9 functions, rejecting at p < 10⁻³ each (χ² and ECDF band): a
/// calibrated sampler fails with probability below 2 %. Told component spectra 4×
/// too small, the same sampler must be rejected. (Wrong mode weights alone, 0.9/0.1
/// for 0.3/0.7, pass here: the measured DC line identifies the mode, so the
/// posterior hardly depends on the prior weights: smallest p = 0.025 measured.)
TEST(Calibration, SbcOfTheExactSamplerWithAMixturePrior) {
  sbc_case c;
  const std::size_t N = c.shape.pixels();
  auto means = random_image(c.shape, 21, 0.3f);
  for (auto& v : means) v += cfloat{1.5f, 0.0f};
  auto second = random_image(c.shape, 22, 0.3f);
  for (auto& v : second) v -= cfloat{1.5f, 0.0f};
  means.insert(means.end(), second.begin(), second.end());
  auto spectra = decaying_spectrum(c.shape, 1.0, 2.0);
  const auto narrow = decaying_spectrum(c.shape, 0.3, 1.5);
  spectra.insert(spectra.end(), narrow.begin(), narrow.end());
  const std::vector<double> weights{0.3, 0.7};
  auto too_small = spectra;
  for (auto& v : too_small) v *= 0.25f;
  const gaussian_mixture_prior prior(c.ctx, gaussian_basis::fourier, c.shape, weights, means, spectra);
  const gaussian_mixture_prior wrong(c.ctx, gaussian_basis::fourier, c.shape, weights, means, too_small);
  ASSERT_EQ(means.size(), 2 * N);
  const auto good = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, prior, c.sp, c.params);
  ASSERT_EQ(good.tests.size(), 8u);
  EXPECT_EQ(good.tests.back().name, "prior log density");
  for (const auto& t : good.tests) {
    EXPECT_GT(t.chi2_p, 1e-3) << t.name;
    EXPECT_GT(t.ecdf_p, 1e-3) << t.name;
  }
  const auto bad = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, wrong, c.sp, c.params, &prior);
  double smallest = 1;
  for (const auto& t : bad.tests) smallest = std::min(smallest, std::min(t.chi2_p, t.ecdf_p));
  EXPECT_LT(smallest, 1e-6);
}

TEST(Calibration, ResidualsPsnrAndEntanglement) {
  // y = A x₀ + n with n known: the normalised residual of x₀ is Σ_measured |n|²/(m σ²),
  // and of A⁺-consistent images it is 0.
  sbc_case c;
  const auto x0 = random_image(c.shape, 8);
  chain_buffer x(c.ctx, 2, c.shape), ax(c.ctx, 2, c.op->codomain());
  std::vector<cfloat> both(x0);
  both.insert(both.end(), x0.begin(), x0.end());
  detail::copy_bytes(c.ctx, x.storage.data(), both.data(), both.size() * sizeof(cfloat));
  c.op->apply(c.ctx, x.view(), ax.view());
  auto y = to_host(c.ctx, ax.storage);
  y.resize(c.shape.pixels());
  const double sigma = 0.3;
  double noise = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const cfloat n = float(sigma) * complex_normal(4, 0, 0, rng_purpose::test, i);
    y[i] += n;
    if (c.op->mask()[i] > 0) noise += norm2(cdouble(n));
  }
  const inverse_problem problem(c.ctx, c.op, y, sigma);
  ASSERT_EQ(problem.measured_entries(), 18u);
  const auto r = normalised_residuals(c.ctx, problem, both);
  EXPECT_NEAR(r[0], noise / (18 * sigma * sigma), 1e-5 * r[0]);
  EXPECT_EQ(r[0], r[1]);
  std::vector<cdouble> mean(x0.size());
  double peak = 0;
  for (std::size_t i = 0; i < x0.size(); ++i) mean[i] = cdouble(x0[i]);
  for (const cfloat v : problem.measurements()) peak = std::max(peak, norm2(cdouble(v)));
  EXPECT_NEAR(forward_psnr(c.ctx, problem, mean), 10 * std::log10(peak / (noise / 18)), 1e-4);
  // SSIM: 1 for data A reproduces exactly, lower with the noise, lower still for a
  // mean that is far off.
  auto exact_y = to_host(c.ctx, ax.storage);
  exact_y.resize(c.shape.pixels());
  const inverse_problem clean(c.ctx, c.op, exact_y, sigma);
  std::vector<cdouble> off(mean);
  for (auto& v : off) v = 3.0 * v;
  EXPECT_NEAR(forward_ssim(c.ctx, clean, mean), 1.0, 1e-6);
  const double noisy_ssim = forward_ssim(c.ctx, problem, mean);
  EXPECT_LT(noisy_ssim, 0.999);
  EXPECT_LT(forward_ssim(c.ctx, problem, off), noisy_ssim);
  uncertainty_maps m;
  m.ambiguity = {1, 2, 3, 4};
  m.estimation = {2, 4, 6, 8};
  EXPECT_NEAR(entanglement(m), 1.0, 1e-12);
  m.estimation = {8, 6, 4, 2};
  EXPECT_NEAR(entanglement(m), -1.0, 1e-12);
}

/// Given truths (sbc_params::truths): the prior's own draws, given, reproduce the SBC
/// that draws them itself bit for bit; truths from the sampler run with nothing
/// observed (prior_draws, the network-prior route) are calibrated, posterior and stage
/// 2 (rejecting at p < 10⁻³ per χ² and ECDF p-value: 13 tests, a calibrated sampler
/// fails with probability below 3 %); truths of a prior 2× wider are rejected.
TEST(Calibration, SbcWithGivenTruths) {
  sbc_case c;
  const std::size_t L = c.params.replicates, N = c.shape.pixels();
  {
    chain_buffer x(c.ctx, L, c.shape);
    c.prior.draw(c.ctx, x.view(), 0.0, rng_stream{c.params.seed, 0, 0, rng_purpose::prior_perturbation, 9, false});
    sbc_params given = c.params;
    given.truths = to_host(c.ctx, x.storage);
    const auto a = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, c.params);
    const auto b = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, given);
    ASSERT_EQ(a.tests.size(), b.tests.size());
    for (std::size_t t = 0; t < a.tests.size(); ++t) EXPECT_EQ(a.tests[t].ranks, b.tests[t].ranks) << a.tests[t].name;
  }
  sbc_params given = c.params;
  given.truths = prior_draws(c.ctx, c.shape, field::complex, c.prior, c.sp, L, 11);
  for (const bool stage2 : {false, true}) {
    given.stage2 = stage2;
    const auto r = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, given);
    for (const auto& t : r.tests) {
      EXPECT_GT(t.chi2_p, 1e-3) << t.name << (stage2 ? " (stage 2)" : "");
      EXPECT_GT(t.ecdf_p, 1e-3) << t.name << (stage2 ? " (stage 2)" : "");
    }
  }
  given.stage2 = false;
  auto wide = c.prior.variance();
  for (auto& v : wide) v *= 4.0f;
  const gaussian_prior wider(c.ctx, gaussian_basis::fourier, c.shape, c.prior.mean(), wide);
  given.truths = prior_draws(c.ctx, c.shape, field::complex, wider, c.sp, L, 11);
  const auto bad = simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, given);
  double smallest = 1;
  for (const auto& t : bad.tests) smallest = std::min(smallest, t.chi2_p);
  EXPECT_LT(smallest, 1e-6);
  // Bad truths.
  const auto run = [&](auto edit, const prior* truth_prior = nullptr) {
    sbc_params p = c.params;
    edit(p);
    return bad_input_message(
        [&] { simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, p, truth_prior); });
  };
  EXPECT_CONTAINS(run([&](sbc_params& p) { p.truths.assign(N * (L - 1), cfloat{}); }), "SBC truths");
  EXPECT_CONTAINS(run([&](sbc_params& p) {
                    p.truths.assign(N * L, cfloat{});
                    p.truths[5].re = NAN;
                  }),
                  "value 5 (replicate 0) is not finite");
  EXPECT_CONTAINS(run([&](sbc_params& p) { p.truths.assign(N * L, cfloat{}); }, &c.prior), "not both");
}

TEST(Calibration, BadInputIsRefused) {
  sbc_case c;
  const auto run = [&](auto edit) {
    sbc_params p = c.params;
    edit(p);
    return bad_input_message([&] { simulation_based_calibration(c.ctx, c.op, 0.2, field::complex, c.prior, c.sp, p); });
  };
  EXPECT_CONTAINS(run([](sbc_params& p) { p.replicates = 0; }), "replicates L must be >= 2");
  EXPECT_CONTAINS(run([](sbc_params& p) { p.draws = 0; }), "draws per replicate K must be >= 1");
  EXPECT_CONTAINS(run([](sbc_params& p) { p.bins = 7; }), "bins must divide");
  EXPECT_CONTAINS(run([](sbc_params& p) { p.pixels = 1000; }), "pixel test functions");
  uncertainty_maps replicate_maps;
  EXPECT_CONTAINS(bad_input_message([&] { entanglement(replicate_maps); }), "cascade");
}

}  // namespace
}  // namespace twofold
