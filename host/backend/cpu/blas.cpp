// CPU GEMM: OpenBLAS's cblas_cgemm. The chains (columns of B and C) are split into
// one block per OpenMP thread and each block is one single-threaded GEMM, so the
// BLAS runs on the engine's own OpenMP threads: OpenBLAS's pthread pool and idle
// OpenMP workers spinning next to it would otherwise compete for the same cores
// (measured: 1.6× slower on two cores, `twofold_bench --only dense-langevin`).
#include "host/backend/blas_engine.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

// OpenBLAS's thread control, when the BLAS is OpenBLAS (weak: absent elsewhere).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace twofold::detail {
namespace {

class cpu_blas_engine final : public blas_engine {
 public:
  cpu_blas_engine() : split_(openblas_set_num_threads != nullptr) { use_single_threaded_blas(); }

  void gemm(blas_op op_a, std::size_t m, std::size_t n, std::size_t k, const cfloat* a, std::size_t lda,
            const cfloat* b, std::size_t ldb, cfloat* c, std::size_t ldc) override {
    if (m == 0 || n == 0) return;
    const auto block = [&](std::size_t first, std::size_t count) {
      const cfloat one{1.0f, 0.0f}, zero{};
      cblas_cgemm(CblasColMajor, op_a == blas_op::none ? CblasNoTrans : CblasConjTrans, CblasNoTrans, int(m),
                  int(count), int(k), &one, a, int(lda), b + first * ldb, int(ldb), &zero, c + first * ldc, int(ldc));
    };
    const std::size_t threads = split_ ? std::min<std::size_t>(n, std::size_t(omp_get_max_threads())) : 1;
    if (threads <= 1) return block(0, n);
#pragma omp parallel for schedule(static)
    for (std::int64_t t = 0; t < std::int64_t(threads); ++t) {
      const std::size_t first = n * std::size_t(t) / threads, last = n * std::size_t(t + 1) / threads;
      block(first, last - first);
    }
  }

 private:
  bool split_;  // OpenBLAS is single-threaded and the engine splits the columns
};

}  // namespace

std::unique_ptr<blas_engine> make_cpu_blas_engine() { return std::make_unique<cpu_blas_engine>(); }

void use_single_threaded_blas() noexcept {
  static const bool done = [] {
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

}  // namespace twofold::detail
