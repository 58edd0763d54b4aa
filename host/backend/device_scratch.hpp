#pragma once
/// \file
/// Backend scratch owned by a context (context::scratch()), shared by the calls that
/// need temporary backend memory of a size known only at the call: each grows its
/// buffer to the largest size asked so far and keeps it, so calls allocate nothing once
/// warm (the CPU's Allocations.* tests count it). Calls on one context hold `lock`
/// while they grow and use a buffer; on CUDA the use is queued on the context's
/// stream, so the next call may reuse the memory as soon as it has queued its work.

#include <twofold/core/buffer.hpp>
#include <twofold/core/complex.hpp>

#include <mutex>

namespace twofold::detail {

struct device_scratch {
  std::mutex lock;
  /// Partial sums of batched_dot's first pass on CUDA ([chains, blocks per chain]).
  buffer<cdouble> dot_partials;
};

}  // namespace twofold::detail
