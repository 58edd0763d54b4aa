// libtwofold_torch.so: TorchScript denoisers behind the C interface of
// host/priors/torchscript_plugin_abi.h. The only translation unit that includes LibTorch.
//
// Conventions (docs/learned_priors.md): the module's forward(x, noise) gets x [B, C, H, W]
// float32 (C = 2: real and imaginary parts; C = 1: real images) and noise [B]; the
// engine's denoiser D(z, s) is built from its output with torch operations, so autograd
// differentiates the whole adapter, not only the network.
#include "host/priors/torchscript_plugin_abi.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>
#include <torch/version.h>

#if defined(TWOFOLD_TORCH_CUDA)
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct model_error {
  int code;  // 2: bad input (the model is wrong), 3: run-time failure
  std::string message;
};

const char* output_name(int o) {
  return o == twofold_torch_output_x0 ? "x0" : o == twofold_torch_output_eps ? "eps" : "score";
}

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) s << (i ? ", " : "") << sizes[i];
  s << "]";
  return s.str();
}

/// The informative part of a LibTorch message: the last "...Error: ..." line of a
/// TorchScript interpreter traceback, else its first non-empty lines (the rest is a C++
/// or TorchScript backtrace).
std::string first_lines(const std::string& what, std::size_t lines = 3) {
  std::vector<std::string> all;
  std::istringstream in(what);
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t") != std::string::npos) all.push_back(line);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::size_t colon = it->find("Error: ");
    if (colon != std::string::npos && it->find(' ') > colon) return it->substr(colon + 7);
  }
  std::string out;
  for (std::size_t n = 0; n < lines && n < all.size(); ++n) out += (n ? " | " : "") + all[n];
  return out;
}

std::string message_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return first_lines(c->what_without_backtrace());
  return first_lines(e.what());
}

using clock_type = std::chrono::steady_clock;

struct model {
  std::string path;
  torch::jit::Module module;
  twofold_torch_options options{};
  int64_t height = 0, width = 0;
  torch::Device device = torch::kCPU;
  int device_index = -1;
  std::vector<double> log_alpha_bar;  // vp-t: ln ᾱ_i of the linear β schedule
  twofold_torch_timing timing{};

  std::string name() const { return "TorchScript model " + path; }

  /// The noise value the network is given, and the factor a·S its input is scaled by.
  struct level {
    double noise;       // sigma: S s; logsigma: ln(S s); vp-t: t
    double input_scale; // a·S, a = √ᾱ for vp-t, 1 otherwise
  };

  /// Per-channel noise std of S·z: S s/√2 for complex images (E|ε|² = 1 over both
  /// parts), S s for real ones.
  double channel_sigma(double s) const {
    return options.scale * s / (options.channels == 2 ? std::sqrt(2.0) : 1.0);
  }

  level level_of(double s) const {
    const double S = options.scale;
    if (options.noise == twofold_torch_noise_sigma) return {S * s, S};
    if (options.noise == twofold_torch_noise_logsigma) return {std::log(S * s), S};
    // vp-t: x_t = √ᾱ x₀ + √(1 − ᾱ) ε per channel is √ᾱ (x₀ + σ_c ε) with σ_c² = (1 − ᾱ)/ᾱ.
    const double sc = channel_sigma(s);
    const double alpha_bar = 1.0 / (1.0 + sc * sc);
    const double target = std::log(alpha_bar);
    const auto& l = log_alpha_bar;  // decreasing in i
    double t;
    if (target >= l.front()) {
      t = 0;
    } else if (target <= l.back()) {
      t = double(l.size() - 1);
    } else {
      const auto it = std::lower_bound(l.begin(), l.end(), target, [](double a, double b) { return a > b; });
      const std::size_t i = std::size_t(it - l.begin());  // l[i] <= target < l[i − 1]
      const double f = (l[i - 1] - target) / (l[i - 1] - l[i]);
      t = double(i - 1) + f;
    }
    return {t, std::sqrt(alpha_bar) * S};
  }

  /// [B, H, W, 2] interleaved complex chain memory as a tensor (no copy).
  torch::Tensor wrap(const float* p, int64_t chains) const {
    return torch::from_blob(const_cast<float*>(p), {chains, height, width, 2},
                            torch::TensorOptions().dtype(torch::kFloat32).device(device));
  }

  /// The network's channel layout [B, C, H, W] of interleaved chain memory (a copy).
  torch::Tensor to_channels(const float* p, int64_t chains) const {
    const torch::Tensor t = wrap(p, chains);
    if (options.channels == 2) return t.permute({0, 3, 1, 2}).contiguous();
    return t.select(3, 0).unsqueeze(1).contiguous();
  }

  /// Writes [B, C, H, W] back to interleaved chain memory (C = 1: imaginary parts 0).
  void from_channels(const torch::Tensor& d, float* p, int64_t chains) const {
    torch::Tensor out = wrap(p, chains);
    if (options.channels == 2) {
      out.permute({0, 3, 1, 2}).copy_(d);
    } else {
      out.select(3, 0).copy_(d.squeeze(1));
      out.select(3, 1).zero_();
    }
  }

