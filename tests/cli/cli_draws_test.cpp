// Issue 17 part 6: draws out and batches in. `twofold sample --save-draws` streams the
// draws wave by wave (cli/run/draws.hpp): the files hold exactly the library's draws,
// do not depend on --wave-chains, and the run's memory does not grow with R·K.
// `--measurements [S, ...]` samples S measurement sets side by side: set s's folder
// holds what the library gives set s alone (its measurement-set contract,
// tests/samplers/measurement_sets_test.cpp), and what sets do not support is refused.
#include <twofold/twofold.hpp>

#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace twofold {
namespace {

namespace fs = std::filesystem;
using testing::cli_path;
using testing::run_cli;

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool contains(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

/// Every file of `dir` (recursively, relative names) except summary.json files (timings).
std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "summary.json") out.push_back(fs::relative(e.path(), dir));
  std::sort(out.begin(), out.end());
  return out;
}

void expect_same_files(const fs::path& a, const fs::path& b) {
  const auto names = files_in(a);
  ASSERT_EQ(names, files_in(b)) << a << " vs " << b;
  for (const auto& n : names) EXPECT_TRUE(bytes_of(a / n) == bytes_of(b / n)) << n << " differs: " << a << " vs " << b;
}

std::vector<cfloat> read_complex(const fs::path& p) { return io::as_complex64(io::read_npy(p, "test"), "test"); }
std::vector<float> read_real(const fs::path& p) { return io::as_float32(io::read_npy(p, "test"), "test"); }

class CliDraws : public ::testing::Test {
 protected:
  static constexpr std::size_t H = 12, W = 12, S = 3;

