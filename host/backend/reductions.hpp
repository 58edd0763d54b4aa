#pragma once
/// \file
/// Per-chain reductions: the CUDA kernel (kernels/reductions.cu) and its CPU twin
/// produce the same sums up to rounding (parity test in tests/gpu/gpu_parity_test.cpp).

#include <twofold/core/context.hpp>
#include <twofold/core/complex.hpp>

#include <cstddef>

namespace twofold::detail {

/// out[c] = Σ_i conj(a[c·n + i]) · b[c·n + i] in double, for c < chains.
/// `out` is backend memory of `chains` cdouble. The CPU sums each chain in index order;
/// CUDA in two deterministic passes over a 2-D grid (kernels/launch.hpp), its partial
/// sums in the context's grow-only scratch (context::scratch()).
void batched_dot(const context& ctx, const cfloat* a, const cfloat* b, std::size_t chains, std::size_t n,
                 cdouble* out);

}  // namespace twofold::detail
