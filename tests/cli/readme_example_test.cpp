// The README's C++ example and `twofold sample` with the flags the README pairs it
// with run the same settings (one source of defaults: the command line binds its
// options to sampler_params and design_params) and so produce the same maps.
#include <twofold/twofold.hpp>

#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace twofold {
namespace {

namespace fs = std::filesystem;

cdouble as_cdouble(double x) { return {x, 0.0}; }
cdouble as_cdouble(cdouble x) { return x; }

std::string readme() {
  std::ifstream in(fs::path(TWOFOLD_SOURCE_DIR) / "README.md");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReadmeExample, SameMapsAsTheCommandLine) {
  if (!testing::cli_path()) GTEST_SKIP() << "the twofold CLI was not built (TWOFOLD_BUILD_CLI=OFF)";
  // The two lines this test runs are the README's, word for word.
  const std::string text = readme();
  const std::string cxx_call =
      "auto result = twofold::sample(ctx, problem, prior, twofold::sampler_params{}, twofold::design_params{});";
  const std::string cli_call = "twofold sample --kspace k.npy --mask mask.npy --sigma 0.05 --prior-images images.npy";
  ASSERT_NE(text.find(cxx_call), std::string::npos) << "README.md no longer shows: " << cxx_call;
  ASSERT_NE(text.find(cli_call), std::string::npos) << "README.md no longer shows: " << cli_call;

  const fs::path dir = fs::temp_directory_path() / ("twofold-readme-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const image_shape shape{16, 16};
  const double sigma_y = 0.05;
  const std::vector<cfloat> images = make_phantom_family({shape, 7, 1.0, true}, 1, 40);
  const std::vector<cfloat> truth = make_phantom({shape, 7, 1.0, true}, 0);
  const auto lines = make_line_mask({shape.width, 4.0, 0.08, line_pattern::random, 3});
  const std::vector<float> mask = expand_line_mask(lines, shape);
  const std::size_t dims[2] = {shape.height, shape.width}, stack[3] = {40, shape.height, shape.width};

  // The README's example (the context as there: CUDA when usable, else the CPU).
  twofold::context ctx(twofold::backend_request::automatic);
  auto op = std::make_shared<twofold::fourier_mask_operator>(ctx, shape, mask);
  const std::vector<cfloat> kspace = simulate_measurements(ctx, *op, truth, sigma_y, field::complex, 11);
  twofold::inverse_problem problem(ctx, op, kspace, sigma_y);
  auto prior = twofold::estimate_gaussian_prior(ctx, twofold::gaussian_basis::pixel, shape, images);
  auto result = twofold::sample(ctx, problem, prior, twofold::sampler_params{}, twofold::design_params{});

  // The same problem through the command line, defaults only.
  io::write_npy(dir / "k.npy", std::span<const cfloat>(kspace), dims);
  io::write_npy(dir / "mask.npy", std::span<const float>(mask), dims);
  io::write_npy(dir / "images.npy", std::span<const cfloat>(images), stack);
  std::string args = cli_call.substr(std::string("twofold ").size());
  for (const char* name : {"k.npy", "mask.npy", "images.npy"}) {
    const auto at = args.find(std::string(" ") + name);
    args.replace(at + 1, std::string(name).size(), (dir / name).string());
  }
  const auto run = testing::run_cli(args + " --no-report --out " + (dir / "out").string());
  ASSERT_EQ(run.code, 0) << run.output;

  // Both write the maps as float32/complex64 of the same double accumulators:
  // equal to float rounding (the chains are bit-identical on one backend).
  const auto compare = [&](const std::string& file, const auto& want) {
    const auto got = io::read_npy(dir / "out" / file, file);
    const auto values = io::as_complex64(got, file);
    ASSERT_EQ(values.size(), want.size()) << file;
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const cdouble w = as_cdouble(want[i]);
      worst = std::max(worst, abs(cdouble(values[i]) - w));
      scale = std::max(scale, abs(w));
    }
    EXPECT_LE(worst, 1e-6 * scale) << file << ": worst difference " << worst << " of " << scale;
    EXPECT_GT(scale, 0.0) << file;
  };
  compare("mean.npy", result.maps.mean);
  compare("ambiguity.npy", result.maps.ambiguity);
  compare("estimation.npy", result.maps.estimation);
  compare("total_variance.npy", result.maps.total_variance);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace twofold
