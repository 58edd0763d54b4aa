#include <twofold/problem/noise_whitening.hpp>

#include <twofold/core/error.hpp>

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace twofold {

std::vector<double> noise_whitener::apply(std::span<const double> a, std::size_t columns,
                                          const std::string& what) const {
  TWOFOLD_EXPECTS(columns > 0 && a.size() == channels * columns,
                  what + " has " + std::to_string(columns > 0 ? a.size() / columns : a.size()) +
                      " rows but the noise covariance has " + std::to_string(channels) + " channels");
  std::vector<double> out(rank * columns, 0.0);
  for (std::size_t i = 0; i < rank; ++i) {
    double* row = out.data() + i * columns;
    for (std::size_t k = 0; k < channels; ++k) {
      const double w = matrix[i * channels + k];
      const double* src = a.data() + k * columns;
      for (std::size_t j = 0; j < columns; ++j) row[j] += w * src[j];
    }
  }
  return out;
}

noise_whitener make_noise_whitener(std::span<const double> covariance, std::size_t channels, const std::string& what,
                                   double rank_tolerance) {
  const std::size_t m = channels;
  TWOFOLD_EXPECTS(m > 0 && covariance.size() == m * m,
                  what + " must be a square [" + std::to_string(m) + ", " + std::to_string(m) + "] matrix (got " +
                      std::to_string(covariance.size()) + " entries)");
  double largest = 0;
  for (std::size_t i = 0; i < covariance.size(); ++i) {
    TWOFOLD_EXPECTS(std::isfinite(covariance[i]), what + ": entry " + std::to_string(i / m) + ", " +
                                                      std::to_string(i % m) + " is not finite");
    largest = std::max(largest, std::abs(covariance[i]));
  }
  TWOFOLD_EXPECTS(largest > 0, what + " is zero");
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const double d = std::abs(covariance[i * m + j] - covariance[j * m + i]);
      if (d > 1e-6 * largest) {
        char buf[160];
        std::snprintf(buf, sizeof buf, ": not symmetric (entries [%zu, %zu] and [%zu, %zu] differ by %.3g of max|C|)",
                      i, j, j, i, d / largest);
        TWOFOLD_EXPECTS(false, what + buf);
      }
    }
  // Symmetrise, then C = E Λ Eᵀ (LAPACK dsyevd, eigenvalues ascending, column-major
  // eigenvectors: column k of `e` is eigenvector k).
  std::vector<double> e(m * m);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) e[j * m + i] = 0.5 * (covariance[i * m + j] + covariance[j * m + i]);
  noise_whitener w;
  w.channels = m;
  w.eigenvalues.resize(m);
  const lapack_int info =
      LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', lapack_int(m), e.data(), lapack_int(m), w.eigenvalues.data());
  TWOFOLD_ENSURES(info == 0, what + ": eigendecomposition failed (LAPACK dsyevd info " + std::to_string(info) + ")");
  const double top = w.eigenvalues.back();
  TWOFOLD_EXPECTS(top > 0, what + " has no positive eigenvalue (it must be positive semi-definite)");
  if (w.eigenvalues.front() < -1e-6 * top) {
    char buf[160];
    std::snprintf(buf, sizeof buf, " is indefinite: smallest eigenvalue %.4g = %.3g x the largest (a covariance is "
                  "positive semi-definite)", w.eigenvalues.front(), w.eigenvalues.front() / top);
    TWOFOLD_EXPECTS(false, what + buf);
  }
  std::size_t first = 0;
  while (first < m && w.eigenvalues[first] <= rank_tolerance * top) ++first;
  w.rank = m - first;
  w.matrix.resize(w.rank * m);
  // Row i of W: the (first + i)-th eigenvector / sqrt(its eigenvalue).
  for (std::size_t i = 0; i < w.rank; ++i) {
    const std::size_t k = first + i;
    const double scale = 1.0 / std::sqrt(w.eigenvalues[k]);
    for (std::size_t c = 0; c < m; ++c) w.matrix[i * m + c] = scale * e[k * m + c];
  }
  return w;
}

}  // namespace twofold
