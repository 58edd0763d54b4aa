#pragma once
/// \file
/// Closed-form posterior when prior and operator share a basis (docs/design.md §1.4): a
/// Fourier-basis Gaussian prior with a Cartesian mask. Everything is diagonal in
/// k-space, per coefficient λ_post = 1/(1/λ + a/σ_y²), m_post = λ_post(μ̃/λ + a ỹ/σ_y²),
/// and every covariance is circulant, so the variance maps are constant:
///   variance   = (1/N) Σ_k λ_post,k
///   ambiguity  = (1/N) Σ_{k unsampled} λ_k      (= null_variance)
///   estimation = (1/N) Σ_{k sampled} λ_post,k   (= range_variance)

#include <twofold/operators/fourier_mask.hpp>
#include <twofold/priors/gaussian.hpp>
#include <twofold/exact/dense.hpp>

#include <span>

namespace twofold {

/// `prior` must have basis fourier (bad_input otherwise); `kspace` as for inverse_problem.
gaussian_posterior_maps fourier_posterior(const context& ctx, const gaussian_prior& prior,
                                          const fourier_mask_operator& op, std::span<const cfloat> kspace,
                                          double sigma_y);

}  // namespace twofold
