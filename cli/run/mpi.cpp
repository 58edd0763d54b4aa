#include "run/mpi.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#if TWOFOLD_HAS_MPI
// The C API only (OpenMPI and MPICH would otherwise pull in their deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace twofold::cli {

int launched_processes() noexcept {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS", "MPI_LOCALNRANKS"}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != 0) {
      const long n = std::strtol(v, nullptr, 10);
      if (n > 1) return int(n);
    }
  }
  return 1;
}

#if TWOFOLD_HAS_MPI

namespace {

bool job_running = false;

void check(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  TWOFOLD_ENSURES(false, std::string("MPI: ") + what + " failed: " + std::string(text, std::size_t(length)));
}

/// Waits for `request` without spinning: OpenMPI's blocking calls poll at full speed,
/// which would take a core from the processes still sampling (or from rank 0 writing).
void wait_quietly(MPI_Request& request, const char* what) {
  int done = 0;
  while (true) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

constexpr std::size_t chunk = std::size_t{1} << 30;  // MPI counts are int: at most 1 GiB a message

void send_bytes(const std::vector<std::byte>& bytes, int to) {
  const std::uint64_t n = bytes.size();
  check(MPI_Send(&n, 1, MPI_UINT64_T, to, 0, MPI_COMM_WORLD), "send");
  for (std::size_t at = 0; at < bytes.size(); at += chunk)
    check(MPI_Send(bytes.data() + at, int(std::min(chunk, bytes.size() - at)), MPI_BYTE, to, 1, MPI_COMM_WORLD),
          "send");
}

std::vector<std::byte> receive_bytes(int from) {
  std::uint64_t n = 0;
  MPI_Request request;
  check(MPI_Irecv(&n, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, &request), "receive");
  wait_quietly(request, "receive");
  std::vector<std::byte> bytes(n);
  for (std::size_t at = 0; at < bytes.size(); at += chunk)
    check(MPI_Recv(bytes.data() + at, int(std::min<std::size_t>(chunk, n - at)), MPI_BYTE, from, 1, MPI_COMM_WORLD,
                   MPI_STATUS_IGNORE),
          "receive");
  return bytes;
}

}  // namespace

mpi_job::mpi_job() {
  check(MPI_Init(nullptr, nullptr), "MPI_Init");
  job_running = true;
  // Errors come back as codes (check() turns them into runtime_failure, and main aborts the job).
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "node split");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
}

mpi_job::~mpi_job() {
  // Unwinding after an error: main prints it and aborts the whole job (abort_mpi_job);
  // finalising here would leave the other processes waiting.
  if (!job_running || std::uncaught_exceptions() > 0) return;
  job_running = false;
  MPI_Finalize();
}

std::optional<sample_result> mpi_job::sample(const context& ctx, const inverse_problem& problem, const prior& prior,
                                             const sampler_params& sp, const design_params& design,
                                             const progress_callback& progress) const {
  const auto [first, runs] = share_of(design.runs, std::size_t(size_), std::size_t(rank_));
  std::optional<run_share> mine;
  if (runs > 0) mine = sample_share(ctx, problem, prior, sp, design, first, runs, progress);
  if (rank_ != 0) {
    send_bytes(mine ? serialize(*mine) : std::vector<std::byte>{}, 0);
    return std::nullopt;
  }
  share_merger merge(ctx, problem.op(), design);
  if (mine) merge.add(*mine);
  mine.reset();
  for (int from = 1; from < size_; ++from) {
    const auto bytes = receive_bytes(from);
    if (bytes.empty()) continue;
    const run_share share = deserialize_share(bytes);
    // Rank 0's own draws went to the sink wave by wave; the others' arrive a share at a time.
    if (design.draw_sink) design.draw_sink(share.first_run * share.chains_per_run, share.draws);
    merge.add(share);
  }
  return merge.finish();
}

void mpi_job::finish_together() const {
  int done = 1;
  MPI_Request request;
  check(MPI_Ibcast(&done, 1, MPI_INT, 0, MPI_COMM_WORLD, &request), "the final broadcast");
  wait_quietly(request, "the final broadcast");
}

void abort_mpi_job(int code) noexcept {
  if (!job_running) return;
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
}

#else

mpi_job::mpi_job() {
  TWOFOLD_EXPECTS(false, "--mpi: this twofold was built without MPI (install OpenMPI, e.g. libopenmpi-dev, and "
                         "rebuild; docs/scaling.md)");
}
mpi_job::~mpi_job() = default;
std::optional<sample_result> mpi_job::sample(const context&, const inverse_problem&, const prior&,
                                             const sampler_params&, const design_params&,
                                             const progress_callback&) const {
  return std::nullopt;
}
void mpi_job::finish_together() const {}
void abort_mpi_job(int) noexcept {}

#endif

}  // namespace twofold::cli
