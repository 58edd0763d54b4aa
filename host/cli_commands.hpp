#pragma once
/// \file
/// The subcommands of the `twofold` program. Each registers its options on a
/// CLI11 app and runs after parsing; errors propagate as twofold::error.

#include <twofold/sample.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>

namespace twofold::cli {

/// Options every sampling command shares (sampler, design, backend, output).
struct common_options {
  std::string backend = "auto";
  std::string sampler = "langevin";
  std::string design = "cascade";
  std::string schedule = "edm";
  std::size_t runs = 16, chains = 16, levels = 300, inner_steps = 3, wave_chains = 0;
  double step = 0.5, gamma = 1.0, s_min = 1e-3, s_max = 10.0, cg_tolerance = 1e-5;
  sampler_params paper_defaults{};  ///< dps/pigdm/ddrm/ddnm/smc parameters (defaults: the papers' values)
  std::uint64_t seed = 0;
  std::string out = "twofold-output";
};

void add_common_options(CLI::App& app, common_options& o);
sampler_params to_sampler_params(const common_options& o);
design_params to_design_params(const common_options& o);

/// Adds the subcommand; the returned function runs it once parsing succeeded.
std::function<void()> add_demo_command(CLI::App& app);
std::function<void()> add_sample_command(CLI::App& app);
std::function<void()> add_validate_command(CLI::App& app);
std::function<void()> add_report_command(CLI::App& app);

/// Runs python/twofold_report.py on `outdir` (interpreter: $TWOFOLD_PYTHON, default
/// python3), which writes `outdir`/report.html atomically. On failure: with
/// `warn_only` a warning on stderr (demo and sample: the maps are the primary
/// output); otherwise `bad_input` when the folder or its summary is bad (script
/// exit 2) and `runtime_failure` when python, numpy or matplotlib is missing.
void write_report(const std::filesystem::path& outdir, bool warn_only);

}  // namespace twofold::cli
