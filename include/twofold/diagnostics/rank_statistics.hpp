#pragma once
/// \file
/// Uniformity tests of ranks: the χ² tail and the simultaneous ECDF band of uniform
/// ranks that simulation-based calibration judges its rank histograms by.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace twofold {

/// The simultaneous ECDF band of L ranks uniform on {0, …, K} (Säilynoja, Bürkner &
/// Vehtari 2022, simulation method). At thresholds t_j (all of 1..K, or 100 evenly
/// spaced ones for K > 100) the ECDF F_j = #{r < t_j}/L of uniform ranks has L·F_j ~
/// Binomial(L, z_j), z_j = t_j/(K + 1). An ECDF's γ = min_j 2 min(B_j(L F_j), 1 −
/// B_j(L F_j − 1)) (B_j the binomial CDF) is its most extreme pointwise tail; γ_α, the
/// α-quantile of γ over `simulations` uniform rank sets, makes the pointwise
/// intervals at level γ_α a band that a uniform ECDF leaves with probability ≈ α
/// (all points at once). Held as F − z, the ECDF-difference plot.
struct ecdf_band {
  std::size_t replicates = 0, draws = 0;  ///< L and K
  double alpha = 0.01;
  std::vector<std::size_t> thresholds;  ///< t_j
  std::vector<double> z;                ///< t_j/(K + 1)
  std::vector<double> lower, upper;     ///< the band of F_j − z_j
  double gamma = 0;                     ///< γ_α
  std::vector<double> null_gamma;       ///< γ of every simulated uniform rank set, sorted
};
ecdf_band uniform_rank_ecdf_band(std::size_t L, std::size_t K, double alpha = 0.01, std::uint64_t seed = 0,
                                 std::size_t simulations = 2000);
/// F_j − z_j of `ranks` at the band's thresholds, and its γ (see ecdf_band).
std::vector<double> rank_ecdf_difference(std::span<const std::size_t> ranks, const ecdf_band& band);
double rank_ecdf_gamma(std::span<const std::size_t> ranks, const ecdf_band& band);

/// P(χ²_dof ≥ statistic), the p-value of a χ² test: Q(dof/2, statistic/2), Q the
/// regularised upper incomplete gamma function. Throws bad_input for dof ≤ 0 or a
/// negative or non-finite statistic.
double chi_square_upper_tail(double statistic, double degrees_of_freedom);

}  // namespace twofold
