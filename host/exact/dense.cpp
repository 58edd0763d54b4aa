// Exact Gaussian posteriors for single-coil Cartesian MRI (see include/twofold/exact/dense.hpp).
//
// Two independent implementations of the same Matheron-form formulas:
//  - the general path builds B (m×N) explicitly and uses LAPACK/BLAS;
//  - the line-mask path (line_mask.cpp) solves H row problems of size W with a
//    hand-written Cholesky, so the one can check the other
//    (tests/exact/reference_dense_test.cpp).
// This file is the general path; its matrices are column-major (LAPACK's order).
#include <twofold/core/buffer.hpp>
#include <twofold/core/error.hpp>
#include <twofold/operators/linear_operator.hpp>
#include <twofold/exact/dense.hpp>
#include <twofold/core/fft.hpp>

#include "host/exact/reference_checks.hpp"

#include <complex>
#define lapack_complex_float std::complex<float>  // as lapack.h suggests for C++
#define lapack_complex_double std::complex<double>
#include <lapacke.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>
#include <string>

extern "C" void zgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const std::complex<double>* alpha, const std::complex<double>* a, const int* lda,
                       const std::complex<double>* b, const int* ldb, const std::complex<double>* beta,
                       std::complex<double>* c, const int* ldc, std::size_t transa_len, std::size_t transb_len);

namespace twofold {
namespace {

using zd = std::complex<double>;

using namespace detail;

// ---- LAPACK / BLAS wrappers --------------------------------------------------------

// C = alpha·op(A)·op(B) + beta·C, column-major; op is 'N', 'T' or 'C'.
void gemm(char ta, char tb, int m, int n, int k, zd alpha, const zd* a, int lda, const zd* b, int ldb, zd beta,
          zd* c, int ldc) {
  zgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
}

// In place: the lower Cholesky factor of the Hermitian positive definite m×m matrix a.
void cholesky(std::vector<zd>& a, int m) {
  const lapack_int info = LAPACKE_zpotrf(LAPACK_COL_MAJOR, 'L', m, a.data(), m);
  TWOFOLD_ENSURES(info == 0, "reference_dense: zpotrf failed (info " + std::to_string(info) + ")");
}

// In place: x ← (L Lᴴ)⁻¹ x for the nrhs columns of x (m×nrhs).
void cholesky_solve(const std::vector<zd>& l, int m, zd* x, int nrhs) {
  const lapack_int info = LAPACKE_zpotrs(LAPACK_COL_MAJOR, 'L', m, nrhs, l.data(), m, x, m);
  TWOFOLD_ENSURES(info == 0, "reference_dense: zpotrs failed (info " + std::to_string(info) + ")");
}

// ---- the general (dense) path ---------------------------------------------------------

// B (m×N, orthonormal rows), W = BΣ and S₀ = BΣBᴴ (m×m).
struct dense_system {
  int m = 0, n = 0;
  std::vector<double> v;
  std::vector<zd> b, w, s0;
};

dense_system make_dense_system(std::vector<double> v, std::vector<zd> b, std::size_t m) {
  const std::size_t N = v.size();
  dense_system sys;
  sys.m = static_cast<int>(m);
  sys.n = static_cast<int>(N);
  sys.v = std::move(v);
  sys.b = std::move(b);
  sys.w.resize(m * N);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t r = 0; r < m; ++r) sys.w[r + i * m] = sys.v[i] * sys.b[r + i * m];
  sys.s0.resize(m * m);
  gemm('N', 'C', sys.m, sys.m, sys.n, 1.0, sys.w.data(), sys.m, sys.b.data(), sys.m, 0.0, sys.s0.data(), sys.m);
  return sys;
}

// The rows of the 2-D centred DFT at the sampled k-space indices.
dense_system make_dense_system(image_shape s, std::vector<double> v, const std::vector<std::size_t>& sampled) {
  const std::size_t H = s.height, W = s.width, N = s.pixels(), m = sampled.size();
  const auto fh = centred_dft_matrix(H), fw = centred_dft_matrix(W);
  std::vector<zd> b(m * N);
  for (std::size_t i = 0; i < N; ++i)  // pixel (h, w) = (i / W, i % W)
    for (std::size_t r = 0; r < m; ++r) {  // k-space (kh, kw) = (sampled[r] / W, sampled[r] % W)
      const cdouble f = fh[sampled[r] / W * H + i / W] * fw[sampled[r] % W * W + i % W];
      b[r + i * m] = {f.re, f.im};
    }
  return make_dense_system(std::move(v), std::move(b), m);
}

// Σ − Wᴴ (factor)⁻¹ W as an N×N row-major matrix, given the Cholesky factor of S or S₀.
std::vector<cdouble> covariance_from_factor(const dense_system& sys, const std::vector<zd>& factor) {
  std::vector<zd> z = sys.w;
  cholesky_solve(factor, sys.m, z.data(), sys.n);
  std::vector<zd> c(static_cast<std::size_t>(sys.n) * static_cast<std::size_t>(sys.n));
  gemm('C', 'N', sys.n, sys.n, sys.m, -1.0, sys.w.data(), sys.m, z.data(), sys.m, 0.0, c.data(), sys.n);
  const std::size_t N = static_cast<std::size_t>(sys.n);
  std::vector<cdouble> out(N * N);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      const zd e = c[i + j * N] + (i == j ? sys.v[i] : 0.0);
      out[i * N + j] = {e.real(), e.imag()};
    }
  return out;
}

