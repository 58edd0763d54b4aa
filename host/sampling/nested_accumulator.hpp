#pragma once
/// \file
/// Nested Welford accumulators on the backend (docs/design.md §1.6): within each run, the
/// mean m_r and unbiased variance v_r of its K chains; across runs, a Welford
/// over m_r and the sum of v_r. Chains arrive in waves in global chain order;
/// each wave is cut into fixed tiles (math::chain_tile) that are reduced
/// sequentially and merged with Chan's formula in order, so the result is
/// bit-identical for any wave size that starts waves on tile boundaries.

#include <twofold/core/buffer.hpp>
#include "host/math/uncertainty_maps.hpp"
#include "host/math/welford.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace twofold::detail {

/// Chains per tile: a run's chains are tiled from its first chain in steps of this.
inline constexpr std::size_t accumulation_tile = 32;

class nested_accumulator {
 public:
  /// Expects chains from `first_chain` on (a run's first chain; > 0 when this
  /// accumulator sees a share of the runs).
  nested_accumulator(const context& ctx, image_shape shape, std::size_t chains_per_run, std::size_t first_chain = 0);

  /// Accumulates value = a + beta·b (b may be null) of the chains with global
  /// indices [first_chain, first_chain + chains); first_chain must be a tile start.
  void add(const context& ctx, const cfloat* a, const cfloat* b, float beta, std::size_t first_chain,
           std::size_t chains);

  /// The across-run state on the backend once every run is complete (bad state
  /// otherwise), for math::uncertainty_map_pixel; `runs()` runs went into it.
  math::across_runs across_runs() const;
  std::size_t runs() const noexcept { return next_chain_ / per_run_; }

  /// From now on each run that closes leaves its chains' Welford state at
  /// log[(r − first_run)·N + p] (backend memory, one image per run).
  void log_runs(math::welford* log, std::size_t first_run);
  /// Folds `runs` closed runs given by their logged states (backend memory, run
  /// after run) as if their chains had been added: bit-identical to add() of those
  /// chains. The open run must be empty (a run boundary).
  void add_closed_runs(const context& ctx, const math::welford* states, std::size_t runs);

  /// The whole state as numbers (next chain, open run, run means, sum of v_r), and
  /// back: restore(save()) continues bit-identically.
  std::vector<double> save(const context& ctx) const;
  void restore(const context& ctx, std::span<const double> state);
  std::size_t next_chain() const noexcept { return next_chain_; }

 private:
  image_shape shape_;
  std::size_t per_run_;
  std::size_t next_chain_ = 0;
  buffer<math::welford> open_run_, run_means_;
  buffer<double> within_sum_;
  math::welford* run_log_ = nullptr;
  std::size_t log_first_run_ = 0;
};

/// Welford states as four numbers each (n, Re mean, Im mean, m2; the struct itself
/// has padding), and back.
std::vector<double> pack(std::span<const math::welford> states);
std::vector<math::welford> unpack(std::span<const double> numbers);

/// The tiles of chains [first, first + count) (global indices), local to that range.
std::vector<math::chain_tile> tiles_of(std::size_t first, std::size_t count, std::size_t chains_per_run);

}  // namespace twofold::detail
