#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/error.hpp>

#include "host/backend/cpu/host_blocks.hpp"
#include "host/backend/cuda_runtime.hpp"
#include "host/backend/blas_engine.hpp"
#include "host/backend/device_scratch.hpp"
#include "host/backend/fft_engine.hpp"

#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <limits>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

namespace twofold {

backend_request parse_backend(std::string_view text, std::string_view what) {
  if (text == "auto") return backend_request::automatic;
  if (text == "cpu") return backend_request::cpu;
  if (text == "cuda") return backend_request::cuda;
  TWOFOLD_EXPECTS(false, std::string(what) + " must be one of auto, cpu, cuda (got '" + std::string(text) + "')");
}

std::string_view to_string(backend_kind kind) { return kind == backend_kind::cuda ? "cuda" : "cpu"; }

std::string cuda_unavailable_reason() { return detail::cuda::unavailable_reason(); }
bool cuda_usable() noexcept { return detail::cuda::unavailable_reason().empty(); }

int cuda_device_count() noexcept { return detail::cuda::device_count(); }

namespace detail {
/// The context's CUDA stream, destroyed with its last owner: the context and every
/// buffer allocated on it (buffers free stream-ordered on it, buffer.hpp).
struct device_stream {
  int device = 0;
  void* stream = nullptr;
  bool pooled = false;  ///< stream-ordered allocation from the device's default pool
  device_stream(int d, void* s, bool p) : device(d), stream(s), pooled(p) {}
  device_stream(const device_stream&) = delete;
  device_stream& operator=(const device_stream&) = delete;
  ~device_stream() {
    cuda::bind_device(device);
    cuda::destroy_stream(stream);
  }
};
}  // namespace detail

struct context::impl {
  backend_kind kind = backend_kind::cpu;
  int device = 0;
  std::shared_ptr<detail::device_stream> stream;  ///< null on the CPU
  mutable std::unique_ptr<detail::fft_engine> fft;
  mutable std::mutex fft_mutex;
  mutable std::unique_ptr<detail::blas_engine> blas;
  mutable std::mutex blas_mutex;
  mutable std::unique_ptr<detail::device_scratch> scratch;
  mutable std::mutex scratch_mutex;

  void* raw_stream() const noexcept { return stream ? stream->stream : nullptr; }

