// Per-chain complex inner products in double: one block per chain, each thread
// accumulates a strided slice, then a fixed shared-memory tree. One read of each
// input; deterministic for a given launch shape.
#include "kernels/launch.hpp"

#include <twofold/core/complex.hpp>

#include <cuda_runtime.h>

namespace twofold::kernels {
namespace {

constexpr int dot_threads = 256;

__global__ void batched_dot_kernel(const cfloat* a, const cfloat* b, std::size_t n, cdouble* out) {
  __shared__ double sre[dot_threads], sim[dot_threads];
  const std::size_t off = blockIdx.x * n;
  double re = 0, im = 0;
  for (std::size_t i = threadIdx.x; i < n; i += dot_threads) {
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
  if (threadIdx.x == 0) out[blockIdx.x] = {sre[0], sim[0]};
}

}  // namespace

int launch_batched_dot(void* stream, const void* a, const void* b, std::size_t chains, std::size_t n,
                       void* out) {
  if (chains == 0) return 0;
  batched_dot_kernel<<<static_cast<unsigned>(chains), dot_threads, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<const cfloat*>(a), static_cast<const cfloat*>(b), n, static_cast<cdouble*>(out));
  return static_cast<int>(cudaGetLastError());
}

}  // namespace twofold::kernels