  /// D(x, s) in the channel layout, from the network's output, with torch operations
  /// (autograd follows them). `probe`: errors are the model's fault (bad input).
  torch::Tensor denoiser(const torch::Tensor& x, double s, bool probe) {
    const level lv = level_of(s);
    const int64_t chains = x.size(0);
    const torch::Tensor input = lv.input_scale == 1.0 ? x : x * lv.input_scale;
    const torch::Tensor noise =
        torch::full({chains}, lv.noise, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    torch::jit::IValue result;
    const auto start = clock_type::now();
    try {
      result = module.forward({input, noise});
    } catch (const std::exception& e) {
      throw model_error{probe ? 2 : 3, name() + ": forward(x " + shape_text(input.sizes()) + " float32, noise " +
                                           shape_text(noise.sizes()) + " float32) failed: " + message_of(e)};
    }
    timing.network_seconds += std::chrono::duration<double>(clock_type::now() - start).count();
    if (!result.isTensor())
      throw model_error{2, name() + ": forward must return one Tensor, it returned " + result.tagKind()};
    const torch::Tensor y = result.toTensor();
    if (y.scalar_type() != torch::kFloat32)
      throw model_error{2, name() + ": forward returned " + std::string(c10::toString(y.scalar_type())) +
                               ", expected float32 (Float)"};
    if (y.sizes() != input.sizes())
      throw model_error{2, name() + ": forward returned shape " + shape_text(y.sizes()) + " for x of shape " +
                               shape_text(input.sizes()) + "; expected the same shape (model-output " +
                               output_name(options.output) + ")"};
    if (y.device() != device)
      throw model_error{2, name() + ": forward returned a tensor on " + y.device().str() + ", expected " +
                               device.str()};
    const double S = options.scale;
    switch (options.output) {
      case twofold_torch_output_x0:
        return S == 1.0 ? y : y / S;
      case twofold_torch_output_eps:
        // S z = S x₀ + (S σ_c) ε per channel, ε standard normal: D = z − σ_c ε̂.
        return x - y * (channel_sigma(s) / S);
      default:
        // score = ∂ log p / ∂w̄ of the network's input w = a S z at its noise level
        // s_w = a S s (Wirtinger for complex images, the gradient for real ones):
        // E[a S x₀ | w] = w + s_w² score, so D = z + a S s² score.
        return x + y * (lv.input_scale * s * s);
    }
  }

  void check_finite(const torch::Tensor& d, double s, const char* what, bool probe) const {
    if (torch::isfinite(d).all().item<bool>()) return;
    const int64_t bad = d.numel() - torch::isfinite(d).sum().item<int64_t>();
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", s);
    throw model_error{probe ? 2 : 3, name() + ": " + what + " at noise level s = " + text + " has " +
                                         std::to_string(bad) + " values that are not finite (NaN or infinity)"};
  }
};

void fill(twofold_torch_status* status, int code, const std::string& message) {
  if (!status) return;
  status->code = code;
  std::snprintf(status->message, sizeof status->message, "%s", message.c_str());
}

template <class F>
int guarded(twofold_torch_status* status, const model* m, F&& f) {
  try {
    f();
    fill(status, 0, "");
    return 0;
  } catch (const model_error& e) {
    fill(status, e.code, e.message);
  } catch (const std::exception& e) {
    fill(status, 3, (m ? m->name() + ": " : std::string()) + message_of(e));
  } catch (...) {
    fill(status, 3, (m ? m->name() + ": " : std::string()) + "unknown exception in LibTorch");
  }
  return status ? status->code : 3;
}

#if defined(TWOFOLD_TORCH_CUDA)
struct stream_scope {
  std::optional<c10::cuda::CUDAStreamGuard> guard;
  stream_scope(const model& m, void* stream) {
    if (m.device_index >= 0)
      guard.emplace(c10::cuda::getStreamFromExternal(static_cast<cudaStream_t>(stream), c10::DeviceIndex(m.device_index)));
  }
};
#else
struct stream_scope {
  stream_scope(const model&, void*) {}
};
#endif

}  // namespace

