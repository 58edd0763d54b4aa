// All-or-nothing outputs: staged files appear only on commit, as a whole folder
// that replaces the old one (no stale files); an abandoned folder leaves no
// trace; folders twofold did not write and folders holding inputs are refused;
// what killed runs leave behind is repaired; bad output paths are bad input.
#include <twofold/core/error.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/io/output_folder.hpp>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

namespace twofold::io {
namespace {
namespace fs = std::filesystem;

struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("twofold-out-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> names_in(const fs::path& dir, bool with_marker = false) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (with_marker || name != output_marker_name) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// A pid that belonged to a process that has exited (a reaped child).
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<long>(pid);
}

void write_text(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(OutputFolder, StagedFilesAppearOnlyAfterCommit) {
  scratch_dir scratch("commit");
  const fs::path final_dir = scratch.path / "run" / "slice0";
  output_folder out(final_dir);
  ASSERT_FALSE(fs::exists(final_dir));  // it appears at commit, complete
  ASSERT_EQ(out.staging_dir().parent_path(), final_dir.parent_path());
  EXPECT_EQ(out.staging_dir().filename().string().rfind(".slice0.twofold-staging-", 0), 0u);

  const std::vector<float> mean{1, 2, 3, 4};
  const std::vector<std::size_t> shape{2, 2};
  write_npy(out.stage("mean.npy"), mean, shape);
  write_text(out.stage("summary.json"), "{}");
  EXPECT_EQ(out.stage("mean.npy"), out.staging_dir() / "mean.npy");
  EXPECT_FALSE(fs::exists(final_dir));

  out.commit();
  EXPECT_TRUE(out.committed());
  EXPECT_EQ(names_in(final_dir), (std::vector<std::string>{"mean.npy", "summary.json"}));
  EXPECT_EQ(read_text(final_dir / std::string(output_marker_name)), "twofold output folder\nmean.npy\nsummary.json\n");
  EXPECT_EQ(names_in(final_dir.parent_path()), std::vector<std::string>{"slice0"});  // no staging left
  EXPECT_EQ(as_float32(read_npy(final_dir / "mean.npy", "mean"), "mean"), mean);
  EXPECT_THROW(out.stage("late.npy"), runtime_failure);
  EXPECT_THROW(out.commit(), runtime_failure);
}

TEST(OutputFolder, AbandonedFolderLeavesNothingBehind) {
  scratch_dir scratch("abandon");
  {
    output_folder out(scratch.path / "new" / "deeper");
    write_text(out.stage("a.txt"), "partial");
  }
  EXPECT_TRUE(fs::is_empty(scratch.path));  // both folders it created are gone

  fs::create_directory(scratch.path / "kept");
  write_text(scratch.path / "kept" / "old.txt", "old");
  write_text(scratch.path / "kept" / std::string(output_marker_name), "twofold output folder\nold.txt\n");
  {
    output_folder out(scratch.path / "kept");
    write_text(out.stage("old.txt"), "new");
  }
  EXPECT_EQ(names_in(scratch.path / "kept"), std::vector<std::string>{"old.txt"});
  EXPECT_EQ(read_text(scratch.path / "kept" / "old.txt"), "old");
  EXPECT_EQ(names_in(scratch.path), std::vector<std::string>{"kept"});
}

void replace_twice(const fs::path& dir, bool exchange) {
  output_folder_options o;
  o.exchange = exchange;
  {
    output_folder first(dir, o);
    write_text(first.stage("map.txt"), "old");
    write_text(first.stage("old_only.cfl"), "stale");
    first.commit();
  }
  output_folder second(dir, o);
  write_text(second.stage("map.txt"), "new");
  EXPECT_EQ(read_text(dir / "map.txt"), "old");  // untouched until the commit
  second.commit();
  EXPECT_EQ(read_text(dir / "map.txt"), "new");
  // The whole folder is replaced: a file only the earlier run wrote is gone (F4).
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"map.txt"});
  for (const auto& name : names_in(dir.parent_path()))
    EXPECT_EQ(name.find(".twofold-"), std::string::npos) << "left behind: " << name;
}

TEST(OutputFolder, CommitReplacesTheWholeFolder) {
  scratch_dir scratch("replace");
  replace_twice(scratch.path / "exchange", true);
  replace_twice(scratch.path / "aside", false);
}

TEST(OutputFolder, RefusesForeignFoldersAndFoldersHoldingInputs) {
  scratch_dir scratch("foreign");
  const fs::path mine = scratch.path / "mine";
  fs::create_directories(mine / "sub");
  write_text(mine / "photo.jpg", "precious");
  write_text(mine / "sub" / "k.npy", "input");
  try {
    output_folder out(mine);
    FAIL() << "expected bad_input";
  } catch (const bad_input& e) {
    EXPECT_NE(std::string(e.what()).find("was not written by twofold"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  output_folder_options holding;
  holding.force = true;
  holding.inputs = {scratch.path / "mine" / "sub" / ".." / "sub" / "k.npy"};
  try {
    output_folder out(mine, holding);
    FAIL() << "expected bad_input";
  } catch (const bad_input& e) {
    EXPECT_NE(std::string(e.what()).find("holds the input"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(mine / "photo.jpg"), "precious");
  EXPECT_EQ(names_in(scratch.path), std::vector<std::string>{"mine"});
  // An empty folder may be used; --force replaces a foreign one that holds no input.
  fs::create_directory(scratch.path / "empty");
  output_folder(scratch.path / "empty").commit();
  output_folder_options force;
  force.force = true;
  output_folder replaced(mine, force);
  write_text(replaced.stage("mean.npy"), "m");
  replaced.commit();
  EXPECT_EQ(names_in(mine), std::vector<std::string>{"mean.npy"});
}

TEST(OutputFolder, RecoveryRemovesDeadStagingAndRestoresASetAsideFolder) {
  scratch_dir scratch("recover");
  const long dead = dead_pid(), alive = static_cast<long>(::getpid());
  const auto entry = [&](const std::string& target, const char* tag, long pid) {
    std::string name(1, '.');
    name += target + tag + std::to_string(pid) + "-0";
    const fs::path p = scratch.path / name;
    fs::create_directories(p);
    write_text(p / "mean.npy", target);
    return p;
  };
  const auto dead_staging = entry("out", ".twofold-staging-", dead);
  const auto live_staging = entry("out", ".twofold-staging-", alive);
  // A run killed between the two renames of a rename-aside commit: `lost` is missing.
  const auto set_aside = entry("lost", ".twofold-old-", dead);
  // Killed after the second rename: `done` holds the new folder, the old one is stale.
  fs::create_directory(scratch.path / "done");
  write_text(scratch.path / "done" / "mean.npy", "new");
  const auto stale_old = entry("done", ".twofold-old-", dead);
  recover_output_folders(scratch.path);
  EXPECT_FALSE(fs::exists(dead_staging));
  EXPECT_TRUE(fs::exists(live_staging));  // its process is alive: not ours to remove
  EXPECT_FALSE(fs::exists(set_aside));
  EXPECT_EQ(read_text(scratch.path / "lost" / "mean.npy"), "lost");
  EXPECT_FALSE(fs::exists(stale_old));
  EXPECT_EQ(read_text(scratch.path / "done" / "mean.npy"), "new");
  fs::remove_all(live_staging);
  // The constructor repairs the target's parent itself.
  const auto again = entry("out", ".twofold-staging-", dead);
  output_folder out(scratch.path / "out");
  EXPECT_FALSE(fs::exists(again));
}

TEST(OutputFolder, UnwrittenStagedFileFailsCommitBeforeMovingAnything) {
  scratch_dir scratch("unwritten");
  output_folder out(scratch.path / "o");
  write_text(out.stage("written.txt"), "x");
  (void)out.stage("forgotten.txt");
  EXPECT_THROW(out.commit(), runtime_failure);
  EXPECT_FALSE(fs::exists(scratch.path / "o" / "written.txt"));
}

TEST(OutputFolder, BadPathsAreBadInput) {
  scratch_dir scratch("badpaths");
  write_text(scratch.path / "x", "I am a file");
  try {
    output_folder out(scratch.path / "x");
    FAIL() << "expected bad_input";
  } catch (const bad_input& e) {
    EXPECT_EQ(std::string(e.what()), "output folder '" + (scratch.path / "x").string() + "' is a file");
  }
  EXPECT_THROW(output_folder(scratch.path / "x" / "below"), bad_input);
  output_folder out(scratch.path / "ok");
  EXPECT_THROW(out.stage("a/b.npy"), bad_input);
  EXPECT_THROW(out.stage(".."), bad_input);
  EXPECT_THROW(out.stage(""), bad_input);
  EXPECT_THROW(out.stage(output_marker_name), bad_input);
}

TEST(OutputFolder, ReadOnlyFolderIsBadInput) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permissions do not stop writes";
  scratch_dir scratch("readonly");
  fs::create_directory(scratch.path / "ro");
  fs::permissions(scratch.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  try {
    output_folder out(scratch.path / "ro");
    FAIL() << "expected bad_input";
  } catch (const bad_input& e) {
    EXPECT_NE(std::string(e.what()).find("not writable"), std::string::npos) << e.what();
  }
  fs::permissions(scratch.path / "ro", fs::perms::owner_all);
}

TEST(OutputFolder, MoveTransfersOwnership) {
  scratch_dir scratch("move");
  const fs::path dir = scratch.path / "m";
  output_folder a(dir);
  write_text(a.stage("f.txt"), "1");
  output_folder b(std::move(a));
  { output_folder gone(std::move(b)); b = std::move(gone); }
  ASSERT_TRUE(fs::exists(b.staging_dir() / "f.txt"));
  b.commit();
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"f.txt"});
  EXPECT_TRUE(fs::exists(dir / std::string(output_marker_name)));
}

TEST(OutputFolder, AtomicFileWrite) {
  scratch_dir scratch("atomic");
  const std::string a = "hello ", b = "world";
  const std::array<std::span<const std::byte>, 2> parts{std::as_bytes(std::span(a)), std::as_bytes(std::span(b))};
  write_file_atomically(scratch.path / "f.txt", parts);
  EXPECT_EQ(read_text(scratch.path / "f.txt"), "hello world");
  EXPECT_THROW(write_file_atomically(scratch.path / "no" / "f.txt", parts), runtime_failure);
  EXPECT_EQ(names_in(scratch.path), std::vector<std::string>{"f.txt"});
}

}  // namespace
}  // namespace twofold::io
