// Segmented inclusive prefix sums in double for systematic resampling
// (host/samplers/resampling.cpp): CUB's scan-by-key with keys index / segment, generated on
// the fly by a transform iterator (no key array in memory). One read and one write
// of the values; CUB's decoupled look-back decides the summation order.
#include "kernels/launch.hpp"

#include <cub/device/device_scan.cuh>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>

#include <cuda_runtime.h>

namespace twofold::kernels {
namespace {

struct segment_of {
  std::size_t segment;
  __host__ __device__ std::size_t operator()(std::size_t i) const { return i / segment; }
};

}  // namespace

int launch_segmented_inclusive_sum(void* stream, const double* in, double* out, std::size_t count,
                                   std::size_t segment, void* temp, std::size_t& temp_bytes) {
  const auto keys = thrust::make_transform_iterator(thrust::counting_iterator<std::size_t>(0), segment_of{segment});
  return static_cast<int>(cub::DeviceScan::InclusiveSumByKey(temp, temp_bytes, keys, in, out, count,
                                                              ::cuda::std::equal_to<>{},
                                                              static_cast<cudaStream_t>(stream)));
}

}  // namespace twofold::kernels
