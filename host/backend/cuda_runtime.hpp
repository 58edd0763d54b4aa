#pragma once
/// \file
/// The CUDA runtime calls the host orchestration needs, behind plain C++
/// declarations (defined in host/backend/cuda/runtime.cpp; stubs that report the backend
/// missing when the build has no CUDA).

#include <cstddef>
#include <string>

namespace twofold::detail::cuda {

/// Empty when a device is usable, else why not (no driver, no device, no build).
std::string unavailable_reason() noexcept;
/// Devices the runtime sees (0 without a driver, a device or the build).
int device_count() noexcept;
void* create_stream(int device);
/// Prepares `device`'s default memory pool for stream-ordered allocation: its release
/// threshold raised to the maximum, so memory freed with cudaFreeAsync stays in the pool
/// for the next cudaMallocAsync instead of going back to the driver at the next
/// synchronisation. False when the device has no memory pools (allocate/deallocate then
/// use cudaMalloc/cudaFree, which synchronise).
bool configure_memory_pool(int device);
/// Makes `device` current on the calling thread when it is not (contexts are used from
/// any thread, and a thread's current device starts as 0).
void bind_device(int device) noexcept;
void destroy_stream(void* stream) noexcept;
std::string device_name(int device);
void synchronize(void* stream);
/// Free device memory of the current device plus what its default pool holds unused
/// (memory that cudaMallocAsync can hand out again without the driver).
std::size_t free_memory();
/// `bytes` of device memory, stream-ordered on `stream` (cudaMallocAsync from the
/// current device's default pool) when `pooled`; throws out_of_memory when the device
/// has no room.
void* allocate(std::size_t bytes, void* stream, bool pooled);
/// Frees allocate()'s memory on the stream it was allocated on, after the work queued
/// there so far (cudaFreeAsync), without waiting; the caller binds the device first.
void deallocate(void* p, void* stream, bool pooled) noexcept;
void copy(void* dst, const void* src, std::size_t bytes, void* stream);
void zero(void* dst, std::size_t bytes, void* stream);
/// TWOFOLD_SYNC_LAUNCHES=1 in the environment (read once): every element-wise launch
/// is followed by a stream synchronisation, so a kernel fault is reported by the
/// kernel that caused it instead of by the next copy. A debugging aid; slow.
bool synchronous_launches() noexcept;
/// Waits for `stream` and returns its status (a cudaError_t as int) instead of throwing.
int stream_status(void* stream) noexcept;

}  // namespace twofold::detail::cuda
