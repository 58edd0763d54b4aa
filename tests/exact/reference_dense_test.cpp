// The exact Gaussian posterior references against each other, against the operators
// written out as dense matrices (a brute-force DFT, no LAPACK), and against the
// closed form of a white prior. Tolerances are relative to the problem's scale: the
// largest prior variance for variance maps, the largest |μ_post| for means.
#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include <twofold/exact/dense.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace twofold {
namespace {

using cd = std::complex<double>;
using matrix = std::vector<cd>;  // square, row-major

cd to_cd(cdouble z) { return {z.re, z.im}; }
cd to_cd(cfloat z) { return {z.re, z.im}; }

struct problem {
  image_shape shape;
  std::vector<cfloat> mu;
  std::vector<float> v;
  std::vector<float> mask;          // 2-D, H×W
  std::vector<std::uint8_t> lines;  // W flags when the mask is a line mask
  std::vector<cfloat> y;            // NaN where unsampled: those entries must never be read
  double sigma = 0.3;
};

// Random prior and data; `lines` (a W-character 0/1 string) makes a line mask, otherwise
// a random 2-D mask with `fraction` of k-space sampled (at least one entry).
problem make_problem(image_shape s, const std::string& lines, std::uint64_t seed, double fraction = 0.4) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit;
  problem p{s, {}, {}, std::vector<float>(s.pixels()), {}, {}, 0.3};
  for (std::size_t i = 0; i < s.pixels(); ++i) {
    p.mu.push_back({normal(rng), normal(rng)});
    p.v.push_back(0.3f + 2.7f * unit(rng));
  }
  if (!lines.empty()) {
    for (char c : lines) p.lines.push_back(c == '1' ? 1 : 0);
    for (std::size_t i = 0; i < s.pixels(); ++i) p.mask[i] = p.lines[i % s.width];
  } else {
    for (auto& m : p.mask) m = unit(rng) < fraction ? 1.0f : 0.0f;
    p.mask[rng() % s.pixels()] = 1.0f;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t i = 0; i < s.pixels(); ++i)
    p.y.push_back(p.mask[i] == 1.0f ? cfloat{2 * normal(rng), 2 * normal(rng)} : cfloat{nan, nan});
  return p;
}

gaussian_posterior_maps dense_maps(const problem& p) {
  return dense_posterior_pixel_prior(p.shape, p.mu, p.v, p.mask, p.y, p.sigma);
}
gaussian_posterior_maps line_maps(const problem& p) {
  return line_mask_posterior_pixel_prior(p.shape, p.mu, p.v, p.lines, p.y, p.sigma);
}

double max_variance(const problem& p) { return *std::max_element(p.v.begin(), p.v.end()); }

// ---- dense operators, written out -------------------------------------------------------

matrix matmul(const matrix& a, const matrix& b, std::size_t n) {
  matrix c(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < n; ++k)
      for (std::size_t j = 0; j < n; ++j) c[i * n + j] += a[i * n + k] * b[k * n + j];
  return c;
}

matrix adjoint(const matrix& a, std::size_t n) {
  matrix t(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) t[j * n + i] = std::conj(a[i * n + j]);
  return t;
}

// F = F_H ⊗ F_W from the library's 1-D matrices: F[(kh,kw),(h,w)] = F_H[kh,h]·F_W[kw,w].
matrix dft2_matrix(image_shape s) {
  const auto fh = centred_dft_matrix(s.height), fw = centred_dft_matrix(s.width);
  const std::size_t H = s.height, W = s.width, N = s.pixels();
  matrix f(N * N);
  for (std::size_t k = 0; k < N; ++k)
    for (std::size_t i = 0; i < N; ++i) f[k * N + i] = to_cd(fh[k / W * H + i / W]) * to_cd(fw[k % W * W + i % W]);
  return f;
}

// P_R = Fᴴ M F.
matrix range_projector(const problem& p) {
  const std::size_t N = p.shape.pixels();
  matrix mf = dft2_matrix(p.shape);
  const matrix fh = adjoint(mf, N);
  for (std::size_t k = 0; k < N; ++k)
    for (std::size_t i = 0; i < N; ++i) mf[k * N + i] *= p.mask[k];
  return matmul(fh, mf, N);
}

