#pragma once
/// \file
/// Backend dispatch of element-wise work: the same TWOFOLD_HD functor runs in an
/// OpenMP loop on the CPU or in kernels/for_each.cu on the GPU. This is how the
/// per-element math exists once for both backends.

#include <twofold/core/context.hpp>

#include "host/backend/cuda/check.hpp"
#include "host/backend/cuda_runtime.hpp"
#include "host/math/normal_pairs.hpp"
#include "kernels/launch.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <typeinfo>

namespace twofold::detail {

/// CPU loops over fewer elements than this run on the calling thread: forking an
/// OpenMP team costs more than the work, and far more when cores are shared
/// (CI runs tests in parallel). Results do not depend on it (each element is
/// computed alone).
inline constexpr std::size_t min_parallel_elements = std::size_t{1} << 14;

/// "element-wise kernel twofold::math::langevin_step_with<…>": names the functor in
/// launch errors.
std::string demangled(const char* name);
template <class F>
std::string functor_name() {
  return "element-wise kernel " + demangled(typeid(F).name());
}

template <class F>
void for_each(const context& ctx, std::size_t n, const F& f) {
  if (n == 0) return;
  if constexpr (math::draws_normals<F>) {
    // One index per pair of elements: each Philox block is drawn once (normal_pairs.hpp).
    const math::normal_pairs<F> pairs{f};
    for_each(ctx, pairs.count(n, f.pixels), pairs);
  } else {
    if (ctx.is_cuda()) {
#if TWOFOLD_HAS_CUDA
      // The functor's name is only built for a failure (demangling costs a few µs).
      int status = kernels::launch_for_each(ctx.stream(), n, f);
      if (status == 0 && cuda::synchronous_launches()) status = cuda::stream_status(ctx.stream());
      if (status != 0) check_cuda(status, functor_name<F>().c_str());
      return;
#endif
    }
    const auto count = static_cast<std::int64_t>(n);
#pragma omp parallel for schedule(static) if (n >= min_parallel_elements)
    for (std::int64_t i = 0; i < count; ++i) f(static_cast<std::size_t>(i));
  }
}

}  // namespace twofold::detail
