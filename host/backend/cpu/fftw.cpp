// CPU FFT engine: single-precision FFTW. One single-image plan per (H, W,
// direction), executed on every chain in an OpenMP loop: each chain's transform is
// then the same computation whatever the batch size, which keeps results
// bit-identical across wave sizes. Plans use FFTW_ESTIMATE (never touches data).
#include "host/backend/fft_engine.hpp"
#include "host/backend/for_each.hpp"

#include <twofold/core/error.hpp>

#include <fftw3.h>
#include <cstdint>
#include <cstring>

#include <map>
#include <mutex>
#include <tuple>

namespace twofold::detail {
namespace {

std::mutex& planner_mutex() {  // FFTW's planner is not thread-safe
  static std::mutex m;
  return m;
}

class fftw_engine final : public fft_engine {
 public:
  ~fftw_engine() override {
    std::lock_guard lock(planner_mutex());
    for (auto& entry : plans_) fftwf_destroy_plan(entry.second);
  }

  void transform(const cfloat* in, cfloat* out, std::size_t batch, image_shape shape, fft_direction dir) override {
    // Every chain must share the plan's alignment: aligned plans only when all chain
    // starts are 64-byte aligned (buffers are; strides are when H·W·8 is).
    const auto is_aligned = [&](const void* p) {
      return reinterpret_cast<std::uintptr_t>(p) % 64 == 0 && shape.pixels() * sizeof(cfloat) % 64 == 0;
    };
    const bool aligned = is_aligned(in) && is_aligned(out), in_place = in == out;
    // Out-of-place complex plans preserve their input by default (FFTW_PRESERVE_INPUT);
    // the new-array execute's signature is not const.
    auto* src = reinterpret_cast<fftwf_complex*>(const_cast<cfloat*>(in));
    auto* dst = reinterpret_cast<fftwf_complex*>(out);
    const auto count = static_cast<std::int64_t>(batch);
    const std::size_t pixels = shape.pixels();
    if (in_place && pixels <= small_image_pixels) {
      // FFTW plans short in-place transforms (the rows of a line mask's projection) as
      // buffered ones that allocate on the heap at every execution; an out-of-place
      // plan into a stack buffer and a copy back cost less than the allocation.
      const fftwf_plan p = plan(src, nullptr, shape, dir, aligned, false);
#pragma omp parallel for schedule(static) if (batch * pixels >= min_parallel_elements)
      for (std::int64_t c = 0; c < count; ++c) {
        alignas(64) fftwf_complex scratch[small_image_pixels];
        fftwf_complex* image = src + static_cast<std::size_t>(c) * pixels;
        fftwf_execute_dft(p, image, scratch);
        std::memcpy(image, scratch, pixels * sizeof(fftwf_complex));
      }
      return;
    }
    const fftwf_plan p = plan(src, dst, shape, dir, aligned, in_place);
#pragma omp parallel for schedule(static) if (batch * pixels >= min_parallel_elements)
    for (std::int64_t c = 0; c < count; ++c) {
      const std::size_t offset = static_cast<std::size_t>(c) * pixels;
      fftwf_execute_dft(p, src + offset, dst + offset);  // new-array execute is thread-safe
    }
  }

 private:
  using key = std::tuple<std::size_t, std::size_t, int, bool, bool>;

  /// Images of at most this many pixels transform in place through a stack buffer (16 KiB).
  static constexpr std::size_t small_image_pixels = 2048;

  /// The cached plan; `out` null for an out-of-place one whose output is a buffer of its own.
  fftwf_plan plan(fftwf_complex* in, fftwf_complex* out, image_shape shape, fft_direction dir, bool aligned,
                  bool in_place) {
    const key k{shape.height, shape.width, dir == fft_direction::forward ? 0 : 1, aligned, in_place};
    if (auto it = plans_.find(k); it != plans_.end()) return it->second;
    std::lock_guard lock(planner_mutex());
    // FFTW_ESTIMATE plans without touching the arrays; a null output only needs an
    // address distinct from the input with the input's alignment.
    alignas(64) static fftwf_complex planning_output[1];
    if (out == nullptr) out = planning_output;
    fftwf_plan plan = fftwf_plan_dft_2d(static_cast<int>(shape.height), static_cast<int>(shape.width), in, out,
                                        dir == fft_direction::forward ? FFTW_FORWARD : FFTW_BACKWARD,
                                        FFTW_ESTIMATE | (aligned ? 0 : FFTW_UNALIGNED));
    TWOFOLD_ENSURES(plan != nullptr, "FFTW could not plan a " + std::to_string(shape.height) + "x" +
                                         std::to_string(shape.width) + " transform");
    plans_.emplace(k, plan);
    return plan;
  }

  std::map<key, fftwf_plan> plans_;
};

}  // namespace

std::unique_ptr<fft_engine> make_fftw_engine() { return std::make_unique<fftw_engine>(); }

}  // namespace twofold::detail
