// All-or-nothing outputs: staged files appear only on commit; an abandoned
// folder leaves no trace; bad output paths are bad input.
#include <twofold/core/error.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/io/output_folder.hpp>

#include <gtest/gtest.h>
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

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
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
  ASSERT_TRUE(fs::is_directory(final_dir));
  ASSERT_EQ(out.staging_dir().parent_path(), final_dir);
  EXPECT_EQ(out.staging_dir().filename().string().rfind(".twofold-staging-", 0), 0u);

  const std::vector<float> mean{1, 2, 3, 4};
  const std::vector<std::size_t> shape{2, 2};
  write_npy(out.stage("mean.npy"), mean, shape);
  write_text(out.stage("summary.json"), "{}");
  EXPECT_EQ(out.stage("mean.npy"), out.staging_dir() / "mean.npy");
  EXPECT_EQ(names_in(final_dir).size(), 1u);  // only the staging folder
  EXPECT_FALSE(fs::exists(final_dir / "mean.npy"));

  out.commit();
  EXPECT_TRUE(out.committed());
  EXPECT_EQ(names_in(final_dir), (std::vector<std::string>{"mean.npy", "summary.json"}));
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
  {
    output_folder out(scratch.path / "kept");
    write_text(out.stage("old.txt"), "new");
  }
  EXPECT_EQ(names_in(scratch.path / "kept"), std::vector<std::string>{"old.txt"});
  EXPECT_EQ(read_text(scratch.path / "kept" / "old.txt"), "old");
}

TEST(OutputFolder, CommitReplacesOldFiles) {
  scratch_dir scratch("replace");
  write_text(scratch.path / "map.txt", "old");
  output_folder out(scratch.path);
  write_text(out.stage("map.txt"), "new");
  out.commit();
  EXPECT_EQ(read_text(scratch.path / "map.txt"), "new");
  EXPECT_EQ(names_in(scratch.path), std::vector<std::string>{"map.txt"});
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
