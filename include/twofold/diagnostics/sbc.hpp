#pragma once
/// \file
/// Simulation-based calibration (SBC, Talts et al. 2018) of the posterior and of the
/// cascade's stage 2 alone, and conformal risk control of interval widths
/// (docs/design.md §1.7).

#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>
#include <twofold/diagnostics/coverage.hpp>
#include <twofold/diagnostics/predictive_coverage.hpp>
#include <twofold/diagnostics/rank_statistics.hpp>
#include <twofold/operators/linear_operator.hpp>
#include <twofold/priors/prior.hpp>
#include <twofold/sampling/sampler_params.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace twofold {

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
  /// The simulated noise's std over the sampler's σ_y (for y_l and the held-out
  /// measurement): 1 is SBC proper; another value simulates data whose noise the model
  /// misstates (e.g. 2: noise underestimated 2×), the case the predictive coverage and
  /// the residual test exist to catch.
  double truth_noise_scale = 1.0;
  /// The truths x*_l given instead of drawn, C order [L, ...] (L = replicates images
  /// of the sampler's unknown): SBC of a prior that cannot be drawn from directly, a
  /// network prior, whose truths come from its own unconditional sampler
  /// (prior_draws, sample.hpp). SBC then judges the posterior sampler against the
  /// prior those truths follow. Empty: drawn from the prior (or `truth_prior`).
  std::vector<cfloat> truths;
};

struct sbc_result {
  std::size_t replicates = 0, draws = 0;
  bool stage2 = false;
  std::size_t batches = 0;  ///< batches of replicates the L·K chains ran in
  /// Times a batch ran out of backend memory and was sampled again with half the
  /// replicates (automatic batches only; the draws do not depend on the batch).
  std::size_t batches_halved = 0;
  double seconds = 0;       ///< wall time, simulation and ranking included
  std::vector<sbc_test> tests;
  ecdf_band band;  ///< the 99 % simultaneous band every test's ECDF difference is judged by
  /// Coverage over replicates: for each nominal level, the mean over replicates of
  /// the fraction of pixels whose x* lies in its per-pixel quantile interval.
  coverage_curve coverage;
  /// Posterior predictive coverage in measurement space over replicates
  /// (predictive_coverage.hpp): a held-out y_new,l = A x*_l + n'_l of every replicate
  /// against the replicated measurements A x_k + n_k of its K draws. Expected p (the
  /// diagonal) at every level for a calibrated sampler and the right noise; the
  /// standard error is over replicates (independent). Empty for stage 2.
  predictive_coverage_curve predictive_coverage;
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
/// l·K + k, so results do not depend on the split. The prior must be sampleable (Gaussian or
/// Gaussian mixture) unless params.truths gives the truths.
/// Also the predictive coverage of a held-out measurement per replicate (above).
/// `truth_prior`: where x* comes from (default: `prior` itself; not with params.truths).
/// A different one makes a deliberately miscalibrated sampler — the case SBC exists to catch.
sbc_result simulation_based_calibration(const context& ctx, std::shared_ptr<const linear_operator> op, double sigma_y,
                                        field values, const prior& prior, const sampler_params& sampler,
                                        const sbc_params& params, const twofold::prior* truth_prior = nullptr);

/// A prior given through a change of variables x = μ + F z, z ~ a latent prior (e.g.
/// N(μ, F Fᵀ) with z ~ N(0, I_k): a covariance factor on a source grid, docs/eeg.md).
struct latent_factor {
  std::shared_ptr<const linear_operator> image_operator;  ///< A, on the image x
  std::shared_ptr<const linear_operator> factor;          ///< F: the latent prior's shape → A's domain
  std::vector<cfloat> mean;                               ///< μ, one image of A's domain
};

/// SBC of the prior x = μ + F z: x*_l = μ + F z*_l with z*_l from `latent_prior` (or
/// `truth_prior`), y_l = A x*_l + n_l; the sampler samples z on `op` = A F (checked on
/// a random probe) and every draw is mapped to x = μ + F z. The pixels, the range and
/// null projections (of A), coverage and conformal scale see x; the residual is
/// ‖A F z − y‖² = ‖A x − y‖², and the prior quadratic form is the latent one
/// (‖z‖² for z ~ N(0, I), which equals (x − μ)ᵀ(F Fᵀ)⁺(x − μ) when F has full column
/// rank). Stage 2 conditions z on P_R z* of A F (this fixes A x*, so P_R x*) and ranks P_N x.
sbc_result simulation_based_calibration(const context& ctx, std::shared_ptr<const linear_operator> op,
                                        const latent_factor& factor, double sigma_y, field values,
                                        const prior& latent_prior, const sampler_params& sampler,
                                        const sbc_params& params, const twofold::prior* truth_prior = nullptr);

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
