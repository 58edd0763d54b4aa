// torchscript_prior: the library's side of the TorchScript plugin (the plugin itself,
// the only code that includes LibTorch, is host/priors/torchscript/plugin.cpp).
#include "host/priors/torchscript_plugin_abi.h"

#include <twofold/core/error.hpp>
#include <twofold/priors/torchscript.hpp>

#include <dlfcn.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace twofold {

namespace fs = std::filesystem;

model_output parse_model_output(std::string_view text, std::string_view what) {
  if (text == "x0") return model_output::x0;
  if (text == "eps") return model_output::eps;
  if (text == "score") return model_output::score;
  detail::throw_bad_input(__FILE__, __LINE__,
                          std::string(what) + " must be x0, eps or score (got '" + std::string(text) + "')");
}

model_noise parse_model_noise(std::string_view text, std::string_view what) {
  if (text == "sigma") return model_noise::sigma;
  if (text == "logsigma") return model_noise::logsigma;
  if (text == "vp-t") return model_noise::vp_t;
  detail::throw_bad_input(__FILE__, __LINE__,
                          std::string(what) + " must be sigma, logsigma or vp-t (got '" + std::string(text) + "')");
}

std::string_view to_string(model_output o) {
  switch (o) {
    case model_output::x0: return "x0";
    case model_output::eps: return "eps";
    case model_output::score: return "score";
  }
  return "?";
}

std::string_view to_string(model_noise n) {
  switch (n) {
    case model_noise::sigma: return "sigma";
    case model_noise::logsigma: return "logsigma";
    case model_noise::vp_t: return "vp-t";
  }
  return "?";
}

namespace {

constexpr const char* plugin_file = "libtwofold_torch.so";

/// The plugin's entry points, resolved once per process.
struct plugin {
  int (*abi_version)();
  int (*cuda_available)();
  const char* (*version)();
  void* (*load)(const char*, const twofold_torch_options*, int64_t, int64_t, int, void*, twofold_torch_status*);
  void (*free_model)(void*);
  int (*denoise)(void*, const float*, int64_t, double, float*, void*, twofold_torch_status*);
  int (*vjp)(void*, const float*, const float*, int64_t, double, float*, void*, twofold_torch_status*);
  twofold_torch_timing (*timings)(const void*);
};

std::vector<fs::path> plugin_candidates() {
  if (const char* env = std::getenv("TWOFOLD_TORCH_PLUGIN"); env && *env) return {env};
  std::vector<fs::path> dirs;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&plugin_candidates), &info) && info.dli_fname)
    dirs.push_back(fs::path(info.dli_fname).parent_path());
  std::error_code ec;
  if (const fs::path exe = fs::read_symlink("/proc/self/exe", ec); !ec) dirs.push_back(exe.parent_path());
  std::vector<fs::path> out;
  for (const auto& d : dirs) {
    out.push_back(d / plugin_file);
    out.push_back(d.parent_path() / TWOFOLD_INSTALL_LIBDIR / plugin_file);
  }
#ifdef TWOFOLD_TORCH_PLUGIN_BUILD
  out.emplace_back(TWOFOLD_TORCH_PLUGIN_BUILD);
#endif
  return out;
}

struct plugin_state {
  std::once_flag once;
  const plugin* loaded = nullptr;
  std::string why;
  plugin table{};
};

plugin_state& state() {
  static plugin_state s;
  return s;
}

template <class F>
bool resolve(void* handle, const char* symbol, F& f, std::string& why) {
  f = reinterpret_cast<F>(dlsym(handle, symbol));
  if (!f) why = std::string("missing symbol ") + symbol;
  return f != nullptr;
}

