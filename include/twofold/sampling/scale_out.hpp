#pragma once
/// \file
/// sample() spread over processes, without a communicator (docs/scaling.md). Each
/// process samples a share of the runs with the same counter-based random numbers
/// as one process would; its share keeps every run's accumulator state; one process
/// folds the shares in run order into maps bit-identical to sample()'s, for any
/// split. The bytes in between travel by any means (MPI, files, sockets):
///
///   auto mine = twofold::sample_share(ctx, problem, prior, sp, dp, first_run, runs);
///   auto bytes = twofold::serialize(mine);                   // send to the merging process
///   twofold::share_merger merge(ctx, problem.op(), dp);      // there:
///   for (each share in run order) merge.add(twofold::deserialize_share(bytes));
///   twofold::sample_result result = merge.finish();          // == sample(ctx, problem, prior, sp, dp)

#include <twofold/sampling/sample.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace twofold {

/// Runs [first_run, first_run + runs) of a design, each run closed: per run and
/// pixel the Welford state of the run's chains — (n, Re mean, Im mean,
/// Σ|x − mean|²) — of x, P_R x and P_N x. 96 bytes per pixel and run.
struct run_share {
  image_shape shape{};
  std::size_t first_run = 0, runs = 0, chains_per_run = 0;
  std::vector<double> x, range, null;  ///< [runs, H, W, 4] each
  std::vector<cfloat> draws;           ///< design.keep_draws: C order [runs·K, H, W]
  sample_report report;                ///< this share's chains, waves and time
};

/// Samples runs [first_run, first_run + runs) of the design (the cascade's stage 1
/// for these runs, then their completions; replicate: their posterior draws), with
/// the random numbers sample() gives those runs. Throws bad_input when the range is
/// empty or beyond design.runs, plus what sample() throws.
run_share sample_share(const context& ctx, const inverse_problem& problem, const prior& prior,
                       const sampler_params& sampler, const design_params& design, std::size_t first_run,
                       std::size_t runs, const progress_callback& progress = {});

/// The runs of process `rank` of `processes` when R runs are split into contiguous
/// shares as evenly as possible (the first R mod P processes get one more run):
/// {first_run, runs}. runs may be 0 when P > R.
std::pair<std::size_t, std::size_t> share_of(std::size_t runs, std::size_t processes, std::size_t rank);

/// Folds shares, given in run order, into the design's maps. finish() needs shares
/// that cover runs [0, design.runs) exactly.
class share_merger {
 public:
  /// `op` gives the shape (its domain) only; `design` the runs, K and the design kind.
  share_merger(const context& ctx, const linear_operator& op, const design_params& design);
  ~share_merger();
  share_merger(share_merger&&) noexcept;
  share_merger& operator=(share_merger&&) noexcept;

  /// Adds the next share: bad_input when it does not start where the previous one
  /// ended, or its shape, K or sizes differ from the design's. Its draws are kept
  /// when design.keep_draws.
  void add(const run_share& share);
  /// The maps, the summed report (seconds: the slowest share's) and the draws.
  /// bad_input when the shares do not cover every run.
  sample_result finish();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// A share as bytes (little-endian host order, a version tag first) and back;
/// deserialize_share throws bad_input when the bytes are not a share.
std::vector<std::byte> serialize(const run_share& share);
run_share deserialize_share(std::span<const std::byte> bytes);

}  // namespace twofold
