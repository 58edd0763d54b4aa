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
};

std::unique_ptr<fft_engine> make_fftw_engine();
std::unique_ptr<fft_engine> make_cufft_engine(void* stream);

}  // namespace twofold::detail
