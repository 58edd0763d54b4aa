#pragma once
/// \file
/// Learned priors: a TorchScript denoiser as a `prior` (docs/learned_priors.md).
///
///   twofold::torchscript_prior net(ctx, "denoiser.pt", {64, 64});            // x0 output, sigma input
///   auto result = twofold::sample(ctx, problem, net, params, design);
///
/// The module's `forward(x: Tensor, noise: Tensor) -> Tensor` is called once per
/// denoiser evaluation on the whole batch of chains: x is [B, C, H, W] float32 on the
/// context's device (C = 2: real and imaginary parts; C = 1: real images, the real
/// parts), noise is [B] (every entry the same level, in the convention of
/// `torchscript_options::noise`); it returns [B, C, H, W] float32, read as
/// `torchscript_options::output` says. The vector-Jacobian product (dps, pigdm, smc)
/// comes from autograd through the network and the convention's conversion.
///
/// LibTorch is not linked into the library: the first torchscript_prior loads the
/// plugin `libtwofold_torch.so` (built when CMake finds LibTorch, TWOFOLD_WITH_TORCH),
/// so programs that never load a model never pay LibTorch's start-up. Where the plugin
/// is looked for: $TWOFOLD_TORCH_PLUGIN, then `lib/` beside the program's or the
/// library's folder (installed), then the build tree it was built in.

#include <twofold/core/context.hpp>
#include <twofold/priors/prior.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace twofold {

/// What the network predicts (docs/learned_priors.md has the derivations).
enum class model_output {
  x0,     ///< the clean image: D(z, s) = x̂ / S
  eps,    ///< the noise per channel, unit variance: D = z − σ_c ε̂, σ_c = s/√2 (complex) or s (real)
  score,  ///< ∂ log p_s / ∂z̄ (Wirtinger; the gradient for real images) of its input: D = z + s² score
};

/// How the network is told the noise level s of z = x + s ε (ε ~ CN(0, I), or N(0, I) real).
enum class model_noise {
  sigma,     ///< noise = S·s
  logsigma,  ///< noise = ln(S·s)
  vp_t,      ///< a timestep of the linear-β VP schedule; the input is scaled by √ᾱ
};

/// The discrete VP (DDPM) schedule of `model_noise::vp_t`: β_i linear from
/// `beta_start` to `beta_end`, i = 0 … steps − 1, ᾱ_i = Π_{j ≤ i} (1 − β_j) (the
/// defaults are DDPM's and diffusers' "linear" schedule).
struct vp_schedule {
  double beta_start = 1e-4;
  double beta_end = 0.02;
  std::size_t steps = 1000;
};

struct torchscript_options {
  model_output output = model_output::x0;
  model_noise noise = model_noise::sigma;
  /// The network sees S·z with noise level S·s and its x0 output is divided by S.
  double scale = 1.0;
  /// 2: complex images as (real, imaginary) channels; 1: real images (real problems).
  std::size_t channels = 2;
  vp_schedule vp{};
};

/// "x0" | "eps" | "score"; "sigma" | "logsigma" | "vp-t". Throw bad_input naming `what`.
model_output parse_model_output(std::string_view text, std::string_view what = "model output");
model_noise parse_model_noise(std::string_view text, std::string_view what = "model noise");
std::string_view to_string(model_output o);
std::string_view to_string(model_noise n);

/// Whether the TorchScript plugin can be loaded here; otherwise `why` (if given) says why.
bool torchscript_available(std::string* why = nullptr);
/// Whether the plugin's LibTorch can run on CUDA here (false without the plugin).
bool torchscript_supports_cuda();

/// Cumulative time spent in a torchscript_prior's calls.
struct torchscript_timing {
  std::size_t calls = 0;         ///< denoise and vjp calls
  double network_seconds = 0;    ///< inside the module's forward (and autograd's backward)
  double call_seconds = 0;       ///< the whole calls: network, layout copies and conversions, checks
};

class torchscript_prior final : public prior {
 public:
  /// Loads the module at `model` for images of `shape` (one coil plane) on ctx's
  /// backend and probes it with one call of the expected shape. bad_input (naming the
  /// file and what is wrong) when the file is missing or not TorchScript, when
  /// forward fails on [2, C, H, W] or returns another shape, dtype or device, when the
  /// probe's output is not finite, or when the options are out of range, or the
  /// context is on CUDA and the plugin's LibTorch has no CUDA; runtime_failure when
  /// the plugin cannot be loaded.
  torchscript_prior(const context& ctx, const std::filesystem::path& model, image_shape shape,
                    torchscript_options options = {});
  ~torchscript_prior() override;
  torchscript_prior(torchscript_prior&&) noexcept;
  torchscript_prior& operator=(torchscript_prior&&) noexcept;

  image_shape shape() const override { return shape_; }
  /// "torchscript:<file name>".
  std::string name() const override;
  const std::filesystem::path& model_path() const { return path_; }
  const torchscript_options& options() const { return options_; }

  /// One forward call on the whole batch. runtime_failure naming the model when the
  /// call fails or its output is not finite.
  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override;
  bool has_vjp() const override { return true; }
  /// Autograd through forward and the output convention; runtime_failure as denoise.
  void vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const override;

  torchscript_timing timing() const;

 private:
  struct model;
  std::filesystem::path path_;
  image_shape shape_;
  torchscript_options options_;
  backend_kind backend_;
  std::unique_ptr<model> model_;
};

}  // namespace twofold
