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
/// Makes `device` current on the calling thread when it is not (contexts are used from
/// any thread, and a thread's current device starts as 0).
void bind_device(int device) noexcept;
void destroy_stream(void* stream) noexcept;
std::string device_name(int device);
void synchronize(void* stream);
std::size_t free_memory();
void* allocate(std::size_t bytes);
void deallocate(void* p) noexcept;
void copy(void* dst, const void* src, std::size_t bytes, void* stream);
void zero(void* dst, std::size_t bytes, void* stream);
/// TWOFOLD_SYNC_LAUNCHES=1 in the environment (read once): every element-wise launch
/// is followed by a stream synchronisation, so a kernel fault is reported by the
/// kernel that caused it instead of by the next copy. A debugging aid; slow.
bool synchronous_launches() noexcept;
/// Waits for `stream` and returns its status (a cudaError_t as int) instead of throwing.
int stream_status(void* stream) noexcept;

}  // namespace twofold::detail::cuda
