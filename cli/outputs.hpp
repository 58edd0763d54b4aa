#pragma once
/// \file
/// What `twofold demo` and `twofold sample` write: the maps as .npy (and BART
/// .cfl/.hdr on request), PNG images
/// for humans, and summary.json — all staged and committed together, so an
/// interrupted or failed run leaves no half-written folder.

#include <twofold/twofold.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <vector>

namespace twofold::cli {

struct run_record {
  const uncertainty_maps& maps;
  std::vector<cfloat> zero_filled;
  std::vector<float> mask;  ///< k-space or pixel mask (empty: the operator has none)
  std::optional<std::vector<cfloat>> truth;
  std::optional<gaussian_posterior_maps> reference;  ///< ambiguity/estimation empty for mixture priors
  nlohmann::json summary;
  bool cfl = false;  ///< also write each array as a BART .cfl/.hdr pair
  std::optional<quantile_maps> quantiles;  ///< quantile_lo/hi.npy
  nlohmann::json calibration;              ///< calibration.json (null: not written)
};

/// The calibration and validity figures of one sampled problem (docs/design.md §1.7) for
/// calibration.json, and the 5 %/95 % quantile maps: coverage against the truth when
/// known, per-draw normalised residuals, forward PSNR, entanglement. `result` must
/// hold its draws (design.keep_draws).
nlohmann::json calibration_figures(const context& ctx, const inverse_problem& problem, const sample_result& result,
                                   const std::optional<std::vector<cfloat>>& truth, quantile_maps& quantiles);

/// Stages everything in `folder` and commits it.
void write_outputs(io::output_folder& folder, const run_record& run);

/// Sampler-versus-reference figures for the summary: mean error in units of the
/// exact posterior std, and ratios of the spatially averaged variance maps.
nlohmann::json compare_with_reference(const uncertainty_maps& maps, const gaussian_posterior_maps& ref);

/// The progress line printer used by both commands (stderr, at most twice a second).
progress_callback stderr_progress();

}  // namespace twofold::cli