extern "C" {

int twofold_torch_abi_version(void) { return TWOFOLD_TORCH_ABI_VERSION; }

int twofold_torch_cuda_available(void) {
#if defined(TWOFOLD_TORCH_CUDA)
  try {
    return torch::cuda::is_available() ? 1 : 0;
  } catch (...) {
    return 0;
  }
#else
  return 0;
#endif
}

const char* twofold_torch_version(void) { return TORCH_VERSION; }

void* twofold_torch_load(const char* path, const twofold_torch_options* options, int64_t height, int64_t width,
                         int device, void* stream, twofold_torch_status* status) {
  auto m = std::make_unique<model>();
  m->path = path ? path : "";
  m->options = *options;
  m->height = height;
  m->width = width;
  const int code = guarded(status, m.get(), [&] {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(m->path, ec)) throw model_error{2, m->name() + ": no such file"};
    if (!fs::is_regular_file(m->path, ec)) throw model_error{2, m->name() + ": not a regular file"};
    if (std::ifstream probe(m->path, std::ios::binary); !probe.good())
      throw model_error{2, m->name() + ": cannot be opened for reading"};
    if (device >= 0) {
      if (!twofold_torch_cuda_available())
        throw model_error{2, m->name() + ": the context is on CUDA but this LibTorch (" + std::string(TORCH_VERSION) +
                                 ") has no CUDA support; run with --backend cpu (or build twofold against a CUDA "
                                 "LibTorch)"};
      m->device = torch::Device(torch::kCUDA, c10::DeviceIndex(device));
      m->device_index = device;
    }
    // LibTorch's default intra-op thread count can differ from the engine's OpenMP team
    // (on a 2-core machine here it chose 1) and setting it also sets the OpenMP default
    // of the calling thread: the library passes its own count so both agree.
    if (m->options.threads > 0) at::set_num_threads(m->options.threads);
    stream_scope scope(*m, stream);
    try {
      m->module = torch::jit::load(m->path, m->device);
    } catch (const std::exception& e) {
      throw model_error{2, m->name() + ": not a TorchScript file that this LibTorch (" + std::string(TORCH_VERSION) +
                               ") can load (torch.jit.save of a scripted or traced module): " + message_of(e)};
    }
    if (!m->module.find_method("forward"))
      throw model_error{2, m->name() + ": the module has no forward method"};
    m->module.eval();
    // Gradients are only ever taken with respect to the input (vjp), never the weights.
    for (auto p : m->module.parameters()) p.requires_grad_(false);
    if (m->options.noise == twofold_torch_noise_vp_t) {
      const auto& o = m->options;
      double l = 0;
      for (int64_t i = 0; i < o.vp_steps; ++i) {
        const double beta = o.vp_steps == 1 ? o.vp_beta_start
                                            : o.vp_beta_start + (o.vp_beta_end - o.vp_beta_start) * double(i) /
                                                                    double(o.vp_steps - 1);
        l += std::log1p(-beta);
        m->log_alpha_bar.push_back(l);
      }
    }
    // The probe: two images of the expected shape at s = 1 (shape, dtype and finiteness
    // errors appear here, before any sampling), then the two calls after which the
    // profiling executor has optimised the graph.
    torch::NoGradGuard no_grad;
    const int64_t channels = m->options.channels;
    torch::Tensor x = torch::linspace(-1.0, 1.0, 2 * channels * height * width,
                                      torch::TensorOptions().dtype(torch::kFloat32).device(m->device))
                          .reshape({2, channels, height, width});
    for (int i = 0; i < 3; ++i) m->check_finite(m->denoiser(x, 1.0, true), 1.0, "the probe call's output", true);
    m->timing = {};
  });
  if (code != 0) return nullptr;
  return m.release();
}

void twofold_torch_free(void* model_handle) { delete static_cast<model*>(model_handle); }

int twofold_torch_denoise(void* model_handle, const float* z, int64_t chains, double s, float* out, void* stream,
                          twofold_torch_status* status) {
  auto* m = static_cast<model*>(model_handle);
  const auto start = clock_type::now();
  const int code = guarded(status, m, [&] {
    stream_scope scope(*m, stream);
    torch::NoGradGuard no_grad;
    const torch::Tensor d = m->denoiser(m->to_channels(z, chains), s, false);
    m->check_finite(d, s, "the denoised batch", false);
    m->from_channels(d, out, chains);
  });
  m->timing.calls += 1;
  m->timing.call_seconds += std::chrono::duration<double>(clock_type::now() - start).count();
  return code;
}

int twofold_torch_vjp(void* model_handle, const float* z, const float* w, int64_t chains, double s, float* out,
                      void* stream, twofold_torch_status* status) {
  auto* m = static_cast<model*>(model_handle);
  const auto start = clock_type::now();
  const int code = guarded(status, m, [&] {
    stream_scope scope(*m, stream);
    torch::AutoGradMode grad_mode(true);
    torch::Tensor x = m->to_channels(z, chains).requires_grad_(true);
    const torch::Tensor weights = m->to_channels(w, chains);
    const torch::Tensor d = m->denoiser(x, s, false);
    if (!d.requires_grad())
      throw model_error{3, m->name() + ": its output does not depend differentiably on x (no autograd graph), so "
                                       "samplers that need the denoiser's VJP (dps, pigdm, smc) cannot use it"};
    const auto start_backward = clock_type::now();
    auto grads = torch::autograd::grad({d}, {x}, {weights}, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
    m->timing.network_seconds += std::chrono::duration<double>(clock_type::now() - start_backward).count();
    const torch::Tensor g = grads.at(0).defined() ? grads.at(0) : torch::zeros_like(x);
    m->check_finite(g, s, "the vector-Jacobian product", false);
    m->from_channels(g, out, chains);
  });
  m->timing.calls += 1;
  m->timing.call_seconds += std::chrono::duration<double>(clock_type::now() - start).count();
  return code;
}

twofold_torch_timing twofold_torch_timings(const void* model_handle) {
  return static_cast<const model*>(model_handle)->timing;
}

}  // extern "C"
