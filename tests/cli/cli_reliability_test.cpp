// Issue 17's failure cases, one test each (F1–F16): every one of them failed on
// e104f61 (data loss, mixed folders, wrong exit codes, wrapped numbers, messages
// with source paths) and passes now. The kills at random instants are
// tests/cli/fault_injection_test.sh.
#include <twofold/io/cfl.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/io/output_folder.hpp>

#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace twofold {
namespace {

namespace fs = std::filesystem;

using testing::cli_path;
using testing::cli_result;
using testing::run_cli;
using testing::run_cli_with_env;

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// The files of a folder (hidden ones included), sorted.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool contains(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

class CliReliability : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cli_path()) GTEST_SKIP() << "the twofold CLI was not built (TWOFOLD_BUILD_CLI=OFF)";
    dir = fs::temp_directory_path() / ("twofold-rel-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "in");
    const std::size_t H = 8, W = 8, dims[2] = {H, W};
    std::vector<cfloat> k(H * W, cfloat{0.1f, 0.0f});
    std::vector<float> mask(H * W, 0.0f), var(H * W, 0.1f);
    for (std::size_t h = 0; h < H; ++h) mask[h * W + 4] = mask[h * W + 1] = 1.0f;
    io::write_npy(in("k.npy"), std::span<const cfloat>(k), dims);
    io::write_npy(in("mask.npy"), std::span<const float>(mask), dims);
    io::write_npy(in("mean.npy"), std::span<const cfloat>(std::vector<cfloat>(H * W)), dims);
    io::write_npy(in("var.npy"), std::span<const float>(var), dims);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  fs::path in(const std::string& name) const { return dir / "in" / name; }
  fs::path out() const { return dir / "out"; }
  std::string inputs(const std::string& kspace = "k.npy", bool report = false) const {
    return "sample --kspace " + in(kspace).string() + " --mask " + in("mask.npy").string() + " --prior-mean " +
           in("mean.npy").string() + " --prior-variance " + in("var.npy").string() + " --backend cpu" +
           (report ? "" : " --no-report");
  }
  std::string small() const { return " --levels 5 --runs 2 --chains 2"; }
  std::string base() const { return inputs() + small() + " --sigma 0.1 --out " + out().string(); }

  void expect_exit(const std::string& args, int code, const std::string& words) const {
    const auto r = run_cli(args);
    EXPECT_EQ(r.code, code) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, words)) << "message should mention '" << words << "': " << r.output;
  }

  /// Nothing twofold leaves while working (staging, set-aside folders) next to `out`.
  void expect_no_leftovers() const {
    for (const auto& name : names_in(dir)) EXPECT_FALSE(contains(name, ".twofold-")) << "left behind: " << name;
  }

  fs::path dir;
};

// F1: `--out` at the folder holding the inputs (`--out .` in the input folder) replaced
// the prior mean by the posterior mean. Now refused, even with --force; inputs unchanged.
TEST_F(CliReliability, F1_OutputFolderHoldingAnInputIsRefused) {
  const std::string before = bytes_of(in("mean.npy"));
  const auto names = names_in(dir / "in");
  for (const std::string force : {"", " --force"}) {
    expect_exit(inputs() + small() + " --sigma 0.1 --out " + (dir / "in").string() + force, 2, "holds the input");
    expect_exit(inputs() + small() + " --sigma 0.1 --out " + dir.string() + force, 2, "holds the input");  // any depth
  }
  EXPECT_EQ(bytes_of(in("mean.npy")), before);
  EXPECT_EQ(names_in(dir / "in"), names);
  expect_no_leftovers();
}

// Part 2: a non-empty folder twofold did not write is refused unless --force.
TEST_F(CliReliability, ForeignFolderNeedsForce) {
  fs::create_directories(out());
  std::ofstream(out() / "thesis.tex") << "precious";
  expect_exit(base(), 2, "was not written by twofold");
  EXPECT_EQ(bytes_of(out() / "thesis.tex"), "precious");
  const auto r = run_cli(base() + " --force");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(out() / "thesis.tex"));
  EXPECT_TRUE(fs::exists(out() / std::string(io::output_marker_name)));
}

