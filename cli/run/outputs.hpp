#pragma once
/// \file
/// What `twofold demo` and `twofold sample` write: the maps as .npy (and BART
/// .cfl/.hdr on request), PNG images
/// for humans, and summary.json — all staged and committed together, so an
/// interrupted or failed run leaves no half-written folder.

#include "commands.hpp"
#include "run/draws.hpp"

#include <twofold/twofold.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <optional>
#include <span>
#include <cstdint>
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

/// Where write_outputs stages its files: an output folder, or a subfolder of its
/// staging folder (one measurement set's outputs: `set-000/`), committed with it.
class output_place {
 public:
  output_place(io::output_folder& folder) : folder_(folder) {}  // NOLINT(google-explicit-constructor)
  /// Creates the subfolder `name` of the folder's staging folder.
  output_place(io::output_folder& folder, std::string subfolder);
  /// The path to write `file_name` to (see io::output_folder::stage).
  std::filesystem::path stage(const std::string& file_name) const;
  /// The folder the files end up in once committed.
  std::filesystem::path final_dir() const;
  /// The folder they are staged in.
  std::filesystem::path staging_dir() const;

 private:
  io::output_folder& folder_;
  std::string subfolder_;
};

/// The calibration and validity figures of one sampled problem (docs/design.md §1.7) for
/// calibration.json, and the 5 %/95 % quantile maps: coverage against the truth when
/// known, per-draw normalised residuals, forward PSNR, entanglement, and the posterior
/// predictive coverage of `heldout` ([S, codomain] in the problem's units; none when
/// empty; replicate noise from `seed`). `draws` are read in pieces of at most
/// draw_piece_bytes (cli/run/draws.hpp), except for the predictive coverage, which
/// reads them all.
nlohmann::json calibration_figures(const context& ctx, const inverse_problem& problem, const uncertainty_maps& maps,
                                   const draw_source& draws, const std::optional<std::vector<cfloat>>& truth,
                                   quantile_maps& quantiles, std::span<const cfloat> heldout = {},
                                   std::uint64_t seed = 0);
/// The same for a result that holds its draws (design.keep_draws).
nlohmann::json calibration_figures(const context& ctx, const inverse_problem& problem, const sample_result& result,
                                   const std::optional<std::vector<cfloat>>& truth, quantile_maps& quantiles,
                                   std::span<const cfloat> heldout = {}, std::uint64_t seed = 0);

/// calibration.json's "predictive_coverage" entry (docs/calibration.md); `over` says
/// what the groups are.
nlohmann::json predictive_coverage_json(const predictive_coverage_curve& c, const std::string& over);

/// Stages everything in `place` (the caller commits the folder, after the report). Throws
/// `runtime_failure` before staging anything when a map holds a NaN or an
/// infinity: such a run produced nothing usable (exit 3, nothing committed).
void write_outputs(const output_place& place, const run_record& run);

/// Throws `bad_input` naming --runs and --chains (and `why` they are held) when R·K
/// images of `shape`, complex float, would not fit in this machine's memory.
void require_memory_for_draws(const design_params& d, image_shape shape,
                              const std::string& why = "the kept draws");

/// Throws `runtime_failure` naming the map and the count when any value of
/// `maps` is not finite.
void require_finite_maps(const uncertainty_maps& maps, const std::string& sampler);

/// Writes report.html into the staging folder (unless `no_report`; a failed
/// report is only a warning) and commits the folder: the report is part of the
/// one atomic swap, so a failed report never leaves an old one behind. `subfolders`
/// (the measurement sets' `set-000/` …) each get their own report.html.
void finish_folder(io::output_folder& folder, bool no_report, const std::vector<std::string>& subfolders = {});

/// The --out folder of a run that reads `inputs` (empty entries ignored): refused
/// when it holds one of them, or is a non-empty folder twofold did not write
/// (unless --force).
io::output_folder open_output_folder(const common_options& o, const std::vector<std::string>& inputs);

/// `io::recover_output_folders` on the folder that holds --out: what killed runs
/// left there is repaired at the start of the next run, even one that then fails.
void recover_beside_out(const common_options& o);

/// Progress for a stage without steps of its own (the exact reference, reading
/// large inputs): a line after 1 s and then every 2 s while it runs, with the
/// elapsed time; and its duration at the end when it took more than a second.
class stage_progress {
 public:
  explicit stage_progress(std::string stage);
  ~stage_progress();
  stage_progress(const stage_progress&) = delete;
  stage_progress& operator=(const stage_progress&) = delete;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// summary.json's "sampler", "design" and "report" entries: the settings a run used
/// and what it cost (every command writes them the same way).
void record_run(nlohmann::json& summary, const sampler_params& sp, const design_params& dp, const sample_report& report);

/// Sampler-versus-reference figures for the summary: mean error in units of the
/// exact posterior std, and ratios of the spatially averaged variance maps.
nlohmann::json compare_with_reference(const uncertainty_maps& maps, const gaussian_posterior_maps& ref);

/// The progress line printer used by both commands (stderr, at most twice a second).
progress_callback stderr_progress();

}  // namespace twofold::cli
