// GPU FFT engine: cuFFT C2C plans bound to the context's stream, one per
// (batch, H, W); cuFFT plans serve both directions. The plans do not allocate their
// own work areas (cufftSetAutoAllocation(0)): the engine keeps one work area, as
// large as the largest plan's, and sets it on every plan. All plans run on the one
// stream, so they never use it at the same time.
#include "host/backend/cuda/check.hpp"
#include "host/backend/cuda_runtime.hpp"
#include "host/backend/fft_engine.hpp"

#include <cufft.h>

#include <map>
#include <tuple>

namespace twofold::detail {
namespace {

/// The layout of `batch` contiguous images of `shape`: a batch of 1×W images is a
/// batch of rows, planned as rank 1.
struct plan_layout {
  int rank;
  long long n[2];
  long long dist;
  explicit plan_layout(image_shape shape)
      : rank(shape.height == 1 ? 1 : 2),
        n{static_cast<long long>(shape.height), static_cast<long long>(shape.width)},
        dist(static_cast<long long>(shape.pixels())) {}
  long long* dims() { return rank == 1 ? n + 1 : n; }
};

class cufft_engine final : public fft_engine {
 public:
  cufft_engine(void* stream, bool pooled) : stream_(static_cast<cudaStream_t>(stream)), pooled_(pooled) {}
  ~cufft_engine() override {
    for (auto& entry : plans_) cufftDestroy(entry.second);
    if (work_) cuda::deallocate(work_, stream_, pooled_);
  }

  void transform(const cfloat* in, cfloat* out, std::size_t batch, image_shape shape, fft_direction dir) override {
    // cuFFT's C2C never writes its input out of place; its signature is not const.
    auto* i = reinterpret_cast<cufftComplex*>(const_cast<cfloat*>(in));
    auto* o = reinterpret_cast<cufftComplex*>(out);
    TWOFOLD_CUFFT_TRY(cufftExecC2C(plan(batch, shape), i, o, dir == fft_direction::forward ? CUFFT_FORWARD : CUFFT_INVERSE));
  }

  std::size_t work_area_bytes(std::size_t batch, image_shape shape) override {
    plan_layout l(shape);
    cufftHandle h{};
    TWOFOLD_CUFFT_TRY(cufftCreate(&h));
    std::size_t work = 0;
    const int status = static_cast<int>(cufftGetSizeMany64(h, l.rank, l.dims(), nullptr, 1, l.dist, nullptr, 1, l.dist,
                                                           CUFFT_C2C, static_cast<long long>(batch), &work));
    cufftDestroy(h);
    check_cufft(status, "cufftGetSizeMany64", __FILE__, __LINE__);
    return work;
  }

 private:
  using key = std::tuple<std::size_t, std::size_t, std::size_t>;

  /// The smallest work area the engine allocates, so that every plan has one set even
  /// when all need none.
  static constexpr std::size_t min_work_bytes = 256;

  cufftHandle plan(std::size_t batch, image_shape shape) {
    const key k{batch, shape.height, shape.width};
    if (auto it = plans_.find(k); it != plans_.end()) return it->second;
    plan_layout l(shape);
    cufftHandle h{};
    TWOFOLD_CUFFT_TRY(cufftCreate(&h));
    try {
      TWOFOLD_CUFFT_TRY(cufftSetAutoAllocation(h, 0));
      std::size_t work = 0;
      TWOFOLD_CUFFT_TRY(cufftMakePlanMany64(h, l.rank, l.dims(), nullptr, 1, l.dist, nullptr, 1, l.dist, CUFFT_C2C,
                                            static_cast<long long>(batch), &work));
      TWOFOLD_CUFFT_TRY(cufftSetStream(h, stream_));
      if (work > work_bytes_ || !work_) grow(work > min_work_bytes ? work : min_work_bytes);
      TWOFOLD_CUFFT_TRY(cufftSetWorkArea(h, work_));
    } catch (...) {
      cufftDestroy(h);  // an out_of_memory here is retried with a smaller wave
      throw;
    }
    plans_.emplace(k, h);
    return h;
  }

  /// A work area of `bytes`, set on every cached plan. The old one is freed on the
  /// stream, after the transforms already queued that use it.
  void grow(std::size_t bytes) {
    void* fresh = cuda::allocate(bytes, stream_, pooled_);  // throws out_of_memory
    for (auto& entry : plans_) {
      const int status = static_cast<int>(cufftSetWorkArea(entry.second, fresh));
      if (status != CUFFT_SUCCESS) {
        // Leave every plan on the old area (still allocated) and report.
        for (auto& e : plans_) cufftSetWorkArea(e.second, work_);
        cuda::deallocate(fresh, stream_, pooled_);
        check_cufft(status, "cufftSetWorkArea", __FILE__, __LINE__);
      }
    }
    if (work_) cuda::deallocate(work_, stream_, pooled_);
    work_ = fresh;
    work_bytes_ = bytes;
  }

  cudaStream_t stream_;
  bool pooled_;
  std::map<key, cufftHandle> plans_;
  void* work_ = nullptr;         ///< shared by every plan
  std::size_t work_bytes_ = 0;   ///< its size: the largest plan's need
};

}  // namespace

std::unique_ptr<fft_engine> make_cufft_engine(void* stream, bool pooled) {
  return std::make_unique<cufft_engine>(stream, pooled);
}

}  // namespace twofold::detail
