// torchscript_prior against the built-in Gaussian prior: a TorchScript module that
// implements the Gaussian denoiser in each output/noise convention must give the
// engine the same D(z, s), the same VJP and the same maps (to float round-off) as
// gaussian_prior; bad models are refused with bad_input / runtime_failure naming them.
#include "tests/support/pixel_prior_case.hpp"
#include "tests/support/test_support.hpp"
#include "tests/torch/torchscript_fixtures.hpp"

#include <twofold/twofold.hpp>

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace twofold::testing {
namespace {

namespace fs = std::filesystem;

/// This process's folder for model files, removed when the process ends.
fs::path scratch_dir() {
  struct folder {
    fs::path path = fs::temp_directory_path() / ("twofold-torchscript-test-" + std::to_string(::getpid()));
    folder() { fs::create_directories(path); }
    ~folder() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const folder f;
  return f.path;
}

struct convention {
  const char* output;
  const char* noise;
  double scale;
};

torchscript_options options_of(const convention& c, std::size_t channels = 2) {
  torchscript_options o;
  o.output = parse_model_output(c.output);
  o.noise = parse_model_noise(c.noise);
  o.scale = c.scale;
  o.channels = channels;
  return o;
}

gaussian_module_options module_of(const convention& c, std::size_t channels = 2) {
  gaussian_module_options m;
  m.output = c.output;
  m.noise = c.noise;
  m.scale = c.scale;
  m.channels = channels;
  return m;
}

std::string label(const convention& c) {
  return std::string(c.output) + "/" + c.noise + "/scale " + std::to_string(c.scale);
}

/// max |a − b| over a chain batch, in units of max |x| (x: the denoiser's input z, or
/// the VJP's w). Round-off of the conventions' conversions is relative to the input, not
/// to the result: eps and score at large s compute D = z − σ_c ε̂ ≈ μ and Jᵀw = w − (w − G w)
/// with G = v/(v + s²) ≪ 1, which cancel down to a small result exactly as the networks'
/// own parameterisation does.
double difference(const std::vector<cfloat>& a, const std::vector<cfloat>& b, const std::vector<cfloat>& x) {
  double diff = 0, size = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::sqrt(norm2(cdouble(a[i]) - cdouble(b[i]))));
  for (const cfloat v : x) size = std::max(size, std::sqrt(norm2(cdouble(v))));
  return diff / size;
}

// A few float32 operations, each rounding by 6e-8 of the input's size (vp-t: t passed in
// float32, 6e-8 relative, moves ᾱ by less than that): 64 units of round-off.
constexpr double round_off = 4e-6;

const convention every_convention[] = {
    {"x0", "sigma", 1.0},    {"eps", "sigma", 1.0}, {"score", "sigma", 1.0},   {"x0", "logsigma", 1.0},
    {"eps", "logsigma", 2.5}, {"score", "logsigma", 0.5}, {"x0", "vp-t", 1.0}, {"eps", "vp-t", 1.0},
    {"score", "vp-t", 3.0},
};

TEST(TorchScriptPrior, DenoiserEqualsGaussianPriorInEveryConvention) {
  const pixel_prior_case pc;
  const fs::path dir = scratch_dir();
  const std::size_t chains = 5;
  const auto z_host = random_image({pc.shape.height * chains, pc.shape.width}, 11, 2.0f);
  const auto z = to_backend(pc.ctx, z_host, chains, pc.shape);
  chain_buffer want(pc.ctx, chains, pc.shape), got(pc.ctx, chains, pc.shape);
  for (const convention& c : every_convention) {
    const fs::path file = dir / "gauss.pt";
    save_gaussian_module(file, pc.shape, pc.prior.mean(), pc.prior.variance(), module_of(c));
    const torchscript_prior net(pc.ctx, file, pc.shape, options_of(c));
    // vp-t: levels inside the schedule's range (below its first step t is clamped to 0).
    const std::vector<double> levels = std::string(c.noise) == "vp-t" ? std::vector<double>{0.05, 0.3, 1, 10}
                                                                       : std::vector<double>{1e-3, 0.05, 1, 10};
    for (const double s : levels) {
      pc.prior.denoise(pc.ctx, z.view(), s, want.view());
      net.denoise(pc.ctx, z.view(), s, got.view());
      // float32 round-off of a handful of operations (eps: z − σ_c ε̂ with ε̂ ~ |z|/σ_c;
      // vp-t: t passed as float32, a relative error 6e-8 in t).
      EXPECT_LT(difference(to_host(pc.ctx, got.view()), to_host(pc.ctx, want.view()), z_host), round_off)
          << label(c) << " at s = " << s;
    }
  }
}

TEST(TorchScriptPrior, RealImagesUseOneChannel) {
  context ctx(backend_request::cpu);
  const image_shape shape{6, 7};
  std::vector<cfloat> mean(shape.pixels());
  std::vector<float> variance(shape.pixels());
  for (std::size_t p = 0; p < shape.pixels(); ++p) {
    mean[p] = {float(0.1 * double(p % 5)), 0.0f};
    variance[p] = float(0.2 + 0.05 * double(p % 3));
  }
  const gaussian_prior prior(ctx, gaussian_basis::pixel, shape, mean, variance);
  const fs::path file = scratch_dir() / "gauss-real.pt";
  const std::size_t chains = 3;
  auto z_host = random_image({shape.height * chains, shape.width}, 5);
  for (auto& v : z_host) v.im = 0.0f;
  const auto z = to_backend(ctx, z_host, chains, shape);
  chain_buffer want(ctx, chains, shape), got(ctx, chains, shape);
  for (const convention& c : {convention{"x0", "sigma", 1.0}, convention{"eps", "sigma", 1.0},
                              convention{"score", "logsigma", 1.0}, convention{"eps", "vp-t", 1.0}}) {
    save_gaussian_module(file, shape, mean, variance, module_of(c, 1));
    const torchscript_prior net(ctx, file, shape, options_of(c, 1));
    for (const double s : {0.05, 0.5, 5.0}) {
      prior.denoise(ctx, z.view(), s, want.view());
      net.denoise(ctx, z.view(), s, got.view());
      const auto g = to_host(ctx, got.view());
      EXPECT_LT(difference(g, to_host(ctx, want.view()), z_host), round_off) << label(c) << " at s = " << s;
      for (const cfloat v : g) ASSERT_EQ(v.im, 0.0f);
    }
  }
}

TEST(TorchScriptPrior, VjpFromAutogradEqualsGaussianPriorVjp) {
  const pixel_prior_case pc;
  const fs::path file = scratch_dir() / "gauss-vjp.pt";
  const std::size_t chains = 4;
  const auto z = to_backend(pc.ctx, random_image({pc.shape.height * chains, pc.shape.width}, 21), chains, pc.shape);
  const auto w_host = random_image({pc.shape.height * chains, pc.shape.width}, 22);
  const auto w = to_backend(pc.ctx, w_host, chains, pc.shape);
  chain_buffer want(pc.ctx, chains, pc.shape), got(pc.ctx, chains, pc.shape);
  for (const convention& c : every_convention) {
    save_gaussian_module(file, pc.shape, pc.prior.mean(), pc.prior.variance(), module_of(c));
    const torchscript_prior net(pc.ctx, file, pc.shape, options_of(c));
    ASSERT_TRUE(net.has_vjp());
    for (const double s : {0.05, 0.5, 5.0}) {
      pc.prior.vjp(pc.ctx, z.view(), s, w.view(), want.view());
      net.vjp(pc.ctx, z.view(), s, w.view(), got.view());
      EXPECT_LT(difference(to_host(pc.ctx, got.view()), to_host(pc.ctx, want.view()), w_host), round_off)
          << label(c) << " at s = " << s;
    }
  }
}

/// Maps of the TorchScript Gaussian and of the built-in prior with the same seed.
struct map_pair {
  uncertainty_maps builtin, net;
};

map_pair sample_both(const pixel_prior_case& pc, const prior& net, sampler_kind kind, std::size_t levels) {
  sampler_params sp;
  sp.kind = kind;
  sp.schedule.levels = levels;
  design_params dp;
  dp.runs = 4;
  dp.chains_per_run = 4;
  dp.seed = 3;
  const inverse_problem problem = pc.problem();
  return {sample(pc.ctx, problem, pc.prior, sp, dp).maps, sample(pc.ctx, problem, net, sp, dp).maps};
}

/// max over pixels of |a − b| relative to the largest |b|.
double map_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, size = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    size = std::max(size, std::abs(b[i]));
  }
  return diff / size;
}

