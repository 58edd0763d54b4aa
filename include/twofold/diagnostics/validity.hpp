#pragma once
/// \file
/// Validity (forward consistency) of posterior draws against the data, and the
/// entanglement of the two uncertainty maps (docs/design.md §1.7).

#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>
#include <twofold/problem/inverse_problem.hpp>
#include <twofold/sampling/sample.hpp>
#include <span>
#include <vector>

namespace twofold {

/// ‖A x_k − y‖² / (m σ_y²) for every draw (m = problem.measured_entries()). For exact
/// posterior draws its mean is below 1 (the posterior fits part of the noise).
std::vector<double> normalised_residuals(const context& ctx, const inverse_problem& problem,
                                         std::span<const cfloat> draws);
/// PSNR of A x̂ against y on the measured entries: 10 log10(max|y|² / mean|A x̂ − y|²).
double forward_psnr(const context& ctx, const inverse_problem& problem, std::span<const cdouble> mean);
/// SSIM (Wang et al. 2004: 7×7 uniform windows, K₁ = 0.01, K₂ = 0.03, data range the
/// span of |y|) of |A x̂| against |y| on the measurement planes ([coil,] H', W'),
/// averaged over windows and planes. 1 when A x̂ reproduces y. For masked k-space the
/// unmeasured entries are 0 in both and count as agreement.
double forward_ssim(const context& ctx, const inverse_problem& problem, std::span<const cdouble> mean);
/// Pearson correlation across pixels of the ambiguity and estimation maps (cascade).
double entanglement(const uncertainty_maps& maps);

}  // namespace twofold
