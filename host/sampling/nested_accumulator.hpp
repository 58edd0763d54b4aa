#pragma once
/// \file
/// Nested Welford accumulators on the backend (docs/design.md §1.6): within each run, the
/// mean m_r and unbiased variance v_r of its K chains; across runs, a Welford
/// over m_r and the sum of v_r. Chains arrive in waves in global chain order;
/// each wave is cut into fixed tiles (math::chain_tile) that are reduced
/// sequentially and merged with Chan's formula in order, so the result is
/// bit-identical for any wave size that starts waves on tile boundaries.

#include <twofold/core/buffer.hpp>
#include "host/math/welford.hpp"

#include <cstddef>
#include <vector>

namespace twofold::detail {

/// Chains per tile: a run's chains are tiled from its first chain in steps of this.
inline constexpr std::size_t accumulation_tile = 32;

class nested_accumulator {
 public:
  nested_accumulator(const context& ctx, image_shape shape, std::size_t chains_per_run);

  /// Accumulates value = a + beta·b (b may be null) of the chains with global
  /// indices [first_chain, first_chain + chains); first_chain must be a tile start.
  void add(const context& ctx, const cfloat* a, const cfloat* b, float beta, std::size_t first_chain,
           std::size_t chains);

  struct moments {
    std::vector<cdouble> mean;         ///< mean over runs of m_r
    std::vector<double> within;        ///< mean over runs of v_r
    std::vector<double> between;       ///< unbiased variance over runs of m_r
    std::size_t runs = 0;
  };
  /// Reads the across-run state back (all runs must be complete).
  moments finish(const context& ctx) const;

 private:
  image_shape shape_;
  std::size_t per_run_;
  std::size_t next_chain_ = 0;
  buffer<math::welford> open_run_, run_means_;
  buffer<double> within_sum_;
};

/// The tiles of chains [first, first + count) (global indices), local to that range.
std::vector<math::chain_tile> tiles_of(std::size_t first, std::size_t count, std::size_t chains_per_run);

}  // namespace twofold::detail