double map_difference(const std::vector<cdouble>& a, const std::vector<cdouble>& b) {
  double diff = 0, size = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::sqrt(norm2(a[i] - b[i])));
    size = std::max(size, std::sqrt(norm2(b[i])));
  }
  return diff / size;
}

// The samplers see the same draws (same seed, same chain indices); the two denoisers
// differ only by float32 round-off (the built-in computes v/(v + s²) in double, the
// module in float32), which the contracting Gaussian dynamics do not amplify: over
// 150–300 steps the maps agree to about 1e-5 of their size (measured: below 3e-6 for
// the mean, 2e-5 for the variance maps). A denoiser error of one part in 10³ moves them
// by about 10⁻³, so 1e-4 separates round-off from a wrong conversion.
void expect_same_maps(const map_pair& m, const std::string& what) {
  std::printf("%s: relative differences mean %.2g, ambiguity %.2g, estimation %.2g, total variance %.2g\n",
              what.c_str(), map_difference(m.net.mean, m.builtin.mean),
              map_difference(m.net.ambiguity, m.builtin.ambiguity),
              map_difference(m.net.estimation_clipped, m.builtin.estimation_clipped),
              map_difference(m.net.total_variance, m.builtin.total_variance));
  EXPECT_LT(map_difference(m.net.mean, m.builtin.mean), 1e-4) << what << ": mean";
  EXPECT_LT(map_difference(m.net.ambiguity, m.builtin.ambiguity), 1e-4) << what << ": ambiguity";
  EXPECT_LT(map_difference(m.net.estimation_clipped, m.builtin.estimation_clipped), 1e-4) << what << ": estimation";
  EXPECT_LT(map_difference(m.net.total_variance, m.builtin.total_variance), 1e-4) << what << ": total variance";
}

