// make_noise_whitener: W C Wᵀ = I_r, MNE's rank handling of average-referenced
// covariances, and bad covariances rejected with the file's name.
#include <twofold/core/error.hpp>
#include <twofold/problem/noise_whitening.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace twofold {
namespace {

/// A random SPD covariance B Bᵀ + 0.1 I (m × m), optionally average-referenced (P C P).
std::vector<double> random_covariance(std::size_t m, bool average_reference, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> b(m * m), c(m * m, 0.0);
  for (double& v : b) v = normal(rng);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      for (std::size_t k = 0; k < m; ++k) c[i * m + j] += b[i * m + k] * b[j * m + k];
      if (i == j) c[i * m + j] += 0.1;
    }
  if (!average_reference) return c;
  std::vector<double> p(m * m), pc(m * m, 0.0), out(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) p[i * m + j] = (i == j) - 1.0 / double(m);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      for (std::size_t k = 0; k < m; ++k) pc[i * m + j] += p[i * m + k] * c[k * m + j];
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      for (std::size_t k = 0; k < m; ++k) out[i * m + j] += pc[i * m + k] * p[k * m + j];
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < i; ++j) out[i * m + j] = out[j * m + i];  // exactly symmetric
  return out;
}

/// max |W C Wᵀ − I_r|.
double whitening_error(const noise_whitener& w, const std::vector<double>& c) {
  const std::size_t m = w.channels;
  const auto wc = w.apply(c, m, "C");  // r × m: W C
  double worst = 0;
  for (std::size_t i = 0; i < w.rank; ++i)
    for (std::size_t j = 0; j < w.rank; ++j) {
      double v = 0;
      for (std::size_t k = 0; k < m; ++k) v += wc[i * m + k] * w.matrix[j * m + k];
      worst = std::max(worst, std::abs(v - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

TEST(NoiseWhitening, FullRankCovarianceIsWhitenedToTheIdentity) {
  const auto c = random_covariance(12, false);
  const auto w = make_noise_whitener(c, 12, "C");
  EXPECT_EQ(w.rank, 12u);
  EXPECT_LT(whitening_error(w, c), 1e-10);
}

TEST(NoiseWhitening, AverageReferenceDropsTheCommonModeAsMneDoes) {
  const std::size_t m = 16;
  const auto c = random_covariance(m, true);
  const auto w = make_noise_whitener(c, m, "C");
  EXPECT_EQ(w.rank, m - 1);  // MNE: rank = channels − 1 after the average-reference projection
  EXPECT_LT(whitening_error(w, c), 1e-10);
  // Every row of W is orthogonal to the constant vector: the common mode is not used.
  for (std::size_t i = 0; i < w.rank; ++i) {
    double sum = 0, norm = 0;
    for (std::size_t k = 0; k < m; ++k) sum += w.matrix[i * m + k], norm += std::abs(w.matrix[i * m + k]);
    EXPECT_LT(std::abs(sum), 1e-9 * norm);
  }
}

TEST(NoiseWhitening, BadCovariancesAreRejectedNamingTheFile) {
  auto c = random_covariance(6, false);
  const auto message = [&](std::vector<double> bad, std::size_t m) {
    try {
      make_noise_whitener(bad, m, "noise covariance cov.npy");
    } catch (const bad_input& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto asym = c;
  asym[1] += 1.0;
  EXPECT_NE(message(asym, 6).find("cov.npy: not symmetric"), std::string::npos);
  auto nan = c;
  nan[7] = std::nan("");
  EXPECT_NE(message(nan, 6).find("cov.npy: entry 1, 1 is not finite"), std::string::npos);
  EXPECT_NE(message({1, 2, 2, 1}, 2).find("is indefinite"), std::string::npos);  // eigenvalues 3 and −1
  EXPECT_NE(message(c, 5).find("square [5, 5]"), std::string::npos);
  EXPECT_NE(message(std::vector<double>(36, 0.0), 6).find("is zero"), std::string::npos);
  const auto w = make_noise_whitener(c, 6, "C");
  EXPECT_THROW(w.apply(std::vector<double>(10), 2, "L"), bad_input);
}

}  // namespace
}  // namespace twofold
