// The generic element-wise kernel: one grid-stride loop calling a TWOFOLD_HD
// functor. Memory passes are those of the functor (typically one read and one
// write of each array it touches).
#include "kernels/functor_list.hpp"
#include "kernels/launch.hpp"

#include <cuda_runtime.h>

#include <algorithm>

namespace twofold::kernels {
namespace {

template <class F>
__global__ void for_each_kernel(std::size_t n, F f) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    f(i);
}

}  // namespace

template <class F>
int launch_for_each(void* stream, std::size_t n, const F& f) {
  constexpr int threads = 256;
  const std::size_t wanted = (n + threads - 1) / threads;
  const unsigned blocks = static_cast<unsigned>(std::min<std::size_t>(wanted, 65535u * 8u));
  for_each_kernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(n, f);
  return static_cast<int>(cudaGetLastError());
}

#define TWOFOLD_INSTANTIATE(F) template int launch_for_each<F>(void*, std::size_t, const F&);
TWOFOLD_FOR_EACH_FUNCTOR(TWOFOLD_INSTANTIATE)
#undef TWOFOLD_INSTANTIATE

}  // namespace twofold::kernels
