#include <twofold/priors/minimum_norm.hpp>

#include <twofold/core/error.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {
namespace {

/// Largest eigenvalue of a symmetric positive semi-definite 3 × 3 matrix (row-major),
/// by the trigonometric closed form (Smith 1961).
double largest_eigenvalue_3x3(const double a[9]) {
  const double p1 = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
  const double q = (a[0] + a[4] + a[8]) / 3;
  if (p1 == 0) return std::max({a[0], a[4], a[8]});
  const double p2 = (a[0] - q) * (a[0] - q) + (a[4] - q) * (a[4] - q) + (a[8] - q) * (a[8] - q) + 2 * p1;
  const double p = std::sqrt(p2 / 6);
  double b[9];
  for (int i = 0; i < 9; ++i) b[i] = (a[i] - (i % 4 == 0 ? q : 0.0)) / p;
  const double det = b[0] * (b[4] * b[8] - b[5] * b[7]) - b[1] * (b[3] * b[8] - b[5] * b[6]) +
                     b[2] * (b[3] * b[7] - b[4] * b[6]);
  const double r = std::clamp(det / 2, -1.0, 1.0);
  return q + 2 * p * std::cos(std::acos(r) / 3);
}

}  // namespace

std::vector<double> depth_weights(std::span<const double> g, std::size_t rows, std::size_t columns,
                                  const minimum_norm_params& p) {
  TWOFOLD_EXPECTS(rows > 0 && columns > 0 && g.size() == rows * columns,
                  "lead field: expected " + std::to_string(rows) + " x " + std::to_string(columns) + " entries (got " +
                      std::to_string(g.size()) + ")");
  TWOFOLD_EXPECTS(p.orientations == 1 || p.orientations == 3,
                  "source orientations must be 1 (fixed) or 3 (free) (got " + std::to_string(p.orientations) + ")");
  TWOFOLD_EXPECTS(columns % p.orientations == 0, "the lead field's " + std::to_string(columns) +
                                                     " columns are not a multiple of 3 components per source");
  TWOFOLD_EXPECTS(std::isfinite(p.depth) && p.depth >= 0, "--depth must be finite and >= 0");
  TWOFOLD_EXPECTS(std::isfinite(p.depth_limit) && (p.depth_limit == 0 || p.depth_limit >= 1),
                  "--depth-limit must be 0 (none) or >= 1");
  const std::size_t k = p.orientations, sources = columns / k;
  if (p.depth == 0) return std::vector<double>(columns, 1.0);
  // d_s: ‖G_j‖² (fixed) or the largest eigenvalue of G_sᵀG_s (free).
  std::vector<double> d(sources, 0.0);
  for (std::size_t s = 0; s < sources; ++s) {
    double gram[9] = {};
    for (std::size_t i = 0; i < rows; ++i) {
      const double* row = g.data() + i * columns + s * k;
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t b = 0; b < k; ++b) gram[a * 3 + b] += row[a] * row[b];
    }
    d[s] = k == 1 ? gram[0] : largest_eigenvalue_3x3(gram);
  }
  double smallest_nonzero = 0;
  for (const double v : d)
    if (v > 0) smallest_nonzero = smallest_nonzero == 0 ? v : std::min(smallest_nonzero, v);
  TWOFOLD_EXPECTS(smallest_nonzero > 0, "lead field: every column is zero");
  for (double& v : d)
    if (v == 0) v = smallest_nonzero;  // as MNE: a zero column (sphere centre) gets the weakest seen
  std::vector<double> w(sources);
  for (std::size_t s = 0; s < sources; ++s) w[s] = 1.0 / d[s];
  double limit = 1.0;
  if (p.depth_limit > 0) {
    std::vector<double> ws = w;
    std::sort(ws.begin(), ws.end());
    limit = ws.back();
    const double bound = p.depth_limit * p.depth_limit * ws.front();
    const auto above = std::upper_bound(ws.begin(), ws.end(), bound);
    if (above != ws.end()) limit = *above;
  }
  std::vector<double> out(columns);
  for (std::size_t s = 0; s < sources; ++s) {
    const double v = std::pow(p.depth_limit > 0 ? std::min(w[s] / limit, 1.0) : w[s], p.depth);
    for (std::size_t a = 0; a < k; ++a) out[s * k + a] = v;
  }
  return out;
}

std::vector<double> minimum_norm_source_variance(std::span<const double> g, std::size_t rows, std::size_t columns,
                                                 const minimum_norm_params& p) {
  TWOFOLD_EXPECTS(std::isfinite(p.lambda2) && p.lambda2 > 0, "--lambda2 must be finite and > 0");
  auto w = depth_weights(g, rows, columns, p);
  double trace = 0;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) trace += w[j] * g[i * columns + j] * g[i * columns + j];
  TWOFOLD_EXPECTS(trace > 0, "lead field: every column is zero");
  const double c = double(rows) / trace;
  for (double& v : w) v *= c / p.lambda2;
  return w;
}

std::vector<double> per_source_sum(std::span<const double> map, std::size_t k) {
  TWOFOLD_EXPECTS(k > 0 && map.size() % k == 0,
                  "a map of " + std::to_string(map.size()) + " components is not " + std::to_string(k) + " per source");
  std::vector<double> out(map.size() / k, 0.0);
  for (std::size_t i = 0; i < map.size(); ++i) out[i / k] += double(map[i]);
  return out;
}

std::vector<double> per_source_norm(std::span<const double> map, std::size_t k) {
  TWOFOLD_EXPECTS(k > 0 && map.size() % k == 0,
                  "a map of " + std::to_string(map.size()) + " components is not " + std::to_string(k) + " per source");
  std::vector<double> out(map.size() / k, 0.0);
  for (std::size_t i = 0; i < map.size(); ++i) out[i / k] += double(map[i]) * double(map[i]);
  for (double& v : out) v = std::sqrt(v);
  return out;
}

}  // namespace twofold
