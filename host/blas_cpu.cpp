// CPU GEMM: OpenBLAS's cblas_cgemm (one call for the whole batch of chains).
#include "host/blas_engine.hpp"

#include <cblas.h>

namespace twofold::detail {
namespace {

class cpu_blas_engine final : public blas_engine {
 public:
  void gemm(blas_op op_a, std::size_t m, std::size_t n, std::size_t k, const cfloat* a, std::size_t lda,
            const cfloat* b, std::size_t ldb, cfloat* c, std::size_t ldc) override {
    if (m == 0 || n == 0) return;
    const cfloat one{1.0f, 0.0f}, zero{};
    cblas_cgemm(CblasColMajor, op_a == blas_op::none ? CblasNoTrans : CblasConjTrans, CblasNoTrans, int(m), int(n),
                int(k), &one, a, int(lda), b, int(ldb), &zero, c, int(ldc));
  }
};

}  // namespace

std::unique_ptr<blas_engine> make_cpu_blas_engine() { return std::make_unique<cpu_blas_engine>(); }

}  // namespace twofold::detail
