#include "copy_bandwidth.hpp"

#include "timing.hpp"

#include <twofold/twofold.hpp>

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace twofold::bench {
namespace {

template <class Copy>
copy_measurement time_copies(const context& ctx, std::string method, std::size_t bytes, std::size_t repeats,
                             Copy&& copy) {
  copy_measurement m{std::move(method), bytes, {}, 0};
  copy();  // untimed: first-touch page faults, lazy driver work
  ctx.synchronize();
  for (std::size_t r = 0; r < repeats; ++r) {
    const stopwatch watch;
    copy();
    ctx.synchronize();
    m.seconds.push_back(watch.seconds());
  }
  m.bytes_per_second = 2.0 * double(bytes) / median(m.seconds);
  return m;
}

}  // namespace

copy_bandwidth measure_copy_bandwidth(const context& ctx, std::size_t bytes, std::size_t repeats) {
  buffer<std::byte> src(ctx, bytes), dst(ctx, bytes);
  zero(ctx, src);
  zero(ctx, dst);
  ctx.synchronize();

  copy_bandwidth result;
  const std::string method = ctx.is_cuda() ? "cudaMemcpyAsync device-to-device" : "memcpy, one thread";
  result.measurements.push_back(
      time_copies(ctx, method, bytes, repeats, [&] { copy(ctx, src, dst); }));
  if (!ctx.is_cuda()) {
    const auto threads = omp_get_max_threads();
    result.measurements.push_back(time_copies(
        ctx, "memcpy split over " + std::to_string(threads) + " OpenMP threads", bytes, repeats, [&] {
#pragma omp parallel
          {
            const auto t = static_cast<std::size_t>(omp_get_thread_num());
            const auto n = static_cast<std::size_t>(omp_get_num_threads());
            const std::size_t chunk = (bytes + n - 1) / n, begin = std::min(bytes, t * chunk);
            const std::size_t end = std::min(bytes, begin + chunk);
            std::memcpy(dst.data() + begin, src.data() + begin, end - begin);
          }
        }));
  }
  for (const auto& m : result.measurements)
    result.bytes_per_second = std::max(result.bytes_per_second, m.bytes_per_second);
  return result;
}

}  // namespace twofold::bench
