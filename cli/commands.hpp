#pragma once
/// \file
/// The subcommands of the `twofold` program. Each registers its options on a
/// CLI11 app and runs after parsing; errors propagate as twofold::error.

#include <twofold/twofold.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>

namespace twofold::cli {

/// Options every sampling command shares (sampler, design, backend, output). The
/// numeric options bind to the library's parameter structs, so the command line and
/// a C++ caller that keeps the defaults run the same settings (one source of defaults:
/// sampler_params, schedule_params, design_params).
struct common_options {
  std::string backend = "auto";
  std::string sampler{to_string(sampler_params{}.kind)};
  std::string design{to_string(design_params{}.kind)};
  std::string schedule{to_string(schedule_params{}.kind)};
  sampler_params sampling{};
  design_params runs{};
  std::string out = "twofold-output";
  bool force = false;  ///< --force: replace a non-empty folder twofold did not write
};

/// CLI11 validators that read the option's text before it is converted, so a
/// negative count cannot wrap around and an overflowing one cannot saturate: a
/// whole number in [lo, hi]; a finite number in the interval (open ends as asked);
/// the noise std σ (σ² and 1/σ² normal float32 numbers).
CLI::Validator count_in(std::uint64_t lo, std::uint64_t hi);
CLI::Validator number_in(double lo, double hi, bool lo_open, bool hi_open);
CLI::Validator sigma_range();

void add_common_options(CLI::App& app, common_options& o);
sampler_params to_sampler_params(const common_options& o);
design_params to_design_params(const common_options& o);

/// Adds the subcommand; the returned function runs it once parsing succeeded.
std::function<void()> add_demo_command(CLI::App& app);
std::function<void()> add_sample_command(CLI::App& app);
std::function<void()> add_validate_command(CLI::App& app);
std::function<void()> add_report_command(CLI::App& app);

/// Runs python/twofold_report.py on `outdir` (interpreter: $TWOFOLD_PYTHON, default
/// python3), which writes `outdir`/report.html atomically; messages call the
/// folder `shown_as` (default `outdir`: demo and sample pass the final folder
/// while the report is drawn in its staging folder). On failure: with
/// `warn_only` a warning on stderr (demo and sample: the maps are the primary
/// output); otherwise `bad_input` when the folder or its summary is bad (script
/// exit 2) and `runtime_failure` when python, numpy or matplotlib is missing.
void write_report(const std::filesystem::path& outdir, bool warn_only, const std::filesystem::path& shown_as = {});

}  // namespace twofold::cli
