#pragma once
/// \file
/// The backend's plain (unnormalised, unshifted) batched 2-D DFT, in place or out of
/// place, with plans created on first use and cached by shape (and batch on CUDA).
/// host/core/fft.cpp builds the centred orthonormal transform of docs/design.md §2 on top of it.

#include <twofold/core/types.hpp>
#include <twofold/core/fft.hpp>

#include <memory>

namespace twofold::detail {

class fft_engine {
 public:
  virtual ~fft_engine() = default;
  /// DFT of `batch` contiguous H×W complex64 images from `in` to `out` (the same
  /// memory: in place; otherwise they must not overlap and `in` is left as it was);
  /// forward uses e^{-2πi kn/N}, inverse e^{+2πi kn/N}, neither scales.
  virtual void transform(const cfloat* in, cfloat* out, std::size_t batch, image_shape shape, fft_direction dir) = 0;
  void transform(cfloat* data, std::size_t batch, image_shape shape, fft_direction dir) {
    transform(data, data, batch, shape, dir);
  }
  /// Backend memory a transform of `batch` images of `shape` needs besides its input and
  /// output, for wave sizing: cuFFT's work area (cufftGetSizeMany64; the engine keeps one
  /// shared by all its plans, as large as the largest one's). 0 on the CPU, where FFTW's
  /// single-image plans keep small buffers of their own.
  virtual std::size_t work_area_bytes(std::size_t batch, image_shape shape) {
    (void)batch, (void)shape;
    return 0;
  }
};

std::unique_ptr<fft_engine> make_fftw_engine();
/// cuFFT plans on `stream` sharing one work area, allocated stream-ordered from the
/// device's pool when `pooled` (cuda::allocate).
std::unique_ptr<fft_engine> make_cufft_engine(void* stream, bool pooled);

}  // namespace twofold::detail
