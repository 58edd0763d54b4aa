// CPU FFT engine: single-precision FFTW with its OpenMP threads, one plan per
// (batch, H, W, direction), created with FFTW_ESTIMATE (never overwrites data).
#include "host/fft_engine.hpp"

#include <twofold/error.hpp>

#include <fftw3.h>
#include <omp.h>

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
  fftw_engine() {
    std::lock_guard lock(planner_mutex());
    static const bool threads_ready = fftwf_init_threads() != 0;
    TWOFOLD_ENSURES(threads_ready, "FFTW thread initialisation failed");
  }
  ~fftw_engine() override {
    std::lock_guard lock(planner_mutex());
    for (auto& entry : plans_) fftwf_destroy_plan(entry.second);
  }

  void transform(cfloat* data, std::size_t batch, image_shape shape, fft_direction dir) override {
    fftwf_complex* p = reinterpret_cast<fftwf_complex*>(data);
    fftwf_execute_dft(plan(p, batch, shape, dir), p, p);
  }

 private:
  using key = std::tuple<std::size_t, std::size_t, std::size_t, int, bool>;

  fftwf_plan plan(fftwf_complex* p, std::size_t batch, image_shape shape, fft_direction dir) {
    // Plans are tied to the alignment of the array they were made with.
    const bool aligned = reinterpret_cast<std::uintptr_t>(p) % 64 == 0;
    const key k{batch, shape.height, shape.width, dir == fft_direction::forward ? 0 : 1, aligned};
    if (auto it = plans_.find(k); it != plans_.end()) return it->second;
    std::lock_guard lock(planner_mutex());
    const int n[2] = {static_cast<int>(shape.height), static_cast<int>(shape.width)};
    const int dist = static_cast<int>(shape.pixels());
    fftwf_plan_with_nthreads(omp_get_max_threads());
    fftwf_plan plan = fftwf_plan_many_dft(2, n, static_cast<int>(batch), p, nullptr, 1, dist, p, nullptr, 1, dist,
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
