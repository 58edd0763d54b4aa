#pragma once
/// \file
/// Exact Gaussian posteriors for single-coil Cartesian MRI with a pixel-basis prior,
/// by direct linear algebra in double precision: the oracle the samplers and the
/// cascade accumulators are tested against (docs/design.md §1.4, §1.6). Slow by design.
///
/// Model (docs/design.md §1.1, §1.3, §2). Images are C-order [H, W], N = H·W pixels, W the
/// phase-encode (last) axis.
///   x ~ CN(μ, Σ),  Σ = diag(v),  E|x_i − μ_i|² = v_i  (v/2 per real/imaginary part)
///   y = M F x + n,  n ~ CN(0, σ_y² I),  E|n_j|² = σ_y²  (BART's convention)
/// F is the 2-D centred orthonormal DFT, F = F_H ⊗ F_W with
///   (F_n)_{kj} = exp(−2πi (k−c)(j−c)/n) / √n,  c = ⌊n/2⌋,
/// and M a 0/1 k-space mask. Let B (m×N) be the rows of F at the m sampled k-space
/// locations and y_s the sampled entries of y; unsampled entries of y are never read.
///
/// Every map is per pixel, C order, and is computed in the Matheron form
///   S = BΣBᴴ + σ_y² I,  S₀ = BΣBᴴ
///   μ_post   = μ + ΣBᴴ S⁻¹ (y_s − Bμ)
///   Σ_post   = Σ − ΣBᴴ S⁻¹ BΣ            = (Σ⁻¹ + AᴴA/σ_y²)⁻¹
///   variance   = diag Σ_post                       (total posterior variance)
///   ambiguity  = diag(Σ − ΣBᴴ S₀⁻¹ BΣ)           = diag Cov(x | P_R x), P_R = FᴴMF
///   estimation = σ_y² diag(ΣBᴴ S₀⁻¹ S⁻¹ BΣ)      = variance − ambiguity  (≥ 0)
///   range_variance = diag(P_R Σ_post P_R),  null_variance = diag(P_N Σ_post P_N),
///   P_N = I − P_R. Note range + null ≠ variance: the cross term 2 Re diag(P_R Σ_post P_N)
///   is not zero unless Σ_post commutes with P_R (a stationary prior).
/// Ambiguity depends on neither y nor σ_y; it is 0 with a full mask. Estimation is
/// computed directly (not as a difference), so it is ≥ 0 up to rounding and shrinks
/// like σ_y² as σ_y → 0. Cholesky factors are used for every Hermitian solve.
///
/// Errors: twofold::bad_input when sizes disagree with `shape`, a variance is not
/// finite and > 0, σ_y is not finite and > 0, a mask entry is not 0 or 1, nothing is
/// sampled, a mean or a sampled k-space entry is not finite, or a size limit is passed.
/// twofold::runtime_failure if a factorisation fails (not expected for valid input).

#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>
#include <twofold/core/complex.hpp>
#include <twofold/exact/exact_posterior.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace twofold {

class linear_operator;

/// Largest N = H·W the dense functions accept (their matrices are N×N or m×N).
inline constexpr std::size_t dense_reference_max_pixels = 4096;

/// Posterior maps for any 2-D mask, by dense linear algebra on B (m×N).
/// `prior_mean`, `prior_variance`, `mask` and `kspace` have shape.pixels() entries,
/// C order; `mask` entries are exactly 0 or 1 (1 = sampled); `sigma_y` is the complex
/// noise standard deviation (E|n|² = σ_y²). LAPACK Cholesky (zpotrf/zpotrs) and BLAS
/// zgemm. Cost O(m²N + m³) time, about 4·m·N complex doubles of memory;
/// N ≤ dense_reference_max_pixels (64×64) or bad_input. At N = 4096 on two CPU cores:
/// about 5 s with a quarter of k-space sampled, 1.5 min fully sampled.
gaussian_posterior_maps dense_posterior_pixel_prior(image_shape shape, std::span<const cfloat> prior_mean,
                                                    std::span<const float> prior_variance,
                                                    std::span<const float> mask,
                                                    std::span<const cfloat> kspace, double sigma_y);

