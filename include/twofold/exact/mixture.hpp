#pragma once
/// \file
/// The exact posterior of a Gaussian-mixture (or empirical) prior (docs/design.md §1.4): again
/// a mixture, with component posteriors
///   C_k = (Σ_k⁻¹ + AᴴA/σ_y²)⁻¹,  m_k = μ_k + Σ_k Aᴴ S_k⁻¹ (y − A μ_k),  S_k = A Σ_k Aᴴ + σ_y² I
/// and weights w̃_k ∝ w_k N(y; A μ_k, S_k), normalised by log-sum-exp. Two exact forms:
///  - diagonal: the operator's spectral form has the prior's basis (pixel basis with
///    inpainting, Fourier basis with a Cartesian mask), or every component is an atom
///    (an empirical prior: posterior atoms, any operator). Any image size;
///  - dense: any operator, by its probed matrix and LAPACK in double, N ≤ 1024 pixels.
/// The exact sampler runs the reverse SDE with this mixture's denoiser; the
/// validation suite draws exact samples from it directly.

#include <twofold/priors/gaussian_mixture.hpp>
#include <twofold/problem/inverse_problem.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace twofold {

inline constexpr std::size_t dense_mixture_max_pixels = 1024;

struct mixture_posterior {
  image_shape shape{};
  field values = field::complex;
  std::vector<double> weights;          ///< w̃_k
  std::vector<cdouble> means;           ///< [K, N] component posterior means (image domain)
  std::vector<double> pixel_variances;  ///< [K, N] diag C_k (image domain)
  /// Diagonal form: C_k diagonal in `basis` with these variances [K, N] (0 allowed).
  std::optional<gaussian_basis> basis;
  std::vector<float> basis_variances;
  /// Dense form: C_k = Q_k diag(λ_k) Q_kᴴ; Q_k column-major N×N at [k·N·N], λ_k ≥ 0 at [k·N].
  std::vector<cdouble> eigenvectors;
  std::vector<double> eigenvalues;

  std::size_t components() const { return weights.size(); }
  std::vector<cdouble> mean() const;    ///< Σ_k w̃_k m_k
  std::vector<double> variance() const; ///< Σ_k w̃_k (diag C_k + |m_k|²) − |mean|²
  /// `count` exact posterior draws [count, H, W] (seeded, counter-based).
  std::vector<cfloat> draw(const context& ctx, std::size_t count, std::uint64_t seed) const;
  /// The component each draw [count, H, W] most likely came from: the largest
  /// responsibility under this mixture with a small smoothing s (1e-3 × the mean
  /// posterior std, so that components of zero variance in some direction remain
  /// comparable). Used to measure how a sampler weights the modes.
  std::vector<std::size_t> classify(const context& ctx, std::span<const cfloat> draws) const;
};

/// Throws bad_input when neither form applies (N > dense_mixture_max_pixels without
/// a shared basis) or the prior and problem disagree (shape, field).
mixture_posterior exact_mixture_posterior(const context& ctx, const inverse_problem& problem,
                                          const gaussian_mixture_prior& prior);

/// Whether the operator's spectral form has the prior's basis (the diagonal form).
bool shares_basis(const linear_operator& op, const gaussian_mixture_prior& prior);

/// The cascade's stage-2 target p(x | P_R x = x_R) for a prior in the operator's
/// basis: observed coefficients pinned to those of `anchor` (x_R, one image),
/// weights w_k N(Vᴴx_R; μ̃_k, Σ̃_k) over them. bad_input without a shared basis or
/// when a component has variance 0 on an observed coefficient (atoms).
mixture_posterior exact_mixture_conditional(const context& ctx, const linear_operator& op,
                                            const gaussian_mixture_prior& prior, std::span<const cfloat> anchor);

}  // namespace twofold
