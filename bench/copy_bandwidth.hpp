#pragma once
// The roofline denominator: the backend's copy bandwidth, measured in the same run
// as the scenarios (docs/design.md §6). Bytes counted = bytes read + bytes written.

#include <twofold/twofold.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace twofold::bench {

struct copy_measurement {
  std::string method;            ///< what was timed
  std::size_t bytes = 0;         ///< size of one copy (source size)
  std::vector<double> seconds;   ///< every timed copy
  double bytes_per_second = 0;   ///< 2 · bytes / median(seconds)
};

struct copy_bandwidth {
  std::vector<copy_measurement> measurements;
  /// The largest of the measurements' bandwidths: the roofline denominator (the
  /// larger it is, the more conservative the roofline fraction).
  double bytes_per_second = 0;
};

/// Times `repeats` buffer-to-buffer copies of `bytes` on ctx's backend after one
/// untimed copy: twofold::copy (cudaMemcpyAsync + stream sync on CUDA, one
/// memcpy on the CPU), and on the CPU also a copy split over the OpenMP threads,
/// because one memcpy thread need not saturate the memory system.
copy_bandwidth measure_copy_bandwidth(const context& ctx, std::size_t bytes, std::size_t repeats);

}  // namespace twofold::bench