// F2 and F4: the folder is replaced as a whole. A run with --cfl then one without
// leaves no .cfl of the first; the marker lists exactly the folder's files; the
// summary and maps come from the same run.
TEST_F(CliReliability, F2_F4_EachRunReplacesTheWholeFolder) {
  auto r = run_cli(base() + " --seed 1 --cfl");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(fs::exists(out() / "mean.cfl"));
  const std::string first_mean = bytes_of(out() / "mean.npy");
  r = run_cli(base() + " --seed 2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(out() / "mean.cfl"));
  EXPECT_FALSE(fs::exists(out() / "mean.hdr"));
  EXPECT_NE(bytes_of(out() / "mean.npy"), first_mean);
  EXPECT_EQ(nlohmann::json::parse(bytes_of(out() / "summary.json"))["design"]["seed"], 2);
  std::string listed = "twofold output folder\n";
  for (const auto& name : names_in(out()))
    if (name != io::output_marker_name) listed += name + "\n";
  EXPECT_EQ(bytes_of(out() / std::string(io::output_marker_name)), listed);
  expect_no_leftovers();
}

// F4 (report): a failed report used to leave the previous run's report.html beside the
// new maps. The report is now drawn in the staging folder: a failed one leaves none.
TEST_F(CliReliability, F4_FailedReportLeavesNoOldReport) {
  const std::string args = inputs("k.npy", true) + small() + " --sigma 0.1 --out " + out().string();
  auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  if (!fs::exists(out() / "report.html")) GTEST_SKIP() << "python3 with matplotlib is not available";
  r = run_cli_with_env("TWOFOLD_PYTHON=/nonexistent/python3", args);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "warning: no report.html")) << r.output;
  EXPECT_FALSE(fs::exists(out() / "report.html"));
}

// The marker lists the folder's files, report.html included, whether the report was
// drawn with the run or later by `twofold report`.
TEST_F(CliReliability, MarkerListsTheReport) {
  auto r = run_cli(base());
  ASSERT_EQ(r.code, 0) << r.output;
  const fs::path marker = out() / std::string(io::output_marker_name);
  EXPECT_FALSE(contains(bytes_of(marker), "report.html"));
  r = run_cli("report " + out().string());
  if (r.code != 0) GTEST_SKIP() << "python3 with matplotlib is not available: " << r.output;
  EXPECT_TRUE(contains(bytes_of(marker), "\nreport.html\n")) << bytes_of(marker);
  r = run_cli(inputs("k.npy", true) + small() + " --sigma 0.1 --out " + out().string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out() / "report.html"));
  EXPECT_TRUE(contains(bytes_of(marker), "\nreport.html\n")) << bytes_of(marker);
}

// F3: `demo --design replicate` printed the absent ambiguity ratio and exited 3 after
// committing its outputs.
TEST_F(CliReliability, F3_DemoReplicateDesignSucceeds) {
  const auto r = run_cli("demo --design replicate --size 16 --runs 2 --chains 2 --levels 20 --backend cpu "
                         "--no-report --out " + out().string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "total variance ratio")) << r.output;
}

// F6: staging folders of killed runs stayed forever. The next run removes those of
// dead processes (and leaves one of a live process alone).
TEST_F(CliReliability, F6_NextRunRemovesStagingOfDeadProcesses) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  const fs::path dead = dir / (".out.twofold-staging-" + std::to_string(child) + "-0");
  const fs::path live = dir / (".out.twofold-staging-" + std::to_string(::getpid()) + "-0");
  fs::create_directories(dead);
  fs::create_directories(live);
  std::ofstream(dead / "mean.npy") << "partial";
  const auto r = run_cli(base());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
}

