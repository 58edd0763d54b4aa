#include "host/backend/cpu/host_blocks.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace twofold::detail::cpu {
namespace {

// Each block starts with a 64-byte header holding its usable size, so that the
// block keeps the 64-byte alignment and free needs no size.
constexpr std::size_t header = 64;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool keep_blocks = false;
#else
constexpr bool keep_blocks = true;
#endif

struct block_cache {
  std::mutex lock;
  std::map<std::size_t, std::vector<void*>> free_blocks;  // usable size → blocks (most recent last)
  std::size_t bytes = 0;
  ~block_cache() {
    for (auto& [size, blocks] : free_blocks)
      for (void* b : blocks) std::free(static_cast<char*>(b) - header);
  }
};

block_cache& cache() {
  static block_cache c;
  return c;
}

}  // namespace

void* allocate_host_block(std::size_t bytes) noexcept {
  const std::size_t size = (bytes + 63) / 64 * 64;
  if (keep_blocks && size >= host_block_cache_minimum) {
    block_cache& c = cache();
    const std::lock_guard hold(c.lock);
    const auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.bytes -= size;
      return p;
    }
  }
  char* raw = static_cast<char*>(std::aligned_alloc(64, size + header));
  if (!raw) return nullptr;
  *reinterpret_cast<std::size_t*>(raw) = size;
  return raw + header;
}

void free_host_block(void* p) noexcept {
  if (!p) return;
  char* raw = static_cast<char*>(p) - header;
  const std::size_t size = *reinterpret_cast<const std::size_t*>(raw);
  if (keep_blocks && size >= host_block_cache_minimum && size <= host_block_cache_limit) {
    block_cache& c = cache();
    const std::lock_guard hold(c.lock);
    // Over the limit, the oldest kept blocks of the largest sizes go first.
    while (c.bytes + size > host_block_cache_limit && !c.free_blocks.empty()) {
      auto largest = std::prev(c.free_blocks.end());
      std::free(static_cast<char*>(largest->second.front()) - header);
      largest->second.erase(largest->second.begin());
      c.bytes -= largest->first;
      if (largest->second.empty()) c.free_blocks.erase(largest);
    }
    try {
      c.free_blocks[size].push_back(p);
      c.bytes += size;
      return;
    } catch (...) {  // no memory for the bookkeeping: give the block back instead
    }
  }
  std::free(raw);
}

std::size_t cached_host_bytes() noexcept {
  block_cache& c = cache();
  const std::lock_guard hold(c.lock);
  return c.bytes;
}

}  // namespace twofold::detail::cpu
