#pragma once
// Empirical quantiles and coverage of per-coordinate draws, shared by the coverage
// maps (coverage.cpp) and simulation-based calibration (sbc.cpp).
#include <twofold/diagnostics/coverage.hpp>

#include <twofold/core/philox.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace twofold::detail {

/// Type-7 (linear interpolation) empirical quantile of sorted values.
double sorted_quantile(const std::vector<double>& v, double q);

/// The real coordinates calibration is judged on: x for real images; Re x and Im x
/// (2N coordinates, real parts first) for complex ones.
std::vector<double> coordinates(std::span<const cfloat> image, field values);

/// Per coordinate (see coordinates()), the sorted values of n draws [n, N].
std::vector<std::vector<double>> sorted_coordinates(std::span<const cfloat> draws, std::size_t N, field values);

/// Coverage of `truth` by the central intervals of the sorted draws at each nominal
/// level: empirical quantiles and Gaussian mean ± zσ.
coverage_curve coverage_of(const std::vector<std::vector<double>>& sorted, const std::vector<double>& truth,
                           std::span<const double> nominal);

/// The measured real coordinates of one measurement y (`measured` 1 where A reaches
/// an entry): y_i, and Im y_i after all real parts for complex data.
std::vector<double> measured_coordinates(std::span<const cfloat> y, std::span<const std::uint8_t> measured,
                                         field values);

/// Replicated measurements y_rep,k = A x_k + σ_y · noise.normal(k, i) (CN(0, σ_y²), or
/// N(0, σ_y²) for a real stream) from `ax` = [n, M] images A x_k, per measured
/// coordinate (see measured_coordinates()): [coordinates][n].
std::vector<std::vector<double>> replicated_measurements(std::span<const cfloat> ax,
                                                         std::span<const std::uint8_t> measured, double sigma_y,
                                                         field values, const rng_stream& noise);

/// Coverage of held-out coordinates by replicated ones ([coordinates][n]): `quantile`
/// from the randomised PIT u = (#{y_rep < y} + V (#{y_rep = y} + 1))/(n + 1), V the
/// uniform (seed, first + coordinate, measurement_noise, 12): the fraction with
/// |u − 1/2| ≤ p/2, which is p exactly when y and the y_rep are exchangeable (u is then
/// uniform on (0, 1) for any n); `gaussian` from mean ± z_p σ of the replicated values.
coverage_curve predictive_coverage_of(const std::vector<std::vector<double>>& replicated,
                                      const std::vector<double>& heldout, std::span<const double> nominal,
                                      std::uint64_t seed, std::uint64_t first);

}  // namespace twofold::detail
