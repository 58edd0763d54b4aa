#pragma once
/// \file
/// `twofold sample --mpi` (docs/scaling.md): the runs are split over the processes
/// of an MPI job (contiguous shares, twofold::share_of); each samples its share with
/// the single-process random numbers (twofold::sample_share), rank 0 gathers the
/// shares in rank order, folds them (twofold::share_merger: maps bit-identical to
/// one process) and writes the output folder. An error in any process aborts the
/// whole job (MPI_Abort with the error's exit code): nothing is written.

#include <twofold/twofold.hpp>

#include <optional>

namespace twofold::cli {

class mpi_job {
 public:
  /// MPI_Init. bad_input when this build has no MPI.
  mpi_job();
  /// MPI_Finalize (after an error, main aborts the job instead: abort_mpi_job).
  ~mpi_job();
  mpi_job(const mpi_job&) = delete;
  mpi_job& operator=(const mpi_job&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  /// The process's rank on its node (picks its GPU).
  int local_rank() const noexcept { return local_rank_; }

  /// Samples this process's share of the runs and gathers them: rank 0 gets the
  /// result of sample() (bit-identical), the others nothing. Rank 0's
  /// design.draw_sink gets every draw in run order: its own wave by wave, the
  /// others' a share at a time as they arrive (their design.keep_draws sends them).
  std::optional<sample_result> sample(const context& ctx, const inverse_problem& problem, const prior& prior,
                                      const sampler_params& sp, const design_params& design,
                                      const progress_callback& progress) const;

  /// Every process waits here until rank 0 has committed the output folder, so the
  /// job ends together (rank 0 failing aborts the others).
  void finish_together() const;

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

/// When an mpi_job is running: MPI_Abort(code), which ends every process of the
/// job (rank 0's staging folder is removed by its SIGTERM handler). Else nothing.
void abort_mpi_job(int code) noexcept;

/// The number of processes an MPI launcher (mpirun, srun) started for this job,
/// read from its environment; 1 when not launched by one.
int launched_processes() noexcept;

}  // namespace twofold::cli
