// GPU GEMM: cuBLAS cublasCgemm on the context's stream.
#include "host/backend/blas_engine.hpp"
#include "host/backend/cuda/check.hpp"

#include <cublas_v2.h>

namespace twofold::detail {
namespace {

class cublas_engine final : public blas_engine {
 public:
  explicit cublas_engine(void* stream) {
    TWOFOLD_CUBLAS_TRY(cublasCreate(&handle_));
    TWOFOLD_CUBLAS_TRY(cublasSetStream(handle_, static_cast<cudaStream_t>(stream)));
  }
  ~cublas_engine() override { cublasDestroy(handle_); }

  void gemm(blas_op op_a, std::size_t m, std::size_t n, std::size_t k, const cfloat* a, std::size_t lda,
            const cfloat* b, std::size_t ldb, cfloat* c, std::size_t ldc) override {
    if (m == 0 || n == 0) return;
    const cuComplex one{1.0f, 0.0f}, zero{0.0f, 0.0f};
    TWOFOLD_CUBLAS_TRY(cublasCgemm(handle_, op_a == blas_op::none ? CUBLAS_OP_N : CUBLAS_OP_C, CUBLAS_OP_N, int(m),
                                   int(n), int(k), &one, reinterpret_cast<const cuComplex*>(a), int(lda),
                                   reinterpret_cast<const cuComplex*>(b), int(ldb), &zero,
                                   reinterpret_cast<cuComplex*>(c), int(ldc)));
  }

  void gemm_batched(blas_op op_a, std::size_t m, std::size_t n, std::size_t k, const cfloat* a, std::size_t lda,
                    std::size_t stride_a, const cfloat* b, std::size_t ldb, std::size_t stride_b, cfloat* c,
                    std::size_t ldc, std::size_t stride_c, std::size_t batch) override {
    if (m == 0 || n == 0 || batch == 0) return;
    const cuComplex one{1.0f, 0.0f}, zero{0.0f, 0.0f};
    TWOFOLD_CUBLAS_TRY(cublasCgemmStridedBatched(
        handle_, op_a == blas_op::none ? CUBLAS_OP_N : CUBLAS_OP_C, CUBLAS_OP_N, int(m), int(n), int(k), &one,
        reinterpret_cast<const cuComplex*>(a), int(lda), static_cast<long long>(stride_a),
        reinterpret_cast<const cuComplex*>(b), int(ldb), static_cast<long long>(stride_b), &zero,
        reinterpret_cast<cuComplex*>(c), int(ldc), static_cast<long long>(stride_c), int(batch)));
  }

 private:
  cublasHandle_t handle_{};
};

}  // namespace

std::unique_ptr<blas_engine> make_cublas_engine(void* stream) { return std::make_unique<cublas_engine>(stream); }

}  // namespace twofold::detail