// Posterior precision Σ⁻¹ + AᴴA/σ² = diag(1/v) + P_R/σ².
matrix precision(const problem& p) {
  const std::size_t N = p.shape.pixels();
  matrix q = range_projector(p);
  for (auto& e : q) e /= p.sigma * p.sigma;
  for (std::size_t i = 0; i < N; ++i) q[i * N + i] += 1.0 / p.v[i];
  return q;
}

// Inverse by Gauss–Jordan elimination with partial pivoting (independent of LAPACK).
matrix inverse(matrix a, std::size_t n) {
  matrix inv(n * n);
  for (std::size_t i = 0; i < n; ++i) inv[i * n + i] = 1.0;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[piv * n + c])) piv = r;
    for (std::size_t j = 0; j < n; ++j) std::swap(a[c * n + j], a[piv * n + j]), std::swap(inv[c * n + j], inv[piv * n + j]);
    const cd d = a[c * n + c];
    for (std::size_t j = 0; j < n; ++j) a[c * n + j] /= d, inv[c * n + j] /= d;
    for (std::size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const cd f = a[r * n + c];
      for (std::size_t j = 0; j < n; ++j) a[r * n + j] -= f * a[c * n + j], inv[r * n + j] -= f * inv[c * n + j];
    }
  }
  return inv;
}

void expect_maps_near(const gaussian_posterior_maps& got, const gaussian_posterior_maps& want, double var_scale,
                      double rel) {
  double mean_scale = 0;
  for (auto z : want.mean) mean_scale = std::max(mean_scale, abs(z));
  for (std::size_t i = 0; i < want.variance.size(); ++i) {
    EXPECT_LE(std::abs(to_cd(got.mean[i]) - to_cd(want.mean[i])), rel * mean_scale) << "mean " << i;
    EXPECT_NEAR(got.variance[i], want.variance[i], rel * var_scale) << "variance " << i;
    EXPECT_NEAR(got.ambiguity[i], want.ambiguity[i], rel * var_scale) << "ambiguity " << i;
    EXPECT_NEAR(got.estimation[i], want.estimation[i], rel * var_scale) << "estimation " << i;
    EXPECT_NEAR(got.range_variance[i], want.range_variance[i], rel * var_scale) << "range " << i;
    EXPECT_NEAR(got.null_variance[i], want.null_variance[i], rel * var_scale) << "null " << i;
  }
}

// ---- tests -------------------------------------------------------------------------------

TEST(DenseDft, CentredMatrixMatchesDefinitionAndIsUnitary) {
  for (std::size_t n : {1u, 2u, 5u, 8u, 9u}) {
    const auto f = centred_dft_matrix(n);
    const double c = std::floor(double(n) / 2);
    matrix fm(n * n);
    for (std::size_t k = 0; k < n; ++k)
      for (std::size_t j = 0; j < n; ++j) {
        const cd want = std::polar(1 / std::sqrt(double(n)), -2 * std::numbers::pi * (double(k) - c) * (double(j) - c) / double(n));
        EXPECT_LT(std::abs(to_cd(f[k * n + j]) - want), 1e-14) << n << ": " << k << "," << j;
        fm[k * n + j] = to_cd(f[k * n + j]);
      }
    const matrix id = matmul(adjoint(fm, n), fm, n);
    for (std::size_t i = 0; i < n * n; ++i) EXPECT_LT(std::abs(id[i] - cd(i % (n + 1) == 0 ? 1.0 : 0.0)), 1e-14);
  }
}

