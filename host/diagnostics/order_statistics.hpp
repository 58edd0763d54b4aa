#pragma once
// Empirical quantiles and coverage of per-coordinate draws, shared by the coverage
// maps (coverage.cpp) and simulation-based calibration (sbc.cpp).
#include <twofold/diagnostics/coverage.hpp>

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

}  // namespace twofold::detail