// F7: --dps-zeta 1e30 exited 0 with infinite variance maps. The flag is range-checked
// now; and maps that are not finite float32 numbers exit 3 with nothing committed.
TEST_F(CliReliability, F7_NonFiniteMapsExit3AndCommitNothing) {
  expect_exit(base() + " --sampler dps --dps-zeta 1e30", 2, "--dps-zeta: must be a finite number in (0, 100]");
  ASSERT_EQ(run_cli(base()).code, 0);
  const std::string before = bytes_of(out() / "mean.npy");
  // A prior variance at the top of float32: the exact sampler's maps overflow it.
  const std::size_t dims[2] = {8, 8};
  io::write_npy(in("huge_var.npy"), std::span<const float>(std::vector<float>(64, 3.3e38f)), dims);
  const std::string args = "sample --kspace " + in("k.npy").string() + " --mask " + in("mask.npy").string() +
                           " --prior-mean " + in("mean.npy").string() + " --prior-variance " +
                           in("huge_var.npy").string() + " --sigma 1 --sampler exact --design replicate" + small() +
                           " --backend cpu --no-report --out " + out().string();
  const auto r = run_cli(args);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "nothing was written")) << r.output;
  EXPECT_EQ(bytes_of(out() / "mean.npy"), before);  // the previous folder is untouched
  expect_no_leftovers();
}

// F8: --sigma 1e-308 (0 in float) was accepted; demo --sigma 1e308 blamed "measurements".
TEST_F(CliReliability, F8_SigmaOutsideFloatIsRefusedByName) {
  const std::string no_sigma = inputs() + small() + " --out " + out().string();
  expect_exit(no_sigma + " --sigma 1e-308", 2, "--sigma: must be a finite number in [1e-18, 1e+18]");
  expect_exit("demo --sigma 1e308 --out " + out().string(), 2, "--sigma: must be a finite number");
  expect_exit(no_sigma + " --sigma nan", 2, "--sigma");
  EXPECT_FALSE(fs::exists(out()));
}

// F9–F11: wrapped and saturated numbers. Each flag is named with its range.
TEST_F(CliReliability, F9_F11_NumericFlagsAreValidatedBeforeWork) {
  const std::string b = inputs() + " --sigma 0.1 --out " + out().string();
  expect_exit(b + " --levels 18446744073709551615", 2, "--levels: must be a whole number in [2, 1000000]");
  expect_exit(b + " --runs -1", 2, "--runs: must be a whole number in [2, 1000000] (got '-1')");
  expect_exit(b + " --chains 1", 2, "--chains: must be a whole number in [2, 1000000]");
  expect_exit(b + " --slice -1", 2, "--slice: must be a whole number in [0, 1000000]");
  expect_exit(b + " --seed 18446744073709551616", 2, "--seed: must be a whole number in [0, 18446744073709551615]");
  expect_exit(b + " --wave-chains -1", 2, "--wave-chains: must be a whole number");
  expect_exit(b + " --step 1.5", 2, "--step: must be a finite number in (0, 1]");
  expect_exit(b + " --inner-steps 0", 2, "--inner-steps");
  expect_exit(b + " --cg-tolerance 0", 2, "--cg-tolerance");
  expect_exit("demo --size 4 --out " + out().string(), 2, "--size: must be a whole number in [8, 1024]");
  EXPECT_FALSE(fs::exists(out()));
  // The largest seed is a valid seed.
  EXPECT_EQ(run_cli(base() + " --seed 18446744073709551615").code, 0);
}