// Re Σ_r conj(a_ri)·b_ri over column i of two m×N matrices.
double column_dot(const std::vector<zd>& a, const std::vector<zd>& b, std::size_t m, std::size_t i) {
  double acc = 0.0;
  for (std::size_t r = 0; r < m; ++r) acc += (std::conj(a[r + i * m]) * b[r + i * m]).real();
  return acc;
}

// The maps for data t_r = B_r x + n_r with independent noise E|n_r|² = d_r (docs/design.md §1.4,
// Matheron form; see the header). B has orthonormal rows, so P_R = BᴴB.
gaussian_posterior_maps posterior_maps(image_shape shape, const dense_system& sys, std::span<const cfloat> prior_mean,
                                       std::vector<zd> t, const std::vector<double>& d) {
  const std::size_t N = shape.pixels(), m = static_cast<std::size_t>(sys.m);
  std::vector<zd> ls = sys.s0, l0 = sys.s0;  // Cholesky factors of S = S₀ + D and S₀
  for (std::size_t r = 0; r < m; ++r) ls[r + r * m] += d[r];
  cholesky(ls, sys.m);
  cholesky(l0, sys.m);
  std::vector<zd> z = sys.w, z0 = sys.w;  // Z = S⁻¹W, Z₀ = S₀⁻¹W
  cholesky_solve(ls, sys.m, z.data(), sys.n);
  cholesky_solve(l0, sys.m, z0.data(), sys.n);
  std::vector<zd> dz = z;  // D Z = B Σ_post
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t r = 0; r < m; ++r) dz[r + i * m] *= d[r];

  // t ← S⁻¹(t − Bμ)
  std::vector<zd> mu(N);
  for (std::size_t i = 0; i < N; ++i) mu[i] = {prior_mean[i].re, prior_mean[i].im};
  gemm('N', 'N', sys.m, 1, sys.n, -1.0, sys.b.data(), sys.m, mu.data(), sys.n, 1.0, t.data(), sys.m);
  cholesky_solve(ls, sys.m, t.data(), 1);

  gaussian_posterior_maps out{shape, std::vector<cdouble>(N), std::vector<double>(N), std::vector<double>(N),
                              std::vector<double>(N), std::vector<double>(N), std::vector<double>(N)};
  for (std::size_t i = 0; i < N; ++i) {
    zd corr = 0.0;
    for (std::size_t r = 0; r < m; ++r) corr += std::conj(sys.w[r + i * m]) * t[r];
    out.mean[i] = {mu[i].real() + corr.real(), mu[i].imag() + corr.imag()};
    out.variance[i] = sys.v[i] - column_dot(sys.w, z, m, i);
    out.ambiguity[i] = sys.v[i] - column_dot(sys.w, z0, m, i);
    out.estimation[i] = column_dot(z0, dz, m, i);  // diag(ΣBᴴ S₀⁻¹ D S⁻¹ BΣ)
  }
  // P_R Σ_post P_R = Bᴴ (D Z Bᴴ) B and diag(P_R Σ_post)_i = Σ_r conj(B_ri) (DZ)_ri.
  std::vector<zd> k(m * m);
  gemm('N', 'C', sys.m, sys.m, sys.n, 1.0, dz.data(), sys.m, sys.b.data(), sys.m, 0.0, k.data(), sys.m);
  std::vector<zd>& kb = z0;  // reuse: K B (m×N)
  gemm('N', 'N', sys.m, sys.n, sys.m, 1.0, k.data(), sys.m, sys.b.data(), sys.m, 0.0, kb.data(), sys.m);
  for (std::size_t i = 0; i < N; ++i) {
    out.range_variance[i] = column_dot(sys.b, kb, m, i);
    const double range_cross = column_dot(sys.b, dz, m, i);  // Re diag(P_R Σ_post)
    out.null_variance[i] = out.variance[i] - 2.0 * range_cross + out.range_variance[i];
  }
  return out;
}

}  // namespace

