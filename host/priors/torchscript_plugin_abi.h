#pragma once
/// \file
/// The C interface between the library's `torchscript_prior` (host/priors/torchscript.cpp)
/// and the LibTorch plugin `libtwofold_torch.so` (host/priors/torchscript/plugin.cpp),
/// which the library loads with dlopen on first use. Only plain C types cross it: no
/// exceptions, no C++ objects, so the plugin and the library need not share a
/// standard-library build, and programs that never load a TorchScript model never
/// load LibTorch (whose start-up costs about half a second).
///
/// Chain memory is passed as it is: `chains` images of H × W complex64 values,
/// interleaved (re, im), C order, on the device named at load (-1: host memory).

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bumped whenever a declaration below changes; the library refuses a plugin of another version.
#define TWOFOLD_TORCH_ABI_VERSION 1

/// What the network predicts, how it is told the noise level (docs/learned_priors.md).
enum twofold_torch_output { twofold_torch_output_x0 = 0, twofold_torch_output_eps = 1, twofold_torch_output_score = 2 };
enum twofold_torch_noise { twofold_torch_noise_sigma = 0, twofold_torch_noise_logsigma = 1, twofold_torch_noise_vp_t = 2 };

typedef struct twofold_torch_options {
  int output;              ///< twofold_torch_output
  int noise;               ///< twofold_torch_noise
  int channels;            ///< 2: complex images as (re, im) channels; 1: real images (the real parts)
  double scale;            ///< the network sees scale·z at noise scale·s
  double vp_beta_start;    ///< vp-t: the linear β schedule β_i, i = 0 … steps − 1
  double vp_beta_end;
  int64_t vp_steps;
  int threads;             ///< LibTorch's intra-op threads (at::set_num_threads); 0: LibTorch's default
} twofold_torch_options;

/// Outcome of a call: code 0 (success), 2 (the model or its input is wrong: bad_input)
/// or 3 (a failure at run time: runtime_failure); `message` says what, naming the model.
typedef struct twofold_torch_status {
  int code;
  char message[4096];
} twofold_torch_status;

typedef struct twofold_torch_timing {
  int64_t calls;           ///< denoise and vjp calls so far
  double network_seconds;  ///< inside the module's forward (and autograd's backward for vjp)
  double call_seconds;     ///< whole plugin calls: network, layout copies, conversions, checks
} twofold_torch_timing;

int twofold_torch_abi_version(void);
/// 1 when this LibTorch was built with CUDA and sees a device.
int twofold_torch_cuda_available(void);
/// LibTorch's version, e.g. "1.13.1".
const char* twofold_torch_version(void);

/// Loads the TorchScript module at `path` for H × W images on `device` (-1: the CPU,
/// else the CUDA device index) and checks it with one probe call of the expected
/// shape. Returns null with `status` filled on failure.
void* twofold_torch_load(const char* path, const twofold_torch_options* options, int64_t height, int64_t width,
                         int device, void* stream, twofold_torch_status* status);
void twofold_torch_free(void* model);

/// out = D(z, s) for `chains` images; `out` may alias `z`. Returns status->code.
int twofold_torch_denoise(void* model, const float* z, int64_t chains, double s, float* out, void* stream,
                          twofold_torch_status* status);
/// out = Jᵀ w, J the Jacobian of D(·, s) at z with complex pixels read as pairs of
/// reals; `out` may alias `w`. Returns status->code.
int twofold_torch_vjp(void* model, const float* z, const float* w, int64_t chains, double s, float* out,
                      void* stream, twofold_torch_status* status);
twofold_torch_timing twofold_torch_timings(const void* model);

#ifdef __cplusplus
}
#endif
