// CUDA runtime calls of the host orchestration (compiled only with the CUDA backend).
#include "host/backend/cuda/check.hpp"
#include "host/backend/cuda_runtime.hpp"

#include <cuda_runtime_api.h>
#include <cufft.h>
#include <cublas_v2.h>

#include <string>

namespace twofold::detail {

void check_cuda(int status, const char* what, const char* file, int line) {
  if (status == cudaSuccess) return;
  const auto e = static_cast<cudaError_t>(status);
  throw_device_failure(file, line, std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

void check_cufft(int status, const char* what, const char* file, int line) {
  if (status == CUFFT_SUCCESS) return;
  throw_device_failure(file, line, std::string(what) + ": cuFFT error " + std::to_string(status));
}

void check_cublas(int status, const char* what, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw_device_failure(file, line,
                       std::string(what) + ": " + cublasGetStatusString(static_cast<cublasStatus_t>(status)));
}

namespace cuda {

std::string unavailable_reason() noexcept {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state
    return std::string("no usable CUDA driver/device (") + cudaGetErrorString(e) + ")";
  }
  if (count == 0) return "no CUDA device is present";
  return {};
}

void* create_stream(int device) {
  TWOFOLD_CUDA_TRY(cudaSetDevice(device));
  cudaStream_t s = nullptr;
  TWOFOLD_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

void destroy_stream(void* stream) noexcept { cudaStreamDestroy(static_cast<cudaStream_t>(stream)); }

std::string device_name(int device) {
  cudaDeviceProp prop{};
  TWOFOLD_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

void synchronize(void* stream) { TWOFOLD_CUDA_TRY(cudaStreamSynchronize(static_cast<cudaStream_t>(stream))); }

std::size_t free_memory() {
  std::size_t free = 0, total = 0;
  TWOFOLD_CUDA_TRY(cudaMemGetInfo(&free, &total));
  return free;
}

void* allocate(std::size_t bytes) {
  void* p = nullptr;
  TWOFOLD_CUDA_TRY(cudaMalloc(&p, bytes));
  return p;
}

void deallocate(void* p) noexcept { cudaFree(p); }

void copy(void* dst, const void* src, std::size_t bytes, void* stream) {
  const auto s = static_cast<cudaStream_t>(stream);
  TWOFOLD_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s));
  TWOFOLD_CUDA_TRY(cudaStreamSynchronize(s));
}

void zero(void* dst, std::size_t bytes, void* stream) {
  TWOFOLD_CUDA_TRY(cudaMemsetAsync(dst, 0, bytes, static_cast<cudaStream_t>(stream)));
}

}  // namespace cuda
}  // namespace twofold::detail
