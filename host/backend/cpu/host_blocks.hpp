#pragma once
/// \file
/// Host memory of the CPU backend's buffers, 64-byte aligned. Freed blocks of 64 KiB
/// and more are kept (up to host_block_cache_limit bytes in all) and handed out again
/// for the next request of the same size: sample() allocates its waves' chain
/// batches per call, and glibc returns such blocks to the kernel with munmap, so each
/// call paid a page fault per 4 KiB on first touch. Under AddressSanitizer nothing is
/// kept, so that a use after free is still reported.

#include <cstddef>

namespace twofold::detail::cpu {

inline constexpr std::size_t host_block_cache_minimum = std::size_t{1} << 16;
inline constexpr std::size_t host_block_cache_limit = std::size_t{1} << 28;

/// `bytes` (> 0) of uninitialised memory, 64-byte aligned; nullptr when the system
/// has none.
void* allocate_host_block(std::size_t bytes) noexcept;
/// Returns a block from allocate_host_block (nullptr is ignored).
void free_host_block(void* p) noexcept;
/// Bytes held for reuse now (tests).
std::size_t cached_host_bytes() noexcept;

}  // namespace twofold::detail::cpu