  void SetUp() override {
    if (!cli_path()) GTEST_SKIP() << "the twofold CLI was not built (TWOFOLD_BUILD_CLI=OFF)";
    dir = fs::temp_directory_path() / ("twofold-draws-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::mt19937 rng(4);
    std::normal_distribution<float> normal;
    mask.assign(H * W, 0.0f);
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t w = 0; w < W; ++w) mask[h * W + w] = (w % 3 == 0 || w == W / 2) ? 1.0f : 0.0f;
    kspace.resize(S * H * W);
    for (auto& k : kspace) k = {normal(rng), normal(rng)};
    mean.assign(H * W, cfloat{0.1f, 0.0f});
    variance.resize(H * W);
    for (std::size_t i = 0; i < H * W; ++i) variance[i] = 0.5f + float(i % 7) / 7.0f;
    truth.resize(H * W);
    for (auto& t : truth) t = {normal(rng), normal(rng)};
    const std::size_t image[2] = {H, W}, sets[3] = {S, H, W};
    io::write_npy(dir / "k.npy", std::span<const cfloat>(kspace.data(), H * W), image);
    io::write_npy(dir / "ks.npy", std::span<const cfloat>(kspace), sets);
    io::write_npy(dir / "mask.npy", std::span<const float>(mask), image);
    io::write_npy(dir / "pm.npy", std::span<const cfloat>(mean), image);
    io::write_npy(dir / "pv.npy", std::span<const float>(variance), image);
    io::write_npy(dir / "truth.npy", std::span<const cfloat>(truth), image);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string inputs(const std::string& kspace_file = "k.npy") const {
    return "sample --kspace " + (dir / kspace_file).string() + " --mask " + (dir / "mask.npy").string() +
           " --prior-mean " + (dir / "pm.npy").string() + " --prior-variance " + (dir / "pv.npy").string() +
           " --sigma 0.1 --backend cpu --no-report --levels 20 --seed 11";
  }

  // The library's side of the same problem (the CLI reads these files into the same values).
  struct library_problem {
    context ctx{backend_request::cpu};
    std::shared_ptr<fourier_mask_operator> op;
    std::unique_ptr<gaussian_prior> prior;
  };
  std::unique_ptr<library_problem> library() const {
    auto l = std::make_unique<library_problem>();
    l->op = std::make_shared<fourier_mask_operator>(l->ctx, image_shape{H, W}, mask);
    l->prior = std::make_unique<gaussian_prior>(l->ctx, gaussian_basis::pixel, image_shape{H, W}, mean, variance);
    return l;
  }
  static sampler_params sampler() {
    sampler_params sp;
    sp.schedule.levels = 20;
    return sp;
  }

  fs::path dir;
  std::vector<float> mask, variance;
  std::vector<cfloat> kspace, mean, truth;
};

// draws.npy holds the library's draws bit for bit (cascade: sample()'s stage-2
// completions; replicate: posterior_draws()), the mean map is sample()'s, and the BART
// pair holds the same values column-major with dims (H, W, 1, R·K).
TEST_F(CliDraws, StreamedDrawsAreTheLibrarysDraws) {
  const auto l = library();
  const inverse_problem problem(l->ctx, l->op, std::span<const cfloat>(kspace.data(), H * W), 0.1);
  for (const char* design : {"cascade", "replicate"}) {
    const fs::path out = dir / design;
    const auto r = run_cli(inputs() + " --runs 3 --chains 5 --design " + design + " --save-draws --cfl --out " +
                           out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    design_params d;
    d.kind = parse_design(design);
    d.runs = 3;
    d.chains_per_run = 5;
    d.seed = 11;
    d.keep_draws = true;
    const auto expected = sample(l->ctx, problem, *l->prior, sampler(), d);
    const auto draws = read_complex(out / "draws.npy");
    ASSERT_EQ(draws.size(), expected.draws.size()) << design;
    EXPECT_EQ(std::memcmp(draws.data(), expected.draws.data(), draws.size() * sizeof(cfloat)), 0) << design;
    if (d.kind == run_design::replicate) {
      const auto direct = posterior_draws(l->ctx, problem, *l->prior, sampler(), d);
      EXPECT_EQ(std::memcmp(draws.data(), direct.data(), draws.size() * sizeof(cfloat)), 0);
    }
    const auto m = read_complex(out / "mean.npy");
    for (std::size_t p = 0; p < H * W; ++p) EXPECT_EQ(m[p], cfloat(expected.maps.mean[p])) << design << " pixel " << p;
    const auto bart = io::read_cfl(out / "draws", "draws");
    ASSERT_EQ(bart.dims, (std::vector<std::size_t>{H, W, 1, 15}));
    for (std::size_t n = 0; n < 15; ++n)
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t w = 0; w < W; ++w) ASSERT_EQ(bart.data[h + H * (w + W * n)], draws[(n * H + h) * W + w]);
  }
}

// Waves of 1, 2 or 6 runs, or sized by the backend: every file (draws, maps, quantile
// maps, calibration.json with its coverage and residuals) has the same bytes; also on
// one thread.
TEST_F(CliDraws, FilesDoNotDependOnWaves) {
  const std::string run = inputs() + " --runs 6 --chains 4 --truth " + (dir / "truth.npy").string() +
                          " --save-draws --cfl --out ";
  ASSERT_EQ(run_cli(run + (dir / "auto").string()).code, 0);
  for (const char* wave : {"4", "8", "24"}) {
    const fs::path out = dir / (std::string("w") + wave);
    const auto r = run_cli(run + out.string() + " --wave-chains " + wave);
    ASSERT_EQ(r.code, 0) << r.output;
    expect_same_files(out, dir / "auto");
  }
  const auto r = testing::run_cli_with_env("OMP_NUM_THREADS=1", run + (dir / "one").string() + " --wave-chains 8");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_files(dir / "one", dir / "auto");
}

/// Peak resident memory (KiB) of the CLI run with `args` (split at spaces).
long peak_kib(const std::string& args) {
  std::vector<std::string> words{cli_path()};
  std::istringstream in(args);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args;
  return usage.ru_maxrss;
}

// Memory is bounded by a wave and the pieces read back, not by R·K: 2048 and 6144
// draws of a 64 × 64 image (64 and 192 MiB). The in-memory path held every draw, a
// sorted copy for the quantiles and A x for the residuals, so its peak resident memory
// grew by 448 MiB between the two (measured with the CLI of f495ee4: 346 and 794 MiB);
// streamed, the peaks may differ by at most 32 MiB (a quarter of the draws' difference;
// the pieces read back are at most 64 MiB in both runs).
TEST_F(CliDraws, MemoryDoesNotGrowWithTheDraws) {
  const std::size_t side = 64, image[2] = {side, side};
  std::vector<float> big_mask(side * side, 0.0f), big_var(side * side, 1.0f);
  for (std::size_t h = 0; h < side; ++h)
    for (std::size_t w = 0; w < side; w += 4) big_mask[h * side + w] = 1.0f;
  io::write_npy(dir / "bk.npy", std::span<const cfloat>(std::vector<cfloat>(side * side, cfloat{0.5f, 0.0f})), image);
  io::write_npy(dir / "bm.npy", std::span<const float>(big_mask), image);
  io::write_npy(dir / "bpm.npy", std::span<const cfloat>(std::vector<cfloat>(side * side)), image);
  io::write_npy(dir / "bpv.npy", std::span<const float>(big_var), image);
  const std::string run = "sample --kspace " + (dir / "bk.npy").string() + " --mask " + (dir / "bm.npy").string() +
                          " --prior-mean " + (dir / "bpm.npy").string() + " --prior-variance " +
                          (dir / "bpv.npy").string() + " --sigma 0.1 --backend cpu --no-report --levels 3" +
                          " --design replicate --wave-chains 64 --save-draws --truth " + (dir / "bpm.npy").string();
  const long small = peak_kib(run + " --runs 32 --chains 64 --out " + (dir / "small").string());
  const long large = peak_kib(run + " --runs 96 --chains 64 --out " + (dir / "large").string());
  EXPECT_EQ(fs::file_size(dir / "large" / "draws.npy"), 96u * 64u * side * side * sizeof(cfloat) + 128u);
  EXPECT_LT(large - small, 32 * 1024) << "peak RSS " << small << " KiB for 2048 draws, " << large
                                      << " KiB for 6144 draws";
}

// The draws go to disk, not memory: 2^31 draws of 12 × 12 pixels (2.5 TB) cannot fit
// on the disk of --out and are refused before any sampling (exit 2, naming the flags);
// nothing is written.
TEST_F(CliDraws, DrawsThatCannotFitOnTheDiskAreRefused) {
  const fs::path out = dir / "huge";
  const auto r = run_cli(inputs() + " --runs 65536 --chains 32768 --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--runs x --chains is too large for the disk")) << r.output;
  EXPECT_FALSE(fs::exists(out));
}