TEST(TorchScriptPrior, LangevinMapsEqualTheGaussianPriorsForTheSameSeed) {
  const pixel_prior_case pc;
  const fs::path file = scratch_dir() / "gauss-langevin.pt";
  for (const convention& c : {convention{"x0", "sigma", 1.0}, convention{"eps", "sigma", 1.0},
                              convention{"score", "logsigma", 1.0}, convention{"x0", "logsigma", 2.0}}) {
    save_gaussian_module(file, pc.shape, pc.prior.mean(), pc.prior.variance(), module_of(c));
    const torchscript_prior net(pc.ctx, file, pc.shape, options_of(c));
    expect_same_maps(sample_both(pc, net, sampler_kind::langevin, 50), "langevin " + label(c));
  }
}

TEST(TorchScriptPrior, PigdmAndDpsMapsEqualTheGaussianPriorsForTheSameSeed) {
  const pixel_prior_case pc;
  const fs::path file = scratch_dir() / "gauss-vjp-samplers.pt";
  for (const convention& c : {convention{"x0", "sigma", 1.0}, convention{"eps", "logsigma", 1.0}}) {
    save_gaussian_module(file, pc.shape, pc.prior.mean(), pc.prior.variance(), module_of(c));
    const torchscript_prior net(pc.ctx, file, pc.shape, options_of(c));
    expect_same_maps(sample_both(pc, net, sampler_kind::pigdm, 100), "pigdm " + label(c));
    expect_same_maps(sample_both(pc, net, sampler_kind::dps, 100), "dps " + label(c));
  }
}

