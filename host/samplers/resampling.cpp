#include "host/samplers/resampling.hpp"

#include <twofold/core/buffer.hpp>
#include "host/math/particles.hpp"

#include "host/backend/cuda/check.hpp"
#include "host/backend/for_each.hpp"
#include "kernels/launch.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace twofold::detail {

void segmented_inclusive_sum(const context& ctx, const double* in, double* out, std::size_t count,
                             std::size_t segment, [[maybe_unused]] resampling_workspace& ws) {
  if (count == 0) return;
  if (ctx.is_cuda()) {
#if TWOFOLD_HAS_CUDA
    std::size_t bytes = 0;
    check_cuda(kernels::launch_segmented_inclusive_sum(ctx.stream(), in, out, count, segment, nullptr, bytes),
               "segmented prefix sum (size query)");
    grow_to(ctx, ws.scan_temp, std::max<std::size_t>(bytes, 1));
    check_cuda(kernels::launch_segmented_inclusive_sum(ctx.stream(), in, out, count, segment, ws.scan_temp.data(),
                                                       bytes),
               "segmented prefix sum");
    return;
#endif
  }
  // CPU twin: each segment summed in index order, segments in parallel.
  const auto segments = static_cast<std::int64_t>((count + segment - 1) / segment);
#pragma omp parallel for schedule(static)
  for (std::int64_t s = 0; s < segments; ++s) {
    const std::size_t begin = static_cast<std::size_t>(s) * segment, end = std::min(count, begin + segment);
    std::inclusive_scan(in + begin, in + end, out + begin);
  }
}

void systematic_ancestors(const context& ctx, const double* weights, const std::uint8_t* flags, std::size_t systems,
                          std::size_t particles, const rng_stream& rng, std::uint64_t step, std::uint32_t* ancestors,
                          resampling_workspace& ws) {
  const std::size_t n = systems * particles;
  grow_to(ctx, ws.cumulative, n);
  segmented_inclusive_sum(ctx, weights, ws.cumulative.data(), n, particles, ws);
  for_each(ctx, n,
           math::systematic_ancestor{ancestors, ws.cumulative.data(), flags, particles, rng.seed, rng.first_chain, step,
                                     rng.substream});
}

}  // namespace twofold::detail
