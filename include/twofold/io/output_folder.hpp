#pragma once
/// \file
/// All-or-nothing outputs (docs/design.md §5: never a half-written output, never a
/// file twofold did not write). Single files are written to a temporary and renamed
/// into place; a run's whole output folder is built beside its target and swapped
/// in with one atomic rename, so a reader — and a run killed at any instant — sees
/// the old folder complete or the new one complete, never a mix.

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

/// The file every output folder carries: it marks the folder as twofold's (so a
/// later run may replace it) and lists the folder's files, one name a line after
/// the first line `twofold output folder`.
inline constexpr std::string_view output_marker_name = ".twofold-output";

struct output_folder_options {
  /// Replace an existing non-empty folder that has no marker (a folder twofold did
  /// not write). Never allows replacing a folder that holds one of `inputs`.
  bool force = false;
  /// The files this run reads: a target folder that holds any of them (at any
  /// depth) is refused, with or without `force`.
  std::vector<std::filesystem::path> inputs;
  /// Swap folders with renameat2(RENAME_EXCHANGE) where the filesystem supports
  /// it. false (or a filesystem without it): rename the old folder aside, rename
  /// the new one into place, remove the old; a kill between the two renames is
  /// repaired by the next run (see `recover_output_folders`).
  bool exchange = true;
};

/// A folder whose files appear together or not at all.
///
///     io::output_folder out(dir, {.inputs = {k, mask}}); // checks `dir` now
///     io::write_npy(out.stage("mean.npy"), ...);          // written into staging
///     out.commit();                                       // the whole folder is swapped in
///
/// Files are staged in the sibling folder `<parent>/.<name>.twofold-staging-<pid>-<n>/`;
/// `commit()` writes the marker into it and swaps it with `final_dir` in one
/// rename, then removes the old folder. Destroying the object without `commit()`
/// (an exception, an interrupted run) removes the staging folder and the parents
/// of `final_dir` this object created, if still empty. Move-only.
///
/// Fault injection (tests only): when the environment variable
/// TWOFOLD_TEST_COMMIT_PAUSE_MS is a positive number, `commit()` sleeps that long
/// before each of its steps, so a test can kill the process inside the commit;
/// TWOFOLD_TEST_RENAME_ASIDE=1 forces the rename-aside commit (`exchange = false`).
class output_folder {
 public:
  /// Uses `final_dir` (made absolute; a symbolic link is followed), creating its
  /// missing parents, after `recover_output_folders` on its parent. Throws
  /// `bad_input` naming the folder when it is a file or not a directory; when
  /// it is not empty and carries no marker (unless `options.force`); when it
  /// holds one of `options.inputs`; when its parent cannot be created or is not
  /// writable.
  explicit output_folder(std::filesystem::path final_dir, output_folder_options options = {});
  output_folder(output_folder&& other) noexcept;
  output_folder& operator=(output_folder&& other) noexcept;
  output_folder(const output_folder&) = delete;
  output_folder& operator=(const output_folder&) = delete;
  /// Not committed: removes staging and the empty folders this object created.
  /// Never throws.
  ~output_folder();

  /// Path in the staging folder where the caller writes `file_name` (a plain
  /// name: no '/', not "." or "..", not the marker's name; otherwise
  /// `bad_input`). Staging the same name twice returns the same path. Throws
  /// `runtime_failure` after commit().
  std::filesystem::path stage(std::string_view file_name);

  /// Writes the marker (the list of the staged folder's files) and swaps the
  /// staged folder in place of `final_dir`, then removes the old folder: files of
  /// earlier runs that this run did not write are gone. Throws `runtime_failure`,
  /// before touching `final_dir`, when a staged name was never written, and when
  /// a rename fails (the old folder is then left in place). Calling it twice is
  /// an error (`runtime_failure`).
  void commit();

  /// The folder the outputs end up in (absolute).
  const std::filesystem::path& final_dir() const noexcept { return final_dir_; }
  /// The private staging folder (empty after commit or move).
  const std::filesystem::path& staging_dir() const noexcept { return staging_dir_; }
  bool committed() const noexcept { return committed_; }

 private:
  void discard() noexcept;
  void release_cleanup() noexcept;  // forget this folder's entries in the interrupt handler's table

  std::filesystem::path final_dir_;
  std::filesystem::path staging_dir_;
  std::vector<std::filesystem::path> created_dirs_;  // outermost first
  std::vector<std::string> staged_names_;
  std::vector<int> cleanup_slots_;
  bool exchange_ = true;
  bool committed_ = false;
};

/// Repairs what killed runs left in `parent`: staging folders
/// (`.<name>.twofold-staging-<pid>-<n>`) and set-aside old folders
/// (`.<name>.twofold-old-<pid>-<n>`) and temporaries of write_file_atomically
/// (`.<name>.tmp-<pid>-<n>`, files) whose process is no longer alive. A staging
/// folder or temporary is removed; an old folder is renamed back to `<name>` when that is
/// missing (the run died between the two renames of a commit), else removed.
/// Folders of live processes are left alone. Never throws.
void recover_output_folders(const std::filesystem::path& parent) noexcept;

/// Installs SIGINT and SIGTERM handlers (idempotent) that remove the staging
/// folders of every uncommitted `output_folder` (and the parents they created),
/// terminate the child registered with `set_interrupt_child`, and exit with
/// 128 + the signal number (130, 143). A signal that arrives inside `commit()`
/// is held until the swap is done.
void install_interrupt_cleanup();

/// The process the interrupt handler terminates (SIGTERM) before exiting, e.g. a
/// report script writing into a staging folder; 0 clears it.
void set_interrupt_child(int pid) noexcept;

}  // namespace twofold::io
