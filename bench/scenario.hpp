#pragma once
// Benchmark scenarios: a problem, a sampler and a size, timed end to end through
// twofold::sample, with the memory passes of one step counted from the code.

#include <twofold/context.hpp>
#include <twofold/core_types.hpp>
#include <twofold/sampler_types.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace twofold::bench {

enum class size_preset { cpu, gpu };

/// One kernel of a sampler step and the full passes it makes over H·W complex64
/// arrays of one chain. Per-image maps shared by every chain (prior mean and
/// variance, mask, Aᴴy) are not counted: they are read once per pixel for the
/// whole batch and stay in cache.
struct memory_pass {
  std::string kernel;
  int reads = 0;
  int writes = 0;
};

/// The kernels of one step of `kind` on a Cartesian mask operator (host/
/// sampler_langevin.cpp with a pixel-basis Gaussian prior, host/sampler_exact.cpp
/// with a Fourier-basis one). Each library FFT is counted as one read and one write
/// of the state: the least any out-of-cache FFT can do (cuFFT may make more passes
/// for large images, in which case the true traffic is higher than counted).
std::vector<memory_pass> passes_per_step(sampler_kind kind);

struct scenario_config {
  std::string name;           ///< "single-coil line mask"
  sampler_kind sampler = sampler_kind::langevin;
  image_shape shape{};
  std::size_t runs = 0, chains_per_run = 0;  ///< replicate design: runs × chains_per_run chains
  std::size_t levels = 0;                    ///< noise levels of the EDM schedule
  std::size_t inner_steps = 1;               ///< langevin steps per level (1 for exact)
  std::size_t prior_images = 0;              ///< phantoms the Gaussian prior is estimated from
  double acceleration = 4.0;                 ///< random line mask
  double sigma_y = 0.01;                     ///< measurement noise, data units
  std::size_t repeats = 3;

  std::size_t chains() const { return runs * chains_per_run; }
  std::size_t steps_per_chain() const { return levels * inner_steps; }
};

/// The single-coil line-mask scenario of SPEC §6 for both samplers: 256² image,
/// 4096 chains × 1000 steps (gpu), or 64² image, 32 chains × 100 steps (cpu).
std::vector<scenario_config> single_coil_scenarios(size_preset size, std::size_t repeats);

/// sampler_params of the scenario (EDM schedule with library defaults otherwise).
sampler_params sampler_settings(const scenario_config& c);

struct scenario_result {
  scenario_config config;
  std::vector<double> wall_seconds;    ///< around each twofold::sample call
  std::vector<double> engine_seconds;  ///< sample_report::seconds of each call
  std::size_t waves = 0, wave_chains = 0;
  double seconds = 0;                  ///< median wall time
  double chain_steps_per_second = 0;   ///< chains · steps / median wall time
  std::vector<memory_pass> passes;
  double bytes_per_chain_step = 0;     ///< (reads + writes) · H·W · 8
  double achieved_bytes_per_second = 0;
  double roofline_fraction = 0;        ///< achieved / copy bandwidth
};

/// Builds the problem (a phantom, its line-masked k-space with noise, a prior
/// estimated from other phantoms of the family), runs one untimed warm-up with
/// the same batch and two noise levels (FFT plans are created there), then
/// `repeats` timed runs of the replicate design.
scenario_result run_scenario(const context& ctx, const scenario_config& config, double copy_bytes_per_second);

}  // namespace twofold::bench
