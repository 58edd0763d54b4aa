#pragma once
// The peer implementations timed in the same run (docs/benchmarks.md): the scripts in
// bench/peers/ (NumPy; PyTorch eager and torch.compile), run through popen. A missing
// interpreter, library or feature makes a peer "skipped" with the reason; it never
// fails the benchmark.

#include <twofold/twofold.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace twofold::bench {

/// Sizes and sampler settings handed to the peer script (its command-line flags).
struct peer_request {
  std::string sampler;  ///< "langevin" or "exact"
  std::string op = "single-coil";  ///< "single-coil", "multicoil" or "dense"
  image_shape shape{};
  std::size_t coils = 1;    ///< multicoil
  std::size_t sensors = 0;  ///< dense: rows m (shape is 1 × n)
  std::size_t projection_iterations = 0;  ///< multicoil: CG iterations of P_R (twofold's)
  std::string projection = "cg";         ///< multicoil: how twofold computed P_R (row-svd | cg)
  std::size_t chains = 0;
  std::size_t levels = 0, inner_steps = 1;
  std::size_t repeats = 1;
  double sigma_y = 0.01, gamma = 1.0, step = 0.1;
  double s_min = 1e-4, s_max = 10.0, rho = 7.0;
};

/// One peer: its name in the report, interpreter command, script and extra flags.
struct peer_program {
  std::string name;
  std::string python;
  std::string script;
  std::string extra_flags;  ///< appended to the common flags, e.g. "--mode compile --threads 2"
};

struct peer_result {
  std::string name;
  bool ran = false;
  std::string skipped_reason;  ///< when !ran
  std::string command;
  double chain_steps_per_second = 0;
  nlohmann::json report;  ///< the script's own JSON (versions, sizes, every timing)
};

/// Runs `python script <flags> <extra flags>` and reads the script's JSON line.
peer_result run_peer(const peer_program& program, const peer_request& request);

}  // namespace twofold::bench
