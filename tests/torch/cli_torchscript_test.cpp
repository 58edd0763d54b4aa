// `twofold sample --prior torchscript` and `twofold demo --prior learned|torchscript`:
// the Gaussian denoiser as a TorchScript file gives the maps of --prior gaussian; bad
// models exit 2 (the model is wrong) or 3 (it fails while sampling) naming the model,
// and nothing is written: no new folder, an old output folder left as it was.
#include "tests/support/cli_support.hpp"
#include "tests/support/pixel_prior_case.hpp"
#include "tests/torch/torchscript_fixtures.hpp"

#include <twofold/io/array_file.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/twofold.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace twofold::testing {
namespace {

namespace fs = std::filesystem;

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// A 16×16 single-coil problem as files: k-space, mask, the Gaussian prior's mean and
/// variance, and the same Gaussian as TorchScript modules.
struct cli_case {
  pixel_prior_case pc;
  fs::path dir = fs::temp_directory_path() / ("twofold-cli-torchscript-" + std::to_string(::getpid()));

  cli_case() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::size_t H = pc.shape.height, W = pc.shape.width;
    const std::vector<std::size_t> image{H, W};
    io::write_npy(dir / "kspace.npy", std::span<const cfloat>(pc.kspace), image);
    std::vector<float> mask(H * W);
    for (std::size_t i = 0; i < H; ++i)
      for (std::size_t j = 0; j < W; ++j) mask[i * W + j] = float(pc.lines[j]);
    io::write_npy(dir / "mask.npy", std::span<const float>(mask), image);
    io::write_npy(dir / "mean.npy", std::span<const cfloat>(pc.prior.mean()), image);
    io::write_npy(dir / "variance.npy", std::span<const float>(pc.prior.variance()), image);
    save_gaussian_module(dir / "gauss.pt", pc.shape, pc.prior.mean(), pc.prior.variance(), {});
    gaussian_module_options eps;
    eps.output = "eps";
    eps.noise = "logsigma";
    save_gaussian_module(dir / "gauss-eps.pt", pc.shape, pc.prior.mean(), pc.prior.variance(), eps);
  }
  ~cli_case() { fs::remove_all(dir); }

  std::string problem_flags() const {
    return "sample --kspace " + (dir / "kspace.npy").string() + " --mask " + (dir / "mask.npy").string() +
           " --sigma " + std::to_string(pc.sigma) + " --runs 4 --chains 4 --levels 50 --no-report --backend cpu";
  }
};

double max_relative_difference(const fs::path& a, const fs::path& b) {
  const auto x = io::read_complex_array(a, "a").values;
  const auto y = io::read_complex_array(b, "b").values;
  EXPECT_EQ(x.size(), y.size());
  double diff = 0, size = 0;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    diff = std::max(diff, std::sqrt(norm2(cdouble(x[i]) - cdouble(y[i]))));
    size = std::max(size, std::sqrt(norm2(cdouble(y[i]))));
  }
  return diff / size;
}

