#pragma once
/// \file
/// The engine's entry point: R runs × K chains in waves, on-device nested
/// accumulators, and the per-pixel uncertainty maps of docs/design.md §1.6.
///
///   twofold::context ctx(twofold::backend_request::automatic);
///   auto op = std::make_shared<twofold::fourier_mask_operator>(ctx, shape, mask);
///   twofold::inverse_problem problem(ctx, op, kspace, sigma_y);
///   auto prior = twofold::estimate_gaussian_prior(ctx, twofold::gaussian_basis::pixel, shape, images);
///   auto result = twofold::sample(ctx, problem, prior, twofold::sampler_params{}, twofold::design_params{});
///   // result.maps.ambiguity, result.maps.estimation, ...

#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/priors/gaussian.hpp>
#include <twofold/problem/inverse_problem.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold {

/// How runs relate to each other (docs/design.md §1.6).
enum class run_design {
  cascade,    ///< run r draws x_R ~ p(P_R x | y); its K chains draw x ~ p(x | P_R x = x_R)
  replicate,  ///< runs differ only by seed; each chain is a posterior draw
};

struct design_params {
  run_design kind = run_design::cascade;
  std::size_t runs = 16;            ///< R ≥ 2
  std::size_t chains_per_run = 16;  ///< K ≥ 2
  std::uint64_t seed = 0;
  /// Chains per wave; 0 sizes waves from the backend's free memory. On the CPU the
  /// results do not depend on it (bit-identical), only memory use and speed do; on
  /// CUDA they agree to float rounding (docs/design.md §4.5).
  std::size_t wave_chains = 0;
  /// Also return every accumulated draw (R·K·H·W values on the host): per-pixel
  /// quantiles and coverage need them (include/twofold/diagnostics/coverage.hpp).
  bool keep_draws = false;
  /// Leave the maps in the backend's memory (device memory on CUDA) instead of copying
  /// them to the host: sample_result::backend_maps holds them and sample_result::maps
  /// only their shape. For callers that go on working on the device (the Python
  /// package hands them out as DLPack device arrays); to_host() copies them later.
  bool maps_on_backend = false;
  /// Called after each wave with the draws it accumulated (the replicate design's
  /// posterior draws, the cascade's stage-2 completions; posterior_draws(): every
  /// draw) on the host: the global index of the wave's first chain and its draws, C
  /// order [chains, H, W]. Waves come in chain order, on the calling thread. Without
  /// keep_draws nothing holds them after the call, so a caller can stream all R·K
  /// draws to a file while holding one wave (`twofold sample --save-draws`). A resumed
  /// sample() hands over only the chains it samples; an exception it throws ends the call.
  using draw_sink_type = std::function<void(std::size_t first_chain, std::span<const cfloat> draws)>;
  draw_sink_type draw_sink{};
};

/// Per-pixel maps, C order [H, W]. Variances of complex pixels are E|x − E x|².
struct uncertainty_maps {
  image_shape shape{};
  std::vector<cdouble> mean;            ///< posterior mean (mean of run means)
  std::vector<double> total_variance;   ///< cascade: â + ê; replicate: mean within-run variance
  std::vector<double> ambiguity;        ///< cascade: â = mean_r v_r (empty for replicate)
  std::vector<double> estimation;       ///< cascade: ê = var_r(m_r) − â/K, may be < 0 (empty for replicate)
  std::vector<double> estimation_clipped;  ///< max(ê, 0) (empty for replicate)
  std::vector<double> between_run_variance;  ///< var_r(m_r), unbiased over runs (the raw estimation)
  std::vector<double> range_variance;   ///< total variance of P_R x
  std::vector<double> null_variance;    ///< total variance of P_N x
};

/// uncertainty_maps in the backend's memory (design_params::maps_on_backend): the same
/// values, layout and emptiness (the replicate design's ambiguity, estimation and
/// estimation_clipped are empty buffers). Work that formed them is queued on the
/// context's stream: synchronise it before reading them from another stream.
struct backend_uncertainty_maps {
  image_shape shape{};
  buffer<cdouble> mean;
  buffer<double> total_variance, ambiguity, estimation, estimation_clipped, between_run_variance, range_variance,
      null_variance;
};

/// The same maps on the host (the copy sample() makes without maps_on_backend).
uncertainty_maps to_host(const context& ctx, const backend_uncertainty_maps& maps);

struct sample_report {
  std::string device;
  std::size_t runs = 0, chains_per_run = 0, chains = 0;  ///< chains: all sampled, stage 1 included
  std::size_t steps_per_chain = 0;
  std::size_t waves = 0, wave_chains = 0;
  /// Times a wave ran out of backend memory and the waves were halved (automatic
  /// wave sizing only; on the CPU the results are bit for bit those of any wave size, on
  /// CUDA meant to agree to float rounding, not yet run on a device: docs/design.md §4.5).
  std::size_t waves_halved = 0;
  double seconds = 0;
  double chain_steps_per_second = 0;
};

struct sample_result {
  uncertainty_maps maps;
  sample_report report;
  /// With design.keep_draws: the R·K accumulated draws, C order [R·K, H, W]
  /// (cascade: the stage-2 completions, which are posterior draws).
  std::vector<cfloat> draws;
  /// With design.maps_on_backend: the maps, in backend memory (else empty buffers).
  backend_uncertainty_maps backend_maps;
};

struct progress_event {
  std::string_view stage;  ///< "posterior", "stage 1", "stage 2"
  std::size_t chains_done = 0, chains_total = 0;
  std::size_t step = 0, steps = 0;  ///< within the current wave
  double elapsed_seconds = 0, eta_seconds = 0;
};
using progress_callback = std::function<void(const progress_event&)>;

