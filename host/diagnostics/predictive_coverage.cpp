// Posterior predictive coverage of held-out measurements by replicated ones
// (see include/twofold/diagnostics/predictive_coverage.hpp).
#include <twofold/diagnostics/predictive_coverage.hpp>

#include "host/diagnostics/order_statistics.hpp"

#include <twofold/core/buffer.hpp>
#include <twofold/core/error.hpp>

#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {

namespace detail {

std::vector<double> measured_coordinates(std::span<const cfloat> y, std::span<const std::uint8_t> measured,
                                         field values) {
  TWOFOLD_EXPECTS(y.size() == measured.size(), "measured coordinates: one measurement of " +
                                                   std::to_string(measured.size()) + " entries expected");
  std::vector<double> c;
  for (std::size_t i = 0; i < y.size(); ++i)
    if (measured[i]) c.push_back(y[i].re);
  if (values == field::complex)
    for (std::size_t i = 0; i < y.size(); ++i)
      if (measured[i]) c.push_back(y[i].im);
  return c;
}

std::vector<std::vector<double>> replicated_measurements(std::span<const cfloat> ax,
                                                         std::span<const std::uint8_t> measured, double sigma_y,
                                                         field values, const rng_stream& noise) {
  const std::size_t M = measured.size();
  TWOFOLD_EXPECTS(M > 0 && !ax.empty() && ax.size() % M == 0,
                  "replicated measurements: A x must be a non-empty stack of measurements of " + std::to_string(M) +
                      " entries");
  const std::size_t n = ax.size() / M;
  std::vector<std::size_t> entries;
  for (std::size_t i = 0; i < M; ++i)
    if (measured[i]) entries.push_back(i);
  const std::size_t E = entries.size(), D = values == field::complex ? 2 * E : E;
  std::vector<std::vector<double>> out(D, std::vector<double>(n));
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t e = 0; e < E; ++e) {
      const std::size_t i = entries[e];
      const cdouble y = cdouble(ax[k * M + i]) + cdouble(noise.normal(k, i)) * sigma_y;
      out[e][k] = y.re;
      if (values == field::complex) out[E + e][k] = y.im;
    }
  return out;
}

coverage_curve predictive_coverage_of(const std::vector<std::vector<double>>& replicated,
                                      const std::vector<double>& heldout, std::span<const double> nominal,
                                      std::uint64_t seed, std::uint64_t first) {
  const std::size_t D = replicated.size();
  TWOFOLD_EXPECTS(D > 0 && heldout.size() == D, "predictive coverage: " + std::to_string(heldout.size()) +
                                                    " held-out coordinates for " + std::to_string(D) +
                                                    " replicated ones");
  std::vector<double> pit(D), mean(D), sd(D);
  for (std::size_t d = 0; d < D; ++d) {
    const auto& v = replicated[d];
    std::size_t below = 0, ties = 0;
    double m = 0, m2 = 0;
    for (const double r : v) below += r < heldout[d], ties += r == heldout[d], m += r;
    m /= double(v.size());
    for (const double r : v) m2 += (r - m) * (r - m);
    const double u = uniform(seed, first + d, rng_purpose::measurement_noise, 12);
    pit[d] = (double(below) + u * double(ties + 1)) / double(v.size() + 1);
    mean[d] = m;
    sd[d] = std::sqrt(m2 / double(std::max<std::size_t>(v.size() - 1, 1)));
  }
  coverage_curve c;
  c.nominal.assign(nominal.begin(), nominal.end());
  for (const double level : nominal) {
    TWOFOLD_EXPECTS(level > 0 && level < 1, "coverage levels must lie in (0, 1)");
    const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 0.5 + level / 2);
    std::size_t inq = 0, ing = 0;
    for (std::size_t d = 0; d < D; ++d) {
      inq += std::abs(pit[d] - 0.5) <= level / 2;
      ing += std::abs(heldout[d] - mean[d]) <= z * sd[d];
    }
    c.quantile.push_back(double(inq) / double(D));
    c.gaussian.push_back(double(ing) / double(D));
  }
  return c;
}

}  // namespace detail

