// GPU FFT engine: cuFFT C2C plans bound to the context's stream, one per
// (batch, H, W); cuFFT plans serve both directions.
#include "host/backend/cuda/check.hpp"
#include "host/backend/fft_engine.hpp"

#include <cufft.h>

#include <map>
#include <tuple>

namespace twofold::detail {
namespace {

class cufft_engine final : public fft_engine {
 public:
  explicit cufft_engine(void* stream) : stream_(static_cast<cudaStream_t>(stream)) {}
  ~cufft_engine() override {
    for (auto& entry : plans_) cufftDestroy(entry.second);
  }

  void transform(const cfloat* in, cfloat* out, std::size_t batch, image_shape shape, fft_direction dir) override {
    // cuFFT's C2C never writes its input out of place; its signature is not const.
    auto* i = reinterpret_cast<cufftComplex*>(const_cast<cfloat*>(in));
    auto* o = reinterpret_cast<cufftComplex*>(out);
    TWOFOLD_CUFFT_TRY(cufftExecC2C(plan(batch, shape), i, o, dir == fft_direction::forward ? CUFFT_FORWARD : CUFFT_INVERSE));
  }

 private:
  using key = std::tuple<std::size_t, std::size_t, std::size_t>;

  cufftHandle plan(std::size_t batch, image_shape shape) {
    const key k{batch, shape.height, shape.width};
    if (auto it = plans_.find(k); it != plans_.end()) return it->second;
    // A batch of 1×W images is a batch of rows: plan it as rank 1.
    const int rank = shape.height == 1 ? 1 : 2;
    long long n[2] = {static_cast<long long>(shape.height), static_cast<long long>(shape.width)};
    const long long dist = static_cast<long long>(shape.pixels());
    cufftHandle h{};
    TWOFOLD_CUFFT_TRY(cufftCreate(&h));
    std::size_t work = 0;
    TWOFOLD_CUFFT_TRY(cufftMakePlanMany64(h, rank, rank == 1 ? n + 1 : n, nullptr, 1, dist, nullptr, 1, dist, CUFFT_C2C,
                                          static_cast<long long>(batch), &work));
    TWOFOLD_CUFFT_TRY(cufftSetStream(h, stream_));
    plans_.emplace(k, h);
    return h;
  }

  cudaStream_t stream_;
  std::map<key, cufftHandle> plans_;
};

}  // namespace

std::unique_ptr<fft_engine> make_cufft_engine(void* stream) { return std::make_unique<cufft_engine>(stream); }

}  // namespace twofold::detail
