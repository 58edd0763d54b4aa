#pragma once
/// \file
/// The subcommands of the `twofold` program. Each registers its options on a
/// CLI11 app and runs after parsing; errors propagate as twofold::error.

#include <twofold/twofold.hpp>

#include <CLI/CLI.hpp>

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
