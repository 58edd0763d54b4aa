#pragma once
/// \file
/// All-or-nothing outputs (docs/design.md §5: never a half-written output). Single files
/// are written to a temporary and renamed into place; a run's whole set of
/// outputs is staged in a private folder and moved into the final folder only
/// when the run has succeeded.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::io {

/// Writes the concatenation of `parts` to `path` atomically: into a temporary
/// file `.<name>.tmp-<pid>-<n>` in the same folder, closed, then renamed over
/// `path`. Readers see the old file or the complete new one, never a part.
/// (No fsync: this protects against failures of the process, not of the machine.)
/// Throws `runtime_failure` naming the path and the system's reason when the
/// folder is missing or not writable, the disk is full, or the rename fails;
/// the temporary is removed first.
void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> parts);

/// A folder whose files appear together or not at all.
///
///     io::output_folder out(dir);                // checks `dir` now
///     io::write_npy(out.stage("mean.npy"), ...); // written into staging
///     out.commit();                              // all files appear in `dir`
///
/// Files are staged in `final_dir/.twofold-staging-<pid>-<n>/`. Destroying the
/// object without `commit()` (an exception, an interrupted run) removes the
/// staging folder and, if this object created `final_dir` (or its parents) and
/// they are still empty, those folders too. Move-only.
class output_folder {
 public:
  /// Uses `final_dir`, creating it (and missing parents) when absent, and creates
  /// the staging folder inside it. Throws `bad_input` naming the folder when it is
  /// a file (e.g. "output folder '/x' is a file"), cannot be created, or is not
  /// writable.
  explicit output_folder(std::filesystem::path final_dir);
  output_folder(output_folder&& other) noexcept;
  output_folder& operator=(output_folder&& other) noexcept;
  output_folder(const output_folder&) = delete;
  output_folder& operator=(const output_folder&) = delete;
  /// Not committed: removes staging and the empty folders this object created.
  /// Never throws.
  ~output_folder();

  /// Path in the staging folder where the caller writes `file_name` (a plain
  /// name: no '/', not "." or ".."; otherwise `bad_input`). Staging the same
  /// name twice returns the same path. Throws `runtime_failure` after commit().
  std::filesystem::path stage(std::string_view file_name);

  /// Moves every file in the staging folder into `final_dir` (replacing files of
  /// the same name) and removes the staging folder. Throws `runtime_failure`,
  /// before moving anything, when a staged name was never written; and when a
  /// rename fails. Calling it twice is an error (`runtime_failure`).
  void commit();

  /// The folder the outputs end up in.
  const std::filesystem::path& final_dir() const noexcept { return final_dir_; }
  /// The private staging folder (empty after commit or move).
  const std::filesystem::path& staging_dir() const noexcept { return staging_dir_; }
  bool committed() const noexcept { return committed_; }

 private:
  void discard() noexcept;

  std::filesystem::path final_dir_;
  std::filesystem::path staging_dir_;
  std::vector<std::filesystem::path> created_dirs_;  // outermost first
  std::vector<std::string> staged_names_;
  bool committed_ = false;
};

}  // namespace twofold::io
