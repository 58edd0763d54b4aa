#pragma once
// TorchScript modules for the tests, built at test time with LibTorch's C++ API
// (torch::jit::Module::define compiles TorchScript source; save writes the same zip
// archive torch.jit.save writes): nothing is committed and nothing needs Python.
//
// The Gaussian denoiser D(z, s) = μ + v/(v + s²)(z − μ) per pixel (docs/design.md §1.3), in
// every output and noise convention of docs/learned_priors.md, for checking the
// engine's conversions against the built-in gaussian_prior.
#include <twofold/core/types.hpp>

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace twofold::testing {

/// The module `source` (TorchScript with `forward(self, x, noise)`) with the given
/// buffers, saved to `path`.
inline void save_module(const std::filesystem::path& path, const std::string& source,
                        const std::vector<std::pair<std::string, torch::Tensor>>& buffers = {}) {
  torch::jit::Module m("fixture");
  for (const auto& [name, t] : buffers) m.register_buffer(name, t);
  m.define(source);
  m.save(path.string());
}

struct gaussian_module_options {
  std::string output = "x0";     // x0 | eps | score
  std::string noise = "sigma";   // sigma | logsigma | vp-t
  double scale = 1.0;            // the module holds S μ and S² v: it denoises S z
  std::size_t channels = 2;      // 2: complex (re, im); 1: real
  double beta_start = 1e-4, beta_end = 0.02;
  std::size_t steps = 1000;
};

/// The Gaussian denoiser of CN(μ, diag v) (complex) or N(μ, diag v) (real) as a
/// TorchScript module in the given convention, saved to `path`.
inline void save_gaussian_module(const std::filesystem::path& path, image_shape shape, std::span<const cfloat> mean,
                                 std::span<const float> variance, const gaussian_module_options& o) {
  const auto H = int64_t(shape.height), W = int64_t(shape.width);
  const auto C = int64_t(o.channels);
  torch::Tensor mu = torch::zeros({1, C, H, W});
  torch::Tensor v = torch::zeros({1, 1, H, W});
  auto m = mu.accessor<float, 4>();
  auto va = v.accessor<float, 4>();
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j) {
      const std::size_t p = std::size_t(i * W + j);
      m[0][0][i][j] = float(o.scale * mean[p].re);
      if (C == 2) m[0][1][i][j] = float(o.scale * mean[p].im);
      va[0][0][i][j] = float(o.scale * o.scale * variance[p]);
    }
  // The engine-convention noise level s of the module's input (the per-channel std
  // is s/√2 for complex images, s for real ones).
  const std::string per_channel = C == 2 ? "1.4142135623730951" : "1.0";
  std::string level;
  if (o.noise == "sigma") level = "    s = noise.view(-1, 1, 1, 1)\n    u = x\n    a = torch.ones_like(s)\n";
  if (o.noise == "logsigma")
    level = "    s = torch.exp(noise).view(-1, 1, 1, 1)\n    u = x\n    a = torch.ones_like(s)\n";
  torch::Tensor log_alpha_bar = torch::zeros({int64_t(o.steps)}, torch::kFloat64);
  if (o.noise == "vp-t") {
    double l = 0;
    for (std::size_t i = 0; i < o.steps; ++i) {
      l += std::log1p(-(o.beta_start + (o.beta_end - o.beta_start) * double(i) / double(o.steps - 1)));
      log_alpha_bar[int64_t(i)] = l;
    }
    // ᾱ at fractional t by linear interpolation of ln ᾱ; x_t = √ᾱ u, u = x₀ + s ε with
    // the per-channel std σ_c = √((1 − ᾱ)/ᾱ) = s/√2 (complex) or s (real).
    level = "    t = noise.double()\n"
            "    i = torch.clamp(torch.floor(t), 0, self.lab.shape[0] - 2).long()\n"
            "    f = t - i.double()\n"
            "    la = self.lab[i] + f * (self.lab[i + 1] - self.lab[i])\n"
            "    ab = torch.exp(la)\n"
            "    a = torch.sqrt(ab).float().view(-1, 1, 1, 1)\n"
            "    s = (torch.sqrt((1.0 - ab) / ab) * " + per_channel + ").float().view(-1, 1, 1, 1)\n"
            "    u = x / a\n";
  }
  std::string out;
  if (o.output == "x0") out = "    return d\n";
  // eps: the per-channel unit-variance noise of the module's input x = a u.
  if (o.output == "eps") out = "    return (u - d) / (s / " + per_channel + ")\n";
  // score: Wirtinger ∂ log p/∂x̄ of x = a u at its level a s: (a d − x)/(a s)².
  if (o.output == "score") out = "    return (a * d - x) / ((a * s) * (a * s))\n";
  const std::string source = "def forward(self, x, noise):\n" + level +
                             "    d = self.mu + self.v / (self.v + s * s) * (u - self.mu)\n" + out;
  save_module(path, source, {{"mu", mu}, {"v", v}, {"lab", log_alpha_bar}});
}

}  // namespace twofold::testing
