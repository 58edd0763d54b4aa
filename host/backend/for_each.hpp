#pragma once
/// \file
/// Backend dispatch of element-wise work: the same TWOFOLD_HD functor runs in an
/// OpenMP loop on the CPU or in kernels/for_each.cu on the GPU. This is how the
/// per-element math exists once for both backends. Functors that draw a normal per
/// element get their draws in pairs per thread on the GPU and in SIMD-computed tiles
/// on the CPU (the same bits either way).

#include <twofold/core/context.hpp>

#include "host/backend/cpu/normal_tiles.hpp"
#include "host/backend/cuda/check.hpp"
#include "host/backend/cuda_runtime.hpp"
#include "host/math/element.hpp"
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

// The CPU loops below run elements in parallel chunks, so no element may depend on
// another (the contract of every functor here; an output may alias an input at the
// same index). `ivdep` tells the compiler so: it vectorises without runtime alias checks.

/// Elements per task of the CPU's element loops: each task walks its range chain by
/// chain (the chain and the position advance, nothing is divided per element).
inline constexpr std::size_t element_block = 2048;

template <class F>
void for_each(const context& ctx, std::size_t n, const F& f) {
  if (n == 0) return;
  if constexpr (math::draws_normals<F>) {
    if (ctx.is_cuda()) {
      // One thread per pair of elements: each Philox block is drawn once (normal_pairs.hpp).
      const math::normal_pairs<F> pairs{f};
      for_each(ctx, pairs.count(n, f.pixels), pairs);
      return;
    }
    // One task per tile: a stretch of a long chain, or several short chains whole. The
    // tile's normals in SIMD loops, then the functor (normal_tiles.hpp).
    const std::size_t pixels = f.pixels, chains = n / pixels;
    const std::size_t tiles_per_chain = (pixels + normal_tile - 1) / normal_tile;
    const std::size_t chains_per_tile = pixels < normal_tile ? normal_tile / (pixels + pixels % 2) : 1;
    const auto count = static_cast<std::int64_t>(tiles_per_chain > 1 ? chains * tiles_per_chain
                                                                      : (chains + chains_per_tile - 1) / chains_per_tile);
#pragma omp parallel for schedule(static) if (n >= min_parallel_elements)
    for (std::int64_t q = 0; q < count; ++q) {
      std::size_t chain, group, first, size;
      if (tiles_per_chain > 1) {
        chain = static_cast<std::size_t>(q) / tiles_per_chain, group = 1;
        first = static_cast<std::size_t>(q) % tiles_per_chain * normal_tile;
        size = pixels - first < normal_tile ? pixels - first : normal_tile;
      } else {
        chain = static_cast<std::size_t>(q) * chains_per_tile, first = 0, size = pixels;
        group = chains - chain < chains_per_tile ? chains - chain : chains_per_tile;
      }
      alignas(64) cfloat z[normal_tile];
      fill_normals(f.rng, chain, group, first, size, z);
      const F task = f;  // a local copy: its members stay in registers across the loop
      for (std::size_t j = 0; j < group; ++j) {
        const std::size_t origin = (chain + j) * pixels + first;
        const cfloat* draws = z + j * size;
#pragma GCC ivdep
        for (std::size_t k = 0; k < size; ++k) task.at(math::element{origin + k, chain + j, first + k}, draws[k]);
      }
    }
  } else if constexpr (math::indexed_by_element<F>) {
    if (ctx.is_cuda()) {
      for_each(ctx, n, math::by_element<F>{f});
      return;
    }
    const std::size_t pixels = f.pixels;
    const auto blocks = static_cast<std::int64_t>((n + element_block - 1) / element_block);
#pragma omp parallel for schedule(static) if (n >= min_parallel_elements)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::size_t begin = static_cast<std::size_t>(b) * element_block;
      const std::size_t end = n - begin < element_block ? n : begin + element_block;
      std::size_t chain = begin / pixels, pixel = begin - chain * pixels;
      const F task = f;
      for (std::size_t i = begin; i < end; ++chain, pixel = 0) {
        const std::size_t run = pixels - pixel < end - i ? pixels - pixel : end - i;
#pragma GCC ivdep
        for (std::size_t k = 0; k < run; ++k) task.at(math::element{i + k, chain, pixel + k});
        i += run;
      }
    }
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
    if constexpr (math::tiled_by_chain<F>) {
      // Full tiles of F::lanes chains in vectorised loops, then the rest one by one.
      constexpr std::size_t lanes = F::lanes;
      const auto tiles = static_cast<std::int64_t>(n / lanes);
#pragma omp parallel for schedule(static) if (n >= min_parallel_elements)
      for (std::int64_t t = 0; t < tiles; ++t) f.template chains<lanes>(static_cast<std::size_t>(t) * lanes);
      for (std::size_t c = n / lanes * lanes; c < n; ++c) f.template chains<1>(c);
    } else {
      const auto count = static_cast<std::int64_t>(n);
#pragma omp parallel for schedule(static) if (n >= min_parallel_elements)
      for (std::int64_t i = 0; i < count; ++i) f(static_cast<std::size_t>(i));
    }
  }
}

}  // namespace twofold::detail
