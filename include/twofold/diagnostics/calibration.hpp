#pragma once
/// \file
/// Calibration and validity diagnostics (docs/design.md §1.7): per-pixel quantile maps,
/// coverage curves, forward consistency, entanglement of the two uncertainty maps,
/// simulation-based calibration (SBC, Talts et al. 2018) of the posterior and of the
/// cascade's stage 2 alone, and conformal risk control of interval widths.
///
/// Calibration (coverage, SBC coverage, conformal) is judged per real coordinate: x
/// for real images, Re x and Im x for complex ones (a magnitude interval cannot cover
/// a true 0, so |x| would fail on every background pixel). The displayed quantile
/// maps are of |x| (complex) or x (real). Quantiles are order statistics of all draws
/// (draws must be kept: R·K·H·W values), type 7 (linear interpolation between order
/// statistics). From n exchangeable draws the central interval of nominal p covers a
/// new exchangeable value with probability p (n − 1)/(n + 1), not p: 0.81 for
/// p = 0.9 and n = 19, 0.898 for n = 1000 — compare coverage curves with that.

#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>
#include <twofold/priors/prior.hpp>
#include <twofold/problem/inverse_problem.hpp>
#include <twofold/sampling/sample.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
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

/// The simultaneous ECDF band of L ranks uniform on {0, …, K} (Säilynoja, Bürkner &
/// Vehtari 2022, simulation method). At thresholds t_j (all of 1..K, or 100 evenly
/// spaced ones for K > 100) the ECDF F_j = #{r < t_j}/L of uniform ranks has L·F_j ~
/// Binomial(L, z_j), z_j = t_j/(K + 1). An ECDF's γ = min_j 2 min(B_j(L F_j), 1 −
/// B_j(L F_j − 1)) (B_j the binomial CDF) is its most extreme pointwise tail; γ_α, the
/// α-quantile of γ over `simulations` uniform rank sets, makes the pointwise
/// intervals at level γ_α a band that a uniform ECDF leaves with probability ≈ α
/// (all points at once). Held as F − z, the ECDF-difference plot.
struct ecdf_band {
  std::size_t replicates = 0, draws = 0;  ///< L and K
  double alpha = 0.01;
  std::vector<std::size_t> thresholds;  ///< t_j
  std::vector<double> z;                ///< t_j/(K + 1)
  std::vector<double> lower, upper;     ///< the band of F_j − z_j
  double gamma = 0;                     ///< γ_α
  std::vector<double> null_gamma;       ///< γ of every simulated uniform rank set, sorted
};
ecdf_band uniform_rank_ecdf_band(std::size_t L, std::size_t K, double alpha = 0.01, std::uint64_t seed = 0,
                                 std::size_t simulations = 2000);
/// F_j − z_j of `ranks` at the band's thresholds, and its γ (see ecdf_band).
std::vector<double> rank_ecdf_difference(std::span<const std::size_t> ranks, const ecdf_band& band);
double rank_ecdf_gamma(std::span<const std::size_t> ranks, const ecdf_band& band);

/// One SBC test function: the ranks #{k : f(x_k) < f(x*)} ∈ [0, K] of every
/// replicate (ties broken uniformly at random), their histogram in `bins` equal bins
/// with the χ² uniformity p-value, and their ECDF difference F_j − z_j with the
/// simultaneous-band p-value (1 + #{simulated γ ≤ γ})/(simulations + 1).
struct sbc_test {
  std::string name;
  std::vector<std::size_t> ranks;
  std::vector<std::size_t> histogram;
  double chi2 = 0, chi2_p = 0;
  std::vector<double> ecdf_difference;
  double ecdf_gamma = 0, ecdf_p = 0;
};

