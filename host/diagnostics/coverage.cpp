// Per-pixel quantile maps and coverage curves
// (see include/twofold/diagnostics/coverage.hpp).
#include <twofold/diagnostics/coverage.hpp>

#include "host/diagnostics/order_statistics.hpp"

#include <twofold/core/error.hpp>

#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace twofold {
namespace {

double scalar(cfloat x, field values) { return values == field::real ? double(x.re) : abs(cdouble(x)); }

/// z with Φ(z) = p.
double normal_quantile(double p) { return boost::math::quantile(boost::math::normal_distribution<double>(), p); }

/// Per pixel, the sorted scalars (|x| or x) of n draws: the displayed quantile maps.
std::vector<std::vector<double>> sorted_scalars(std::span<const cfloat> draws, std::size_t N, field values) {
  TWOFOLD_EXPECTS(N > 0 && !draws.empty() && draws.size() % N == 0,
                  "draws must be a non-empty stack of images of " + std::to_string(N) + " pixels");
  const std::size_t n = draws.size() / N;
  std::vector<std::vector<double>> out(N, std::vector<double>(n));
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < std::int64_t(N); ++p) {
    auto& v = out[std::size_t(p)];
    for (std::size_t c = 0; c < n; ++c) v[c] = scalar(draws[c * N + std::size_t(p)], values);
    std::sort(v.begin(), v.end());
  }
  return out;
}

}  // namespace

namespace detail {

double sorted_quantile(const std::vector<double>& v, double q) {
  const double h = q * double(v.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(h));
  return i + 1 < v.size() ? v[i] + (h - double(i)) * (v[i + 1] - v[i]) : v.back();
}


std::vector<double> coordinates(std::span<const cfloat> image, field values) {
  std::vector<double> c;
  for (const cfloat x : image) c.push_back(x.re);
  if (values == field::complex)
    for (const cfloat x : image) c.push_back(x.im);
  return c;
}


std::vector<std::vector<double>> sorted_coordinates(std::span<const cfloat> draws, std::size_t N, field values) {
  TWOFOLD_EXPECTS(N > 0 && !draws.empty() && draws.size() % N == 0,
                  "draws must be a non-empty stack of images of " + std::to_string(N) + " pixels");
  const std::size_t n = draws.size() / N, D = values == field::complex ? 2 * N : N;
  std::vector<std::vector<double>> out(D, std::vector<double>(n));
#pragma omp parallel for schedule(static)
  for (std::int64_t d = 0; d < std::int64_t(D); ++d) {
    auto& v = out[std::size_t(d)];
    const std::size_t p = std::size_t(d) % N;
    for (std::size_t c = 0; c < n; ++c) v[c] = std::size_t(d) < N ? draws[c * N + p].re : draws[c * N + p].im;
    std::sort(v.begin(), v.end());
  }
  return out;
}


coverage_curve coverage_of(const std::vector<std::vector<double>>& sorted, const std::vector<double>& truth,
                           std::span<const double> nominal) {
  const std::size_t N = sorted.size();
  coverage_curve c;
  c.nominal.assign(nominal.begin(), nominal.end());
  std::vector<double> mean(N), sd(N);
  for (std::size_t p = 0; p < N; ++p) {
    double m = 0, m2 = 0;
    for (double x : sorted[p]) m += x;
    m /= double(sorted[p].size());
    for (double x : sorted[p]) m2 += (x - m) * (x - m);
    mean[p] = m;
    sd[p] = std::sqrt(m2 / double(std::max<std::size_t>(sorted[p].size() - 1, 1)));
  }
  for (const double level : nominal) {
    TWOFOLD_EXPECTS(level > 0 && level < 1, "coverage levels must lie in (0, 1)");
    const double z = normal_quantile(0.5 + level / 2);
    std::size_t inq = 0, ing = 0;
    for (std::size_t p = 0; p < N; ++p) {
      const double t = truth[p];
      inq += t >= sorted_quantile(sorted[p], 0.5 - level / 2) && t <= sorted_quantile(sorted[p], 0.5 + level / 2);
      ing += std::abs(t - mean[p]) <= z * sd[p];
    }
    c.quantile.push_back(double(inq) / double(N));
    c.gaussian.push_back(double(ing) / double(N));
  }
  return c;
}

}  // namespace detail

using detail::coordinates;
using detail::coverage_of;
using detail::sorted_coordinates;
using detail::sorted_quantile;

std::vector<double> default_coverage_levels() { return {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99}; }

quantile_maps pixel_quantiles(std::span<const cfloat> draws, image_shape shape, field values, double lo_level,
                              double hi_level) {
  TWOFOLD_EXPECTS(0 <= lo_level && lo_level < hi_level && hi_level <= 1, "quantile levels must satisfy 0 <= lo < hi <= 1");
  const auto sorted = sorted_scalars(draws, shape.pixels(), values);
  quantile_maps q{lo_level, hi_level, {}, {}};
  for (const auto& v : sorted) {
    q.lo.push_back(sorted_quantile(v, lo_level));
    q.hi.push_back(sorted_quantile(v, hi_level));
  }
  return q;
}

coverage_curve coverage(std::span<const cfloat> draws, std::span<const cfloat> truth, image_shape shape, field values,
                        std::span<const double> nominal) {
  TWOFOLD_EXPECTS(truth.size() == shape.pixels(), "coverage: the truth must be one image of " + to_string(shape));
  return coverage_of(sorted_coordinates(draws, shape.pixels(), values), coordinates(truth, values), nominal);
}

}  // namespace twofold