/// Where sample() stands between two waves: enough to continue so that the result is
/// bit-identical to an uninterrupted run (docs/design.md §4.7). The random numbers
/// need no state: Philox counters are keyed by seed and global chain index.
struct sample_checkpoint {
  /// The stage in progress: 0 the replicate design's posterior draws, 1 the cascade's
  /// stage 1 (anchors x_R), 2 the cascade's stage 2 (completions).
  std::uint32_t stage = 0;
  /// The stage's chains [0, next_chain) are done (global chain indices).
  std::size_t next_chain = 0;
  /// Cascade: x_R of the runs whose stage 1 is done, C order [runs done, H, W].
  std::vector<cfloat> anchors;
  /// The nested accumulators of x, P_R x and P_N x (three saved states, one after
  /// the other; their layout is the library's own).
  std::vector<double> accumulators;
  /// design.keep_draws: the accumulated draws so far, C order [next_chain, H, W]
  /// (empty during stage 1).
  std::vector<cfloat> draws;
};

/// Periodic checkpoints and resumption of sample().
struct checkpoint_params {
  /// Called after a wave (on the calling thread, between waves) when at least
  /// `every_seconds` passed since the start or since its last call; it may write
  /// the state wherever it likes. An exception it throws ends sample().
  std::function<void(const sample_checkpoint&)> save;
  double every_seconds = 60;
  /// Continue from this state, made by sample() with the same problem, prior,
  /// sampler and design parameters (the caller checks that: the checkpoint carries
  /// no copy of them). On the CPU any design.wave_chains continues bit-identically;
  /// on CUDA the same wave_chains does. bad_input when the state does not fit the
  /// design (stage, position off a wave start, sizes).
  const sample_checkpoint* resume = nullptr;
};

/// Runs the design. Throws bad_input on invalid parameters or unsupported
/// sampler/prior/operator combinations or a problem with several measurement sets
/// (see posterior_draws), runtime_failure when a chain turns
/// non-finite (naming the chains) or a solver fails, device_failure on CUDA errors.
/// `checkpoint`: periodic states to continue from after a kill, or the state to
/// continue from (see checkpoint_params).
sample_result sample(const context& ctx, const inverse_problem& problem, const prior& prior,
                     const sampler_params& sampler, const design_params& design, const progress_callback& progress = {},
                     const checkpoint_params& checkpoint = {});

/// The raw draws instead of maps: runs × chains_per_run posterior draws
/// x ~ p(x | y) (design.kind is ignored; every chain is a posterior draw, run r's
/// chains are r·K … r·K + K − 1, so samplers with interacting chains such as smc
/// treat each run as one particle system). C order [R·K, H, W] on the host.
/// A problem with several measurement sets (inverse_problem::sets() = R) gives run
/// r the posterior of set r: a batch of problems sampled side by side.
/// Validation and calibration diagnostics compare these with exact draws. With
/// design.draw_sink and without design.keep_draws the draws go to the sink only and
/// the returned vector is empty.
std::vector<cfloat> posterior_draws(const context& ctx, const inverse_problem& problem, const prior& prior,
                                    const sampler_params& sampler, const design_params& design,
                                    const progress_callback& progress = {});

/// posterior_draws() with the draws left in the backend's memory (device memory on
/// CUDA), C order [R·K, H, W], for callers that go on working on the device (the Python
/// package hands them out as DLPack arrays). Their memory is taken before the waves are
/// sized, so the waves fit beside it; design.keep_draws is ignored, design.draw_sink
/// still receives each wave on the host. The same values as posterior_draws().
buffer<cfloat> posterior_draws_on_backend(const context& ctx, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& sampler, const design_params& design,
                                          const progress_callback& progress = {});

/// `count` draws of the prior itself by the posterior sampler `sampler` run with
/// nothing observed, C order [count, H, W] on the host: the problem y = A x + n on
/// images of `shape` whose A is 0 (a spectral operator in the pixel basis with every
/// singular value 0), so every likelihood term vanishes and every sampler takes its
/// unconditional step in every direction (ddrm and ddnm: DDIM with their η). For a
/// prior that cannot be drawn from directly (a network prior) these are draws of the
/// prior its sampler implies, discretisation included: the truths of its SBC
/// (sbc_params::truths). Chain c is chain c of one run of `count` chains (seed `seed`).
std::vector<cfloat> prior_draws(const context& ctx, image_shape shape, field values, const prior& prior,
                                const sampler_params& sampler, std::size_t count, std::uint64_t seed = 0,
                                const progress_callback& progress = {});
/// prior_draws() left in the backend's memory (taken before the waves are sized).
buffer<cfloat> prior_draws_on_backend(const context& ctx, image_shape shape, field values, const prior& prior,
                                      const sampler_params& sampler, std::size_t count, std::uint64_t seed = 0,
                                      const progress_callback& progress = {});

/// The maps of a design from draws on the host, C order [R·K, H, W] with run r's
/// chains at r·K … r·K + K − 1, by the same nested accumulators sample() runs; `op`
/// (domain H × W) gives P_R and P_N for the range and null variances. For draws that
/// are an affine image x = μ + F z of draws z that sample() made with keep_draws in
/// the cascade design on the problem y = (A F) z + n: run r's z share P_R z, and
/// conditioning on P_R z is conditioning on A x = A μ + (A F) z, i.e. on P_R x, so the
/// transformed runs are a cascade design for x under the prior N(μ, F Fᵀ) and A
/// (docs/eeg.md). Throws bad_input when sizes disagree or R, K < 2.
uncertainty_maps maps_from_draws(const context& ctx, const linear_operator& op, run_design kind,
                                 std::span<const cfloat> draws, std::size_t runs, std::size_t chains_per_run);

run_design parse_design(std::string_view text);
std::string_view to_string(run_design kind);

}  // namespace twofold