struct sbc_params {
  std::size_t replicates = 200;  ///< L ≥ 2
  std::size_t draws = 99;        ///< K ≥ 1 posterior draws per replicate (K + 1 ranks)
  std::size_t bins = 10;         ///< histogram bins (2 ≤ bins ≤ K + 1)
  std::size_t pixels = 4;        ///< pixel test functions (evenly spaced pixels)
  bool stage2 = false;           ///< rank f(P_N x*) among completions given P_R x*
  std::uint64_t seed = 0;
  /// Replicates sampled together as one batch of chains; 0 sizes batches from free
  /// memory. On the CPU results do not depend on it (bit-identical), only memory use
  /// and speed do; on CUDA they agree to float rounding (docs/design.md §4.5).
  std::size_t batch_replicates = 0;
};

struct sbc_result {
  std::size_t replicates = 0, draws = 0;
  bool stage2 = false;
  std::size_t batches = 0;  ///< batches of replicates the L·K chains ran in
  double seconds = 0;       ///< wall time, simulation and ranking included
  std::vector<sbc_test> tests;
  ecdf_band band;  ///< the 99 % simultaneous band every test's ECDF difference is judged by
  /// Coverage over replicates: for each nominal level, the mean over replicates of
  /// the fraction of pixels whose x* lies in its per-pixel quantile interval.
  coverage_curve coverage;
  /// Per replicate: the fraction of coordinates outside [q_5%, q_95%] scaled about
  /// the median by λ, for the conformal calibration below (one curve per replicate).
  std::vector<std::vector<double>> miscoverage_by_scale;
  std::vector<double> scales;
};

/// SBC (docs/design.md §1.7): for l = 1..L, x*_l from the prior, y_l = A x*_l + n_l, K draws
/// of the sampler, ranks of the test functions: `pixels` pixels, the projections
/// Re⟨w, P_R x⟩ and Re⟨w', P_N x⟩ onto fixed random directions, the residual
/// ‖A x − y‖², the prior's quadratic form (x − μ)ᴴΣ⁻¹(x − μ) for Gaussian priors and
/// the prior's log density for Gaussian-mixture priors without atoms.
/// Stage 2: y is not used; the K draws are completions x ~ p(x | P_R x = P_R x*)
/// and the test functions see P_N x only. The replicates run as the runs of one
/// batch of L·K chains (a problem with L measurement sets, inverse_problem::sets()),
/// split into batches of whole replicates only where backend memory or 256 MiB of
/// host draws ask (or params.batch_replicates); draw k of replicate l is chain
/// l·K + k, so results do not depend on the split. The prior must be sampleable (Gaussian or Gaussian mixture).
/// `truth_prior`: where x* comes from (default: `prior` itself). A different one
/// makes a deliberately miscalibrated sampler — the case SBC exists to catch.
sbc_result simulation_based_calibration(const context& ctx, std::shared_ptr<const linear_operator> op, double sigma_y,
                                        field values, const prior& prior, const sampler_params& sampler,
                                        const sbc_params& params, const twofold::prior* truth_prior = nullptr);

/// P(χ²_dof ≥ statistic), the p-value of a χ² test: Q(dof/2, statistic/2), Q the
/// regularised upper incomplete gamma function. Throws bad_input for dof ≤ 0 or a
/// negative or non-finite statistic.
double chi_square_upper_tail(double statistic, double degrees_of_freedom);

/// Conformal risk control (Angelopoulos et al. 2022) of the interval scale λ: the
/// replicates in [0, calibration) pick the smallest λ on `scales` with
///   (n/(n+1)) · mean_i L_i(λ) + 1/(n+1) ≤ α,
/// L_i the fraction of pixels of replicate i outside its λ-scaled interval (a loss
/// in [0, 1], non-increasing in λ). Guarantee: for exchangeable replicates,
/// E[L_test(λ̂)] ≤ α. The remaining replicates measure the achieved test risk.
struct conformal_result {
  double alpha = 0.1;
  double scale = 0;         ///< λ̂ (infinite when no scale on the grid qualifies)
  double calibration_risk = 0, test_risk = 0;
  std::size_t calibration = 0, test = 0;
};
conformal_result conformal_scale(const sbc_result& sbc, double alpha, std::size_t calibration);

}  // namespace twofold
