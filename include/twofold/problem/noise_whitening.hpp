#pragma once
/// \file
/// Whitening by a full sensor noise covariance (EEG/MEG): y = L x + n, n ~ N(0, C)
/// becomes W y = (W L) x + W n with W n ~ N(0, I_r), so the engine's σ_y = 1 problem
/// on the whitened data is the same posterior (docs/eeg.md).
///
/// As MNE-Python (`mne.cov.compute_whitener(..., pca=True)`): C = E Λ Eᵀ by a symmetric
/// eigendecomposition; eigenvalues λ_i ≤ rank_tolerance · λ_max count as zero (an
/// average-referenced covariance has one exact zero; projections remove more), and
/// W = Λ_r^{-1/2} E_rᵀ keeps the r others: r × channels, W C Wᵀ = I_r. The whitened
/// problem has r rows; data along the dropped directions (e.g. the common mode an
/// average reference removes) are not used, which is what MNE does.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace twofold {

/// The whitener of a noise covariance (see the file comment).
struct noise_whitener {
  std::size_t channels = 0;         ///< m, the covariance's size
  std::size_t rank = 0;             ///< r, the eigenvalues kept
  std::vector<double> matrix;       ///< W, r × m, row-major
  std::vector<double> eigenvalues;  ///< all m eigenvalues of C, ascending

  /// W A for A = [channels, columns] row-major (a lead field, or data with one
  /// column): [rank, columns] row-major. Throws bad_input naming `what` when A's size
  /// is not channels × columns.
  std::vector<double> apply(std::span<const double> a, std::size_t columns, const std::string& what) const;
};

/// Relative eigenvalue threshold below which a covariance direction counts as null:
/// above the round-off of an exactly rank-deficient C (an average reference leaves
/// λ_min ≈ 10⁻¹⁶ λ_max in double precision; about 10⁻⁷ when C was stored as float32)
/// and below the smallest genuine direction of EEG noise covariances (condition
/// numbers of 10²–10⁴; the shipped one has 8.3).
inline constexpr double default_rank_tolerance = 1e-6;

/// W for `covariance` (channels × channels, row-major, e.g. V²). Throws bad_input
/// naming `what` when the size is not channels², an entry is not finite, C is not
/// symmetric (|C_ij − C_ji| > 10⁻⁶ max|C|), C is indefinite (λ_min < −10⁻⁶ λ_max, more
/// than round-off), or C = 0. runtime_failure if the eigendecomposition fails.
noise_whitener make_noise_whitener(std::span<const double> covariance, std::size_t channels, const std::string& what,
                                   double rank_tolerance = default_rank_tolerance);

}  // namespace twofold
