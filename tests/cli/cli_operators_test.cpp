// `twofold sample --operator ...` end to end: every operator with its inputs in the
// formats they arrive in (NumPy, BART .cfl/.hdr, fastMRI HDF5), the exact sampler
// `pto` against the exact reference the command computes (--reference), and the bad
// inputs of each operator: exit code 2, a message naming the input, no output.
#include <twofold/data/coil_maps.hpp>
#include <twofold/io/cfl.hpp>
#include <twofold/io/fastmri.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/operators/multicoil.hpp>

#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace twofold {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

class CliOperator : public ::testing::Test {
 protected:
  static constexpr std::size_t H = 8, W = 8, coils = 2;

  void SetUp() override {
    if (!testing::cli_path()) GTEST_SKIP() << "the twofold CLI was not built (TWOFOLD_BUILD_CLI=OFF)";
    dir = fs::temp_directory_path() / ("twofold-cliop-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    // A pixel-basis prior: zero mean, variances in [0.5, 1.5].
    std::vector<float> var(H * W);
    for (std::size_t i = 0; i < var.size(); ++i) var[i] = 0.5f + float(i % 11) / 10.0f;
    write_image("mean.npy", std::vector<cfloat>(H * W));
    write_image("var.npy", var);
  }
  void TearDown() override { fs::remove_all(dir); }

  template <class T>
  void write_image(const std::string& name, const std::vector<T>& v, std::vector<std::size_t> dims = {H, W}) const {
    io::write_npy(dir / name, std::span<const T>(v), dims);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  fs::path out() const { return dir / "out"; }

  std::string prior() const {
    return " --prior-mean " + path("mean.npy") + " --prior-variance " + path("var.npy");
  }
  static std::string design() { return " --sampler pto --runs 16 --chains 8 --backend cpu --reference"; }

  /// Runs and checks the outputs and the sampler-versus-exact figures. Every case
  /// leaves part of the image unseen, so the exact ambiguity is material. With
  /// 16 × 8 chains the spatially averaged ambiguity and total variance have
  /// relative Monte Carlo SE ≤ 1/√(16·7) ≈ 0.095 per pixel, a few times less once
  /// averaged over 64 correlated pixels; 0.15 is ≥ 4 SE of the average. (The
  /// estimation ratio is not checked here: where ambiguity dominates, its Monte
  /// Carlo error in 16 runs is large; tests/operators/operator_test.cpp checks it per operator.)
  nlohmann::json run_ok(const std::string& args) const {
    const auto r = run_cli(args + " --out " + out().string());
    EXPECT_EQ(r.code, 0) << r.output;
    for (const char* f : {"mean.npy", "ambiguity.npy", "estimation.npy", "summary.json", "ambiguity_std.png"})
      EXPECT_TRUE(fs::exists(out() / f)) << f;
    std::ifstream in(out() / "summary.json");
    const auto summary = nlohmann::json::parse(in, nullptr, false);
    if (summary.is_discarded()) {
      ADD_FAILURE() << "summary.json does not parse";
      return {};
    }
    const auto& cmp = summary["against_exact_reference"];
    EXPECT_NEAR(cmp["ambiguity_ratio"].get<double>(), 1.0, 0.15) << cmp.dump();
    EXPECT_NEAR(cmp["total_variance_ratio"].get<double>(), 1.0, 0.15) << cmp.dump();
    EXPECT_LT(cmp["mean_error_rms_in_posterior_std"].get<double>(), 3 / std::sqrt(16.0)) << cmp.dump();
    return summary;
  }

  void expect_bad(const std::string& args, const std::string& words) const {
    const auto r = run_cli(args + " --out " + out().string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(words), std::string::npos) << "message should mention '" << words << "': " << r.output;
    EXPECT_FALSE(fs::exists(out())) << "output folder left behind";
  }

  /// y = A x* + n for a random x*, written for the given operator by the caller.
  static std::vector<cfloat> noisy(std::vector<cfloat> clean, double sigma, bool real) {
    for (std::size_t i = 0; i < clean.size(); ++i) {
      const cfloat n = complex_normal(5, 0, 0, rng_purpose::measurement_noise, i);
      clean[i] += float(sigma) * (real ? cfloat{1.41421356f * n.re, 0.0f} : n);
    }
    return clean;
  }

  fs::path dir;
};

/// The synthetic multi-coil data set: maps, a Poisson-disc mask and k-space.
struct multicoil_data {
  std::vector<cfloat> maps, kspace;
  std::vector<float> mask;
};

multicoil_data make_multicoil(std::size_t H, std::size_t W, std::size_t C) {
  multicoil_data d;
  d.maps = make_coil_maps({H, W, C}, {3});
  poisson_disc_mask_params mp;
  mp.shape = {H, W};
  mp.acceleration = 4;
  mp.calibration = {2, 2};
  mp.seed = 4;
  d.mask = make_poisson_disc_mask(mp);
  context ctx(backend_request::cpu);
  const auto x = testing::random_image({H, W}, 6);
  chain_buffer y(ctx, 1, {H, W, C});
  // Apply A = M F S through the library operator (tested against its dense matrix).
  auto xb = to_backend<cfloat>(ctx, x);
  multicoil_operator(ctx, {H, W}, C, d.maps, d.mask).apply(ctx, const_chain_view{xb.data(), 1, {H, W}}, y.view());
  d.kspace = to_host(ctx, y.storage);
  return d;
}

TEST_F(CliOperator, MulticoilFromFastMriAndBartMaps) {
  // Line masks live in fastMRI files as W flags; here a 2-D Poisson-disc mask goes
  // in as .npy while k-space comes from the .h5 (slice 1 of 2) and maps from .cfl.
  const auto d = make_multicoil(H, W, coils);
  const auto k = noisy(d.kspace, 0.1, false);
  std::vector<cfloat> volume(2 * k.size(), cfloat{0, 0});
  std::copy(k.begin(), k.end(), volume.begin() + std::ptrdiff_t(k.size()));
  io::fastmri_contents c;
  c.slices = 2;
  c.shape = {H, W, coils};
  c.kspace = volume;
  io::write_fastmri(dir / "data.h5", c);
  const auto bart = io::coil_stack_to_cfl({H, W, coils}, d.maps);
  io::write_cfl(dir / "maps", bart.data, bart.dims);
  write_image("mask.npy", d.mask);
  const auto summary = run_ok("sample --operator mri-multicoil --kspace " + path("data.h5") + " --slice 1 --maps " +
                              path("maps.cfl") + " --mask " + path("mask.npy") + " --sigma 0.1" + prior() + design() +
                              " --cfl");
  EXPECT_EQ(summary["inputs"]["operator"], "mri-multicoil");
  // --cfl: the same mean as a BART pair, in BART's column-major layout.
  const auto mean_npy = io::as_complex64(io::read_npy(out() / "mean.npy", "mean"), "mean");
  const auto mean_cfl = io::cfl_to_coil_stack(io::read_cfl(out() / "mean.cfl", "mean"), "mean");
  EXPECT_EQ(mean_cfl.shape, (image_shape{H, W}));
  EXPECT_EQ(mean_cfl.values, mean_npy);
  EXPECT_TRUE(fs::exists(out() / "mean.hdr"));
}

TEST_F(CliOperator, SingleCoilFromFastMriWithItsMask) {
  // Single-coil layout [slices, H, W] with the file's own line mask.
  std::vector<float> lines(W, 0.0f);
  for (const std::size_t w : {1u, 3u, 4u, 5u}) lines[w] = 1.0f;
  const auto k = noisy(testing::random_image({H, W}, 7), 0.1, false);
  io::fastmri_contents c;
  c.shape = {H, W, 1};
  c.single_coil = true;
  c.kspace = k;
  c.mask = lines;
  io::write_fastmri(dir / "single.h5", c);
  run_ok("sample --operator mri --kspace " + path("single.h5") + " --sigma 0.1" + prior() + design());
}

TEST_F(CliOperator, DenseRealLeadField) {
  // A real 6 × 64 lead field (float64 .npy) and real measurements: a real problem.
  const std::size_t m = 6, n = H * W;
  const auto a = testing::random_matrix(m, n, true, 8);
  std::vector<double> a64(a.size()), y64(m);
  for (std::size_t i = 0; i < a.size(); ++i) a64[i] = a[i].re;
  const auto x = testing::random_image({1, n}, 9);
  std::vector<cfloat> y(m);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) y[i].re += a[i * n + j].re * x[j].re;
  y = noisy(y, 0.3, true);
  for (std::size_t i = 0; i < m; ++i) y64[i] = y[i].re;
  const std::size_t adims[2] = {m, n}, ydims[1] = {m};
  io::write_npy(dir / "leadfield.npy", std::span<const double>(a64), adims);
  io::write_npy(dir / "y.npy", std::span<const double>(y64), ydims);
  write_image("mean_n.npy", std::vector<float>(n, 0.0f), {n});
  write_image("var_n.npy", std::vector<float>(n, 1.0f), {n});
  const auto summary = run_ok("sample --operator dense --matrix " + path("leadfield.npy") + " --measurements " +
                              path("y.npy") + " --sigma 0.3 --prior-mean " + path("mean_n.npy") +
                              " --prior-variance " + path("var_n.npy") + design());
  EXPECT_EQ(summary["inputs"]["field"], "real");
}

/// --heldout-measurements: calibration.json's predictive_coverage over the held-out sets
/// (one group per set, one coordinate per measured entry; inpainting leaves the
/// unobserved pixels out), and the inputs it refuses with exit 2 and nothing written.
TEST_F(CliOperator, HeldOutMeasurementsGivePredictiveCoverage) {
  const auto mask = testing::random_mask({H, W}, 0.5, 11);
  std::size_t observed = 0;
  for (const float v : mask) observed += v > 0 ? 1 : 0;
  write_image("pixels.npy", mask);
  write_image("y.npy", noisy(testing::random_image({H, W}, 10), 0.1, false));
  std::vector<cfloat> heldout;
  for (std::uint64_t s = 0; s < 3; ++s) {
    const auto h = noisy(testing::random_image({H, W}, 20 + s), 0.1, false);
    heldout.insert(heldout.end(), h.begin(), h.end());
  }
  write_image("heldout.npy", heldout, {3, H, W});
  const std::string base = "sample --operator inpaint --mask " + path("pixels.npy") + " --measurements " +
                           path("y.npy") + " --sigma 0.1" + prior() + design();
  run_ok(base + " --heldout-measurements " + path("heldout.npy"));
  std::ifstream in(out() / "calibration.json");
  const auto pc = nlohmann::json::parse(in)["predictive_coverage"];
  EXPECT_EQ(pc["groups"], 3);
  EXPECT_EQ(pc["coordinates"], 2 * observed);  // Re and Im of every observed pixel
  EXPECT_EQ(pc["draws"], 16 * 8);
  EXPECT_EQ(pc["quantile"].size(), pc["nominal"].size());
  EXPECT_EQ(pc["standard_error"].size(), pc["nominal"].size());
  fs::remove_all(out());
  write_image("heldout_wrong.npy", std::vector<cfloat>(H * W + 1), {H * W + 1});
  expect_bad(base + " --heldout-measurements " + path("heldout_wrong.npy"), "held-out measurements");
  auto with_nan = heldout;
  with_nan[5].re = std::numeric_limits<float>::quiet_NaN();
  write_image("heldout_nan.npy", with_nan, {3, H, W});
  expect_bad(base + " --heldout-measurements " + path("heldout_nan.npy"), "must be finite");
  expect_bad(base + " --sbc-noise-scale 2", "--sbc-noise-scale needs --design sbc");
  expect_bad("sample --operator inpaint --mask " + path("pixels.npy") + " --measurements " + path("y.npy") +
                 " --sigma 0.1" + prior() + " --sampler pto --design sbc --runs 4 --chains 19 --backend cpu "
                 "--heldout-measurements " + path("heldout.npy"),
             "--heldout-measurements does not apply to --design sbc");
}

TEST_F(CliOperator, BlurInpaintAndSuperres) {
  write_image("y_blur.npy", noisy(testing::random_image({H, W}, 10), 0.1, false));
  // A 2×2 box: its transfer function vanishes at the Nyquist row and column (a null space).
  write_image("box.npy", std::vector<float>(4, 0.25f), {2, 2});
  run_ok("sample --operator blur --kernel " + path("box.npy") + " --measurements " + path("y_blur.npy") +
         " --sigma 0.1" + prior() + design());
  fs::remove_all(out());
  write_image("pixels.npy", testing::random_mask({H, W}, 0.5, 11));
  run_ok("sample --operator inpaint --mask " + path("pixels.npy") + " --measurements " + path("y_blur.npy") +
         " --sigma 0.1" + prior() + design());
  fs::remove_all(out());
  write_image("y_low.npy", noisy(testing::random_image({H / 2, W / 2}, 12), 0.1, false), {H / 2, W / 2});
  run_ok("sample --operator superres --factor 2 --measurements " + path("y_low.npy") + " --sigma 0.1" + prior() +
         design());
}

TEST_F(CliOperator, BadMulticoilInputs) {
  const auto d = make_multicoil(H, W, coils);
  write_image("k.npy", d.kspace, {coils, H, W});
  write_image("maps.npy", d.maps, {coils, H, W});
  write_image("maps1.npy", std::vector<cfloat>(d.maps.begin(), d.maps.begin() + H * W), {1, H, W});
  write_image("mask.npy", d.mask);
  write_image("lines7.npy", std::vector<float>(7, 1.0f), {7});
  auto bad_maps = d.maps;
  bad_maps[17].im = std::numeric_limits<float>::infinity();
  write_image("maps_inf.npy", bad_maps, {coils, H, W});
  const std::string base = "sample --operator mri-multicoil --kspace " + path("k.npy") + " --sigma 0.1" + prior() +
                           " --runs 2 --chains 2 --backend cpu";
  expect_bad(base + " --maps " + path("maps1.npy") + " --mask " + path("mask.npy"), "sensitivity maps have shape");
  expect_bad(base + " --maps " + path("maps_inf.npy") + " --mask " + path("mask.npy"), "sensitivity maps");
  expect_bad(base + " --maps " + path("maps.npy") + " --mask " + path("lines7.npy"), "mask");
  expect_bad(base + " --mask " + path("mask.npy"), "--maps");
  // A .cfl whose size disagrees with its .hdr.
  const auto bart = io::coil_stack_to_cfl({H, W, coils}, d.maps);
  io::write_cfl(dir / "cut", bart.data, bart.dims);
  fs::resize_file(dir / "cut.cfl", fs::file_size(dir / "cut.cfl") - 8);
  expect_bad(base + " --maps " + path("cut.cfl") + " --mask " + path("mask.npy"), "sensitivity maps");
  // An HDF5 file without `kspace`.
  {
    const hid_t f = H5Fcreate((dir / "nokspace.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[1] = {W};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t set = H5Dcreate2(f, "mask", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.mask.data());
    H5Dclose(set);
    H5Sclose(space);
    H5Fclose(f);
  }
  expect_bad("sample --operator mri-multicoil --kspace " + path("nokspace.h5") + " --maps " + path("maps.npy") +
                 " --sigma 0.1" + prior(),
             "kspace");
  // A truncated HDF5 file.
  {
    io::fastmri_contents c;
    c.shape = {H, W, coils};
    c.kspace = d.kspace;
    io::write_fastmri(dir / "whole.h5", c);
    fs::copy_file(dir / "whole.h5", dir / "cut.h5");
    fs::resize_file(dir / "cut.h5", fs::file_size(dir / "cut.h5") / 2);
  }
  expect_bad("sample --operator mri-multicoil --kspace " + path("cut.h5") + " --maps " + path("maps.npy") +
                 " --mask " + path("mask.npy") + " --sigma 0.1" + prior(),
             "k-space");
}

TEST_F(CliOperator, BadDenseInputs) {
  const std::size_t m = 4, n = H * W;
  write_image("a.npy", testing::random_matrix(m, n - 2, true, 1), {m, n - 2});
  write_image("a_full.npy", testing::random_matrix(m, n, true, 1), {m, n});
  write_image("y4.npy", std::vector<float>(m, 0.5f), {m});
  write_image("y5.npy", std::vector<float>(m + 1, 0.5f), {m + 1});
  write_image("mean_n.npy", std::vector<float>(n, 0.0f), {n});
  write_image("var_n.npy", std::vector<float>(n, 1.0f), {n});
  const std::string prior_n = " --prior-mean " + path("mean_n.npy") + " --prior-variance " + path("var_n.npy");
  // A lead field with fewer columns than the source vector has entries.
  expect_bad("sample --operator dense --matrix " + path("a.npy") + " --measurements " + path("y4.npy") +
                 " --sigma 0.1" + prior_n,
             "prior mean");
  expect_bad("sample --operator dense --matrix " + path("a_full.npy") + " --measurements " + path("y5.npy") +
                 " --sigma 0.1" + prior_n,
             "rows");
  expect_bad("sample --operator dense --measurements " + path("y4.npy") + " --sigma 0.1" + prior_n, "--matrix");
}

TEST_F(CliOperator, BadOperatorParameters) {
  write_image("y.npy", testing::random_image({H, W}, 2));
  const std::string y = " --measurements " + path("y.npy") + " --sigma 0.1" + prior();
  // y is the low-resolution image: ×3 makes 24×24 images, which the 8×8 prior is not.
  expect_bad("sample --operator superres --factor 3" + y, "prior mean");
  expect_bad("sample --operator superres" + y, "--factor");
  expect_bad("sample --operator blur" + y, "--kernel");
  expect_bad("sample --operator blur --kernel-std -1" + y, "--kernel-std");
  expect_bad("sample --operator inpaint" + y, "--mask");
  expect_bad("sample --operator radon" + y, "--operator");
}

/// Mixture and empirical priors from files: a bimodal real mixture with a dense
/// lead field sampled by `exact` against the exact mixture posterior (mean within
/// 4 Monte Carlo SE per pixel on average, total variance within 0.15 — 8 × 64
/// chains give a relative SE of the spatially averaged variance below 0.05), then
/// the empirical prior of a five-image stack, then bad mixtures.
TEST_F(CliOperator, MixtureAndEmpiricalPriors) {
  constexpr std::size_t m = 3, n = 8;
  const auto a = testing::random_matrix(m, n, true, 8);
  std::vector<float> a32(a.size()), y(m, 0.4f);
  for (std::size_t i = 0; i < a.size(); ++i) a32[i] = a[i].re;
  write_image("lead.npy", a32, {m, n});
  write_image("y.npy", y, {m});
  std::vector<float> means(2 * n), vars(2 * n, 0.3f);
  for (std::size_t i = 0; i < n; ++i) means[i] = -1.5f, means[n + i] = 1.5f;
  write_image("means.npy", means, {2, n});
  write_image("vars.npy", vars, {2, n});
  write_image("w.npy", std::vector<float>{0.4f, 0.6f}, {2});
  const std::string base = "sample --operator dense --matrix " + path("lead.npy") + " --measurements " + path("y.npy") +
                           " --sigma 0.5 --backend cpu";
  const std::string mixture = " --prior mixture --prior-weights " + path("w.npy") + " --prior-mean " +
                              path("means.npy") + " --prior-variance " + path("vars.npy");
  const auto r = run_cli(base + mixture + " --sampler exact --design replicate --runs 8 --chains 64 --levels 100" +
                         " --reference --out " + out().string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(out() / "summary.json");
  const auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["inputs"]["prior"], "gaussian-mixture");
  EXPECT_EQ(summary["inputs"]["field"], "real");
  const auto& cmp = summary["against_exact_reference"];
  EXPECT_LT(cmp["mean_error_rms_in_posterior_std"].get<double>(), 4 / std::sqrt(8.0 * 64)) << cmp.dump();
  EXPECT_NEAR(cmp["total_variance_ratio"].get<double>(), 1.0, 0.15) << cmp.dump();
  EXPECT_TRUE(fs::exists(out() / "reference_variance.npy"));
  fs::remove_all(out());

  std::vector<float> stack(5 * n);
  for (std::size_t i = 0; i < stack.size(); ++i) stack[i] = float(int(i % 7) - 3) / 3.0f;
  write_image("stack.npy", stack, {5, n});
  const auto e = run_cli(base + " --prior empirical --prior-images " + path("stack.npy") +
                         " --sampler langevin --levels 50 --runs 2 --chains 4 --out " + out().string());
  EXPECT_EQ(e.code, 0) << e.output;
  fs::remove_all(out());

  write_image("w_bad.npy", std::vector<float>{1.2f, -0.2f}, {2});
  write_image("w3.npy", std::vector<float>{0.2f, 0.3f, 0.5f}, {3});
  write_image("vars0.npy", std::vector<float>(2 * n, 0.0f), {2, n});
  const std::string rest = " --prior-mean " + path("means.npy") + " --runs 2 --chains 2";
  expect_bad(base + " --prior mixture --prior-weights " + path("w_bad.npy") + " --prior-variance " + path("vars.npy") +
                 rest,
             "mixture weight 1 must be finite and >= 0");
  expect_bad(base + " --prior mixture --prior-weights " + path("w3.npy") + " --prior-variance " + path("vars.npy") +
                 rest,
             "same number of components");
  expect_bad(base + " --prior mixture --prior-weights " + path("w.npy") + " --prior-variance " + path("vars0.npy") +
                 rest,
             "must be finite and > 0");
  expect_bad(base + " --prior mixture --prior-weights " + path("w.npy") + " --prior-variance " + path("vars.npy") +
                 rest + " --sampler exact --design cascade",
             "needs the prior in the operator's basis");
  expect_bad(base + " --prior lasso" + rest, "--prior must be gaussian, mixture, empirical, torchscript, minimum-norm or factor");
}

/// --design sbc with the exact `pto` sampler: calibration.json holds rank histograms
/// whose χ² p-values do not reject (8 + 5 tests at 10⁻⁴: a false alarm has
/// probability ~10⁻³), for the posterior and for stage 2; K + 1 without a small
/// divisor and L = 1 are refused.
TEST_F(CliOperator, SimulationBasedCalibrationDesign) {
  write_image("y.npy", noisy(testing::random_image({H, W}, 10), 0.2, false));
  write_image("pixels.npy", testing::random_mask({H, W}, 0.5, 11));
  const std::string base = "sample --operator inpaint --mask " + path("pixels.npy") + " --measurements " +
                           path("y.npy") + " --sigma 0.2" + prior() + " --sampler pto --design sbc --backend cpu";
  for (const std::string stage : {"", " --sbc-stage2"}) {
    const auto r = run_cli(base + stage + " --runs 60 --chains 19 --out " + out().string());
    ASSERT_EQ(r.code, 0) << r.output;
    std::ifstream in(out() / "calibration.json");
    const auto cal = nlohmann::json::parse(in);
    const auto& tests = cal["sbc"]["tests"];
    EXPECT_EQ(tests.size(), stage.empty() ? 8u : 5u);
    for (const auto& t : tests) {
      EXPECT_EQ(t["ranks"].size(), 60u);
      EXPECT_GT(t["chi2_p"].get<double>(), 1e-4) << t["name"] << stage;
      EXPECT_GT(t["ecdf_p"].get<double>(), 1e-4) << t["name"] << stage;
      EXPECT_EQ(t["ecdf_difference"].size(), 19u);
    }
    EXPECT_EQ(cal["sbc"]["ecdf_band"]["lower"].size(), 19u);
    EXPECT_TRUE(cal.contains("conformal"));
    // --wave-chains 38: two replicates per batch, the same ranks.
    const auto batched = run_cli(base + stage + " --runs 60 --chains 19 --wave-chains 38 --no-report --out " +
                                 (out().string() + "-b"));
    ASSERT_EQ(batched.code, 0) << batched.output;
    std::ifstream again(out().string() + "-b/calibration.json");
    EXPECT_EQ(nlohmann::json::parse(again)["sbc"]["tests"], tests);
    std::ifstream summary(out().string() + "-b/summary.json");
    EXPECT_EQ(nlohmann::json::parse(summary)["sbc"]["batches"], 30);
    fs::remove_all(out().string() + "-b");
    fs::remove_all(out());
  }
  // The held-out measurement of every replicate: covered at p with the right noise
  // (4 standard errors over the 60 replicates), far less with --sbc-noise-scale 2.
  for (const std::string scale : {"1", "2"}) {
    const auto r = run_cli(base + " --runs 60 --chains 19 --no-report --sbc-noise-scale " + scale + " --out " +
                           out().string());
    ASSERT_EQ(r.code, 0) << r.output;
    std::ifstream in(out() / "calibration.json");
    const auto pc = nlohmann::json::parse(in)["predictive_coverage"];
    const double c = pc["quantile"][8].get<double>(), se = pc["standard_error"][8].get<double>();
    EXPECT_EQ(pc["nominal"][8].get<double>(), 0.9);
    if (scale == "1") EXPECT_NEAR(c, 0.9, 4 * se);
    else EXPECT_LT(c, 0.9 - 5 * se);
    fs::remove_all(out());
  }
  expect_bad(base + " --runs 10 --chains 100", "divisor between 2 and 20");
  expect_bad(base + " --runs 1 --chains 19", "--runs: must be a whole number in [2, ");
}

}  // namespace
}  // namespace twofold