TEST(CliTorchScript, SampleWithTheGaussianModelGivesTheMapsOfPriorGaussian) {
  if (!cli_path()) GTEST_SKIP() << "the CLI was not built";
  const cli_case c;
  const std::string gaussian = " --prior gaussian --prior-mean " + (c.dir / "mean.npy").string() + " --prior-variance " +
                               (c.dir / "variance.npy").string();
  const auto ref = run_cli(c.problem_flags() + gaussian + " --out " + (c.dir / "out-gaussian").string());
  ASSERT_EQ(ref.code, 0) << ref.output;
  for (const std::string model : {"gauss.pt", "gauss-eps.pt"}) {
    const std::string flags = " --prior torchscript --model " + (c.dir / model).string() +
                              (model == "gauss-eps.pt" ? " --model-output eps --model-noise logsigma" : "");
    const fs::path out = c.dir / ("out-" + model);
    const auto r = run_cli(c.problem_flags() + flags + " --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    // Float round-off of the denoiser through 150 Langevin steps (tests/torch/torchscript_prior_test.cpp).
    for (const char* map : {"mean.npy", "ambiguity.npy", "estimation_clipped.npy", "total_variance.npy"})
      EXPECT_LT(max_relative_difference(out / map, c.dir / "out-gaussian" / map), 1e-4) << model << ": " << map;
    const auto summary = nlohmann::json::parse(bytes_of(out / "summary.json"));
    EXPECT_EQ(summary["inputs"]["prior"], "torchscript:" + model);
    EXPECT_EQ(summary["inputs"]["model"]["path"], (c.dir / model).string());
  }
}

/// --design sbc with a network prior, which cannot be drawn from (before prior_draws
/// this exited 2: "cannot be sampled"): x* from the same sampler run with nothing
/// observed, recorded as such in calibration.json and summary.json. The statistics
/// themselves are judged where they are cheap: SbcWithGivenTruths (library) and
/// tests/python/test_learned_prior.py (the shipped network, with failing controls).
TEST(CliTorchScript, DesignSbcDrawsTheTruthsWithTheNetworksOwnSampler) {
  if (!cli_path()) GTEST_SKIP() << "the CLI was not built";
  const cli_case c;
  const fs::path out = c.dir / "sbc";
  const auto r = run_cli("sample --kspace " + (c.dir / "kspace.npy").string() + " --mask " +
                         (c.dir / "mask.npy").string() + " --sigma " + std::to_string(c.pc.sigma) +
                         " --prior torchscript --model " + (c.dir / "gauss.pt").string() +
                         " --design sbc --runs 20 --chains 9 --sampler ddrm --levels 20 --no-report --backend cpu"
                         " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(out / "calibration.json");
  const auto cal = nlohmann::json::parse(in);
  EXPECT_EQ(cal["sbc"]["truths"], "prior_draws: the sampler with nothing observed");
  ASSERT_EQ(cal["sbc"]["tests"].size(), 7u);  // 4 pixels, range, null, residual
  for (const auto& t : cal["sbc"]["tests"]) EXPECT_EQ(t["ranks"].size(), 20u) << t.dump();
  std::ifstream s(out / "summary.json");
  EXPECT_EQ(nlohmann::json::parse(s)["sbc"]["truths"], "prior_draws: the sampler with nothing observed");
}

TEST(CliTorchScript, BadModelsExitTwoOrThreeNamingTheModelAndWriteNothing) {
  if (!cli_path()) GTEST_SKIP() << "the CLI was not built";
  const cli_case c;
  save_module(c.dir / "wrong-shape.pt", "def forward(self, x, noise):\n    return x[:, :, :8]\n");
  save_module(c.dir / "wrong-dtype.pt", "def forward(self, x, noise):\n    return x.half()\n");
  save_module(c.dir / "nan.pt", "def forward(self, x, noise):\n    return x * float('nan')\n");
  save_module(c.dir / "nan-later.pt",
              "def forward(self, x, noise):\n    return x * torch.where(noise < 0.5, float('nan'), 1.0).view(-1, 1, 1, "
              "1)\n");
  std::ofstream(c.dir / "garbage.pt") << "PK not really a zip\n";
  // An earlier run's output folder, which a failed run must leave as it was.
  const fs::path old = c.dir / "old-output";
  fs::create_directories(old);
  std::ofstream(old / std::string(io::output_marker_name)) << "";
  std::ofstream(old / "mean.npy") << "the earlier run's map";
  struct bad {
    std::string model;
    int code;
    std::string says;
  };
  for (const bad& b : {bad{"absent.pt", 2, "no such file"}, bad{"garbage.pt", 2, "not a TorchScript file"},
                       bad{"wrong-shape.pt", 2, "returned shape [2, 2, 8, 16]"},
                       bad{"wrong-dtype.pt", 2, "returned Half, expected float32"}, bad{"nan.pt", 2, "not finite"},
                       bad{"nan-later.pt", 3, "not finite"}}) {
    const fs::path model = c.dir / b.model;
    for (const fs::path& out : {c.dir / "new-output", old}) {
      const auto r = run_cli(c.problem_flags() + " --prior torchscript --model " + model.string() + " --out " +
                             out.string());
      EXPECT_EQ(r.code, b.code) << b.model << ": " << r.output;
      EXPECT_NE(r.output.find(model.string()), std::string::npos) << b.model << ": " << r.output;
      EXPECT_NE(r.output.find(b.says), std::string::npos) << b.model << ": " << r.output;
      EXPECT_FALSE(fs::exists(c.dir / "new-output")) << b.model;
      EXPECT_EQ(bytes_of(old / "mean.npy"), "the earlier run's map") << b.model;
    }
  }
  // Nothing but the old folder, the inputs and the models: no staging folder left behind.
  for (const auto& e : fs::directory_iterator(c.dir))
    EXPECT_TRUE(e.path() == old || e.path().extension() == ".npy" || e.path().extension() == ".pt")
        << e.path();
  // Flags.
  const auto no_model = run_cli(c.problem_flags() + " --prior torchscript --out " + (c.dir / "x").string());
  EXPECT_EQ(no_model.code, 2);
  EXPECT_NE(no_model.output.find("--prior torchscript needs --model"), std::string::npos) << no_model.output;
  const auto bad_output = run_cli(c.problem_flags() + " --prior torchscript --model " + (c.dir / "gauss.pt").string() +
                                  " --model-output x_0 --out " + (c.dir / "x").string());
  EXPECT_EQ(bad_output.code, 2);
  EXPECT_NE(bad_output.output.find("--model-output must be x0, eps or score"), std::string::npos) << bad_output.output;
  EXPECT_FALSE(fs::exists(c.dir / "x"));
}

TEST(CliTorchScript, DemoLearnedNamesTheMissingShippedModel) {
  if (!cli_path()) GTEST_SKIP() << "the CLI was not built";
  const fs::path dir = fs::temp_directory_path() / ("twofold-cli-learned-missing-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path missing = dir / "no-such-model.pt";
  const auto r = run_cli_with_env("TWOFOLD_LEARNED_MODEL=" + missing.string(),
                                  "demo --prior learned --no-report --out " + (dir / "out").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(missing.string() + " is missing"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out"));
  // Without the override: the source tree's file, named when it is not there.
  const fs::path shipped = fs::path(TWOFOLD_SOURCE_DIR) / "data/models/phantom-denoiser/model.pt";
  if (!fs::exists(shipped)) {
    const auto s = run_cli("demo --prior learned --no-report --out " + (dir / "out").string());
    EXPECT_EQ(s.code, 2) << s.output;
    EXPECT_NE(s.output.find(shipped.string()), std::string::npos) << s.output;
  }
  fs::remove_all(dir);
}

TEST(CliTorchScript, DemoWithANetworkPriorWritesAmbiguityAndEstimationMaps) {
  if (!cli_path()) GTEST_SKIP() << "the CLI was not built";
  const fs::path dir = fs::temp_directory_path() / ("twofold-cli-learned-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // A stand-in for the shipped model: the Gaussian of the 64² phantom family, in the
  // shipped model's conventions (x0 output, sigma input, scale 1).
  context ctx(backend_request::cpu);
  const image_shape shape{64, 64};
  const auto g = estimate_gaussian_prior(ctx, gaussian_basis::pixel, shape,
                                         make_phantom_family({shape, 7, 1.0, true}, 1, 50));
  save_gaussian_module(dir / "model.pt", shape, g.mean(), g.variance(), {});
  const auto r = run_cli_with_env("TWOFOLD_LEARNED_MODEL=" + (dir / "model.pt").string(),
                                  "demo --prior learned --runs 2 --chains 3 --levels 10 --no-report --out " +
                                      (dir / "out").string());
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"mean.npy", "ambiguity.npy", "estimation.npy", "truth.npy", "summary.json"})
    EXPECT_TRUE(fs::exists(dir / "out" / f)) << f;
  EXPECT_EQ(io::read_complex_array(dir / "out" / "ambiguity.npy", "ambiguity").shape,
            (std::vector<std::size_t>{64, 64}));  // the learned demo's default size
  const auto summary = nlohmann::json::parse(bytes_of(dir / "out" / "summary.json"));
  EXPECT_EQ(summary["problem"]["model"]["path"], (dir / "model.pt").string());
  EXPECT_GT(summary["report"]["network_calls"].get<double>(), 0);
  EXPECT_NE(r.output.find("mean ambiguity std"), std::string::npos) << r.output;
  // --prior torchscript with its conventions, at another size.
  gaussian_module_options score;
  score.output = "score";
  const image_shape small{16, 16};
  const auto gs = estimate_gaussian_prior(ctx, gaussian_basis::pixel, small,
                                          make_phantom_family({small, 7, 1.0, true}, 1, 50));
  save_gaussian_module(dir / "score.pt", small, gs.mean(), gs.variance(), score);
  const auto t = run_cli("demo --prior torchscript --model " + (dir / "score.pt").string() +
                         " --model-output score --size 16 --runs 2 --chains 2 --levels 10 --no-report --out " +
                         (dir / "out2").string());
  EXPECT_EQ(t.code, 0) << t.output;
  // A model for another size is refused before anything is written.
  const auto wrong = run_cli("demo --prior torchscript --model " + (dir / "score.pt").string() +
                             " --model-output score --size 24 --no-report --out " + (dir / "out3").string());
  EXPECT_EQ(wrong.code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find((dir / "score.pt").string()), std::string::npos) << wrong.output;
  EXPECT_FALSE(fs::exists(dir / "out3"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace twofold::testing