const plugin* load_plugin(std::string* why) {
  plugin_state& s = state();
  std::call_once(s.once, [&s] {
    std::string tried;
    for (const fs::path& p : plugin_candidates()) {
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) {
        tried += (tried.empty() ? "" : ", ") + p.string();
        continue;
      }
      // Never closed: LibTorch does not support being unloaded.
      void* h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        const char* e = dlerror();
        s.why = "the TorchScript plugin " + p.string() + " could not be loaded: " + (e ? e : "dlopen failed");
        return;
      }
      plugin& t = s.table;
      std::string missing;
      const bool ok = resolve(h, "twofold_torch_abi_version", t.abi_version, missing) &&
                      resolve(h, "twofold_torch_cuda_available", t.cuda_available, missing) &&
                      resolve(h, "twofold_torch_version", t.version, missing) &&
                      resolve(h, "twofold_torch_load", t.load, missing) &&
                      resolve(h, "twofold_torch_free", t.free_model, missing) &&
                      resolve(h, "twofold_torch_denoise", t.denoise, missing) &&
                      resolve(h, "twofold_torch_vjp", t.vjp, missing) &&
                      resolve(h, "twofold_torch_timings", t.timings, missing);
      if (!ok) {
        s.why = "the TorchScript plugin " + p.string() + " is not twofold's: " + missing;
        return;
      }
      if (t.abi_version() != TWOFOLD_TORCH_ABI_VERSION) {
        s.why = "the TorchScript plugin " + p.string() + " has interface version " +
                std::to_string(t.abi_version()) + ", this library needs " + std::to_string(TWOFOLD_TORCH_ABI_VERSION) +
                " (a plugin from another twofold build)";
        return;
      }
      s.loaded = &t;
      return;
    }
    s.why = "this twofold has no TorchScript support: the plugin " + std::string(plugin_file) +
            " was not found (looked for " + tried +
            "). Build twofold with LibTorch (Debian: apt install libtorch-dev; CMake option TWOFOLD_WITH_TORCH) or "
            "set TWOFOLD_TORCH_PLUGIN to the plugin's path";
  });
  if (!s.loaded && why) *why = s.why;
  return s.loaded;
}

const plugin& require_plugin() {
  std::string why;
  const plugin* p = load_plugin(&why);
  if (!p) detail::throw_runtime_failure(__FILE__, __LINE__, why);
  return *p;
}

[[noreturn]] void throw_status(const twofold_torch_status& st) {
  if (st.code == 2) detail::throw_bad_input(__FILE__, __LINE__, st.message);
  detail::throw_runtime_failure(__FILE__, __LINE__, st.message);
}

}  // namespace

bool torchscript_available(std::string* why) { return load_plugin(why) != nullptr; }

bool torchscript_supports_cuda() {
  const plugin* p = load_plugin(nullptr);
  return p && p->cuda_available() != 0;
}

struct torchscript_prior::model {
  const plugin* api = nullptr;
  void* handle = nullptr;
  ~model() {
    if (handle) api->free_model(handle);
  }
};

