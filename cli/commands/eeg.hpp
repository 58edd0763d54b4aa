#pragma once
/// \file
/// EEG source imaging in the command line (docs/eeg.md): the forward folders that
/// python/eeg/make_forward.py writes, the source-space and sensor-space outputs the
/// report draws (glass-brain projections, topomaps), and `twofold demo --problem eeg`.

#include "commands.hpp"

#include <twofold/twofold.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace twofold::cli {

/// A forward folder: lead field [channels, components] (µV/(nA m)), noise covariance
/// [channels, channels] (µV²), source positions [sources, 3] and channel positions
/// [channels, 3] (m), forward.json (components per source, head centre, channel names).
struct eeg_forward {
  std::filesystem::path dir;
  std::size_t channels = 0, components = 0, per_source = 3;
  std::vector<double> leadfield, covariance, source_positions, channel_positions;
  std::array<double, 3> centre{};
  std::vector<std::string> channel_names;
  std::size_t sources() const { return components / per_source; }
};

/// The shipped forward folder: $TWOFOLD_EEG_FORWARD, else installed next to the binary
/// (<prefix>/share/twofold/eeg/biosemi64-sphere), else the source tree's copy.
std::filesystem::path default_forward();

/// Reads and checks every file (bad_input naming the file: missing, wrong shape,
/// NaN, channel counts that disagree). `need_covariance` false: noise_covariance.npy
/// may be absent.
eeg_forward read_forward(const std::filesystem::path& dir, bool need_covariance = true);

/// Stages the EEG outputs in `folder` (before write_outputs commits it): per-source
/// maps (source_mean, source_ambiguity_std, source_estimation_std, source_total_std
/// and source_truth: |x| per source and the square roots of the traces of each
/// source's 3 × 3 variance block; with `reference`, source_reference_ambiguity_std and
/// source_reference_estimation_std from the exact maps), source_positions, channel_positions, sensor_data
/// (y), sensor_fit (L · mean) and sensor_residual (y − L · mean), in µV. Returns the
/// eeg section of summary.json (depth bands: mean per-source stds by depth, the
/// distance to the nearest electrode).
nlohmann::json stage_eeg_outputs(io::output_folder& folder, const eeg_forward& f, const uncertainty_maps& maps,
                                 std::span<const double> sensor_y, const std::optional<std::vector<cfloat>>& truth,
                                 const std::vector<double>* prior_variance = nullptr,
                                 const gaussian_posterior_maps* reference = nullptr);

/// `twofold demo --problem eeg`.
struct eeg_demo_options {
  std::string forward;         ///< empty: default_forward()
  double lambda2 = 1.0 / 9.0;  ///< MNE's λ²
  double depth = 0.8;
  double amplitude = 10.0;     ///< nA m per active source
};
void run_eeg_demo(const common_options& common, const eeg_demo_options& o, bool no_report);

}  // namespace twofold::cli