gaussian_posterior_maps dense_posterior_pixel_prior(image_shape shape, std::span<const cfloat> prior_mean,
                                                    std::span<const float> prior_variance,
                                                    std::span<const float> mask,
                                                    std::span<const cfloat> kspace, double sigma_y) {
  check_shape(shape, dense_reference_max_pixels);
  const std::size_t N = shape.pixels();
  check_mean(prior_mean, N);
  auto v = checked_variance(prior_variance, N);
  const auto sampled = sampled_indices(mask, N, "mask");
  check_kspace(kspace, N, sampled, 0, 1);
  check_sigma(sigma_y);
  const std::size_t m = sampled.size();
  std::vector<zd> t(m);
  for (std::size_t r = 0; r < m; ++r) t[r] = {kspace[sampled[r]].re, kspace[sampled[r]].im};
  return posterior_maps(shape, make_dense_system(shape, std::move(v), sampled), prior_mean, std::move(t),
                        std::vector<double>(m, sigma_y * sigma_y));
}

gaussian_posterior_maps dense_posterior(image_shape shape, std::span<const cdouble> matrix, std::size_t rows,
                                        std::span<const cfloat> prior_mean, std::span<const float> prior_variance,
                                        std::span<const cfloat> measurements, double sigma_y, double rcond) {
  check_shape(shape, dense_reference_max_pixels);
  const std::size_t N = shape.pixels(), M = rows;
  TWOFOLD_EXPECTS(std::isfinite(rcond) && rcond >= 0 && rcond < 1, "rcond: must be in [0, 1)");
  check_mean(prior_mean, N);
  auto v = checked_variance(prior_variance, N);
  check_size(matrix.size(), M * N, "matrix");
  check_size(measurements.size(), M, "measurements");
  check_sigma(sigma_y);
  TWOFOLD_EXPECTS(M >= 1, "matrix: needs at least one row");
  for (std::size_t i = 0; i < M; ++i)
    TWOFOLD_EXPECTS(is_finite(measurements[i]), "measurements: entry " + std::to_string(i) + " is not finite");
  // Thin SVD A = U S Vᴴ in double: y depends on x only through Vᴴx, so the data
  // ŷ = S⁻¹ Uᴴ y = Vᴴ x + n̂ with E|n̂_r|² = σ_y²/s_r² over the r rows kept.
  std::vector<zd> a(M * N);
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) a[i + j * M] = {matrix[i * N + j].re, matrix[i * N + j].im};
  const std::size_t K = std::min(M, N);
  std::vector<double> s(K);
  std::vector<zd> u(M * K), vt(K * N);
  const lapack_int info = LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'S', lapack_int(M), lapack_int(N),
                                         reinterpret_cast<lapack_complex_double*>(a.data()), lapack_int(M), s.data(),
                                         reinterpret_cast<lapack_complex_double*>(u.data()), lapack_int(M),
                                         reinterpret_cast<lapack_complex_double*>(vt.data()), lapack_int(K));
  TWOFOLD_ENSURES(info == 0, "dense reference: SVD failed (LAPACK zgesdd info " + std::to_string(info) + ")");
  TWOFOLD_EXPECTS(s[0] > 0, "matrix: is zero");
  std::size_t r = 0;
  while (r < K && s[r] > rcond * s[0]) ++r;
  std::vector<zd> b(r * N), t(r);
  std::vector<double> d(r);
  for (std::size_t k = 0; k < r; ++k) {
    for (std::size_t j = 0; j < N; ++j) b[k + j * r] = vt[k + j * K];
    zd uy = 0.0;
    for (std::size_t i = 0; i < M; ++i) uy += std::conj(u[i + k * M]) * zd(measurements[i].re, measurements[i].im);
    t[k] = uy / s[k];
    d[k] = sigma_y * sigma_y / (s[k] * s[k]);
  }
  return posterior_maps(shape, make_dense_system(std::move(v), std::move(b), r), prior_mean, std::move(t), d);
}

