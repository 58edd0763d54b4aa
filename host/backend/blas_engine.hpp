#pragma once
/// \file
/// The backend's complex single-precision GEMM (OpenBLAS on the CPU, cuBLAS on the
/// GPU), created on first use and bound to the context's stream. Dense operators
/// apply to every chain of a batch in one call: a [chain, n] C-order batch is the
/// column-major n×chains matrix.

#include <twofold/core/complex.hpp>

#include <cstddef>
#include <memory>

namespace twofold::detail {

enum class blas_op { none, conj_transpose };

class blas_engine {
 public:
  virtual ~blas_engine() = default;
  /// C = op(A) B, column-major: op(A) is m×k, B is k×n, C is m×n (overwritten).
  virtual void gemm(blas_op op_a, std::size_t m, std::size_t n, std::size_t k, const cfloat* a, std::size_t lda,
                    const cfloat* b, std::size_t ldb, cfloat* c, std::size_t ldc) = 0;
  /// `batch` such products, product i on a + i·stride_a, b + i·stride_b and
  /// c + i·stride_c (one strided-batched call on cuBLAS; one gemm each on the CPU).
  virtual void gemm_batched(blas_op op_a, std::size_t m, std::size_t n, std::size_t k, const cfloat* a,
                            std::size_t lda, std::size_t stride_a, const cfloat* b, std::size_t ldb,
                            std::size_t stride_b, cfloat* c, std::size_t ldc, std::size_t stride_c,
                            std::size_t batch) {
    for (std::size_t i = 0; i < batch; ++i)
      gemm(op_a, m, n, k, a + i * stride_a, lda, b + i * stride_b, ldb, c + i * stride_c, ldc);
  }
};

std::unique_ptr<blas_engine> make_cpu_blas_engine();

/// Makes OpenBLAS single-threaded (once; nothing when the BLAS is not OpenBLAS).
/// twofold parallelises over chains and rows with OpenMP itself and calls BLAS and
/// LAPACK from inside those loops. OpenBLAS's own pthread pool next to OpenMP is
/// slower here, and with OpenBLAS 0.3.21 its threaded zgemv (inside zheev)
/// segfaulted in tests/operators/operator_test.cpp. Called by every context constructor.
void use_single_threaded_blas() noexcept;
std::unique_ptr<blas_engine> make_cublas_engine(void* stream);

}  // namespace twofold::detail