TEST(DenseDft, KroneckerProductMatchesDirect2dDft) {
  for (image_shape s : {image_shape{5, 6}, image_shape{4, 7}}) {
    const std::size_t H = s.height, W = s.width, N = s.pixels();
    const problem p = make_problem(s, "", 3);
    const matrix f = dft2_matrix(s);
    double err = 0, ref = 0;
    for (std::size_t kh = 0; kh < H; ++kh)
      for (std::size_t kw = 0; kw < W; ++kw) {
        cd direct = 0, via_matrix = 0;
        for (std::size_t h = 0; h < H; ++h)
          for (std::size_t w = 0; w < W; ++w) {
            const double t = (double(kh) - double(H / 2)) * (double(h) - double(H / 2)) / double(H) +
                             (double(kw) - double(W / 2)) * (double(w) - double(W / 2)) / double(W);
            direct += to_cd(p.mu[h * W + w]) * std::polar(1.0, -2 * std::numbers::pi * t);
          }
        for (std::size_t i = 0; i < N; ++i) via_matrix += f[(kh * W + kw) * N + i] * to_cd(p.mu[i]);
        err += std::norm(via_matrix - direct / std::sqrt(double(N)));
        ref += std::norm(via_matrix);
      }
    EXPECT_LT(std::sqrt(err / ref), 1e-13);
  }
}

struct line_case {
  image_shape shape;
  const char* lines;
};

void PrintTo(const line_case& c, std::ostream* os) {
  *os << c.shape.height << "x" << c.shape.width << " lines " << c.lines;
}

class DenseLineMask : public ::testing::TestWithParam<line_case> {};

