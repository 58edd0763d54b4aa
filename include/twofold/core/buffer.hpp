#pragma once
/// \file
/// Move-only RAII memory on a context's backend (host memory for `cpu`, device
/// memory for `cuda`), and copies between it and the host.
///
/// CUDA memory is stream-ordered: allocated with cudaMallocAsync on the context's
/// stream from the device's default memory pool (whose release threshold the context
/// raises, so freed memory stays in the pool) and freed with cudaFreeAsync on that same
/// stream. Neither waits for the device. Lifetime rule: a buffer holds a share of its
/// context's stream (context::stream_owner), so the stream outlives every buffer made
/// on it, even one that outlives the context object; the buffer's memory must only be
/// used by work queued on that stream (every library call on the same context), or
/// after a synchronisation of it.

#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace twofold {

namespace detail {
void* allocate_bytes(const context& ctx, std::size_t bytes);
/// Frees allocate_bytes memory: host memory at once (`owner` null), device memory
/// stream-ordered on `owner`'s stream with its device made current first.
void free_bytes(const device_stream* owner, void* p) noexcept;
/// Copies on the context's stream; returns after the copy when `dst` or `src`
/// is ordinary host memory.
void copy_bytes(const context& ctx, void* dst, const void* src, std::size_t bytes);
void zero_bytes(const context& ctx, void* dst, std::size_t bytes);
void check_same_size(std::size_t from, std::size_t to);
/// Backend allocations made by this process so far (every buffer, both backends):
/// tests use it to check that sampler steps allocate nothing.
std::size_t allocation_count() noexcept;
/// CPU allocations of more than `bytes` fail with out_of_memory, as a full device
/// would (tests drive the wave retry with it); the default is no limit.
void limit_host_allocations(std::size_t bytes) noexcept;
/// Points where the host waits for the backend, counted on both backends (on the CPU
/// they cost nothing, but they are where a GPU run would synchronise): every
/// to_host() read and every context::synchronize().
void count_host_wait() noexcept;
std::size_t host_wait_count() noexcept;
}  // namespace detail

template <class T>
class buffer {
 public:
  buffer() = default;
  /// Uninitialised storage for `n` elements on `ctx`'s backend.
  buffer(const context& ctx, std::size_t n)
      : data_(static_cast<T*>(detail::allocate_bytes(ctx, n * sizeof(T)))), size_(n), kind_(ctx.backend()),
        stream_(ctx.stream_owner()) {}
  ~buffer() { detail::free_bytes(stream_.get(), data_); }
  buffer(buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), kind_(o.kind_),
        stream_(std::move(o.stream_)) {}
  buffer& operator=(buffer&& o) noexcept {
    if (this != &o) {
      detail::free_bytes(stream_.get(), data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      kind_ = o.kind_;
      stream_ = std::move(o.stream_);
    }
    return *this;
  }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  backend_kind backend() const noexcept { return kind_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  backend_kind kind_ = backend_kind::cpu;
  std::shared_ptr<detail::device_stream> stream_;  ///< where device memory is freed; null on the CPU
};

/// A chain batch owning its memory.
struct chain_buffer {
  buffer<cfloat> storage;
  std::size_t chains = 0;
  image_shape shape{};

  chain_buffer() = default;
  chain_buffer(const context& ctx, std::size_t n_chains, image_shape s)
      : storage(ctx, n_chains * s.pixels()), chains(n_chains), shape(s) {}
  chain_view view() { return {storage.data(), chains, shape}; }
  const_chain_view view() const { return {storage.data(), chains, shape}; }
};

template <class T>
buffer<T> to_backend(const context& ctx, std::span<const T> host) {
  buffer<T> b(ctx, host.size());
  detail::copy_bytes(ctx, b.data(), host.data(), host.size_bytes());
  return b;
}

template <class T>
std::vector<T> to_host(const context& ctx, const T* data, std::size_t n) {
  detail::count_host_wait();
  std::vector<T> out(n);
  detail::copy_bytes(ctx, out.data(), data, n * sizeof(T));
  return out;
}

template <class T>
std::vector<T> to_host(const context& ctx, const buffer<T>& b) {
  return to_host(ctx, b.data(), b.size());
}

/// A chain batch on ctx's backend holding `host` ([chains, shape], C order).
/// Throws bad_input when the sizes disagree.
chain_buffer to_backend(const context& ctx, std::span<const cfloat> host, std::size_t chains, image_shape shape);

/// Every chain of `x`, copied to the host ([chains, shape], C order).
std::vector<cfloat> to_host(const context& ctx, const_chain_view x);

/// to ← from on ctx's stream (equal sizes, else bad_input).
template <class T>
void copy(const context& ctx, const buffer<T>& from, buffer<T>& to) {
  detail::check_same_size(from.size(), to.size());
  detail::copy_bytes(ctx, to.data(), from.data(), from.size() * sizeof(T));
}

/// Every element of `b` set to zero bits on ctx's stream.
template <class T>
void zero(const context& ctx, buffer<T>& b) {
  detail::zero_bytes(ctx, b.data(), b.size() * sizeof(T));
}

namespace detail {
/// Scratch that is reused across calls: `b` holds at least `n` elements afterwards,
/// reallocated (contents lost) only when it held fewer.
template <class T>
void grow_to(const context& ctx, buffer<T>& b, std::size_t n) {
  if (b.size() < n) b = buffer<T>(ctx, n);
}

/// to ← from (same shape) unless they are the same memory.
inline void copy_if_distinct(const context& ctx, const_chain_view from, chain_view to) {
  if (from.data != to.data) copy_bytes(ctx, to.data, from.data, from.size() * sizeof(cfloat));
}
}  // namespace detail

}  // namespace twofold
