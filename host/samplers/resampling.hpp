#pragma once
/// \file
/// Systematic resampling of particle systems (the smc sampler): a system is
/// `particles` consecutive chains of a batch. The double-precision segmented prefix
/// sums run in kernels/resampling.cu (CUB) on the GPU and in a sequential
/// std::inclusive_scan per system on the CPU; the ancestor search is one
/// TWOFOLD_HD functor (math::systematic_ancestor) on both, with its uniform from
/// Philox, so both backends draw the same ancestors (parity test in
/// tests/gpu/gpu_parity_test.cpp).

#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/philox.hpp>

#include <cstddef>
#include <cstdint>

namespace twofold::detail {

/// Scratch of the prefix sums and the ancestor search, owned by the caller and
/// grown on first use, so resampling allocates nothing once a run has started.
struct resampling_workspace {
  buffer<double> cumulative;        ///< the segmented prefix sums of the weights
  buffer<std::uint8_t> scan_temp;   ///< CUB's temporary storage (CUDA only)
};

/// out[i] = Σ in[j] over j from the start of i's segment to i; segments are
/// `segment` consecutive entries (the last may be shorter). Backend memory, double.
void segmented_inclusive_sum(const context& ctx, const double* in, double* out, std::size_t count,
                             std::size_t segment, resampling_workspace& ws);

/// Ancestors (local chain indices, backend memory, `systems · particles` entries) by
/// systematic resampling of every system whose flag is 1 from its weights (≥ 0, not
/// all 0; any scale); systems with flag 0 keep their chains (ancestor[c] = c). The
/// uniform of system r at `step` comes from Philox with chain index
/// rng.first_chain + r · particles, purpose rng_purpose::resampling and rng.substream
/// (math::systematic_ancestor), so results do not depend on how systems are grouped
/// into waves. `weights` and `flags` are backend memory.
void systematic_ancestors(const context& ctx, const double* weights, const std::uint8_t* flags, std::size_t systems,
                          std::size_t particles, const rng_stream& rng, std::uint64_t step, std::uint32_t* ancestors,
                          resampling_workspace& ws);

}  // namespace twofold::detail
