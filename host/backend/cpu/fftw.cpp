// CPU FFT engine: single-precision FFTW. One single-image plan per (H, W,
// direction), executed on every chain in an OpenMP loop: each chain's transform is
// then the same computation whatever the batch size, which keeps results
// bit-identical across wave sizes. Plans use FFTW_ESTIMATE (never touches data).
#include "host/backend/fft_engine.hpp"
#include "host/backend/for_each.hpp"

#include <twofold/core/error.hpp>

#include <fftw3.h>
#include <cstdint>

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
    const fftwf_plan p = plan(src, dst, shape, dir, aligned, in_place);
    const auto count = static_cast<std::int64_t>(batch);
#pragma omp parallel for schedule(static) if (batch * shape.pixels() >= min_parallel_elements)
    for (std::int64_t c = 0; c < count; ++c) {
      const std::size_t offset = static_cast<std::size_t>(c) * shape.pixels();
      fftwf_execute_dft(p, src + offset, dst + offset);  // new-array execute is thread-safe
    }
  }

 private:
  using key = std::tuple<std::size_t, std::size_t, int, bool, bool>;

  fftwf_plan plan(fftwf_complex* in, fftwf_complex* out, image_shape shape, fft_direction dir, bool aligned,
                  bool in_place) {
    const key k{shape.height, shape.width, dir == fft_direction::forward ? 0 : 1, aligned, in_place};
    if (auto it = plans_.find(k); it != plans_.end()) return it->second;
    std::lock_guard lock(planner_mutex());
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
