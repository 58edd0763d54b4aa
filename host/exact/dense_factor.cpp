// dense_posterior_factor_prior (include/twofold/exact/dense.hpp): the exact posterior of
// a real dense problem under a Gaussian prior with covariance F Fᵀ, by thin SVDs.
#include <twofold/exact/dense.hpp>

#include <twofold/core/error.hpp>

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {
namespace {

/// Thin SVD of a row-major rows × cols matrix: U (rows × q), s (q), V (cols × q), all
/// row-major, q = min(rows, cols); only the singular values > 1e-10 s_max are kept.
struct thin_svd {
  std::size_t q = 0;
  std::vector<double> u, s, v;
};

thin_svd svd(std::vector<double> a, std::size_t rows, std::size_t cols) {
  const std::size_t q = std::min(rows, cols);
  std::vector<double> u(rows * q), s(q), vt(q * cols);
  const lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', lapack_int(rows), lapack_int(cols), a.data(),
                                         lapack_int(cols), s.data(), u.data(), lapack_int(q), vt.data(),
                                         lapack_int(cols));
  TWOFOLD_ENSURES(info == 0, "dgesdd failed (info " + std::to_string(info) + ")");
  thin_svd out;
  while (out.q < q && s[out.q] > 1e-10 * s[0]) ++out.q;
  out.s.assign(s.begin(), s.begin() + long(out.q));
  out.u.resize(rows * out.q);
  out.v.resize(cols * out.q);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t l = 0; l < out.q; ++l) out.u[i * out.q + l] = u[i * q + l];
  for (std::size_t j = 0; j < cols; ++j)
    for (std::size_t l = 0; l < out.q; ++l) out.v[j * out.q + l] = vt[l * cols + j];
  return out;
}

/// c = a b for row-major a (n × p) and b (p × q).
std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b, std::size_t n, std::size_t p,
                             std::size_t q) {
  std::vector<double> c(n * q, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < p; ++k) {
      const double aik = a[i * p + k];
      if (aik == 0) continue;
      for (std::size_t j = 0; j < q; ++j) c[i * q + j] += aik * b[k * q + j];
    }
  return c;
}

/// P_R M and M − P_R M for P_R = V Vᵀ (V n × r) and M n × q.
void split(const std::vector<double>& v, std::size_t n, std::size_t r, const std::vector<double>& m, std::size_t q,
           std::vector<double>& range, std::vector<double>& null) {
  std::vector<double> vt(r * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t l = 0; l < r; ++l) vt[l * n + i] = v[i * r + l];
  range = multiply(v, multiply(vt, m, r, n, q), n, r, q);
  null.resize(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) null[i] = m[i] - range[i];
}

/// diag(M Mᵀ) − diag(N D Nᵀ) for M n × k, N n × q, D diagonal (q).
std::vector<double> diagonal(const std::vector<double>& m, std::size_t k, const std::vector<double>& nn, std::size_t q,
                             const std::vector<double>& d, std::size_t n) {
  std::vector<double> out(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < k; ++j) out[i] += m[i * k + j] * m[i * k + j];
    for (std::size_t l = 0; l < q; ++l) out[i] -= nn[i * q + l] * nn[i * q + l] * d[l];
  }
  return out;
}

void require_finite(std::span<const double> v, const char* what) {
  for (const double x : v) TWOFOLD_EXPECTS(std::isfinite(x), std::string(what) + " has a non-finite value");
}

}  // namespace

gaussian_posterior_maps dense_posterior_factor_prior(std::span<const double> matrix, std::size_t rows,
                                                     std::size_t columns, std::span<const double> factor,
                                                     std::size_t rank, std::span<const double> prior_mean,
                                                     std::span<const double> measurements, double sigma) {
  const std::size_t m = rows, n = columns, k = rank;
  TWOFOLD_EXPECTS(m > 0 && n > 0 && k > 0 && matrix.size() == m * n && factor.size() == n * k &&
                      prior_mean.size() == n && measurements.size() == m,
                  "dense_posterior_factor_prior: sizes disagree");
  TWOFOLD_EXPECTS(std::isfinite(sigma) && sigma > 0, "sigma must be finite and > 0");
  require_finite(matrix, "matrix");
  require_finite(factor, "prior factor");
  require_finite(prior_mean, "prior mean");
  require_finite(measurements, "measurements");
  const std::vector<double> a(matrix.begin(), matrix.end()), f(factor.begin(), factor.end());
  const auto b = multiply(a, f, m, n, k);  // B = A F
  const thin_svd sb = svd(b, m, k), sa = svd(a, m, n);
  const std::size_t q = sb.q;
  const double s2 = sigma * sigma;
  // residual r = y − A μ, then c = diag(s/(s² + σ²)) Uᵀ r, mean = μ + F V c.
  std::vector<double> res(measurements.begin(), measurements.end());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) res[i] -= a[i * n + j] * prior_mean[j];
  std::vector<double> c(q, 0.0);
  for (std::size_t l = 0; l < q; ++l) {
    for (std::size_t i = 0; i < m; ++i) c[l] += sb.u[i * q + l] * res[i];
    c[l] *= sb.s[l] / (sb.s[l] * sb.s[l] + s2);
  }
  const auto fv = multiply(f, sb.v, n, k, q);  // F V (n × q)
  gaussian_posterior_maps out;
  out.shape = {1, n};
  out.mean.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    double v = prior_mean[i];
    for (std::size_t l = 0; l < q; ++l) v += fv[i * q + l] * c[l];
    out.mean[i] = {v, 0.0};
  }
  std::vector<double> shrink(q), ones(q, 1.0);
  for (std::size_t l = 0; l < q; ++l) shrink[l] = sb.s[l] * sb.s[l] / (sb.s[l] * sb.s[l] + s2);
  out.variance = diagonal(f, k, fv, q, shrink, n);
  out.ambiguity = diagonal(f, k, fv, q, ones, n);
  out.estimation.resize(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t l = 0; l < q; ++l) out.estimation[i] += fv[i * q + l] * fv[i * q + l] * s2 / (sb.s[l] * sb.s[l] + s2);
  std::vector<double> f_range, f_null, fv_range, fv_null;
  split(sa.v, n, sa.q, f, k, f_range, f_null);
  split(sa.v, n, sa.q, fv, q, fv_range, fv_null);
  out.range_variance = diagonal(f_range, k, fv_range, q, shrink, n);
  out.null_variance = diagonal(f_null, k, fv_null, q, shrink, n);
  return out;
}

}  // namespace twofold
