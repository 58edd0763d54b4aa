#pragma once
/// \file
/// Launchers of the CUDA kernels, callable from plain C++ (host/). Each returns
/// a `cudaError_t` as int (0 = success); host code turns failures into
/// twofold::device_failure. The generic element-wise launcher is explicitly
/// instantiated in kernels/for_each.cu for every functor in kernels/functor_list.hpp.

#include <cstddef>
#include <cstdint>

namespace twofold::kernels {

/// Runs `f(i)` for i in [0, n) on `stream`, one thread per index (grid-stride).
template <class F>
int launch_for_each(void* stream, std::size_t n, const F& f);

/// Elements one block of batched_dot's first pass sums (at most; a chain of n elements
/// has dot_blocks_per_chain(n) blocks).
inline constexpr std::size_t dot_elements_per_block = 4096;
/// Most blocks per chain: chains of more than 64 · 4096 elements give each block more.
inline constexpr std::size_t dot_max_blocks_per_chain = 64;
/// The first pass's blocks per chain of n elements: a function of n alone, so a chain's
/// sum is the same whatever the batch's size or the device's SM count.
constexpr std::size_t dot_blocks_per_chain(std::size_t n) {
  const std::size_t b = (n + dot_elements_per_block - 1) / dot_elements_per_block;
  return b < 1 ? 1 : (b > dot_max_blocks_per_chain ? dot_max_blocks_per_chain : b);
}

/// Per-chain complex inner products out[c] = Σ_i conj(a[c,i]) b[c,i] in double, in
/// two passes: a 2-D grid (dot_blocks_per_chain(n) blocks × chains) writes one partial
/// sum per block, each over a fixed contiguous stretch of the chain with a fixed
/// reduction tree, to `partials` (cdouble, [chains, blocks per chain]); then one thread
/// per chain adds its partials in index order. Deterministic: the bits depend on n only.
int launch_batched_dot(void* stream, const void* a, const void* b, std::size_t chains, std::size_t n,
                       void* partials_cdouble, void* out_cdouble);

/// Inclusive prefix sums of `count` doubles within segments of `segment` consecutive
/// entries (cub::DeviceScan::InclusiveSumByKey, keys = index / segment). CUB's
/// two-phase convention: with temp == nullptr only sets temp_bytes.
int launch_segmented_inclusive_sum(void* stream, const double* in, double* out, std::size_t count,
                                   std::size_t segment, void* temp, std::size_t& temp_bytes);

}  // namespace twofold::kernels
