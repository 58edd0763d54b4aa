// The exact Gaussian posterior of a pixel-basis prior under a single-coil line mask,
// row by row: H independent problems of size W solved with a hand-written Cholesky,
// an implementation independent of the general LAPACK path in dense.cpp, so that
// each checks the other (tests/exact/reference_dense_test.cpp). The small matrices
// are row-major.
#include <twofold/core/fft.hpp>
#include <twofold/exact/dense.hpp>

#include "host/exact/reference_checks.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

namespace twofold {
namespace {

using namespace detail;

// In place: row-major m×m Hermitian positive definite a (lower triangle read) → its lower
// Cholesky factor L (a = L Lᴴ). Returns false if a is not numerically positive definite.
bool small_cholesky(std::vector<cdouble>& a, std::size_t m) {
  for (std::size_t j = 0; j < m; ++j) {
    double d = a[j * m + j].re;
    for (std::size_t p = 0; p < j; ++p) d -= norm2(a[j * m + p]);
    if (!(d > 0.0)) return false;
    const double ljj = std::sqrt(d);
    a[j * m + j] = {ljj, 0.0};
    for (std::size_t i = j + 1; i < m; ++i) {
      cdouble s = a[i * m + j];
      for (std::size_t p = 0; p < j; ++p) s -= a[i * m + p] * conj(a[j * m + p]);
      a[i * m + j] = (1.0 / ljj) * s;
    }
  }
  return true;
}

// In place: x ← (L Lᴴ)⁻¹ x for one vector of length m (L row-major lower). Both
// substitutions walk rows of L, so every inner loop is contiguous.
void small_cholesky_solve(const std::vector<cdouble>& l, std::size_t m, cdouble* x) {
  for (std::size_t i = 0; i < m; ++i) {  // L y = x
    const cdouble* li = l.data() + i * m;
    cdouble acc = x[i];
    for (std::size_t p = 0; p < i; ++p) acc -= li[p] * x[p];
    x[i] = (1.0 / li[i].re) * acc;
  }
  for (std::size_t i = m; i-- > 0;) {  // Lᴴ x = y, column i of Lᴴ is conj(row i of L)
    const cdouble* li = l.data() + i * m;
    x[i] = (1.0 / li[i].re) * x[i];
    for (std::size_t p = 0; p < i; ++p) x[p] -= conj(li[p]) * x[i];
  }
}

cdouble dot(const cdouble* a, const cdouble* b, std::size_t m) {  // Σ conj(a)·b
  cdouble acc{};
  for (std::size_t r = 0; r < m; ++r) acc += conj(a[r]) * b[r];
  return acc;
}

}  // namespace

gaussian_posterior_maps line_mask_posterior_pixel_prior(image_shape shape,
                                                        std::span<const cfloat> prior_mean,
                                                        std::span<const float> prior_variance,
                                                        std::span<const std::uint8_t> lines,
                                                        std::span<const cfloat> kspace, double sigma_y) {
  check_shape(shape, static_cast<std::size_t>(-1));
  const std::size_t H = shape.height, W = shape.width, N = shape.pixels();
  check_mean(prior_mean, N);
  const auto v = checked_variance(prior_variance, N);
  const auto cols = sampled_indices(lines, W, "lines");
  check_kspace(kspace, N, cols, W, H);
  check_sigma(sigma_y);
  const std::size_t m = cols.size();
  const double s2 = sigma_y * sigma_y;

  // Column j of B_W (the sampled rows of F_W), contiguous: bt[j·m + r] = F_W[cols[r], j].
  // Rotated data ỹ[h, r] = Σ_kh conj(F_H[kh, h]) y[kh, cols[r]] (F_Hᴴ along the H axis).
  const auto fh = centred_dft_matrix(H), fw = centred_dft_matrix(W);
  std::vector<cdouble> bt(W * m), ytil(H * m);
  for (std::size_t j = 0; j < W; ++j)
    for (std::size_t r = 0; r < m; ++r) bt[j * m + r] = fw[cols[r] * W + j];
  for (std::size_t h = 0; h < H; ++h)
    for (std::size_t r = 0; r < m; ++r) {
      cdouble acc{};
      for (std::size_t kh = 0; kh < H; ++kh) acc += conj(fh[kh * H + h]) * cdouble(kspace[kh * W + cols[r]]);
      ytil[h * m + r] = acc;
    }

  gaussian_posterior_maps out{shape, std::vector<cdouble>(N), std::vector<double>(N), std::vector<double>(N),
                              std::vector<double>(N), std::vector<double>(N), std::vector<double>(N)};
  std::atomic<bool> failed{false};
#pragma omp parallel
  {
    // Per-row scratch: S₀ (kept whole for products), the factors of S and S₀, and vectors.
    std::vector<cdouble> s0(m * m), ls(m * m), l0(m * m), u(m), u0(m), g(m), t(m);
#pragma omp for schedule(dynamic)
    for (std::ptrdiff_t hh = 0; hh < static_cast<std::ptrdiff_t>(H); ++hh) {
      const std::size_t h = static_cast<std::size_t>(hh);
      const double* vh = v.data() + h * W;
      std::fill(s0.begin(), s0.end(), cdouble{});
      for (std::size_t j = 0; j < W; ++j) {  // S₀ = Σ_j v_j b_j b_jᴴ, lower triangle
        const cdouble* bj = bt.data() + j * m;
        for (std::size_t r = 0; r < m; ++r) {
          const cdouble vb = vh[j] * bj[r];
          for (std::size_t q = 0; q <= r; ++q) s0[r * m + q] += vb * conj(bj[q]);
        }
      }
      for (std::size_t r = 0; r < m; ++r)
        for (std::size_t q = 0; q < r; ++q) s0[q * m + r] = conj(s0[r * m + q]);
      ls = s0;
      l0 = s0;
      for (std::size_t r = 0; r < m; ++r) ls[r * m + r] += cdouble(s2);
      if (!small_cholesky(ls, m) || !small_cholesky(l0, m)) {
        failed = true;
        continue;
      }
      // Pixel (h, j) has w = v_j b_j. With u = S⁻¹b_j, u₀ = S₀⁻¹b_j and B Σ_post Bᴴ = σ² S⁻¹S₀:
      //   variance = v − v² b·u,  ambiguity = v − v² b·u₀,  estimation = σ² v² u₀·u,
      //   range = σ² u·(S₀ b),  Re diag(P_R Σ_post) = σ² v b·u   (a·b = Re aᴴb).
      for (std::size_t j = 0; j < W; ++j) {
        const std::size_t i = h * W + j;
        const cdouble* bj = bt.data() + j * m;
        const double vj = vh[j];
        for (std::size_t r = 0; r < m; ++r) {  // u, u₀ ← b_j (solved below); g = S₀ b_j
          u[r] = u0[r] = bj[r];
          cdouble acc{};
          for (std::size_t q = 0; q < m; ++q) acc += s0[r * m + q] * bj[q];
          g[r] = acc;
        }
        small_cholesky_solve(ls, m, u.data());
        small_cholesky_solve(l0, m, u0.data());
        const double bu = dot(bj, u.data(), m).re;
        out.variance[i] = vj - vj * vj * bu;
        out.ambiguity[i] = vj - vj * vj * dot(bj, u0.data(), m).re;
        out.estimation[i] = s2 * vj * vj * dot(u0.data(), u.data(), m).re;
        out.range_variance[i] = s2 * dot(u.data(), g.data(), m).re;
        out.null_variance[i] = out.variance[i] - 2.0 * s2 * vj * bu + out.range_variance[i];
      }
      // mean = μ_h + diag(v_h) Bᴴ S⁻¹ (ỹ_h − B μ_h)
      for (std::size_t r = 0; r < m; ++r) t[r] = ytil[h * m + r];
      for (std::size_t j = 0; j < W; ++j) {
        const cdouble muj(prior_mean[h * W + j]);
        for (std::size_t r = 0; r < m; ++r) t[r] -= bt[j * m + r] * muj;
      }
      small_cholesky_solve(ls, m, t.data());
      for (std::size_t j = 0; j < W; ++j)
        out.mean[h * W + j] = cdouble(prior_mean[h * W + j]) + vh[j] * dot(bt.data() + j * m, t.data(), m);
    }
  }
  TWOFOLD_ENSURES(!failed, "line_mask_posterior_pixel_prior: a row covariance is not numerically positive definite");
  return out;
}

}  // namespace twofold