// F12: a valid dense problem (a random 20 × 256 Gaussian matrix, ‖A‖ ≈ 20) with the
// default Langevin settings diverged ("try more noise levels"). Langevin's step rule now
// scales with c = max(1, ‖A‖) (the library's, docs/design.md §1.5), which samples the same
// posterior as the rule for ‖A‖ ≤ 1 on A/c, y/c, σ/c; the summary records ‖A‖.
TEST_F(CliReliability, F12_DefaultLangevinWorksOnARandomDenseProblem) {
  const std::size_t m = 20, n = 256;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> a(m * n), x(n), y(m);
  for (auto& v : a) v = normal(rng);
  for (auto& v : x) v = normal(rng);
  for (std::size_t i = 0; i < m; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) s += double(a[i * n + j]) * x[j];
    y[i] = float(s + 0.1 * normal(rng));
  }
  const std::size_t adims[2] = {m, n}, ydims[1] = {m}, xdims[1] = {n};
  io::write_npy(in("A.npy"), std::span<const float>(a), adims);
  io::write_npy(in("y.npy"), std::span<const float>(y), ydims);
  io::write_npy(in("pm.npy"), std::span<const float>(std::vector<float>(n, 0.0f)), xdims);
  io::write_npy(in("pv.npy"), std::span<const float>(std::vector<float>(n, 1.0f)), xdims);
  // Default sampler, schedule and step; fewer runs and chains only to keep the test short.
  const auto r = run_cli("sample --operator dense --matrix " + in("A.npy").string() + " --measurements " +
                         in("y.npy").string() + " --prior-mean " + in("pm.npy").string() + " --prior-variance " +
                         in("pv.npy").string() + " --sigma 0.1 --runs 2 --chains 2 --backend cpu --no-report --out " +
                         out().string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto summary = nlohmann::json::parse(bytes_of(out() / "summary.json"));
  EXPECT_GT(summary["inputs"]["operator_norm"].get<double>(), 10.0);
  EXPECT_EQ(summary["inputs"]["sigma_y"].get<double>(), 0.1);
}

// F13: the docs say a BART input may be given without extension; `--kspace bartk` exited 2.
TEST_F(CliReliability, F13_BartBaseNameWithoutExtension) {
  const auto k = io::read_npy(in("k.npy"), "k");
  const auto values = io::as_complex64(k, "k");
  const auto bart = io::coil_stack_to_cfl(image_shape{8, 8}, values);
  io::write_cfl(dir / "in" / "bartk", bart.data, bart.dims);
  ASSERT_TRUE(fs::exists(in("bartk.cfl")));
  const auto r = run_cli("sample --kspace " + in("bartk").string() + " --mask " + in("mask.npy").string() +
                         " --prior-mean " + in("mean.npy").string() + " --prior-variance " + in("var.npy").string() +
                         " --sigma 0.1 --backend cpu --no-report" + small() + " --out " + out().string());
  EXPECT_EQ(r.code, 0) << r.output;
  expect_exit("sample --kspace " + in("nothing").string() + " --mask " + in("mask.npy").string() +
                  " --prior-mean " + in("mean.npy").string() + " --prior-variance " + in("var.npy").string() +
                  " --sigma 0.1 --out " + out().string(),
              2, "no BART pair");
}

// F14: the README implied `exact` works for any operator up to 1024 pixels; `demo
// --sampler exact` failed with a message about a mixture prior. Now the demo names the
// flags it needs, and they work.
TEST_F(CliReliability, F14_DemoExactNamesTheFlagsItNeeds) {
  expect_exit("demo --sampler exact --out " + out().string(), 2, "needs --design replicate and --size 32 or less");
  const auto r = run_cli("demo --sampler exact --design replicate --size 16 --runs 2 --chains 2 --levels 20 "
                         "--backend cpu --no-report --out " + out().string());
  EXPECT_EQ(r.code, 0) << r.output;
}

// F15: messages ended with source paths ("[/…/host/sample.cpp:80]") and NaN messages of
// .npy files did not name the file. Now the path is the input's; --debug adds the source.
TEST_F(CliReliability, F15_MessagesNameInputsNotSourceFiles) {
  const std::size_t dims[2] = {8, 8};
  std::vector<cfloat> k(64, cfloat{0.1f, 0.0f});
  k[19].re = std::nanf("");
  io::write_npy(in("nan_k.npy"), std::span<const cfloat>(k), dims);
  expect_exit(inputs("nan_k.npy") + small() + " --sigma 0.1 --out " + out().string(), 2,
              "k-space '" + in("nan_k.npy").string() + "': value NaN at flat index 19");
  // A runtime failure (CG cannot converge in float32): no source path unless --debug.
  io::write_npy(in("huge_var.npy"), std::span<const float>(std::vector<float>(64, 3.3e38f)), dims);
  const std::string args = "sample --kspace " + in("k.npy").string() + " --mask " + in("mask.npy").string() +
                           " --prior-mean " + in("mean.npy").string() + " --prior-variance " +
                           in("huge_var.npy").string() + " --sigma 1 --sampler pto --design replicate" + small() +
                           " --backend cpu --no-report --out " + out().string();
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_FALSE(contains(r.output, ".cpp")) << r.output;
  r = run_cli(args + " --debug");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "raised at ")) << r.output;
  EXPECT_TRUE(contains(r.output, ".cpp:")) << r.output;
}

