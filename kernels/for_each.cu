// The generic element-wise kernel: one grid-stride loop calling a TWOFOLD_HD
// functor. Memory passes are those of the functor (typically one read and one
// write of each array it touches). The index arithmetic is 32-bit when the launch's
// indices fit (checked here at every launch), else 64-bit: by_element and
// normal_pairs divide in the index type they are called with.
#include "kernels/functor_list.hpp"
#include "kernels/launch.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace twofold::kernels {
namespace {

template <class Index, class F>
__global__ void for_each_kernel(Index n, F f) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

}  // namespace

template <class F>
int launch_for_each(void* stream, std::size_t n, const F& f) {
  constexpr int threads = 256;
  const std::size_t wanted = (n + threads - 1) / threads;
  const unsigned blocks = static_cast<unsigned>(std::min<std::size_t>(wanted, 65535u * 8u));
  const auto s = static_cast<cudaStream_t>(stream);
  // 32 bits hold every index the loop forms (i + stride) and every element index a
  // functor derives from it: normal_pairs covers up to two elements per index, so
  // 2n + stride must stay below 2^32.
  const std::size_t stride = std::size_t{blocks} * threads;
  if (2 * n + stride <= std::size_t{UINT32_MAX}) {
    for_each_kernel<std::uint32_t><<<blocks, threads, 0, s>>>(static_cast<std::uint32_t>(n), f);
  } else {
    for_each_kernel<std::size_t><<<blocks, threads, 0, s>>>(n, f);
  }
  return static_cast<int>(cudaGetLastError());
}

#define TWOFOLD_INSTANTIATE(F) template int launch_for_each<F>(void*, std::size_t, const F&);
TWOFOLD_FOR_EACH_FUNCTOR(TWOFOLD_INSTANTIATE)
#undef TWOFOLD_INSTANTIATE

}  // namespace twofold::kernels
