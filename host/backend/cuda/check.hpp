#pragma once
/// \file
/// Turns CUDA-family status codes into twofold::device_failure with the
/// library's own message (TWOFOLD_CUDA_TRY and friends).

#include <twofold/core/error.hpp>

#include <string>

namespace twofold::detail {

/// Throws device_failure when `status` (a cudaError_t) is not success.
void check_cuda(int status, const char* what, const char* file = __builtin_FILE(), int line = __builtin_LINE());
/// Same for cufftResult and cublasStatus_t codes.
void check_cufft(int status, const char* what, const char* file = __builtin_FILE(), int line = __builtin_LINE());
void check_cublas(int status, const char* what, const char* file = __builtin_FILE(), int line = __builtin_LINE());

}  // namespace twofold::detail

#define TWOFOLD_CUDA_TRY(call) ::twofold::detail::check_cuda(static_cast<int>(call), #call, __FILE__, __LINE__)
#define TWOFOLD_CUFFT_TRY(call) ::twofold::detail::check_cufft(static_cast<int>(call), #call, __FILE__, __LINE__)
#define TWOFOLD_CUBLAS_TRY(call) ::twofold::detail::check_cublas(static_cast<int>(call), #call, __FILE__, __LINE__)
