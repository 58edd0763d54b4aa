// SBC of a prior given by a covariance factor, x = μ + F z, z ~ N(0, I): with F = I
// and μ = 0 it is plain SBC bit for bit; with a rank-deficient F and a mean, pto is
// calibrated; told a latent prior 4× too narrow it is rejected.
#include <twofold/twofold.hpp>

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

namespace twofold {
namespace {
using namespace twofold::testing;

std::vector<cfloat> scaled_real_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed, double scale) {
  auto a = random_matrix(rows, cols, true, seed);
  for (auto& z : a) z = cfloat(cdouble(z) * scale);
  return a;
}

/// C = A B for row-major real matrices (double accumulation, float result).
std::vector<cfloat> product(const std::vector<cfloat>& a, const std::vector<cfloat>& b, std::size_t m, std::size_t n,
                            std::size_t k) {
  std::vector<cfloat> c(m * k);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t l = 0; l < k; ++l) {
      double v = 0;
      for (std::size_t j = 0; j < n; ++j) v += double(a[i * n + j].re) * b[j * k + l].re;
      c[i * k + l] = {float(v), 0.0f};
    }
  return c;
}

gaussian_prior white(const context& ctx, std::size_t k, float variance = 1.0f) {
  return {ctx, gaussian_basis::pixel, {1, k}, std::vector<cfloat>(k), std::vector<float>(k, variance)};
}

struct factor_case {
  context ctx{backend_request::cpu};
  sampler_params sp;
  sbc_params params;
  factor_case() {
    sp.kind = sampler_kind::pto;
    params.replicates = 200;
    params.draws = 19;
    params.bins = 10;
  }
};

TEST(LatentFactorSbc, IdentityFactorIsPlainSbcBitForBit) {
  factor_case c;
  const std::size_t m = 6, n = 10;
  const auto a = std::make_shared<dense_operator>(c.ctx, scaled_real_matrix(m, n, 3, 1 / std::sqrt(double(n))), m,
                                                  image_shape{1, n});
  std::vector<cfloat> identity(n * n);
  for (std::size_t i = 0; i < n; ++i) identity[i * n + i] = {1.0f, 0.0f};
  const latent_factor f{a, std::make_shared<dense_operator>(c.ctx, identity, n, image_shape{1, n}),
                        std::vector<cfloat>(n)};
  c.params.replicates = 40;
  const auto plain = simulation_based_calibration(c.ctx, a, 0.3, field::real, white(c.ctx, n), c.sp, c.params);
  const auto latent = simulation_based_calibration(c.ctx, a, f, 0.3, field::real, white(c.ctx, n), c.sp, c.params);
  ASSERT_EQ(plain.tests.size(), latent.tests.size());
  for (std::size_t t = 0; t < plain.tests.size(); ++t) {
    EXPECT_EQ(plain.tests[t].name, latent.tests[t].name);
    EXPECT_EQ(plain.tests[t].ranks, latent.tests[t].ranks) << plain.tests[t].name;
  }
  EXPECT_EQ(plain.coverage.quantile, latent.coverage.quantile);
  EXPECT_EQ(plain.predictive_coverage.curve.quantile, latent.predictive_coverage.curve.quantile);
}

/// 16 unknowns seen through 8 rows, prior N(μ, F Fᵀ) with F of rank 12 (so the prior
/// covariance is singular and the prior quadratic form is ‖z‖²): pto draws z exactly,
/// every χ² and ECDF p-value above 10⁻³ (8 functions, posterior; 5, stage 2: a
/// calibrated sampler fails with probability below 2 %). A latent prior 4× too narrow
/// with z* from N(0, I): rejected (smallest p < 10⁻⁶).
TEST(LatentFactorSbc, CovarianceFactorPriorIsCalibratedAndAWrongOneIsRejected) {
  factor_case c;
  const std::size_t m = 8, n = 16, k = 12;
  const auto am = scaled_real_matrix(m, n, 5, 1 / std::sqrt(double(n)));
  const auto fm = scaled_real_matrix(n, k, 6, 1 / std::sqrt(double(k)));
  auto mean = random_image({1, n}, 7);
  for (auto& z : mean) z.im = 0.0f;
  const auto a = std::make_shared<dense_operator>(c.ctx, am, m, image_shape{1, n});
  const latent_factor f{a, std::make_shared<dense_operator>(c.ctx, fm, n, image_shape{1, k}), mean};
  const auto af = std::make_shared<dense_operator>(c.ctx, product(am, fm, m, n, k), m, image_shape{1, k});
  for (const bool stage2 : {false, true}) {
    c.params.stage2 = stage2;
    const auto r = simulation_based_calibration(c.ctx, af, f, 0.2, field::real, white(c.ctx, k), c.sp, c.params);
    ASSERT_EQ(r.tests.size(), stage2 ? 5u : 8u);
    for (const auto& t : r.tests) {
      std::printf("%s%s: chi2 p %.3f, ecdf p %.3f\n", t.name.c_str(), stage2 ? " (stage 2)" : "", t.chi2_p, t.ecdf_p);
      EXPECT_GT(t.chi2_p, 1e-3) << t.name << (stage2 ? " (stage 2)" : "");
      EXPECT_GT(t.ecdf_p, 1e-3) << t.name << (stage2 ? " (stage 2)" : "");
    }
    // Coverage of x* over replicates: p (K − 1)/(K + 1) = 0.81 at p = 0.9; 16
    // correlated coordinates × 200 replicates, SE about 0.01.
    EXPECT_NEAR(r.coverage.quantile[8], 0.81, 0.04) << "stage 2: " << stage2;
  }
  c.params.stage2 = false;
  const auto wrong = white(c.ctx, k, 0.25f), right = white(c.ctx, k);
  const auto bad = simulation_based_calibration(c.ctx, af, f, 0.2, field::real, wrong, c.sp, c.params, &right);
  double smallest = 1;
  for (const auto& t : bad.tests) smallest = std::min({smallest, t.chi2_p, t.ecdf_p});
  std::printf("latent prior 4x too narrow: smallest p %.3g\n", smallest);
  EXPECT_LT(smallest, 1e-6);
}

TEST(LatentFactorSbc, BadInputIsRefused) {
  factor_case c;
  c.params.replicates = 2;
  c.params.draws = 1;
  c.params.bins = 2;
  const auto am = scaled_real_matrix(4, 6, 1, 0.5), fm = scaled_real_matrix(6, 3, 2, 0.5);
  const auto a = std::make_shared<dense_operator>(c.ctx, am, 4, image_shape{1, 6});
  const auto fop = std::make_shared<dense_operator>(c.ctx, fm, 6, image_shape{1, 3});
  const auto af = std::make_shared<dense_operator>(c.ctx, product(am, fm, 4, 6, 3), 4, image_shape{1, 3});
  const auto run = [&](std::shared_ptr<const linear_operator> op, latent_factor f) {
    return bad_input_message(
        [&] { simulation_based_calibration(c.ctx, op, f, 0.1, field::real, white(c.ctx, 3), c.sp, c.params); });
  };
  EXPECT_CONTAINS(run(af, {a, fop, std::vector<cfloat>(5)}), "the mean must be one image");
  EXPECT_CONTAINS(run(af, {a, a, std::vector<cfloat>(6)}), "F must map");
  const auto other = std::make_shared<dense_operator>(c.ctx, scaled_real_matrix(4, 3, 9, 0.5), 4, image_shape{1, 3});
  EXPECT_CONTAINS(run(other, {a, fop, std::vector<cfloat>(6)}), "not A F");
}

}  // namespace
}  // namespace twofold
