#pragma once
/// \file
/// `twofold sample --checkpoint SECONDS` and `--resume` (docs/design.md §4.7): the
/// library's sample_checkpoint in a file beside --out, `.<name>.twofold-checkpoint`,
/// replaced atomically, with a fingerprint of the run (every setting, and a hash of
/// every input file's bytes) so that a resumed run is refused when anything differs.

#include "commands.hpp"

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

/// --checkpoint SECONDS and --resume of a sampling command.
struct checkpoint_options {
  double seconds = -1;  ///< --checkpoint: < 0 none
  bool resume = false;
  bool active() const { return seconds >= 0 || resume; }
};
void add_checkpoint_options(CLI::App& cmd, checkpoint_options& o);

/// One command's checkpoints: reads the state to continue from (--resume; refused
/// when its fingerprint differs), gives sample() its checkpoint_params, and removes
/// the file once the run's folder is committed. Inactive without the options.
class run_checkpoints {
 public:
  run_checkpoints() = default;
  /// `command` names the command in messages ("twofold sample").
  /// The device enters the fingerprint as "cpu" (results do not depend on the CPU or
  /// its thread count, docs/design.md §4.5) or the CUDA device's name.
  run_checkpoints(const checkpoint_options& o, const std::string& out, const CLI::App& cmd,
                  const std::vector<std::string>& inputs, const context& ctx, const std::string& command);
  /// For sample(): save every o.seconds, continue from the read state. The object
  /// must outlive the sample() call.
  checkpoint_params params() const;
  /// The run is committed: its checkpoint (any, also one of an earlier run) is obsolete.
  /// Its draws go with it.
  void remove() const noexcept;
  /// Whether a checkpoint was read to continue from.
  bool resuming() const noexcept { return resume_from_.has_value(); }
  /// `.<out>.twofold-checkpoint-draws`: the base path (add .npy, or .cfl/.hdr) of the
  /// file the run's draws stream to, beside the checkpoint, so that they outlive a kill.
  std::filesystem::path draws_base() const { return file_.string() + "-draws"; }

 private:
  checkpoint_options options_;
  std::filesystem::path file_;
  run_fingerprint fingerprint_;
  std::optional<sample_checkpoint> resume_from_;
};

}  // namespace twofold::cli
