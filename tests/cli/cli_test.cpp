// The command-line program on bad input: a clear message naming the input, exit
// code 2, and no output folder left behind (docs/design.md §5). Also one small successful run.
#include <twofold/io/npy.hpp>

#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace twofold {
namespace {

namespace fs = std::filesystem;

using testing::cli_path;
using testing::run_cli;

class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cli_path()) GTEST_SKIP() << "the twofold CLI was not built (TWOFOLD_BUILD_CLI=OFF)";
    dir = fs::temp_directory_path() / ("twofold-cli-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::size_t H = 8, W = 8, dims[2] = {H, W};
    std::vector<cfloat> k(H * W, cfloat{0.1f, 0.0f});
    std::vector<float> mask(H * W, 0.0f), var(H * W, 0.1f);
    for (std::size_t h = 0; h < H; ++h) mask[h * W + 4] = mask[h * W + 1] = 1.0f;
    io::write_npy(dir / "k.npy", std::span<const cfloat>(k), dims);
    io::write_npy(dir / "mask.npy", std::span<const float>(mask), dims);
    io::write_npy(dir / "mean.npy", std::span<const cfloat>(std::vector<cfloat>(H * W)), dims);
    io::write_npy(dir / "var.npy", std::span<const float>(var), dims);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string base(const std::string& kspace = "k.npy", const std::string& mask = "mask.npy") const {
    return "sample --kspace " + (dir / kspace).string() + " --mask " + (dir / mask).string() + " --prior-mean " +
           (dir / "mean.npy").string() + " --prior-variance " + (dir / "var.npy").string() +
           " --levels 5 --runs 2 --chains 2 --backend cpu --out " + out().string();
  }
  fs::path out() const { return dir / "out"; }

  void expect_bad(const std::string& args, const std::string& words) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(words), std::string::npos) << "message should mention '" << words << "': " << r.output;
    EXPECT_FALSE(fs::exists(out())) << "output folder left behind";
  }

  fs::path dir;
};

TEST_F(CliBadInput, SucceedsOnGoodInput) {
  const auto r = run_cli(base() + " --sigma 0.1");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"mean.npy", "ambiguity.npy", "estimation.npy", "summary.json", "ambiguity_std.png"})
    EXPECT_TRUE(fs::exists(out() / f)) << f;
}

TEST_F(CliBadInput, NonPositiveSigma) {
  expect_bad(base() + " --sigma 0", "sigma");
  expect_bad(base() + " --sigma -1", "sigma");
}

TEST_F(CliBadInput, ZeroChainsOrRuns) {
  expect_bad(base() + " --sigma 0.1 --chains 0", "chains");
  expect_bad(base() + " --sigma 0.1 --runs 0", "runs");
}

TEST_F(CliBadInput, NonFiniteKspace) {
  std::vector<cfloat> k(64, cfloat{0.1f, 0.0f});
  k[10].re = std::nanf("");
  const std::size_t dims[2] = {8, 8};
  io::write_npy(dir / "nan.npy", std::span<const cfloat>(k), dims);
  expect_bad(base("nan.npy") + " --sigma 0.1", "k-space");
}

TEST_F(CliBadInput, EmptyMask) {
  const std::size_t dims[2] = {8, 8};
  io::write_npy(dir / "empty.npy", std::span<const float>(std::vector<float>(64, 0.0f)), dims);
  expect_bad(base("k.npy", "empty.npy") + " --sigma 0.1", "mask");
}

TEST_F(CliBadInput, MismatchedShapes) {
  const std::size_t dims[2] = {8, 6};
  io::write_npy(dir / "small.npy", std::span<const float>(std::vector<float>(48, 1.0f)), dims);
  expect_bad(base("k.npy", "small.npy") + " --sigma 0.1", "mask");
}

TEST_F(CliBadInput, TruncatedAndCorruptNpy) {
  {
    std::ifstream in(dir / "k.npy", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir / "cut.npy", std::ios::binary) << bytes.substr(0, bytes.size() - 17);
    std::ofstream(dir / "junk.npy", std::ios::binary) << "this is not an npy file at all";
  }
  expect_bad(base("cut.npy") + " --sigma 0.1", "k-space");
  expect_bad(base("junk.npy") + " --sigma 0.1", "k-space");
  expect_bad(base("missing.npy") + " --sigma 0.1", "k-space");
}

TEST_F(CliBadInput, UnsupportedSamplerCombination) {
  expect_bad(base() + " --sigma 0.1 --sampler exact", "exact");
  expect_bad(base() + " --sigma 0.1 --sampler nonsense", "sampler");
}

TEST_F(CliBadInput, CudaRequestedWithoutDeviceIsAClearError) {
  if (std::system("nvidia-smi -L >/dev/null 2>&1") == 0) GTEST_SKIP() << "a GPU is present";
  std::string args = base() + " --sigma 0.1";
  args.replace(args.find("--backend cpu"), 13, "--backend cuda");
  const auto r = run_cli(args);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("cuda"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out()));
}

}  // namespace
}  // namespace twofold