/// The same maps for a line mask M = I_H ⊗ diag(lines): whole phase-encode lines
/// (columns w with lines[w] = 1, the same in every row). Then AᴴA = I_H ⊗ F_Wᴴ diag(lines) F_W
/// and the posterior splits into H independent W-dimensional problems: row h has
/// prior CN(μ_h, diag v_h), operator B_W (the sampled rows of F_W) and data
/// ỹ_h = row h of F_Hᴴ applied along the H axis of y, at the sampled columns.
/// `lines` has shape.width entries, each 0 or 1, at least one 1; other arguments as
/// dense_posterior_pixel_prior. Any H, W (odd included), one line or all lines.
/// Rows run in parallel (OpenMP) with a self-contained Cholesky (no BLAS or LAPACK
/// inside the parallel region), independent of the LAPACK code of the general path.
/// Cost O(H·(m²·W + m³) + H²·m) time with m sampled lines, O(H·W³) at worst; on two
/// CPU cores 256×256 takes about 1.3 s at 4× (78 lines) and 14 s fully sampled.
/// Memory O(N + m·W) plus O(m²) per thread; sizes are limited only by memory.
gaussian_posterior_maps line_mask_posterior_pixel_prior(image_shape shape,
                                                        std::span<const cfloat> prior_mean,
                                                        std::span<const float> prior_variance,
                                                        std::span<const std::uint8_t> lines,
                                                        std::span<const cfloat> kspace, double sigma_y);

/// The full posterior covariance Σ_post = Σ − ΣBᴴ(BΣBᴴ + σ_y² I)⁻¹BΣ, N×N row-major
/// (entry (i, j) at i·N + j = E[(x_i − μ_i)(x_j − μ_j)*]). For tests that compare sample
/// covariances. Arguments and limits as dense_posterior_pixel_prior. Cost O(m²N + mN²)
/// time, N² + 3·m·N complex doubles of memory (N = 4096: 256 MiB for the result).
std::vector<cdouble> dense_posterior_covariance(image_shape shape, std::span<const float> prior_variance,
                                                std::span<const float> mask, double sigma_y);

/// The prior conditional covariance Cov(x | P_R x) = Σ − ΣBᴴ(BΣBᴴ)⁻¹BΣ, N×N row-major:
/// the σ_y → 0 limit, the covariance stage 2 of the cascade samples (docs/design.md §1.6). Its
/// diagonal is the ambiguity map. Arguments and limits as dense_posterior_covariance.
std::vector<cdouble> dense_conditional_covariance(image_shape shape, std::span<const float> prior_variance,
                                                  std::span<const float> mask);

/// Posterior maps for any linear operator given as a dense m×N matrix A (row-major,
/// entry (i, j) at i·N + j) and measurements y (m values): the same quantities as
/// dense_posterior_pixel_prior, with P_R = V_r V_rᴴ from the SVD A = U_r S_r V_rᴴ
/// (singular values ≤ rcond·s_max count as 0; the default 1e-5 lies above the
/// float32 round-off of a matrix probed from an operator and below every operator's
/// own cut-off, so the reference sees the operator's null space). y enters through ŷ = S_r⁻¹U_rᴴy,
/// data on V_rᴴx with noise σ_y²/s_r² per row. Holds for real problems too (real A,
/// μ, y and noise N(0, σ_y²): the covariance formulas are the same). LAPACK zgesdd.
/// N ≤ dense_reference_max_pixels.
gaussian_posterior_maps dense_posterior(image_shape shape, std::span<const cdouble> matrix, std::size_t rows,
                                        std::span<const cfloat> prior_mean, std::span<const float> prior_variance,
                                        std::span<const cfloat> measurements, double sigma_y, double rcond = 1e-5);

/// Posterior maps of a real problem y = A x + n, n ~ N(0, σ² I), under a Gaussian
/// prior with a covariance factor: x = μ + F z, z ~ N(0, I_k), Σ = F Fᵀ (e.g. a
/// spatially smooth prior on an EEG source grid). With B = A F = U S Vᵀ (thin SVD,
/// singular values ≤ 10⁻¹⁰ s_max count as 0), D = diag(s²/(s² + σ²)):
///   mean       = μ + F V diag(s/(s² + σ²)) Uᵀ (y − A μ)
///   variance   = diag(F Fᵀ) − diag(F V D Vᵀ Fᵀ)
///   ambiguity  = diag(F (I − V_r V_rᵀ) Fᵀ)   (Cov(x | A x): z | P_R z, mapped by F)
///   estimation = diag(F V_r diag(σ²/(s² + σ²)) V_rᵀ Fᵀ) = variance − ambiguity
/// and range/null variances with P_R = V_A V_Aᵀ from the SVD of A. `matrix` is
/// rows × columns, `factor` columns × rank (both row-major, double), `prior_mean`
/// columns values, `measurements` rows values. LAPACK dgesdd. Throws bad_input on
/// sizes, non-finite values or σ not finite and > 0.
gaussian_posterior_maps dense_posterior_factor_prior(std::span<const double> matrix, std::size_t rows,
                                                     std::size_t columns, std::span<const double> factor,
                                                     std::size_t rank, std::span<const double> prior_mean,
                                                     std::span<const double> measurements, double sigma);

/// The m×N matrix of an operator (row-major), by applying it to the N unit images
/// in one batch: the direct slow form every operator is checked against.
/// N = domain pixels ≤ dense_reference_max_pixels.
std::vector<cdouble> operator_matrix(const context& ctx, const linear_operator& op);

}  // namespace twofold
