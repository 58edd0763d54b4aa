// The CPU backend's host blocks (host/backend/cpu/host_blocks.hpp): aligned, sized,
// and reused after free for the same size (not under AddressSanitizer, which must see
// every free).

#include "host/backend/cpu/host_blocks.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace twofold {
namespace {

using namespace detail::cpu;

TEST(HostBlocks, AreAlignedAndWritable) {
  for (const std::size_t bytes : {std::size_t{1}, std::size_t{100}, host_block_cache_minimum + 3, std::size_t{3} << 20}) {
    void* p = allocate_host_block(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u) << bytes;
    std::memset(p, 0xAB, bytes);
    free_host_block(p);
  }
  free_host_block(nullptr);
}

TEST(HostBlocks, LargeBlocksAreReusedForTheSameSize) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "blocks are not kept under AddressSanitizer";
#else
  const std::size_t bytes = std::size_t{1} << 20;
  void* first = allocate_host_block(bytes);
  const std::size_t before = cached_host_bytes();
  free_host_block(first);
  EXPECT_EQ(cached_host_bytes(), before + bytes);
  void* other_size = allocate_host_block(bytes + 4096);
  EXPECT_NE(other_size, first);
  void* again = allocate_host_block(bytes);
  EXPECT_EQ(again, first);
  EXPECT_EQ(cached_host_bytes(), before);
  void* small = allocate_host_block(1024);
  free_host_block(small);
  EXPECT_EQ(cached_host_bytes(), before) << "small blocks go straight back to the system";
  free_host_block(again);
  free_host_block(other_size);
  EXPECT_LE(cached_host_bytes(), host_block_cache_limit);
#endif
}

TEST(HostBlocks, TheCacheStaysUnderItsLimit) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "blocks are not kept under AddressSanitizer";
#else
  const std::size_t bytes = host_block_cache_limit / 3 + 64;
  void* a = allocate_host_block(bytes);
  void* b = allocate_host_block(bytes);
  void* c = allocate_host_block(bytes);
  free_host_block(a);
  free_host_block(b);
  free_host_block(c);
  EXPECT_LE(cached_host_bytes(), host_block_cache_limit);
  EXPECT_GE(cached_host_bytes(), 2 * bytes);
#endif
}

}  // namespace
}  // namespace twofold