std::vector<cdouble> operator_matrix(const context& ctx, const linear_operator& op) {
  const image_shape in = op.domain(), out = op.codomain();
  const std::size_t N = in.pixels(), M = out.pixels();
  TWOFOLD_EXPECTS(N <= dense_reference_max_pixels, "operator_matrix: the domain has " + std::to_string(N) +
                                                       " values, at most " +
                                                       std::to_string(dense_reference_max_pixels) + " are accepted");
  std::vector<cfloat> unit(N * N);
  for (std::size_t j = 0; j < N; ++j) unit[j * N + j] = {1.0f, 0.0f};
  chain_buffer x(ctx, N, in), y(ctx, N, out);
  detail::copy_bytes(ctx, x.storage.data(), unit.data(), unit.size() * sizeof(cfloat));
  op.apply(ctx, x.view(), y.view());
  const auto columns = to_host(ctx, y.storage);  // column j of A is chain j
  std::vector<cdouble> a(M * N);
  for (std::size_t j = 0; j < N; ++j)
    for (std::size_t i = 0; i < M; ++i) a[i * N + j] = cdouble(columns[j * M + i]);
  return a;
}

std::vector<cdouble> dense_posterior_covariance(image_shape shape, std::span<const float> prior_variance,
                                                std::span<const float> mask, double sigma_y) {
  check_shape(shape, dense_reference_max_pixels);
  auto v = checked_variance(prior_variance, shape.pixels());
  const auto sampled = sampled_indices(mask, shape.pixels(), "mask");
  check_sigma(sigma_y);
  const dense_system sys = make_dense_system(shape, std::move(v), sampled);
  std::vector<zd> ls = sys.s0;
  for (std::size_t r = 0; r < sampled.size(); ++r) ls[r + r * sampled.size()] += sigma_y * sigma_y;
  cholesky(ls, sys.m);
  return covariance_from_factor(sys, ls);
}

std::vector<cdouble> dense_conditional_covariance(image_shape shape, std::span<const float> prior_variance,
                                                  std::span<const float> mask) {
  check_shape(shape, dense_reference_max_pixels);
  auto v = checked_variance(prior_variance, shape.pixels());
  const auto sampled = sampled_indices(mask, shape.pixels(), "mask");
  const dense_system sys = make_dense_system(shape, std::move(v), sampled);
  std::vector<zd> l0 = sys.s0;
  cholesky(l0, sys.m);
  return covariance_from_factor(sys, l0);
}
}  // namespace twofold