TEST_P(DenseLineMask, MatchesGeneralDenseSolution) {
  const auto [shape, lines] = GetParam();
  const problem p = make_problem(shape, lines, 17 + shape.pixels());
  expect_maps_near(line_maps(p), dense_maps(p), max_variance(p), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(DenseShapes, DenseLineMask,
                         ::testing::Values(line_case{{6, 5}, "01101"}, line_case{{5, 8}, "10010110"},
                                           line_case{{7, 7}, "0001000"}, line_case{{7, 7}, "1111111"},
                                           line_case{{4, 6}, "110011"}, line_case{{1, 5}, "00101"},
                                           line_case{{3, 1}, "1"}),
                         [](const auto& c) {
                           return std::to_string(c.param.shape.height) + "x" + std::to_string(c.param.shape.width) +
                                  "_" + c.param.lines;
                         });

TEST(DenseIdentities, VarianceIsAmbiguityPlusEstimation) {
  const problem general = make_problem({6, 5}, "", 5);
  const problem lines = make_problem({9, 8}, "01100101", 6);
  for (const auto& [p, maps] : {std::pair{general, dense_maps(general)}, std::pair{lines, line_maps(lines)}}) {
    const double tol = 1e-12 * max_variance(p);
    for (std::size_t i = 0; i < p.shape.pixels(); ++i) {
      EXPECT_NEAR(maps.variance[i], maps.ambiguity[i] + maps.estimation[i], tol) << i;
      EXPECT_GT(maps.estimation[i], 0.0) << i;
      EXPECT_GT(maps.ambiguity[i], -tol) << i;
      EXPECT_LT(maps.variance[i], p.v[i]) << i;  // data always helps
    }
  }
}

TEST(DenseIdentities, RangeAndNullVariancesFromTheDenseCovariance) {
  const problem p = make_problem({5, 6}, "", 8);
  const std::size_t N = p.shape.pixels();
  const auto maps = dense_maps(p);
  const auto c_raw = dense_posterior_covariance(p.shape, p.v, p.mask, p.sigma);
  matrix c(N * N), pn(N * N);
  for (std::size_t i = 0; i < N * N; ++i) c[i] = to_cd(c_raw[i]);
  const matrix pr = range_projector(p);
  for (std::size_t i = 0; i < N * N; ++i) pn[i] = (i % (N + 1) == 0 ? 1.0 : 0.0) - pr[i];
  const matrix rr = matmul(matmul(pr, c, N), pr, N), nn = matmul(matmul(pn, c, N), pn, N);
  const matrix rn = matmul(matmul(pr, c, N), pn, N);
  const double tol = 1e-12 * max_variance(p);
  double largest_cross = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t d = i * N + i;
    EXPECT_NEAR(c[d].real(), maps.variance[i], tol) << i;
    EXPECT_NEAR(rr[d].real(), maps.range_variance[i], tol) << i;
    EXPECT_NEAR(nn[d].real(), maps.null_variance[i], tol) << i;
    EXPECT_NEAR(rr[d].real() + nn[d].real() + 2 * rn[d].real(), c[d].real(), tol) << i;
    largest_cross = std::max(largest_cross, std::abs(2 * rn[d].real()));
  }
  // A non-stationary prior couples range and null space: range + null ≠ variance.
  EXPECT_GT(largest_cross, 1e-2 * max_variance(p));
}

TEST(DenseIdentities, FullMaskLeavesNoAmbiguity) {
  problem dense = make_problem({4, 5}, "", 9, 2.0);  // fraction > 1: everything sampled
  problem lines = make_problem({6, 7}, "1111111", 10);
  for (const auto& [p, maps] : {std::pair{dense, dense_maps(dense)}, std::pair{lines, line_maps(lines)}}) {
    const double tol = 1e-12 * max_variance(p);
    for (std::size_t i = 0; i < p.shape.pixels(); ++i) {
      EXPECT_NEAR(maps.ambiguity[i], 0.0, tol) << i;
      EXPECT_NEAR(maps.null_variance[i], 0.0, tol) << i;
      EXPECT_NEAR(maps.range_variance[i], maps.variance[i], tol) << i;
    }
  }
}

TEST(DenseIdentities, EstimationShrinksLikeSigmaSquared) {
  problem dense = make_problem({5, 6}, "", 11);
  problem lines = make_problem({8, 9}, "001101001", 12);
  for (bool use_lines : {false, true}) {
    problem& p = use_lines ? lines : dense;
    const auto run = [&](double s) { p.sigma = s; return use_lines ? line_maps(p) : dense_maps(p); };
    const auto a = run(1e-2), b = run(1e-3);
    // estimation_i = σ² w_iᴴ S₀⁻¹ S⁻¹ w_i ≤ σ² (v_max / v_min)², since ‖w_i‖ ≤ v_max and S₀ ⪰ v_min I.
    const double vmax = max_variance(p), vmin = *std::min_element(p.v.begin(), p.v.end());
    const double bound = 1e-6 * (vmax / vmin) * (vmax / vmin);
    for (std::size_t i = 0; i < p.shape.pixels(); ++i) {
      EXPECT_NEAR(b.estimation[i] / a.estimation[i], 1e-2, 1e-4) << i;  // ∝ σ², up to O(σ²/v_min)
      EXPECT_LE(b.estimation[i], bound) << i;
      EXPECT_NEAR(b.variance[i], b.ambiguity[i], bound) << i;
    }
  }
}

TEST(DenseIdentities, AmbiguityIgnoresDataAndNoiseLevel) {
  for (bool use_lines : {false, true}) {
    problem p = make_problem({6, 5}, use_lines ? "10011" : "", 13);
    const auto first = use_lines ? line_maps(p) : dense_maps(p);
    for (std::size_t i = 0; i < p.y.size(); ++i)  // new data at the same sampled locations
      if (p.mask[i] == 1.0f) p.y[i] = {-3.0f * p.y[i].im, p.y[i].re + 1.0f};
    p.sigma = 1.7;
    const auto second = use_lines ? line_maps(p) : dense_maps(p);
    double moved = 0;
    for (std::size_t i = 0; i < p.shape.pixels(); ++i) {
      EXPECT_NEAR(first.ambiguity[i], second.ambiguity[i], 1e-12 * max_variance(p)) << i;
      moved = std::max(moved, std::abs(first.variance[i] - second.variance[i]) + abs(first.mean[i] - second.mean[i]));
    }
    EXPECT_GT(moved, 1e-2);  // the data and noise level did change the posterior
  }
}

TEST(DenseNormalEquations, MeanSolvesTheNormalEquations) {
  for (bool use_lines : {false, true}) {
    const problem p = make_problem({6, 5}, use_lines ? "01011" : "", 15);
    const std::size_t N = p.shape.pixels();
    const auto maps = use_lines ? line_maps(p) : dense_maps(p);
    const matrix q = precision(p), f = dft2_matrix(p.shape);
    double res = 0, ref = 0;
    for (std::size_t i = 0; i < N; ++i) {
      cd rhs = to_cd(p.mu[i]) / double(p.v[i]);  // Σ⁻¹μ + Fᴴ(M y)/σ²
      for (std::size_t k = 0; k < N; ++k)
        if (p.mask[k] == 1.0f) rhs += std::conj(f[k * N + i]) * to_cd(p.y[k]) / (p.sigma * p.sigma);
      cd lhs = 0;
      for (std::size_t j = 0; j < N; ++j) lhs += q[i * N + j] * to_cd(maps.mean[j]);
      res += std::norm(lhs - rhs);
      ref += std::norm(rhs);
    }
    EXPECT_LT(std::sqrt(res / ref), 1e-12) << (use_lines ? "line path" : "dense path");
  }
}

TEST(DenseCovariance, PosteriorCovarianceInvertsThePrecision) {
  const problem p = make_problem({5, 5}, "", 16);
  const std::size_t N = p.shape.pixels();
  const auto c_raw = dense_posterior_covariance(p.shape, p.v, p.mask, p.sigma);
  matrix c(N * N);
  for (std::size_t i = 0; i < N * N; ++i) c[i] = to_cd(c_raw[i]);
  const matrix prod = matmul(c, precision(p), N);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      EXPECT_LT(std::abs(prod[i * N + j] - cd(i == j ? 1.0 : 0.0)), 1e-10) << i << "," << j;
      EXPECT_LT(std::abs(c[i * N + j] - std::conj(c[j * N + i])), 1e-14) << i << "," << j;
    }
}