// Three measurement sets side by side: set s's folder holds the draws the library
// gives set s alone (posterior_draws of that set, S runs of R·K chains: chains
// s·R·K …), the maps of those draws as R runs × K chains (maps_from_draws), and a
// summary.json at the top names the layout. The result does not depend on waves.
TEST_F(CliDraws, EachMeasurementSetIsTheLibrarysSetAlone) {
  const std::size_t R = 3, K = 4, RK = R * K, N = H * W;
  const std::string run = inputs("ks.npy") + " --design replicate --runs 3 --chains 4 --save-draws --truth " +
                          (dir / "truth.npy").string() + " --out ";
  const auto r = run_cli(run + (dir / "sets").string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(dir / "sets" / "summary.json");
  const auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["measurement_sets"]["sets"], S);
  EXPECT_EQ(summary["measurement_sets"]["folders"], (std::vector<std::string>{"set-000", "set-001", "set-002"}));

  const auto l = library();
  const inverse_problem batch(l->ctx, l->op, kspace, 0.1, field::complex, S);
  design_params d;
  d.runs = S;
  d.chains_per_run = RK;
  d.seed = 11;
  std::vector<cfloat> set0_mean;
  for (std::size_t s = 0; s < S; ++s) {
    const fs::path folder = dir / "sets" / ("set-00" + std::to_string(s));
    const auto alone = posterior_draws(l->ctx, batch.measurement_set(l->ctx, s), *l->prior, sampler(), d);
    const std::span<const cfloat> mine = std::span<const cfloat>(alone).subspan(s * RK * N, RK * N);
    const auto draws = read_complex(folder / "draws.npy");
    ASSERT_EQ(draws.size(), mine.size());
    EXPECT_EQ(std::memcmp(draws.data(), mine.data(), mine.size_bytes()), 0) << "set " << s;
    const auto maps = maps_from_draws(l->ctx, *l->op, run_design::replicate, mine, R, K);
    const auto m = read_complex(folder / "mean.npy");
    const auto v = read_real(folder / "total_variance.npy");
    for (std::size_t p = 0; p < N; ++p) {
      ASSERT_EQ(m[p], cfloat(maps.mean[p])) << "set " << s << " pixel " << p;
      ASSERT_EQ(v[p], float(maps.total_variance[p])) << "set " << s << " pixel " << p;
    }
    std::ifstream set_summary_file(folder / "summary.json");
    const auto set_summary = nlohmann::json::parse(set_summary_file);
    EXPECT_EQ(set_summary["measurement_set"]["index"], s);
    EXPECT_TRUE(fs::exists(folder / "calibration.json"));
    if (s == 0) set0_mean = m;
    else EXPECT_NE(m, set0_mean) << "set " << s << " must follow its own measurement";
  }
  const auto again = run_cli(run + (dir / "sets_waves").string() + " --wave-chains 5");
  ASSERT_EQ(again.code, 0) << again.output;
  expect_same_files(dir / "sets_waves", dir / "sets");
}

// What sets do not support is refused before anything is written (exit 2, naming the
// flag): the cascade design, smc, --reference, --checkpoint, a --truth stack of
// another count, --design sbc.
TEST_F(CliDraws, MeasurementSetsRefuseWhatTheyDoNotSupport) {
  const std::size_t two[3] = {2, H, W};
  io::write_npy(dir / "truth2.npy", std::span<const cfloat>(std::vector<cfloat>(2 * H * W)), two);
  const fs::path out = dir / "refused";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "--design replicate"},
      {" --design replicate --sampler smc", "--sampler smc"},
      {" --design replicate --reference", "--reference"},
      {" --design replicate --checkpoint 1", "--checkpoint"},
      {" --design replicate --truth " + (dir / "truth2.npy").string(), "--truth has 2 images"},
      {" --design sbc --runs 4 --chains 19", "--design sbc"}};
  for (const auto& [flags, words] : cases) {
    const auto r = run_cli(inputs("ks.npy") + flags + " --out " + out.string());
    EXPECT_EQ(r.code, 2) << flags << ": " << r.output;
    EXPECT_TRUE(contains(r.output, words)) << flags << ": " << r.output;
    EXPECT_FALSE(fs::exists(out)) << flags;
  }
}

}  // namespace
}  // namespace twofold