TEST(TorchScriptPrior, TimingCountsCallsAndNetworkTime) {
  const pixel_prior_case pc;
  const fs::path file = scratch_dir() / "gauss-timing.pt";
  save_gaussian_module(file, pc.shape, pc.prior.mean(), pc.prior.variance(), {});
  const torchscript_prior net(pc.ctx, file, pc.shape);
  EXPECT_EQ(net.timing().calls, 0u);  // the load's probe calls are not counted
  const auto z = to_backend(pc.ctx, random_image(pc.shape, 1), 1, pc.shape);
  chain_buffer out(pc.ctx, 1, pc.shape);
  net.denoise(pc.ctx, z.view(), 0.5, out.view());
  net.vjp(pc.ctx, z.view(), 0.5, z.view(), out.view());
  const auto t = net.timing();
  EXPECT_EQ(t.calls, 2u);
  EXPECT_GT(t.network_seconds, 0.0);
  EXPECT_GE(t.call_seconds, t.network_seconds);
  EXPECT_EQ(net.name(), "torchscript:gauss-timing.pt");
}

// ---- bad models -----------------------------------------------------------------

template <class E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "no exception";
}

struct bad_model_case {
  const char* name;
  std::string source;  // empty: not written by save_module
  const char* expected;  // in the message
};

TEST(TorchScriptPrior, BadModelsAreBadInputNamingTheModel) {
  context ctx(backend_request::cpu);
  const image_shape shape{8, 8};
  const fs::path dir = scratch_dir();
  const bad_model_case cases[] = {
      {"wrong-shape.pt", "def forward(self, x, noise):\n    return x[:, :1]\n", "returned shape [2, 1, 8, 8]"},
      {"wrong-dtype.pt", "def forward(self, x, noise):\n    return x.double()\n", "Double"},
      {"nan.pt", "def forward(self, x, noise):\n    return x * float('nan')\n", "not finite"},
      {"inf.pt", "def forward(self, x, noise):\n    return x / 0.0\n", "not finite"},
      {"tuple.pt", "def forward(self, x, noise):\n    return (x, x)\n", "must return one Tensor"},
      {"one-argument.pt", "def forward(self, x):\n    return x\n", "forward(x [2, 2, 8, 8] float32, noise [2]"},
      {"wrong-channels.pt", "def forward(self, x, noise):\n    return x.reshape(-1, 1, 8, 8) * torch.ones(1, 3, 1, 1)\n",
       "returned shape [4, 3, 8, 8] for x of shape [2, 2, 8, 8]"},
      {"broadcast-error.pt", "def forward(self, x, noise):\n    return x * torch.ones(1, 2, 5, 5)\n",
       "forward(x [2, 2, 8, 8] float32, noise [2] float32) failed: The size of tensor a (8) must match"},
  };
  for (const auto& c : cases) {
    const fs::path file = dir / c.name;
    save_module(file, c.source);
    const std::string m = message_of<bad_input>([&] { torchscript_prior(ctx, file, shape); });
    EXPECT_NE(m.find(file.string()), std::string::npos) << c.name << ": " << m;
    EXPECT_NE(m.find(c.expected), std::string::npos) << c.name << ": " << m;
  }
  // Missing, not TorchScript, a folder.
  const std::string missing = message_of<bad_input>([&] { torchscript_prior(ctx, dir / "absent.pt", shape); });
  EXPECT_NE(missing.find((dir / "absent.pt").string() + ": no such file"), std::string::npos) << missing;
  {
    std::ofstream(dir / "garbage.pt") << "this is not a zip archive\n";
  }
  const std::string garbage = message_of<bad_input>([&] { torchscript_prior(ctx, dir / "garbage.pt", shape); });
  EXPECT_NE(garbage.find("garbage.pt: not a TorchScript file"), std::string::npos) << garbage;
  const std::string folder = message_of<bad_input>([&] { torchscript_prior(ctx, dir, shape); });
  EXPECT_NE(folder.find("not a regular file"), std::string::npos) << folder;
  // Options out of range.
  save_module(dir / "id.pt", "def forward(self, x, noise):\n    return x\n");
  torchscript_options o;
  o.scale = 0;
  EXPECT_NE(message_of<bad_input>([&] { torchscript_prior(ctx, dir / "id.pt", shape, o); }).find("scale"),
            std::string::npos);
  o = {};
  o.channels = 3;
  EXPECT_NE(message_of<bad_input>([&] { torchscript_prior(ctx, dir / "id.pt", shape, o); }).find("channels"),
            std::string::npos);
  EXPECT_NE(message_of<bad_input>([&] { torchscript_prior(ctx, dir / "id.pt", {4, 8, 8}); }).find("one non-empty plane"),
            std::string::npos);
  EXPECT_NE(message_of<bad_input>([] { parse_model_output("x_0"); }).find("x0, eps or score"), std::string::npos);
  EXPECT_NE(message_of<bad_input>([] { parse_model_noise("t"); }).find("sigma, logsigma or vp-t"), std::string::npos);
}