// F16: a huge k-space was read in full before a short mask was rejected. Sizes are now
// checked from the headers: a 12.8 GB k-space (a sparse file) with a 16-entry mask is
// refused naming the mask, without reading (or allocating) the k-space.
TEST_F(CliReliability, F16_SizesAreCheckedFromHeadersFirst) {
  const std::size_t side = 40000;
  // A .npy header for [40000, 40000] complex64, then a sparse 12.8 GB body.
  {
    std::string header = "{'descr': '<c8', 'fortran_order': False, 'shape': (40000, 40000), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream f(in("huge_k.npy"), std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    const auto len = static_cast<std::uint16_t>(header.size());
    f.put(char(len & 0xff));
    f.put(char(len >> 8));
    f << header;
  }
  fs::resize_file(in("huge_k.npy"), fs::file_size(in("huge_k.npy")) + side * side * 8);
  const std::size_t mdims[1] = {16};
  io::write_npy(in("mask16.npy"), std::span<const float>(std::vector<float>(16, 1.0f)), mdims);
  expect_exit("sample --kspace " + in("huge_k.npy").string() + " --mask " + in("mask16.npy").string() +
                  " --prior-mean " + in("mean.npy").string() + " --prior-variance " + in("var.npy").string() +
                  " --sigma 0.1 --backend cpu --out " + out().string(),
              2, "k-space mask has 16 line flags but the data has 40000 phase-encode lines");
}

// Part 6 (in part): --save-draws writes the R·K draws the maps were computed from. Their
// plain average is the mean map (equal-size runs: the mean of run means), to float
// rounding; the BART pair holds the same values in BART's column-major order.
TEST_F(CliReliability, SaveDrawsWritesTheDrawsOfTheMaps) {
  const auto r = run_cli(inputs() + " --sigma 0.1 --levels 5 --runs 2 --chains 3 --save-draws --cfl --out " +
                         out().string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto draws = io::read_npy(out() / "draws.npy", "draws");
  ASSERT_EQ(draws.shape, (std::vector<std::size_t>{6, 8, 8}));
  const auto d = io::as_complex64(draws, "draws");
  const auto mean = io::as_complex64(io::read_npy(out() / "mean.npy", "mean"), "mean");
  for (std::size_t p = 0; p < 64; ++p) {
    cdouble s{};
    for (std::size_t n = 0; n < 6; ++n) s = s + cdouble(d[n * 64 + p]);
    EXPECT_NEAR(s.re / 6, mean[p].re, 1e-5 * (1 + std::abs(mean[p].re))) << p;
    EXPECT_NEAR(s.im / 6, mean[p].im, 1e-5 * (1 + std::abs(mean[p].im))) << p;
  }
  const auto bart = io::read_cfl(out() / "draws", "draws");
  ASSERT_EQ(bart.dims, (std::vector<std::size_t>{8, 8, 1, 6}));
  for (std::size_t n = 0; n < 6; ++n)
    for (std::size_t h = 0; h < 8; ++h)
      for (std::size_t w = 0; w < 8; ++w) {
        EXPECT_EQ(bart.data[h + 8 * (w + 8 * n)].re, d[(n * 8 + h) * 8 + w].re);
        EXPECT_EQ(bart.data[h + 8 * (w + 8 * n)].im, d[(n * 8 + h) * 8 + w].im);
      }
}

}  // namespace
}  // namespace twofold