predictive_coverage_curve average_coverage(const std::vector<coverage_curve>& groups, std::size_t coordinates,
                                           std::size_t draws) {
  TWOFOLD_EXPECTS(!groups.empty(), "predictive coverage: no groups to average");
  predictive_coverage_curve out;
  out.groups = groups.size();
  out.coordinates = coordinates;
  out.draws = draws;
  out.curve.nominal = groups[0].nominal;
  const std::size_t levels = out.curve.nominal.size();
  const double G = double(groups.size());
  out.curve.quantile.assign(levels, 0.0);
  out.curve.gaussian.assign(levels, 0.0);
  out.quantile_standard_error.assign(levels, 0.0);
  for (const auto& g : groups) {
    TWOFOLD_EXPECTS(g.quantile.size() == levels && g.gaussian.size() == levels,
                    "predictive coverage: every group needs the same nominal levels");
    for (std::size_t i = 0; i < levels; ++i) {
      out.curve.quantile[i] += g.quantile[i] / G;
      out.curve.gaussian[i] += g.gaussian[i] / G;
    }
  }
  if (groups.size() > 1)
    for (std::size_t i = 0; i < levels; ++i) {
      double ss = 0;
      for (const auto& g : groups) ss += (g.quantile[i] - out.curve.quantile[i]) * (g.quantile[i] - out.curve.quantile[i]);
      out.quantile_standard_error[i] = std::sqrt(ss / (G - 1) / G);
    }
  return out;
}

predictive_coverage_curve predictive_coverage(const context& ctx, const inverse_problem& problem,
                                              std::span<const cfloat> draws, std::span<const cfloat> heldout,
                                              std::span<const double> nominal, std::uint64_t seed) {
  TWOFOLD_EXPECTS(problem.sets() == 1, "predictive coverage needs a problem with one measurement set (got " +
                                           std::to_string(problem.sets()) + ")");
  const image_shape s = problem.shape(), m = problem.op().codomain();
  const std::size_t N = s.pixels(), M = m.pixels();
  TWOFOLD_EXPECTS(!draws.empty() && draws.size() % N == 0,
                  "predictive coverage: the draws must be a stack of images of " + to_string(s));
  TWOFOLD_EXPECTS(!heldout.empty() && heldout.size() % M == 0,
                  "held-out measurements have " + std::to_string(heldout.size()) +
                      " values, not a whole number of measurements of " + to_string(m));
  for (std::size_t i = 0; i < heldout.size(); ++i)
    TWOFOLD_EXPECTS(is_finite(heldout[i]) && (problem.is_real() ? heldout[i].im == 0.0f : true),
                    "held-out measurements: value at flat index " + std::to_string(i) +
                        (is_finite(heldout[i]) ? " has an imaginary part in a real problem" : " is not finite"));
  const std::size_t n = draws.size() / N, S = heldout.size() / M;
  chain_buffer x = to_backend(ctx, draws, n, s), ax(ctx, n, m);
  problem.op().apply(ctx, x.view(), ax.view());
  const auto a = to_host(ctx, ax.storage);
  const auto& measured = problem.measured_mask();
  const auto replicated = detail::replicated_measurements(
      a, measured, problem.sigma_y(), problem.values(),
      rng_stream{seed, 0, 0, rng_purpose::measurement_noise, 11, problem.is_real()});
  std::vector<coverage_curve> groups;
  for (std::size_t g = 0; g < S; ++g)
    groups.push_back(detail::predictive_coverage_of(
        replicated, detail::measured_coordinates(heldout.subspan(g * M, M), measured, problem.values()), nominal,
        seed, g * replicated.size()));
  return average_coverage(groups, replicated.size(), n);
}

}  // namespace twofold
