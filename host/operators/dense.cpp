#include <twofold/core/error.hpp>
#include <twofold/operators/dense.hpp>

#include "host/backend/blas_engine.hpp"

#include <complex>
#include <lapacke.h>

#include <algorithm>
#include <cfloat>
#include <string>

namespace twofold {

dense_operator::dense_operator(const context& ctx, std::span<const cfloat> matrix, std::size_t rows,
                               image_shape domain, double rcond)
    : domain_(domain), rows_(rows) {
  const std::size_t m = rows, n = domain.pixels();
  TWOFOLD_EXPECTS(m >= 1 && n >= 1 && domain.coils == 1, "dense operator needs at least one row and one column");
  TWOFOLD_EXPECTS(matrix.size() == m * n,
                  "dense matrix has " + std::to_string(matrix.size()) + " entries; " + std::to_string(m) +
                      " rows and an image of " + std::to_string(n) + " values need " + std::to_string(m * n) +
                      (matrix.size() < m * n ? " (the matrix has fewer columns than the image has values)" : ""));
  TWOFOLD_EXPECTS(rcond < 1, "dense operator rcond must be < 1");
  // Column-major copy (the layout both BLAS libraries take) for apply/adjoint and the SVD.
  std::vector<std::complex<float>> cm(m * n);
  bool nonzero = false;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const cfloat v = matrix[i * n + j];
      TWOFOLD_EXPECTS(is_finite(v), "dense matrix has a non-finite entry at row " + std::to_string(i) + ", column " +
                                        std::to_string(j));
      nonzero = nonzero || v.re != 0 || v.im != 0;
      real_ = real_ && v.im == 0;
      cm[j * m + i] = {v.re, v.im};
    }
  TWOFOLD_EXPECTS(nonzero, "dense matrix is zero");
  a_ = to_backend(ctx, std::span<const cfloat>(reinterpret_cast<const cfloat*>(cm.data()), cm.size()));

  const std::size_t k = std::min(m, n);
  std::vector<float> s(k);
  std::vector<std::complex<float>> u(m * k), vt(k * n), work = cm;
  const lapack_int info = LAPACKE_cgesdd(LAPACK_COL_MAJOR, 'S', lapack_int(m), lapack_int(n),
                                         reinterpret_cast<lapack_complex_float*>(work.data()), lapack_int(m), s.data(),
                                         reinterpret_cast<lapack_complex_float*>(u.data()), lapack_int(m),
                                         reinterpret_cast<lapack_complex_float*>(vt.data()), lapack_int(k));
  TWOFOLD_ENSURES(info == 0, "the SVD of the dense matrix failed (LAPACK cgesdd info " + std::to_string(info) + ")");
  const double cutoff = (rcond < 0 ? double(std::max(m, n)) * FLT_EPSILON : rcond) * s[0];
  std::size_t r = 0;
  while (r < k && s[r] > cutoff) ++r;
  singular_.assign(s.begin(), s.begin() + r);
  std::vector<cfloat> ur(m * r), vr(n * r);
  for (std::size_t c = 0; c < r; ++c) {
    for (std::size_t i = 0; i < m; ++i) ur[c * m + i] = {u[c * m + i].real(), u[c * m + i].imag()};
    for (std::size_t j = 0; j < n; ++j) vr[c * n + j] = {vt[j * k + c].real(), -vt[j * k + c].imag()};  // V = (Vᴴ)ᴴ
  }
  u_ = to_backend(ctx, std::span<const cfloat>(ur));
  v_ = to_backend(ctx, std::span<const cfloat>(vr));
}

void dense_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, domain_, "image batch");
  expect_batch(y, codomain(), "measurement batch");
  const std::size_t n = columns();
  ctx.blas().gemm(detail::blas_op::none, rows_, x.chains, n, a_.data(), rows_, x.data, n, y.data, rows_);
}

void dense_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  expect_batch(y, codomain(), "measurement batch");
  expect_batch(x, domain_, "image batch");
  const std::size_t n = columns();
  ctx.blas().gemm(detail::blas_op::conj_transpose, n, y.chains, rows_, a_.data(), rows_, y.data, rows_, x.data, n);
}

void dense_operator::range_project(const context& ctx, chain_view x) const {
  const auto c = scratch(ctx, 0, x.chains, coefficient_shape());
  analyse(ctx, x, c.view);
  synthesise(ctx, c.view, x);
}

void dense_operator::analyse(const context& ctx, const_chain_view x, chain_view c) const {
  expect_batch(x, domain_, "image batch");
  expect_batch(c, coefficient_shape(), "coefficient batch");
  const std::size_t n = columns(), r = rank();
  ctx.blas().gemm(detail::blas_op::conj_transpose, r, x.chains, n, v_.data(), n, x.data, n, c.data, r);
}

void dense_operator::synthesise(const context& ctx, const_chain_view c, chain_view x) const {
  expect_batch(c, coefficient_shape(), "coefficient batch");
  expect_batch(x, domain_, "image batch");
  const std::size_t n = columns(), r = rank();
  ctx.blas().gemm(detail::blas_op::none, n, c.chains, r, v_.data(), n, c.data, r, x.data, n);
}

void dense_operator::measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const {
  expect_batch(y, codomain(), "measurement batch");
  expect_batch(c, coefficient_shape(), "coefficient batch");
  const std::size_t r = rank();
  ctx.blas().gemm(detail::blas_op::conj_transpose, r, y.chains, rows_, u_.data(), rows_, y.data, rows_, c.data, r);
}

}  // namespace twofold
