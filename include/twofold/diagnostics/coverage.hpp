#pragma once
/// \file
/// Per-pixel quantile maps and coverage curves of posterior draws (docs/design.md §1.7).
///
/// Calibration (coverage, SBC coverage, conformal) is judged per real coordinate: x
/// for real images, Re x and Im x for complex ones (a magnitude interval cannot cover
/// a true 0, so |x| would fail on every background pixel). The displayed quantile
/// maps are of |x| (complex) or x (real). Quantiles are order statistics of all draws
/// (draws must be kept: R·K·H·W values), type 7 (linear interpolation between order
/// statistics). From n exchangeable draws the central interval of nominal p covers a
/// new exchangeable value with probability p (n − 1)/(n + 1), not p: 0.81 for
/// p = 0.9 and n = 19, 0.898 for n = 1000 — compare coverage curves with that.

#include <twofold/core/types.hpp>
#include <cstddef>
#include <span>
#include <vector>

namespace twofold {

/// Nominal levels 0.1, 0.2, …, 0.9, 0.95, 0.99.
std::vector<double> default_coverage_levels();

/// Per-pixel empirical quantiles of the draws ([n, H, W]) at levels lo < hi.
struct quantile_maps {
  double lo_level = 0.05, hi_level = 0.95;
  std::vector<double> lo, hi;  ///< H·W each
};
quantile_maps pixel_quantiles(std::span<const cfloat> draws, image_shape shape, field values, double lo_level = 0.05,
                              double hi_level = 0.95);

/// Fraction of coordinates (pixels; real and imaginary parts for complex images)
/// whose true value lies in the central p-interval, for each nominal p: from
/// per-coordinate empirical quantiles, and from mean ± z_p σ (Gaussian).
struct coverage_curve {
  std::vector<double> nominal, quantile, gaussian;
};
coverage_curve coverage(std::span<const cfloat> draws, std::span<const cfloat> truth, image_shape shape, field values,
                        std::span<const double> nominal);

}  // namespace twofold
