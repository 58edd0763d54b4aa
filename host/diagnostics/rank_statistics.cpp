// Uniformity tests of ranks (see include/twofold/diagnostics/rank_statistics.hpp): the χ² p-value
// and the simultaneous ECDF band of uniform ranks. The special functions are Boost.Math's.
#include <twofold/diagnostics/rank_statistics.hpp>
#include <twofold/core/error.hpp>
#include <twofold/core/philox.hpp>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace twofold {
namespace {

/// Both tails of Binomial(L, z_j) at every count k = 0..L, one table per threshold:
/// at_most[j][k] = P(X ≤ k) and at_least[j][k] = P(X ≥ k) (Boost.Math's incomplete
/// beta, accurate in both tails).
struct binomial_tails {
  std::vector<std::vector<double>> at_most, at_least;
  binomial_tails(std::size_t L, const std::vector<double>& z)
      : at_most(z.size(), std::vector<double>(L + 1)), at_least(z.size(), std::vector<double>(L + 1)) {
    for (std::size_t j = 0; j < z.size(); ++j) {
      const boost::math::binomial_distribution<double> binomial(double(L), z[j]);
      for (std::size_t k = 0; k <= L; ++k) {
        at_most[j][k] = boost::math::cdf(binomial, double(k));
        at_least[j][k] = k == 0 ? 1.0 : boost::math::cdf(boost::math::complement(binomial, double(k - 1)));
      }
    }
  }
  /// γ of the counts c_j = L F_j: twice the smallest tail probability.
  double gamma(const std::vector<std::size_t>& counts) const {
    double g = 1;
    for (std::size_t j = 0; j < counts.size(); ++j)
      g = std::min(g, 2 * std::min(at_most[j][counts[j]], at_least[j][counts[j]]));
    return g;
  }
};

/// #{r < t_j} for every threshold.
std::vector<std::size_t> counts_below(std::span<const std::size_t> ranks, const std::vector<std::size_t>& thresholds,
                                      std::size_t K) {
  std::vector<std::size_t> histogram(K + 2, 0), counts;
  for (const std::size_t r : ranks) {
    TWOFOLD_EXPECTS(r <= K, "rank " + std::to_string(r) + " lies outside 0.." + std::to_string(K));
    ++histogram[r + 1];
  }
  for (std::size_t t = 1; t < histogram.size(); ++t) histogram[t] += histogram[t - 1];  // histogram[t] = #{r < t}
  for (const std::size_t t : thresholds) counts.push_back(histogram[t]);
  return counts;
}

}  // namespace

double chi_square_upper_tail(double statistic, double degrees_of_freedom) {
  TWOFOLD_EXPECTS(degrees_of_freedom > 0 && statistic >= 0 && std::isfinite(statistic),
                  "chi-square tail needs degrees of freedom > 0 and a finite statistic >= 0");
  return boost::math::gamma_q(0.5 * degrees_of_freedom, 0.5 * statistic);
}

ecdf_band uniform_rank_ecdf_band(std::size_t L, std::size_t K, double alpha, std::uint64_t seed,
                                 std::size_t simulations) {
  TWOFOLD_EXPECTS(L >= 1 && K >= 1, "ECDF band: needs L >= 1 ranks on 0..K with K >= 1");
  TWOFOLD_EXPECTS(alpha > 0 && alpha < 1, "ECDF band: alpha must lie in (0, 1)");
  TWOFOLD_EXPECTS(simulations >= 10 && alpha * double(simulations) >= 1,
                  "ECDF band: at least 10 simulations and alpha × simulations >= 1");
  ecdf_band band;
  band.replicates = L;
  band.draws = K;
  band.alpha = alpha;
  constexpr std::size_t most_points = 100;
  for (std::size_t j = 1; j <= std::min(K, most_points); ++j)
    band.thresholds.push_back(K <= most_points ? j
                                               : std::size_t(std::llround(double(j * (K + 1)) / double(most_points + 1))));
  for (const std::size_t t : band.thresholds) band.z.push_back(double(t) / double(K + 1));
  const binomial_tails tails(L, band.z);
  band.null_gamma.resize(simulations);
#pragma omp parallel for schedule(static)
  for (std::int64_t m = 0; m < std::int64_t(simulations); ++m) {
    std::vector<std::size_t> ranks(L);
    for (std::size_t i = 0; i < L; ++i) {
      const double u = uniform(seed, std::uint64_t(m) * L + i, rng_purpose::test, 79);
      ranks[i] = std::min(K, static_cast<std::size_t>(u * double(K + 1)));
    }
    band.null_gamma[std::size_t(m)] = tails.gamma(counts_below(ranks, band.thresholds, K));
  }
  std::sort(band.null_gamma.begin(), band.null_gamma.end());
  band.gamma = band.null_gamma[static_cast<std::size_t>(std::ceil(alpha * double(simulations))) - 1];
  // The band: counts whose both tails reach γ_α/2, as F − z.
  for (std::size_t j = 0; j < band.z.size(); ++j) {
    std::size_t lo = 0, hi = L;
    while (lo < L && tails.at_most[j][lo] < band.gamma / 2) ++lo;
    while (hi > 0 && tails.at_least[j][hi] < band.gamma / 2) --hi;
    band.lower.push_back(double(lo) / double(L) - band.z[j]);
    band.upper.push_back(double(hi) / double(L) - band.z[j]);
  }
  return band;
}

std::vector<double> rank_ecdf_difference(std::span<const std::size_t> ranks, const ecdf_band& band) {
  TWOFOLD_EXPECTS(ranks.size() == band.replicates, "ECDF difference: " + std::to_string(ranks.size()) +
                                                      " ranks, the band is for " + std::to_string(band.replicates));
  const auto counts = counts_below(ranks, band.thresholds, band.draws);
  std::vector<double> d;
  for (std::size_t j = 0; j < counts.size(); ++j) d.push_back(double(counts[j]) / double(ranks.size()) - band.z[j]);
  return d;
}

double rank_ecdf_gamma(std::span<const std::size_t> ranks, const ecdf_band& band) {
  TWOFOLD_EXPECTS(ranks.size() == band.replicates, "ECDF gamma: " + std::to_string(ranks.size()) +
                                                      " ranks, the band is for " + std::to_string(band.replicates));
  return binomial_tails(band.replicates, band.z).gamma(counts_below(ranks, band.thresholds, band.draws));
}

}  // namespace twofold
