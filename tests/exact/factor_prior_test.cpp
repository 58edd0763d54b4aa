// dense_posterior_factor_prior against the covariance-form formulas computed directly
// (Σ = F Fᵀ formed, m × m solves by Gaussian elimination), and against the
// diagonal-prior dense_posterior when F = diag(√v).
#include <twofold/core/error.hpp>
#include <twofold/exact/dense.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace twofold {
namespace {

using matrix = std::vector<std::vector<double>>;

matrix zeros(std::size_t r, std::size_t c) { return matrix(r, std::vector<double>(c, 0.0)); }

matrix product(const matrix& a, const matrix& b) {
  matrix c = zeros(a.size(), b[0].size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < b.size(); ++k)
      for (std::size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][k] * b[k][j];
  return c;
}

matrix transpose(const matrix& a) {
  matrix t = zeros(a[0].size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < a[0].size(); ++j) t[j][i] = a[i][j];
  return t;
}

/// X = S⁻¹ R for a small SPD S (Gauss–Jordan with partial pivoting).
matrix solve(matrix s, matrix r) {
  const std::size_t n = s.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t p = c;
    for (std::size_t i = c + 1; i < n; ++i)
      if (std::abs(s[i][c]) > std::abs(s[p][c])) p = i;
    std::swap(s[c], s[p]);
    std::swap(r[c], r[p]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i == c) continue;
      const double f = s[i][c] / s[c][c];
      for (std::size_t j = 0; j < n; ++j) s[i][j] -= f * s[c][j];
      for (std::size_t j = 0; j < r[0].size(); ++j) r[i][j] -= f * r[c][j];
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    for (auto& v : r[i]) v /= s[i][i];
  return r;
}

std::vector<double> flat(const matrix& a) {
  std::vector<double> v;
  for (const auto& row : a) v.insert(v.end(), row.begin(), row.end());
  return v;
}

TEST(FactorPrior, MatchesTheCovarianceFormFormulas) {
  const std::size_t m = 4, n = 10, k = 6;
  const double sigma = 0.3;
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  matrix a = zeros(m, n), f = zeros(n, k), mu = zeros(n, 1), y = zeros(m, 1);
  for (auto& row : a) for (auto& v : row) v = normal(rng);
  for (auto& row : f) for (auto& v : row) v = normal(rng);
  for (auto& row : mu) row[0] = normal(rng);
  for (auto& row : y) row[0] = normal(rng);
  const matrix sig = product(f, transpose(f));            // Σ = F Fᵀ
  const matrix sat = product(sig, transpose(a));           // Σ Aᵀ (n × m)
  matrix s0 = product(a, sat), s = s0;                     // A Σ Aᵀ (+ σ² I)
  for (std::size_t i = 0; i < m; ++i) s[i][i] += sigma * sigma;
  matrix r = y;
  const matrix amu = product(a, mu);
  for (std::size_t i = 0; i < m; ++i) r[i][0] -= amu[i][0];
  const matrix mean_shift = product(sat, solve(s, r));
  const matrix post = product(sat, solve(s, transpose(sat)));    // Σ Aᵀ S⁻¹ A Σ
  const matrix cond = product(sat, solve(s0, transpose(sat)));   // Σ Aᵀ S₀⁻¹ A Σ
  // P_R = Aᵀ (A Aᵀ)⁻¹ A; range variance = diag(P Σ_post P).
  const matrix p = product(transpose(a), solve(product(a, transpose(a)), a));
  matrix sp = sig;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) sp[i][j] -= post[i][j];
  const matrix range = product(product(p, sp), p);

  const auto got = dense_posterior_factor_prior(flat(a), m, n, flat(f), k, flat(mu), flat(y), sigma);
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = sig[i][i];
    EXPECT_NEAR(got.mean[i].re, mu[i][0] + mean_shift[i][0], 1e-10 * (1 + std::abs(mu[i][0])));
    EXPECT_NEAR(got.variance[i], sig[i][i] - post[i][i], 1e-10 * scale);
    EXPECT_NEAR(got.ambiguity[i], sig[i][i] - cond[i][i], 1e-9 * scale);
    EXPECT_NEAR(got.estimation[i], got.variance[i] - got.ambiguity[i], 1e-9 * scale);
    EXPECT_GE(got.estimation[i], 0.0);
    EXPECT_NEAR(got.range_variance[i], range[i][i], 1e-9 * scale);
  }
}

TEST(FactorPrior, DiagonalFactorEqualsTheDiagonalPriorReference) {
  const std::size_t m = 5, n = 12;
  const double sigma = 0.2;
  std::mt19937 rng(4);
  std::normal_distribution<double> normal;
  std::vector<double> a(m * n), f(n * n, 0.0), mu(n), y(m);
  std::vector<cdouble> ac(m * n);
  std::vector<float> var(n);
  std::vector<cfloat> muf(n), yf(m);
  for (std::size_t i = 0; i < m * n; ++i) ac[i] = {a[i] = normal(rng), 0.0};
  for (std::size_t j = 0; j < n; ++j) {
    var[j] = float(0.5 + double(j % 3));
    f[j * n + j] = std::sqrt(double(var[j]));
    muf[j] = {float(mu[j] = normal(rng)), 0.0f};
  }
  for (std::size_t i = 0; i < m; ++i) yf[i] = {float(y[i] = normal(rng)), 0.0f};
  const auto got = dense_posterior_factor_prior(a, m, n, f, n, mu, y, sigma);
  const auto ref = dense_posterior({1, n}, ac, m, muf, var, yf, sigma);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(got.mean[i].re, ref.mean[i].re, 1e-5);
    EXPECT_NEAR(got.variance[i], ref.variance[i], 1e-5 * var[i]);
    EXPECT_NEAR(got.ambiguity[i], ref.ambiguity[i], 1e-5 * var[i]);
    EXPECT_NEAR(got.estimation[i], ref.estimation[i], 1e-5 * var[i]);
    EXPECT_NEAR(got.null_variance[i], ref.null_variance[i], 1e-5 * var[i]);
  }
  EXPECT_THROW(dense_posterior_factor_prior(a, m, n, f, n - 1, mu, y, sigma), bad_input);
  EXPECT_THROW(dense_posterior_factor_prior(a, m, n, f, n, mu, y, 0.0), bad_input);
}

}  // namespace
}  // namespace twofold
