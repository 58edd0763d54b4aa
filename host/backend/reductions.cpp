#include "host/backend/reductions.hpp"
#include "host/backend/device_scratch.hpp"
#include "host/backend/for_each.hpp"

#include "host/backend/cuda/check.hpp"
#include "kernels/launch.hpp"

#include <cstdint>
#include <mutex>

namespace twofold::detail {

void batched_dot(const context& ctx, const cfloat* a, const cfloat* b, std::size_t chains, std::size_t n,
                 cdouble* out) {
  if (ctx.is_cuda()) {
#if TWOFOLD_HAS_CUDA
    if (chains == 0) return;
    const std::size_t blocks = kernels::dot_blocks_per_chain(n);
    if (blocks == 1) {  // the first pass writes the sums: no partials
      check_cuda(kernels::launch_batched_dot(ctx.stream(), a, b, chains, n, nullptr, out), "batched_dot");
    } else {
      // The partials in the context's grow-only scratch: nothing allocated once warm.
      device_scratch& scratch = ctx.scratch();
      std::lock_guard lock(scratch.lock);
      grow_to(ctx, scratch.dot_partials, chains * blocks);
      check_cuda(kernels::launch_batched_dot(ctx.stream(), a, b, chains, n, scratch.dot_partials.data(), out),
                 "batched_dot");
    }
    if (cuda::synchronous_launches()) check_cuda(cuda::stream_status(ctx.stream()), "batched_dot");
    return;
#endif
  }
  // CPU twin: chains in parallel, each summed in index order in double.
  const auto count = static_cast<std::int64_t>(chains);
#pragma omp parallel for schedule(static) if (chains * n >= min_parallel_elements)
  for (std::int64_t c = 0; c < count; ++c) {
    const std::size_t off = static_cast<std::size_t>(c) * n;
    double re = 0, im = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const cfloat x = a[off + i], y = b[off + i];
      re += double(x.re) * y.re + double(x.im) * y.im;
      im += double(x.re) * y.im - double(x.im) * y.re;
    }
    out[c] = {re, im};
  }
}

}  // namespace twofold::detail