TEST(DenseCovariance, ConditionalCovarianceIsTheNullSpaceForm) {
  // Cov(x | P_R x) = Bcᴴ (Bc Σ⁻¹ Bcᴴ)⁻¹ Bc with Bc the unsampled rows of F.
  const problem p = make_problem({4, 5}, "", 18, 0.5);
  const std::size_t N = p.shape.pixels();
  const matrix f = dft2_matrix(p.shape);
  std::vector<std::size_t> un;
  for (std::size_t k = 0; k < N; ++k)
    if (p.mask[k] == 0.0f) un.push_back(k);
  const std::size_t u = un.size();
  ASSERT_GT(u, 0u);
  matrix g(u * u);
  for (std::size_t a = 0; a < u; ++a)
    for (std::size_t b = 0; b < u; ++b)
      for (std::size_t i = 0; i < N; ++i) g[a * u + b] += f[un[a] * N + i] * std::conj(f[un[b] * N + i]) / double(p.v[i]);
  const matrix gi = inverse(g, u);
  const auto c = dense_conditional_covariance(p.shape, p.v, p.mask);
  const auto maps = dense_maps(p);
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = 0; j < N; ++j) {
      cd want = 0;
      for (std::size_t a = 0; a < u; ++a)
        for (std::size_t b = 0; b < u; ++b) want += std::conj(f[un[a] * N + i]) * gi[a * u + b] * f[un[b] * N + j];
      EXPECT_LT(std::abs(to_cd(c[i * N + j]) - want), 1e-12 * max_variance(p)) << i << "," << j;
    }
    EXPECT_NEAR(c[i * N + i].re, maps.ambiguity[i], 1e-12 * max_variance(p)) << i;
  }
}

