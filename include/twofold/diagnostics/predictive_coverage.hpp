#pragma once
/// \file
/// Posterior predictive coverage in measurement space (docs/calibration.md): does the
/// posterior predict a held-out measurement of the same object?
///
/// For each posterior draw x_k a replicated measurement y_rep,k = A x_k + n_k is
/// simulated with fresh noise of the assumed σ_y (the posterior predictive of y), and
/// every measured real coordinate of a held-out measurement y_new = A x* + n' (another
/// measurement of the same object with independent noise: a second trial average, or
/// a simulated replicate) gets its randomised PIT among the n replicated values,
/// u = (#{y_rep < y_new} + V (#{y_rep = y_new} + 1))/(n + 1), V ~ U(0, 1). Coverage at
/// nominal p is the fraction with |u − 1/2| ≤ p/2: the central p-interval of the
/// predictive. When y_new and the y_rep,k are exchangeable given y (the assumed model
/// is right and the draws are independent exact posterior draws) u is uniform for
/// any n, so the curve's expectation is the diagonal, p, exactly. Cascade draws share
/// P_R x within a run, so their y_rep are not independent: the Monte Carlo error of the
/// predictive then spreads u and the curve sits slightly below p (docs/calibration.md).
/// Source-space coverage cannot see a noise level that is wrong when most of the
/// posterior variance is ambiguity (the null space carries no noise); here the noise
/// is at least half of every interval's variance, so 2× noise shows. Coordinates are
/// those of the data the engine samples (whitened units when the noise covariance
/// was whitened). The `gaussian` curve judges y_new by mean ± z_p σ of the y_rep.

#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>
#include <twofold/diagnostics/coverage.hpp>
#include <twofold/problem/inverse_problem.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace twofold {

/// A coverage curve averaged over independent groups of held-out coordinates (held-out
/// measurement sets, or SBC replicates), with its Monte Carlo standard error. A
/// calibrated model gives curve.quantile = nominal in expectation.
struct predictive_coverage_curve {
  coverage_curve curve;                         ///< mean over groups of each group's coverage fraction
  std::vector<double> quantile_standard_error;  ///< of curve.quantile: sd over groups / √groups (0 for one group)
  std::size_t groups = 0;       ///< groups averaged
  std::size_t coordinates = 0;  ///< real coordinates per group: measured entries (× 2 for complex data)
  std::size_t draws = 0;        ///< replicated measurements per held-out value (n)
};

/// Predictive coverage of `heldout` ([S, codomain]: S held-out measurements of the
/// object that gave the problem's data, in the problem's units) by the replicated
/// measurements of `draws` ([n, H, W] posterior draws of the one-set `problem`); the
/// replicate noise is the stream {seed, draw, 0, measurement_noise, 11}, the PIT's V
/// uniform(seed, set · coordinates + coordinate, measurement_noise, 12). Groups are the
/// S sets: their standard error is conditional on the data (the sets share the
/// object's posterior deviation). Entries A never reaches are left out.
predictive_coverage_curve predictive_coverage(const context& ctx, const inverse_problem& problem,
                                              std::span<const cfloat> draws, std::span<const cfloat> heldout,
                                              std::span<const double> nominal, std::uint64_t seed = 0);

/// Mean and standard error over groups of per-group coverage curves (each on the same
/// nominal levels).
predictive_coverage_curve average_coverage(const std::vector<coverage_curve>& groups, std::size_t coordinates,
                                           std::size_t draws);

}  // namespace twofold
