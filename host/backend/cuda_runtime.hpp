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
void* create_stream(int device);
void destroy_stream(void* stream) noexcept;
std::string device_name(int device);
void synchronize(void* stream);
std::size_t free_memory();
void* allocate(std::size_t bytes);
void deallocate(void* p) noexcept;
void copy(void* dst, const void* src, std::size_t bytes, void* stream);
void zero(void* dst, std::size_t bytes, void* stream);

}  // namespace twofold::detail::cuda
