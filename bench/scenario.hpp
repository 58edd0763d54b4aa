#pragma once
// Benchmark scenarios: a problem, a sampler and a size, timed end to end through
// twofold::sample, with the memory passes of one step counted from the code.

#include <twofold/twofold.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace twofold::bench {

enum class size_preset { cpu, gpu };

/// The operator of a scenario (docs/design.md §6 reference scenarios).
enum class scenario_operator {
  single_coil,  ///< A = M F, 4× random line mask
  multicoil,    ///< A = M F S, synthetic coil maps (make_coil_maps), 4× random line mask
  dense,        ///< A = a real m × n lead field of N(0, 1/n) entries, real-valued problem
  mixture_1d,   ///< A = 1 on a 1 × 1 real image, a three-component Gaussian-mixture prior
};

/// "single-coil", "multicoil", "dense" or "gmm-1d": the JSON name and the peer's --operator.
const char* operator_id(scenario_operator op);

/// One kernel of a sampler step and the full passes it makes over arrays of
/// `elements` complex64 values of one chain (H·W for the image state, C·H·W / C for
/// one coil plane, m for a dense operator's measurements). Per-image maps shared by
/// every chain (prior mean and variance, mask, coil maps, Aᴴy) are not counted: they
/// are read once per pixel for the whole batch and stay in cache. A dense operator's
/// matrix is counted as read once per GEMM for the whole batch: m·n / chains
/// elements per chain.
struct memory_pass {
  std::string kernel;
  int reads = 0;
  int writes = 0;
  double elements = 0;
};

struct scenario_config {
  std::string id;             ///< "single-coil-langevin": the --only name
  std::string name;           ///< "single-coil line mask"
  scenario_operator op = scenario_operator::single_coil;
  sampler_kind sampler = sampler_kind::langevin;
  image_shape shape{};        ///< the image (1 × n for dense)
  std::size_t coils = 1;      ///< multicoil: coil maps
  std::size_t sensors = 0;    ///< dense: rows m of the lead field
  /// dense: a forward folder (python/eeg/make_forward.py) whose lead field, whitened by
  /// its noise covariance, is A, with the minimum-norm prior (docs/eeg.md); empty: the
  /// random N(0, 1/n) matrix and a N(0, I) prior.
  std::string lead_field_dir;
  std::size_t runs = 0, chains_per_run = 0;  ///< replicate design: runs × chains_per_run chains
  std::size_t levels = 0;                    ///< noise levels of the EDM schedule
  std::size_t inner_steps = 1;               ///< langevin steps per level (1 for exact)
  std::size_t prior_images = 0;              ///< phantoms the Gaussian prior is estimated from (MRI)
  double acceleration = 4.0;                 ///< random line mask (MRI)
  double sigma_y = 0.01;                     ///< measurement noise, data units
  std::size_t repeats = 3;
  /// A TorchScript denoiser as the prior (docs/learned_priors.md: x0 output, sigma input);
  /// empty: the Gaussian prior. single-coil-learned.
  std::string model;

  std::size_t chains() const { return runs * chains_per_run; }
  std::size_t steps_per_chain() const { return levels * inner_steps; }
};

/// The kernels of one step of the scenario's sampler on its operator
/// (host/samplers/langevin.cpp with a pixel-basis Gaussian prior, host/samplers/exact.cpp
/// with a Fourier-basis one; host/operators/*.cpp for AᴴA). Each library FFT is counted
/// as one read and one write of the state: the least any out-of-cache FFT can do
/// (cuFFT may make more passes for large images, in which case the true traffic is
/// higher than counted).
std::vector<memory_pass> passes_per_step(const scenario_config& c);

/// The single-coil line-mask scenario of docs/design.md §6 for both samplers: 256² image,
/// 4096 chains × 1000 steps (gpu), or 64² image, 32 chains × 100 steps (cpu).
std::vector<scenario_config> single_coil_scenarios(size_preset size, std::size_t repeats);