TEST(TorchScriptPrior, FailuresWhileSamplingAreRuntimeFailuresNamingTheModel) {
  context ctx(backend_request::cpu);
  const image_shape shape{8, 8};
  const fs::path file = scratch_dir() / "nan-below.pt";
  // Fine at the probe's level (s = 1), NaN below s = 0.5.
  save_module(file, "def forward(self, x, noise):\n    return x * torch.where(noise < 0.5, float('nan'), 1.0).view(-1, 1, 1, 1)\n");
  const torchscript_prior net(ctx, file, shape);
  const auto z = to_backend(ctx, random_image(shape, 3), 1, shape);
  chain_buffer out(ctx, 1, shape);
  net.denoise(ctx, z.view(), 1.0, out.view());
  const std::string m = message_of<runtime_failure>([&] { net.denoise(ctx, z.view(), 0.25, out.view()); });
  EXPECT_NE(m.find(file.string()), std::string::npos) << m;
  EXPECT_NE(m.find("s = 0.25"), std::string::npos) << m;
  EXPECT_NE(m.find("not finite"), std::string::npos) << m;
  // A network without an autograd graph serves denoise but not vjp.
  const fs::path detached = scratch_dir() / "detached.pt";
  save_module(detached, "def forward(self, x, noise):\n    return x.detach()\n");
  const torchscript_prior frozen(ctx, detached, shape);
  frozen.denoise(ctx, z.view(), 0.25, out.view());
  const std::string v = message_of<runtime_failure>([&] { frozen.vjp(ctx, z.view(), 0.25, z.view(), out.view()); });
  EXPECT_NE(v.find("does not depend differentiably on x"), std::string::npos) << v;
  EXPECT_NE(v.find(detached.string()), std::string::npos) << v;
  // A wrong batch shape is the caller's error.
  chain_buffer wrong(ctx, 1, {4, 4});
  EXPECT_THROW(net.denoise(ctx, z.view(), 1.0, wrong.view()), bad_input);
}

TEST(TorchScriptPrior, ThePluginIsAvailableInThisBuild) {
  std::string why;
  EXPECT_TRUE(torchscript_available(&why)) << why;
}

TEST(TorchScriptPrior, LoadingAModelKeepsTheEnginesThreadCount) {
  // LibTorch's default thread count (1 on the 2-core machine this was written on) must
  // not become the engine's: the prior sets LibTorch's to the engine's and restores it.
  const int before = omp_get_max_threads();
  context ctx(backend_request::cpu);
  const fs::path file = scratch_dir() / "threads.pt";
  save_module(file, "def forward(self, x, noise):\n    return x\n");
  const torchscript_prior net(ctx, file, {8, 8});
  const auto z = to_backend(ctx, random_image({8, 8}, 1), 1, {8, 8});
  chain_buffer out(ctx, 1, {8, 8});
  net.denoise(ctx, z.view(), 1.0, out.view());
  EXPECT_EQ(omp_get_max_threads(), before);
  EXPECT_EQ(at::get_num_threads(), before);
}

}  // namespace
}  // namespace twofold::testing
