// MNE's depth weighting and trace scaling (priors/minimum_norm.hpp) against direct
// computations: the spectral norm of each 3 × 3 block by LAPACK, the limit rule, and
// the scaled trace; tests/eeg/mne_agreement.py checks the same against MNE itself.
#include <twofold/core/error.hpp>
#include <twofold/priors/minimum_norm.hpp>

#include <gtest/gtest.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace twofold {
namespace {

std::vector<double> random_matrix(std::size_t rows, std::size_t columns, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> g(rows * columns);
  // Column scales spread over two decades, like deep and superficial sources.
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) g[i * columns + j] = normal(rng) * std::pow(10.0, -2.0 * double(j / 3) / double(columns / 3));
  return g;
}

double largest_eigenvalue(const std::vector<double>& g, std::size_t rows, std::size_t columns, std::size_t s) {
  std::vector<double> a(9, 0.0), w(3);
  for (std::size_t i = 0; i < rows; ++i)
    for (int p = 0; p < 3; ++p)
      for (int q = 0; q < 3; ++q) a[p * 3 + q] += g[i * columns + s * 3 + p] * g[i * columns + s * 3 + q];
  EXPECT_EQ(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', 3, a.data(), 3, w.data()), 0);
  return w[2];
}

TEST(MinimumNormPrior, FreeOrientationDepthWeightsUseTheSpectralNormOfEachBlock) {
  const std::size_t rows = 20, sources = 30, columns = 3 * sources;
  const auto g = random_matrix(rows, columns, 3);
  minimum_norm_params p;
  p.depth = 0.8;
  p.depth_limit = 0;  // no limit: w = d^-depth up to one common factor
  const auto w = depth_weights(g, rows, columns, p);
  for (std::size_t s = 0; s < sources; ++s) {
    const double expected = std::pow(largest_eigenvalue(g, rows, columns, s), -0.8);
    EXPECT_NEAR(w[s * 3], expected, 1e-10 * expected);
    EXPECT_EQ(w[s * 3], w[s * 3 + 1]);
    EXPECT_EQ(w[s * 3], w[s * 3 + 2]);
  }
}

TEST(MinimumNormPrior, TheLimitCapsTheWeightRatioAsMneDoes) {
  const std::size_t rows = 10, columns = 40;
  const auto g = random_matrix(rows, columns, 5);
  minimum_norm_params p;
  p.orientations = 1;
  p.depth = 1.0;
  p.depth_limit = 3.0;
  const auto w = depth_weights(g, rows, columns, p);
  // MNE (C-code form): inverse squared norms sorted; the cap is the first above limit² × the smallest.
  std::vector<double> inv(columns);
  for (std::size_t j = 0; j < columns; ++j) {
    double d = 0;
    for (std::size_t i = 0; i < rows; ++i) d += g[i * columns + j] * g[i * columns + j];
    inv[j] = 1 / d;
  }
  auto sorted = inv;
  std::sort(sorted.begin(), sorted.end());
  const double cap = *std::upper_bound(sorted.begin(), sorted.end(), 9.0 * sorted.front());
  for (std::size_t j = 0; j < columns; ++j) EXPECT_NEAR(w[j], std::min(inv[j] / cap, 1.0), 1e-12);
  EXPECT_EQ(*std::max_element(w.begin(), w.end()), 1.0);
}

TEST(MinimumNormPrior, VariancesScaleTheTraceToTheRankOverLambda2) {
  const std::size_t rows = 15, columns = 45;
  const auto g = random_matrix(rows, columns, 7);
  minimum_norm_params p;
  p.lambda2 = 0.04;
  const auto v = minimum_norm_source_variance(g, rows, columns, p);
  double trace = 0;  // trace(G diag(v) Gᵀ) λ² = rows (MNE's trace normalisation)
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) trace += v[j] * g[i * columns + j] * g[i * columns + j];
  EXPECT_NEAR(trace * p.lambda2, double(rows), 1e-9 * double(rows));
  p.depth = 0;
  const auto flat = minimum_norm_source_variance(g, rows, columns, p);
  EXPECT_TRUE(std::all_of(flat.begin(), flat.end(), [&](double x) { return std::abs(x - flat[0]) < 1e-12 * flat[0]; }));
}

TEST(MinimumNormPrior, PerSourceMapsAreTracesAndNorms) {
  const std::vector<double> map{1, 2, 2, 0, 3, 4};
  EXPECT_EQ(per_source_sum(map, 3), (std::vector<double>{5, 7}));
  EXPECT_EQ(per_source_norm(map, 3), (std::vector<double>{3, 5}));
  EXPECT_EQ(per_source_sum(map, 1), map);
  EXPECT_THROW(per_source_sum(std::vector<double>(4), 3), bad_input);
  minimum_norm_params p;
  EXPECT_THROW(depth_weights(std::vector<double>(8), 2, 4, p), bad_input);  // 4 columns, 3 per source
  p.orientations = 2;
  EXPECT_THROW(depth_weights(std::vector<double>(8), 2, 4, p), bad_input);
  p.orientations = 1;
  p.lambda2 = 0;
  EXPECT_THROW(minimum_norm_source_variance(std::vector<double>(8, 1.0), 2, 4, p), bad_input);
}

}  // namespace
}  // namespace twofold