torchscript_prior::torchscript_prior(const context& ctx, const fs::path& model_path, image_shape shape,
                                     torchscript_options options)
    : path_(model_path), shape_(shape), options_(options), backend_(ctx.backend()) {
  const std::string what = "TorchScript model " + path_.string();
  TWOFOLD_EXPECTS(!path_.empty(), "the TorchScript model path is empty");
  TWOFOLD_EXPECTS(shape.coils == 1 && shape.pixels() > 0,
                  what + ": the image shape must be one non-empty plane (got " + to_string(shape) + ")");
  TWOFOLD_EXPECTS(options.channels == 1 || options.channels == 2,
                  what + ": channels must be 1 (real images) or 2 (complex: real, imaginary), got " +
                      std::to_string(options.channels));
  TWOFOLD_EXPECTS(std::isfinite(options.scale) && options.scale > 0,
                  what + ": the model scale must be finite and > 0 (got " + std::to_string(options.scale) + ")");
  if (options.noise == model_noise::vp_t) {
    const auto& vp = options.vp;
    TWOFOLD_EXPECTS(vp.steps >= 2 && vp.steps <= 1000000, what + ": the VP schedule needs 2 to 10^6 steps");
    TWOFOLD_EXPECTS(std::isfinite(vp.beta_start) && std::isfinite(vp.beta_end) && vp.beta_start > 0 &&
                        vp.beta_end >= vp.beta_start && vp.beta_end < 1,
                    what + ": the VP schedule needs 0 < beta_start <= beta_end < 1 (got " +
                        std::to_string(vp.beta_start) + ", " + std::to_string(vp.beta_end) + ")");
  }
  std::error_code ec;
  TWOFOLD_EXPECTS(fs::exists(path_, ec), what + ": no such file");
  const plugin& api = require_plugin();
  twofold_torch_options o{};
  o.output = options.output == model_output::x0    ? twofold_torch_output_x0
             : options.output == model_output::eps ? twofold_torch_output_eps
                                                   : twofold_torch_output_score;
  o.noise = options.noise == model_noise::sigma      ? twofold_torch_noise_sigma
            : options.noise == model_noise::logsigma ? twofold_torch_noise_logsigma
                                                     : twofold_torch_noise_vp_t;
  o.channels = int(options.channels);
  o.scale = options.scale;
  o.vp_beta_start = options.vp.beta_start;
  o.vp_beta_end = options.vp.beta_end;
  o.vp_steps = int64_t(options.vp.steps);
  // LibTorch runs the network on as many threads as the engine's OpenMP loops; loading it
  // must not change the engine's own count either (at::set_num_threads sets the OpenMP default).
  const int threads = omp_get_max_threads();
  o.threads = threads;
  twofold_torch_status st{};
  // The context's device: twofold contexts use device 0 of the process's CUDA view.
  void* h = api.load(path_.c_str(), &o, int64_t(shape.height), int64_t(shape.width), ctx.is_cuda() ? 0 : -1,
                     ctx.stream(), &st);
  omp_set_num_threads(threads);
  if (!h) throw_status(st);
  model_ = std::make_unique<model>();
  model_->api = &api;
  model_->handle = h;
}

torchscript_prior::~torchscript_prior() = default;
torchscript_prior::torchscript_prior(torchscript_prior&&) noexcept = default;
torchscript_prior& torchscript_prior::operator=(torchscript_prior&&) noexcept = default;

std::string torchscript_prior::name() const { return "torchscript:" + path_.filename().string(); }

void torchscript_prior::denoise(const context& ctx, const_chain_view z, double s, chain_view out) const {
  TWOFOLD_EXPECTS(z.shape == shape_ && out.shape == shape_ && z.chains == out.chains,
                  "TorchScript model " + path_.string() + ": batches must have its image shape " + to_string(shape_));
  TWOFOLD_EXPECTS(ctx.backend() == backend_, "TorchScript model " + path_.string() + ": loaded for the " +
                                                 std::string(to_string(backend_)) + " backend, called on " +
                                                 std::string(to_string(ctx.backend())));
  twofold_torch_status st{};
  if (model_->api->denoise(model_->handle, reinterpret_cast<const float*>(z.data), int64_t(z.chains), s,
                           reinterpret_cast<float*>(out.data), ctx.stream(), &st) != 0)
    throw_status(st);
}

void torchscript_prior::vjp(const context& ctx, const_chain_view z, double s, const_chain_view w,
                            chain_view out) const {
  TWOFOLD_EXPECTS(z.shape == shape_ && w.shape == shape_ && out.shape == shape_ && z.chains == w.chains &&
                      w.chains == out.chains,
                  "TorchScript model " + path_.string() + ": vjp batches must have its image shape " +
                      to_string(shape_));
  TWOFOLD_EXPECTS(ctx.backend() == backend_, "TorchScript model " + path_.string() + ": loaded for the " +
                                                 std::string(to_string(backend_)) + " backend, called on " +
                                                 std::string(to_string(ctx.backend())));
  twofold_torch_status st{};
  if (model_->api->vjp(model_->handle, reinterpret_cast<const float*>(z.data), reinterpret_cast<const float*>(w.data),
                       int64_t(z.chains), s, reinterpret_cast<float*>(out.data), ctx.stream(), &st) != 0)
    throw_status(st);
}

torchscript_timing torchscript_prior::timing() const {
  const twofold_torch_timing t = model_->api->timings(model_->handle);
  return {std::size_t(t.calls), t.network_seconds, t.call_seconds};
}

}  // namespace twofold