TEST(DenseWhitePrior, MatchesTheFourierDiagonalClosedForm) {
  // Constant v: every covariance is diagonal in the Fourier basis (docs/design.md §1.4), with
  // λ_post = 1/(1/v + M/σ²) and m_post = λ_post (μ̃/v + M ỹ/σ²), μ̃ = Fμ.
  problem p = make_problem({6, 7}, "0110100", 19);
  std::fill(p.v.begin(), p.v.end(), 1.3f);
  const std::size_t N = p.shape.pixels();
  const double v = 1.3f, s2 = p.sigma * p.sigma, frac = 3.0 / 7.0;
  const matrix f = dft2_matrix(p.shape);
  for (const auto& maps : {dense_maps(p), line_maps(p)}) {
    for (std::size_t i = 0; i < N; ++i) {
      EXPECT_NEAR(maps.ambiguity[i], v * (1 - frac), 1e-12);
      EXPECT_NEAR(maps.estimation[i], frac * v * s2 / (v + s2), 1e-12);
      EXPECT_NEAR(maps.range_variance[i], frac * v * s2 / (v + s2), 1e-12);
      EXPECT_NEAR(maps.null_variance[i], v * (1 - frac), 1e-12);
      cd want = 0;
      for (std::size_t k = 0; k < N; ++k) {
        cd mu_k = 0;
        for (std::size_t j = 0; j < N; ++j) mu_k += f[k * N + j] * to_cd(p.mu[j]);
        const bool on = p.mask[k] == 1.0f;
        const cd post = (mu_k / v + (on ? to_cd(p.y[k]) / s2 : cd(0))) / (1 / v + (on ? 1 / s2 : 0.0));
        want += std::conj(f[k * N + i]) * post;
      }
      EXPECT_LT(std::abs(to_cd(maps.mean[i]) - want), 1e-12) << i;
    }
  }
}

template <class F>
void expect_bad_input(F&& call, const std::string& names) {
  try {
    call();
    ADD_FAILURE() << "no bad_input for " << names;
  } catch (const bad_input& e) {
    EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
  }
}

TEST(DenseInputs, BadInputIsRejectedNamingTheArgument) {
  const problem p = make_problem({4, 5}, "01100", 20);
  auto d = [&](problem q) { return [q] { dense_maps(q); }; };
  auto l = [&](problem q) { return [q] { line_maps(q); }; };
  problem q = p;
  q.lines.assign(5, 0), q.mask.assign(20, 0.0f);
  expect_bad_input(d(q), "mask"), expect_bad_input(l(q), "lines");  // nothing sampled
  q = p, q.v[3] = 0.0f;
  expect_bad_input(d(q), "prior_variance"), expect_bad_input(l(q), "prior_variance");
  q = p, q.v[7] = std::numeric_limits<float>::infinity();
  expect_bad_input(d(q), "prior_variance"), expect_bad_input(l(q), "prior_variance");
  q = p, q.mu[2].re = std::numeric_limits<float>::quiet_NaN();
  expect_bad_input(d(q), "prior_mean"), expect_bad_input(l(q), "prior_mean");
  q = p, q.y[6] = {std::numeric_limits<float>::quiet_NaN(), 0.0f};  // column 1: sampled
  expect_bad_input(d(q), "kspace"), expect_bad_input(l(q), "kspace");
  q = p, q.sigma = 0.0;
  expect_bad_input(d(q), "sigma_y"), expect_bad_input(l(q), "sigma_y");
  q = p, q.sigma = std::numeric_limits<double>::quiet_NaN();
  expect_bad_input(d(q), "sigma_y"), expect_bad_input(l(q), "sigma_y");
  q = p, q.mask[4] = 0.5f, q.lines[4] = 2;
  expect_bad_input(d(q), "mask"), expect_bad_input(l(q), "lines");
  q = p, q.v.pop_back(), q.mu.pop_back();
  expect_bad_input(d(q), "prior_"), expect_bad_input(l(q), "prior_");
  q = p, q.lines.push_back(1), q.y.pop_back();
  expect_bad_input(l(q), "lines"), expect_bad_input(d(q), "kspace");
  q = p, q.shape = {0, 5};
  expect_bad_input(d(q), "shape"), expect_bad_input(l(q), "shape");
  expect_bad_input([] { centred_dft_matrix(0); }, "n");

  // The dense functions stop at 4096 pixels; the line path does not.
  const problem big = make_problem({65, 64}, std::string(63, '0') + "1", 21);
  expect_bad_input(d(big), "shape");
  expect_bad_input([&] { dense_posterior_covariance(big.shape, big.v, big.mask, 1.0); }, "shape");
  expect_bad_input([&] { dense_conditional_covariance(big.shape, big.v, big.mask); }, "shape");
  EXPECT_NO_THROW(line_maps(big));
}

}  // namespace
}  // namespace twofold
