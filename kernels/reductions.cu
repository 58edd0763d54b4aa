// Per-chain complex inner products in double, in two passes (kernels/launch.hpp):
// a 2-D grid of blocks (dot_blocks_per_chain(n) per chain × chains) each sums a fixed
// contiguous stretch of one chain (each thread a strided slice, then a fixed
// shared-memory tree) into a partial; then one thread per chain adds its partials in
// index order. The partition depends on n alone, so a chain's sum is the same bits for
// any batch size, launch timing or device.
#include "kernels/launch.hpp"

#include <twofold/core/complex.hpp>

#include <cuda_runtime.h>

#include <algorithm>

namespace twofold::kernels {
namespace {

constexpr int dot_threads = 256;
/// Most chains in the grid's y dimension (its limit); more chains loop.
constexpr unsigned max_grid_chains = 65535;

__global__ void dot_partials_kernel(const cfloat* a, const cfloat* b, std::size_t chains, std::size_t n,
                                    std::size_t per_block, cdouble* partials) {
  __shared__ double sre[dot_threads], sim[dot_threads];
  const std::size_t blocks = gridDim.x, begin = blockIdx.x * per_block;
  const std::size_t end = begin + per_block < n ? begin + per_block : n;
  for (std::size_t c = blockIdx.y; c < chains; c += gridDim.y) {
    const std::size_t off = c * n;
    double re = 0, im = 0;
    for (std::size_t i = begin + threadIdx.x; i < end; i += dot_threads) {
      const cfloat x = a[off + i], y = b[off + i];
      re += double(x.re) * y.re + double(x.im) * y.im;
      im += double(x.re) * y.im - double(x.im) * y.re;
    }
    sre[threadIdx.x] = re;
    sim[threadIdx.x] = im;
    __syncthreads();
    for (int s = dot_threads / 2; s > 0; s /= 2) {
      if (threadIdx.x < s) {
        sre[threadIdx.x] += sre[threadIdx.x + s];
        sim[threadIdx.x] += sim[threadIdx.x + s];
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) partials[c * blocks + blockIdx.x] = {sre[0], sim[0]};
    __syncthreads();  // the next chain's sums overwrite the shared arrays
  }
}

__global__ void dot_finish_kernel(const cdouble* partials, std::size_t chains, std::size_t blocks, cdouble* out) {
  for (std::size_t c = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; c < chains;
       c += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    double re = 0, im = 0;
    for (std::size_t k = 0; k < blocks; ++k) {
      re += partials[c * blocks + k].re;
      im += partials[c * blocks + k].im;
    }
    out[c] = {re, im};
  }
}

}  // namespace

int launch_batched_dot(void* stream, const void* a, const void* b, std::size_t chains, std::size_t n,
                       void* partials, void* out) {
  if (chains == 0) return 0;
  const auto s = static_cast<cudaStream_t>(stream);
  const std::size_t blocks = dot_blocks_per_chain(n);
  const std::size_t per_block = (n + blocks - 1) / blocks;
  // One block per chain: its partial is the sum, written straight to `out`.
  auto* first = static_cast<cdouble*>(blocks == 1 ? out : partials);
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(std::min<std::size_t>(chains, max_grid_chains)));
  dot_partials_kernel<<<grid, dot_threads, 0, s>>>(static_cast<const cfloat*>(a), static_cast<const cfloat*>(b), chains,
                                                   n, per_block, first);
  if (blocks == 1) return static_cast<int>(cudaGetLastError());
  constexpr int finish_threads = 128;
  const auto finish_blocks =
      static_cast<unsigned>(std::min<std::size_t>((chains + finish_threads - 1) / finish_threads, 65535));
  dot_finish_kernel<<<finish_blocks, finish_threads, 0, s>>>(first, chains, blocks, static_cast<cdouble*>(out));
  return static_cast<int>(cudaGetLastError());
}

}  // namespace twofold::kernels
