#pragma once
/// \file
/// Source priors of EEG/MEG minimum-norm imaging: the per-component variances of the
/// Gaussian whose posterior mean is MNE-Python's minimum-norm estimate
/// (`mne.minimum_norm.make_inverse_operator` + `apply_inverse(..., method="MNE")`),
/// and per-source sums of component maps (free orientation). docs/eeg.md derives the
/// mapping; in short, with a whitened lead field G (r × n, unit noise):
///
///   depth weight  w_j = min(d_j⁻¹ / ℓ, 1)^depth,  d_j = ‖G_j‖² (fixed orientation) or the
///                 largest eigenvalue of the 3 × 3 block G_sᵀG_s of source s (free; the
///                 same weight for its 3 components). So w_j ∝ ‖G_j‖^(−2·depth): MNE's exponent.
///                 The limit ℓ (MNE's `limit` = 10, its C-code form): with d⁻¹ sorted
///                 ascending, ℓ = the first d⁻¹ > limit² · min d⁻¹ (the largest if none),
///                 so deep sources get at most limit² times the weight of the best-seen one.
///                 depth = 0: w_j = 1 (no depth weighting).
///   trace scale   c = r / Σ_j w_j ‖G_j‖²  (MNE: trace(G R Gᵀ) = number of non-zero noise
///                 eigenvalues).
///   prior variance v_j = c · w_j / λ²   with noise σ_y = 1 on the whitened data.
///
/// MNE's estimate R Gᵀ(G R Gᵀ + λ² I)⁻¹ y_w with R = c·diag(w) is the posterior mean of
/// x ~ N(0, R/λ²), y_w = G x + N(0, I): the same matrix divided by λ² inside and out.
/// MNE's depth options that reproduce it: depth=dict(exp=depth, limit=limit,
/// limit_depth_chs="whiten", combine_xyz="spectral"), loose=1 (free) or fixed=True.

#include <cstddef>
#include <span>
#include <vector>

namespace twofold {

/// Settings of the minimum-norm source prior (MNE's names in brackets).
struct minimum_norm_params {
  std::size_t orientations = 3;  ///< components per source: 3 free (x, y, z), 1 fixed
  double depth = 0.8;            ///< depth-weighting exponent [depth / exp]; 0: none
  double depth_limit = 10.0;     ///< [limit]; 0: no limit
  double lambda2 = 1.0 / 9.0;    ///< regularisation λ² = 1/SNR² [lambda2]
};

/// The depth weights w_j (before the trace scale), one per component of the
/// whitened lead field `whitened` (rows × columns, row-major). Throws bad_input when
/// sizes disagree, columns is not a multiple of `orientations` (1 or 3), depth < 0,
/// the limit is < 1 and not 0, or every column is zero.
std::vector<double> depth_weights(std::span<const double> whitened, std::size_t rows, std::size_t columns,
                                  const minimum_norm_params& p);

/// The prior variances v_j = c · w_j / λ² (see the file comment); λ² finite and > 0.
std::vector<double> minimum_norm_source_variance(std::span<const double> whitened, std::size_t rows,
                                                 std::size_t columns, const minimum_norm_params& p);

/// Per-source sums of a per-component map (e.g. variances: the trace of each source's
/// 3 × 3 posterior covariance block; orientations = 1 returns the map). Throws
/// bad_input when the map's size is not a multiple of `orientations`.
std::vector<double> per_source_sum(std::span<const double> component_map, std::size_t orientations);

/// Per-source Euclidean norms of a per-component vector (the amplitude of a free
/// dipole, |x| for a fixed one).
std::vector<double> per_source_norm(std::span<const double> component_map, std::size_t orientations);

}  // namespace twofold
