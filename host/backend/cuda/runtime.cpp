// CUDA runtime calls of the host orchestration (compiled only with the CUDA backend).
#include "host/backend/cuda/check.hpp"
#include "host/backend/cuda_runtime.hpp"

#include <cuda_runtime_api.h>
#include <cufft.h>
#include <cublas_v2.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace twofold::detail {

void check_cuda(int status, const char* what, const char* file, int line) {
  if (status == cudaSuccess) return;
  const auto e = static_cast<cudaError_t>(status);
  throw_device_failure(file, line, std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

namespace {
/// cufftResult's names by value (cuFFT has no name function; values as documented,
/// some retired in later toolkits, so matched by number).
const char* cufft_status_name(int status) {
  switch (status) {
    case 1: return "CUFFT_INVALID_PLAN";
    case 2: return "CUFFT_ALLOC_FAILED";
    case 3: return "CUFFT_INVALID_TYPE";
    case 4: return "CUFFT_INVALID_VALUE";
    case 5: return "CUFFT_INTERNAL_ERROR";
    case 6: return "CUFFT_EXEC_FAILED";
    case 7: return "CUFFT_SETUP_FAILED";
    case 8: return "CUFFT_INVALID_SIZE";
    case 9: return "CUFFT_UNALIGNED_DATA";
    case 10: return "CUFFT_INCOMPLETE_PARAMETER_LIST";
    case 11: return "CUFFT_INVALID_DEVICE";
    case 12: return "CUFFT_PARSE_ERROR";
    case 13: return "CUFFT_NO_WORKSPACE";
    case 14: return "CUFFT_NOT_IMPLEMENTED";
    case 15: return "CUFFT_LICENSE_ERROR";
    case 16: return "CUFFT_NOT_SUPPORTED";
    default: return "unknown cuFFT status";
  }
}
}  // namespace

void check_cufft(int status, const char* what, const char* file, int line) {
  if (status == CUFFT_SUCCESS) return;
  throw_device_failure(file, line, std::string(what) + ": " + cufft_status_name(status) + " (cuFFT status " +
                                       std::to_string(status) + ")");
}

void check_cublas(int status, const char* what, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw_device_failure(file, line,
                       std::string(what) + ": " + cublasGetStatusString(static_cast<cublasStatus_t>(status)));
}

namespace cuda {

int stream_status(void* stream) noexcept {
  return static_cast<int>(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

bool synchronous_launches() noexcept {
  static const bool on = [] {
    const char* v = std::getenv("TWOFOLD_SYNC_LAUNCHES");
    return v != nullptr && std::string(v) == "1";
  }();
  return on;
}

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

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

void* create_stream(int device) {
  TWOFOLD_CUDA_TRY(cudaSetDevice(device));
  cudaStream_t s = nullptr;
  TWOFOLD_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

void bind_device(int device) noexcept {
  int current = -1;
  if (cudaGetDevice(&current) != cudaSuccess || current != device) (void)cudaSetDevice(device);
}

void destroy_stream(void* stream) noexcept { cudaStreamDestroy(static_cast<cudaStream_t>(stream)); }

std::string device_name(int device) {
  cudaDeviceProp prop{};
  TWOFOLD_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

void synchronize(void* stream) { TWOFOLD_CUDA_TRY(cudaStreamSynchronize(static_cast<cudaStream_t>(stream))); }

bool configure_memory_pool(int device) {
  int supported = 0;
  TWOFOLD_CUDA_TRY(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device));
  if (!supported) return false;
  cudaMemPool_t pool = nullptr;
  TWOFOLD_CUDA_TRY(cudaDeviceGetDefaultMemPool(&pool, device));
  std::uint64_t keep = ~std::uint64_t{0};  // never release freed memory at a synchronisation
  TWOFOLD_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  return true;
}

std::size_t free_memory() {
  std::size_t free = 0, total = 0;
  TWOFOLD_CUDA_TRY(cudaMemGetInfo(&free, &total));
  int device = 0, supported = 0;
  TWOFOLD_CUDA_TRY(cudaGetDevice(&device));
  TWOFOLD_CUDA_TRY(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device));
  if (!supported) return free;
  // Memory the pool keeps after cudaFreeAsync counts as used for cudaMemGetInfo, but
  // the next cudaMallocAsync gets it back: it is free for wave sizing.
  cudaMemPool_t pool = nullptr;
  TWOFOLD_CUDA_TRY(cudaDeviceGetDefaultMemPool(&pool, device));
  std::uint64_t reserved = 0, used = 0;
  TWOFOLD_CUDA_TRY(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved));
  TWOFOLD_CUDA_TRY(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used));
  return free + static_cast<std::size_t>(reserved > used ? reserved - used : 0);
}

void* allocate(std::size_t bytes, void* stream, bool pooled) {
  void* p = nullptr;
  const cudaError_t status =
      pooled ? cudaMallocAsync(&p, bytes, static_cast<cudaStream_t>(stream)) : cudaMalloc(&p, bytes);
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky: clear it so later calls do not report it
    throw_out_of_memory(__FILE__, __LINE__, "out of device memory allocating " + std::to_string(bytes) + " bytes");
  }
  check_cuda(static_cast<int>(status), pooled ? "cudaMallocAsync" : "cudaMalloc", __FILE__, __LINE__);
  return p;
}

void deallocate(void* p, void* stream, bool pooled) noexcept {
  if (pooled) (void)cudaFreeAsync(p, static_cast<cudaStream_t>(stream));
  else (void)cudaFree(p);
}

namespace {
/// Whether `p` is device memory (cudaMalloc); host memory, registered or not, and
/// managed memory are not.
bool device_memory(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    cudaGetLastError();  // an unknown pointer is host memory; clear the error
    return false;
  }
  return a.type == cudaMemoryTypeDevice;
}
}  // namespace

void copy(void* dst, const void* src, std::size_t bytes, void* stream) {
  const auto s = static_cast<cudaStream_t>(stream);
  TWOFOLD_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s));
  // Device to device stays queued on the stream; a copy touching host memory returns
  // only once it is done (the caller reads or frees that memory next).
  if (!(device_memory(dst) && device_memory(src))) TWOFOLD_CUDA_TRY(cudaStreamSynchronize(s));
}

void zero(void* dst, std::size_t bytes, void* stream) {
  TWOFOLD_CUDA_TRY(cudaMemsetAsync(dst, 0, bytes, static_cast<cudaStream_t>(stream)));
}

}  // namespace cuda
}  // namespace twofold::detail
