#pragma once
/// \file
/// Launchers of the CUDA kernels, callable from plain C++ (host/). Each returns
/// a `cudaError_t` as int (0 = success); host code turns failures into
/// twofold::device_failure. The generic element-wise launcher is explicitly
/// instantiated in kernels/for_each.cu for every functor in kernels/functor_list.hpp.

#include <cstddef>
#include <cstdint>

namespace twofold::kernels {

/// Runs `f(i)` for i in [0, n) on `stream`, one thread per index (grid-stride).
template <class F>
int launch_for_each(void* stream, std::size_t n, const F& f);

/// Per-chain complex inner products out[c] = Σ_i conj(a[c,i]) b[c,i] in double,
/// one block per chain, fixed reduction tree (deterministic for a given n).
int launch_batched_dot(void* stream, const void* a, const void* b, std::size_t chains, std::size_t n,
                       void* out_cdouble);

/// Inclusive prefix sums of `count` doubles within segments of `segment` consecutive
/// entries (cub::DeviceScan::InclusiveSumByKey, keys = index / segment). CUB's
/// two-phase convention: with temp == nullptr only sets temp_bytes.
int launch_segmented_inclusive_sum(void* stream, const double* in, double* out, std::size_t count,
                                   std::size_t segment, void* temp, std::size_t& temp_bytes);

}  // namespace twofold::kernels