/// Langevin on the multi-coil MRI operator: 8 coils × 320², 1024 chains × 1000 steps
/// (gpu), or 8 coils × 64², 32 chains × 100 steps (cpu); 4× random line mask.
scenario_config multicoil_scenario(size_preset size, std::size_t repeats);

/// Langevin on a dense real lead field: 128 sensors × 8196 sources, 4096 chains ×
/// 1000 steps (gpu), or 64 × 2048, 128 chains × 100 steps (cpu).
scenario_config dense_scenario(size_preset size, std::size_t repeats);
/// Langevin on the shipped EEG lead field (data/eeg/biosemi64-sphere: 64 channels,
/// rank 63 after whitening, 321 sources × 3 = 963 components), the minimum-norm prior
/// (depth 0.8, λ² = 1/9) and unit whitened noise: 8 × 512 = 4096 chains × 1000 steps
/// (gpu) or 8 × 16 = 128 chains × 100 steps (cpu). `forward_dir`: the folder.
scenario_config eeg_scenario(size_preset size, std::size_t repeats, const std::string& forward_dir);

/// The exact sampler on a 1-D three-mode mixture posterior (the validation suite's
/// gmm-1d problem with A = 1): 10⁶ chains × 1000 steps (gpu) or 10⁵ × 100 (cpu).
/// Per-chain work is a handful of scalars, so it measures the engine's per-step
/// overhead and its mixture kernels at the largest chain counts.
scenario_config mixture_scenario(size_preset size, std::size_t repeats);

/// Langevin on the single-coil problem with a TorchScript network as the prior, 64²
/// (the shipped model's size): 8 chains × 20 steps (cpu) or 256 × 100 (gpu). The network:
/// $TWOFOLD_BENCH_MODEL, else the shipped model data/models/phantom-denoiser/model.pt when
/// present, else the stand-in UNet that bench/make_conv_denoiser.py wrote at build time
/// (empty when none is there: the scenario is then skipped).
scenario_config learned_scenario(size_preset size, std::size_t repeats);

/// Every scenario of a size, in run order.
std::vector<scenario_config> all_scenarios(size_preset size, std::size_t repeats);

/// sampler_params of the scenario (EDM schedule with library defaults otherwise).
sampler_params sampler_settings(const scenario_config& c);

struct scenario_result {
  scenario_config config;
  std::string prior;                   ///< the prior's name (prior::name)
  std::vector<double> wall_seconds;    ///< around each twofold::sample call
  std::vector<double> engine_seconds;  ///< sample_report::seconds of each call
  std::size_t waves = 0, wave_chains = 0;
  double seconds = 0;                  ///< median wall time
  double chain_steps_per_second = 0;   ///< chains · steps / median wall time
  std::vector<memory_pass> passes;
  double bytes_per_chain_step = 0;     ///< Σ (reads + writes) · elements · 8
  double achieved_bytes_per_second = 0;
  double roofline_fraction = 0;        ///< achieved / copy bandwidth
  /// Multi-coil: CG iterations of the accumulators' range projection P_R (last wave
  /// of the last repeat); it is in the timings but not in the bytes.
  std::size_t projection_iterations = 0;
  std::string projection = "none";  ///< multicoil P_R: "row-svd" (line masks) or "cg"
  /// single-coil-learned: the median repeat's seconds inside the network (forward), in
  /// the prior's calls (network + layout copies + conversions + finiteness check), and
  /// the denoiser calls per repeat.
  double network_seconds = 0, prior_call_seconds = 0;
  std::size_t network_calls = 0;
};

/// Builds the problem (MRI: a phantom, its masked k-space with noise, a prior
/// estimated from other phantoms of the family; dense: a N(0, 1) truth, its noisy
/// measurements, the prior CN(0, I) in the real field), runs one untimed warm-up with
/// the same batch and two noise levels (FFT plans are created there), then
/// `repeats` timed runs of the replicate design.
scenario_result run_scenario(const context& ctx, const scenario_config& config, double copy_bytes_per_second);

}  // namespace twofold::bench
