#pragma once
/// \file
/// `twofold sample --checkpoint SECONDS` and `--resume` (docs/design.md §4.7): the
/// library's sample_checkpoint in a file beside --out, `.<name>.twofold-checkpoint`,
/// replaced atomically, with a fingerprint of the run (every setting, and a hash of
/// every input file's bytes) so that a resumed run is refused when anything differs.

#include <twofold/twofold.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace twofold::cli {

/// What must be equal for a checkpoint to continue a run: setting name → value
/// ("--sigma" → "0.02"; "input --mask" → the file's path and content hash).
using run_fingerprint = std::map<std::string, std::string>;

/// The fingerprint of subcommand `cmd` as parsed: every option's value (given, or its
/// default) except those that do not change the results (`ignored`: output place,
/// reporting, checkpoint flags), the bytes of every non-empty path of `inputs`
/// (a folder: its files, recursively), and the device.
run_fingerprint fingerprint_of(const CLI::App& cmd, const std::vector<std::string>& ignored,
                               const std::vector<std::string>& inputs, const std::string& device);

/// `.<name>.twofold-checkpoint` beside the folder `out`.
std::filesystem::path checkpoint_path(const std::string& out);

/// Writes the state atomically (a reader or a resumed run sees the previous
/// checkpoint or this one, complete). runtime_failure when it cannot be written.
void write_checkpoint(const std::filesystem::path& path, const run_fingerprint& fingerprint,
                      const sample_checkpoint& state);

/// The state in `path`, or nothing when there is no such file. bad_input when the
/// file is not a checkpoint, or was made by a run whose fingerprint differs from
/// `expected` (the message names every setting and input that differs).
std::optional<sample_checkpoint> read_checkpoint(const std::filesystem::path& path, const run_fingerprint& expected);

}  // namespace twofold::cli