  ~impl() {
    if (stream) detail::cuda::bind_device(device);
    fft.reset();  // plans and handles before the stream they run on
    blas.reset();
    scratch.reset();  // frees on the stream, which the buffers keep alive
  }
};

context::context(backend_request request, int device) : impl_(std::make_unique<impl>()) {
  detail::use_single_threaded_blas();
  impl_->device = device;
  const bool want_cuda = request == backend_request::cuda ||
                         (request == backend_request::automatic && cuda_usable());
  if (!want_cuda) return;
  const std::string reason = detail::cuda::unavailable_reason();
  if (!reason.empty()) detail::throw_device_failure(__FILE__, __LINE__, "backend 'cuda' requested but " + reason);
  try {
    void* s = detail::cuda::create_stream(device);
    bool pooled = false;
    try {
      pooled = detail::cuda::configure_memory_pool(device);
    } catch (...) {
      detail::cuda::destroy_stream(s);
      throw;
    }
    impl_->stream = std::make_shared<detail::device_stream>(device, s, pooled);
  } catch (const device_failure& e) {
    // `auto` means the GPU when it can be used: a device that is present but cannot
    // take a stream (another process holds it exclusively, a bad index, …) is the CPU.
    if (request != backend_request::automatic) throw;
    std::fprintf(stderr, "twofold: a CUDA device is present but not usable (%s); running on the CPU\n", e.what());
    return;
  }
  impl_->kind = backend_kind::cuda;
}

context::~context() = default;
context::context(context&&) noexcept = default;
context& context::operator=(context&&) noexcept = default;

backend_kind context::backend() const noexcept { return impl_->kind; }
int context::device() const noexcept { return impl_->kind == backend_kind::cuda ? impl_->device : -1; }
void* context::stream() const noexcept {
  bind_device();  // every CUDA call of the library goes through stream(), fft(), blas() or allocate_bytes
  return impl_->raw_stream();
}

const std::shared_ptr<detail::device_stream>& context::stream_owner() const noexcept { return impl_->stream; }

detail::device_scratch& context::scratch() const {
  std::lock_guard lock(impl_->scratch_mutex);
  if (!impl_->scratch) impl_->scratch = std::make_unique<detail::device_scratch>();
  return *impl_->scratch;
}

void context::bind_device() const noexcept {
  if (impl_->kind == backend_kind::cuda) detail::cuda::bind_device(impl_->device);
}

std::string context::device_name() const {
  if (is_cuda()) return detail::cuda::device_name(impl_->device);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return "cpu: " + model + ", " + std::to_string(omp_get_max_threads()) + " threads";
}

void context::synchronize() const {
  detail::count_host_wait();
  if (is_cuda()) detail::cuda::synchronize(stream());
}

std::size_t context::available_memory() const {
  if (is_cuda()) {
    bind_device();
    return detail::cuda::free_memory();
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 2 : (1u << 30);
}

detail::fft_engine& context::fft() const {
  bind_device();
  std::lock_guard lock(impl_->fft_mutex);
  if (!impl_->fft)
    impl_->fft = is_cuda() ? detail::make_cufft_engine(impl_->raw_stream(), impl_->stream->pooled)
                           : detail::make_fftw_engine();
  return *impl_->fft;
}

detail::blas_engine& context::blas() const {
  bind_device();
  std::lock_guard lock(impl_->blas_mutex);
  if (!impl_->blas) impl_->blas = is_cuda() ? detail::make_cublas_engine(impl_->raw_stream()) : detail::make_cpu_blas_engine();
  return *impl_->blas;
}

namespace detail {

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

std::size_t allocation_count() noexcept { return allocations.load(std::memory_order_relaxed); }

namespace {
std::atomic<std::size_t> host_waits{0};
}  // namespace

void count_host_wait() noexcept { host_waits.fetch_add(1, std::memory_order_relaxed); }
std::size_t host_wait_count() noexcept { return host_waits.load(std::memory_order_relaxed); }

namespace {
std::atomic<std::size_t> host_allocation_limit{std::numeric_limits<std::size_t>::max()};
}  // namespace

void limit_host_allocations(std::size_t bytes) noexcept { host_allocation_limit.store(bytes); }

void* allocate_bytes(const context& ctx, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (ctx.is_cuda()) {
    const device_stream& s = *ctx.stream_owner();
    ctx.bind_device();
    return cuda::allocate(bytes, s.stream, s.pooled);
  }
  void* p = bytes <= host_allocation_limit.load(std::memory_order_relaxed) ? cpu::allocate_host_block(bytes) : nullptr;
  if (!p) throw_out_of_memory(__FILE__, __LINE__, "out of host memory allocating " + std::to_string(bytes) + " bytes");
  return p;
}

void free_bytes(const device_stream* owner, void* p) noexcept {
  if (!p) return;
  if (owner) {
    cuda::bind_device(owner->device);
    cuda::deallocate(p, owner->stream, owner->pooled);
  } else {
    cpu::free_host_block(p);
  }
}

void copy_bytes(const context& ctx, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  if (ctx.is_cuda()) cuda::copy(dst, src, bytes, ctx.stream());
  else std::memcpy(dst, src, bytes);
}

void zero_bytes(const context& ctx, void* dst, std::size_t bytes) {
  if (bytes == 0) return;
  if (ctx.is_cuda()) cuda::zero(dst, bytes, ctx.stream());
  else std::memset(dst, 0, bytes);
}

}  // namespace detail

#if !TWOFOLD_HAS_CUDA
namespace detail::cuda {
namespace {
[[noreturn]] void missing() { throw_device_failure(__FILE__, __LINE__, "this build of twofold has no CUDA backend"); }
}  // namespace
std::string unavailable_reason() noexcept { return "this build of twofold has no CUDA backend"; }
int device_count() noexcept { return 0; }
void* create_stream(int) { missing(); }
bool configure_memory_pool(int) { missing(); }
void bind_device(int) noexcept {}
void destroy_stream(void*) noexcept {}
std::string device_name(int) { missing(); }
void synchronize(void*) { missing(); }
std::size_t free_memory() { missing(); }
void* allocate(std::size_t, void*, bool) { missing(); }
void deallocate(void*, void*, bool) noexcept {}
void copy(void*, const void*, std::size_t, void*) { missing(); }
void zero(void*, std::size_t, void*) { missing(); }
bool synchronous_launches() noexcept { return false; }
int stream_status(void*) noexcept { return 0; }
}  // namespace detail::cuda
namespace detail {
std::unique_ptr<fft_engine> make_cufft_engine(void*, bool) {
  throw_device_failure(__FILE__, __LINE__, "this build of twofold has no CUDA backend");
}
std::unique_ptr<blas_engine> make_cublas_engine(void*) {
  throw_device_failure(__FILE__, __LINE__, "this build of twofold has no CUDA backend");
}
}  // namespace detail
#endif

}  // namespace twofold
