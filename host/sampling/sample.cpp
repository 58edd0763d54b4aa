// Run designs (docs/design.md §1.6): plans waves, drives the sampler, feeds the nested
// accumulators and turns their moments into the uncertainty maps.
#include <twofold/core/error.hpp>
#include <twofold/sampling/sample.hpp>

#include "host/sampling/nested_accumulator.hpp"
#include "host/backend/reductions.hpp"
#include "host/sampling/sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

namespace twofold {

run_design parse_design(std::string_view text) {
  if (text == "cascade") return run_design::cascade;
  if (text == "replicate") return run_design::replicate;
  TWOFOLD_EXPECTS(false, "design must be cascade or replicate (got '" + std::string(text) + "')");
}

std::string_view to_string(run_design kind) { return kind == run_design::cascade ? "cascade" : "replicate"; }

// One chain needs at most twelve images (state, sampler scratch, domain CG vectors,
// accumulation copies) and eight measurements (the perturbed data, the operators'
// coil scratch, and the measurement-space CG of Matheron's update: right-hand side,
// λ and four CG vectors).
std::size_t detail::chains_that_fit(const context& ctx, const linear_operator& op) {
  const std::size_t bytes_per_chain = (12 * op.domain().pixels() + 8 * op.codomain().pixels()) * sizeof(cfloat);
  const std::size_t fit = ctx.available_memory() / 2 / bytes_per_chain;
  TWOFOLD_EXPECTS(fit >= 1, "one chain of a " + to_string(op.domain()) + " image with " + to_string(op.codomain()) +
                                " measurements does not fit in the backend's free memory");
  return fit;
}

namespace {

using clock_type = std::chrono::steady_clock;

std::size_t wave_capacity(const context& ctx, const linear_operator& op, const design_params& d) {
  return d.wave_chains > 0 ? d.wave_chains : detail::chains_that_fit(ctx, op);
}

/// Splits chains [0, total) into waves of at most `capacity` chains that start on
/// accumulation tiles (capacity below one tile is raised to one tile). With
/// `systems` > 1 (a sampler's particle systems, which are whole runs: systems ==
/// per_run) waves hold whole systems instead (at least one).
std::vector<std::pair<std::size_t, std::size_t>> plan_waves(std::size_t total, std::size_t per_run, std::size_t capacity,
                                                            std::size_t systems) {
  std::vector<std::pair<std::size_t, std::size_t>> waves;
  if (systems > 1) {
    TWOFOLD_ENSURES(systems == per_run && total % systems == 0, "particle systems must be whole runs");
    const std::size_t step = std::max<std::size_t>(capacity / systems, 1) * systems;
    for (std::size_t b = 0; b < total; b += step) waves.emplace_back(b, std::min(step, total - b));
    return waves;
  }
  std::size_t begin = 0, end = 0;
  for (const auto& t : detail::tiles_of(0, total, per_run)) {
    if (end > begin && end - begin + t.count > capacity) {
      waves.emplace_back(begin, end - begin);
      begin = end;
    }
    end += t.count;
  }
  if (end > begin) waves.emplace_back(begin, end - begin);
  return waves;
}

void check_finite(const context& ctx, const_chain_view x, std::size_t first_chain) {
  buffer<cdouble> norms(ctx, x.chains);
  detail::batched_dot(ctx, x.data, x.data, x.chains, x.shape.pixels(), norms.data());
  const auto host = to_host(ctx, norms);
  std::string bad;
  std::size_t count = 0;
  for (std::size_t c = 0; c < host.size(); ++c)
    if (!std::isfinite(host[c].re)) {
      if (++count <= 8) bad += (bad.empty() ? "" : ", ") + std::to_string(first_chain + c);
    }
  TWOFOLD_ENSURES(count == 0, std::to_string(count) + " chain(s) became non-finite during sampling (chains " + bad +
                                  (count > 8 ? ", ..." : "") + "); try more noise levels or a smaller step");
}

class design_runner {
 public:
  design_runner(const context& ctx, const inverse_problem& problem, const detail::sampler& sampler,
                const design_params& design, const progress_callback& progress)
      : ctx_(ctx), sampler_(sampler), design_(design), progress_(progress),
        shape_(problem.shape()), real_(problem.is_real()), capacity_(wave_capacity(ctx, problem.op(), design)), start_(clock_type::now()) {}

  /// Samples `total` chains (substream `substream`) wave by wave, each wave holding
  /// whole particle systems of `systems` chains, and hands each finished wave to
  /// `consume(x, first_chain)`.
  template <class Draw, class Consume>
  void waves(std::string_view stage, std::size_t total, std::size_t per_run, std::size_t systems,
             std::uint32_t substream, Draw&& draw, Consume&& consume) {
    const auto plan = plan_waves(total, per_run, capacity_, systems);
    std::size_t done = 0;
    for (const auto& [first, count] : plan) {
      chain_buffer x(ctx_, count, shape_);
      const rng_stream rng{design_.seed, first, 0, rng_purpose::diffusion_noise, substream, real_};
      const auto observe = [&](std::size_t step, std::size_t steps) { report(stage, done, total, step, steps, count); };
      draw(x.view(), rng, observe);
      check_finite(ctx_, x.view(), first);
      consume(x.view(), first);
      done += count;
      ++waves_;
      largest_wave_ = std::max(largest_wave_, count);
      chain_steps_ += double(count) * double(sampler_.steps());
    }
  }

  sample_report finish_report(std::size_t chains) const {
    sample_report r;
    r.device = ctx_.device_name();
    r.runs = design_.runs;
    r.chains_per_run = design_.chains_per_run;
    r.chains = chains;
    r.steps_per_chain = sampler_.steps();
    r.waves = waves_;
    r.wave_chains = largest_wave_;
    r.seconds = elapsed();
    r.chain_steps_per_second = chain_steps_ / std::max(r.seconds, 1e-9);
    return r;
  }

 private:
  double elapsed() const { return std::chrono::duration<double>(clock_type::now() - start_).count(); }

  void report(std::string_view stage, std::size_t done, std::size_t total, std::size_t step, std::size_t steps,
              std::size_t wave) const {
    if (!progress_) return;
    const double t = elapsed();
    const double fraction = (double(done) + double(wave) * double(step) / double(steps)) / double(total);
    progress_({stage, done, total, step, steps, t, fraction > 0 ? t * (1 - fraction) / fraction : 0.0});
  }

  const context& ctx_;
  const detail::sampler& sampler_;
  const design_params& design_;
  const progress_callback& progress_;
  image_shape shape_;
  bool real_;
  std::size_t capacity_;
  clock_type::time_point start_;
  std::size_t waves_ = 0, largest_wave_ = 0;
  double chain_steps_ = 0;
};

/// x, P_R x and P_N x of every chain into three nested accumulators.
struct projected_accumulators {
  detail::nested_accumulator x, range, null;
  projected_accumulators(const context& ctx, image_shape s, std::size_t per_run)
      : x(ctx, s, per_run), range(ctx, s, per_run), null(ctx, s, per_run) {}

  void add(const context& ctx, const linear_operator& op, const_chain_view v, std::size_t first) {
    chain_buffer p(ctx, v.chains, v.shape);
    detail::copy_bytes(ctx, p.storage.data(), v.data, v.size() * sizeof(cfloat));
    op.range_project(ctx, p.view());
    x.add(ctx, v.data, nullptr, 0.0f, first, v.chains);
    range.add(ctx, p.view().data, nullptr, 0.0f, first, v.chains);
    null.add(ctx, v.data, p.view().data, -1.0f, first, v.chains);
  }
};

uncertainty_maps to_maps(image_shape shape, run_design kind, std::size_t K, const projected_accumulators& acc,
                         const context& ctx) {
  const auto x = acc.x.finish(ctx), r = acc.range.finish(ctx), n = acc.null.finish(ctx);
  const std::size_t N = shape.pixels();
  uncertainty_maps m;
  m.shape = shape;
  m.mean = x.mean;
  m.between_run_variance = x.between;
  const auto total = [&](const detail::nested_accumulator::moments& s, std::size_t p) {
    return kind == run_design::cascade ? s.within[p] + s.between[p] - s.within[p] / double(K) : s.within[p];
  };
  m.total_variance.resize(N);
  m.range_variance.resize(N);
  m.null_variance.resize(N);
  for (std::size_t p = 0; p < N; ++p) {
    m.total_variance[p] = total(x, p);
    m.range_variance[p] = total(r, p);
    m.null_variance[p] = total(n, p);
  }
  if (kind == run_design::cascade) {
    m.ambiguity = x.within;
    m.estimation.resize(N);
    m.estimation_clipped.resize(N);
    for (std::size_t p = 0; p < N; ++p) {
      m.estimation[p] = x.between[p] - x.within[p] / double(K);
      m.estimation_clipped[p] = std::max(0.0, m.estimation[p]);
    }
  }
  return m;
}

void check_design(const design_params& design) {
  TWOFOLD_EXPECTS(design.runs >= 2, "runs must be >= 2 (got " + std::to_string(design.runs) + ")");
  TWOFOLD_EXPECTS(design.chains_per_run >= 2,
                  "chains per run must be >= 2 (got " + std::to_string(design.chains_per_run) + ")");
  TWOFOLD_EXPECTS(design.runs * design.chains_per_run < (std::size_t{1} << 32), "at most 2^32 chains per job");
}

}  // namespace

std::vector<cfloat> posterior_draws(const context& ctx, const inverse_problem& problem, const prior& prior,
                                    const sampler_params& params, const design_params& design,
                                    const progress_callback& progress) {
  check_design(design);
  problem.check_sets(design.runs);
  const auto sampler = detail::make_sampler(ctx, problem, prior, params, design.chains_per_run);
  const std::size_t K = design.chains_per_run, total = design.runs * K, N = problem.shape().pixels();
  design_runner runner(ctx, problem, *sampler, design, progress);
  std::vector<cfloat> draws(total * N);
  runner.waves("posterior", total, K, sampler->particles(), 0,
               [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler->posterior(ctx, x, rng, K, obs); },
               [&](chain_view x, std::size_t first) {
                 detail::copy_bytes(ctx, draws.data() + first * N, x.data, x.size() * sizeof(cfloat));
               });
  return draws;
}

uncertainty_maps maps_from_draws(const context& ctx, const linear_operator& op, run_design kind,
                                 std::span<const cfloat> draws, std::size_t runs, std::size_t chains_per_run) {
  const image_shape shape = op.domain();
  const std::size_t N = shape.pixels(), K = chains_per_run;
  TWOFOLD_EXPECTS(runs >= 2 && K >= 2, "maps_from_draws: runs and chains per run must be >= 2");
  TWOFOLD_EXPECTS(draws.size() == runs * K * N, "maps_from_draws: " + std::to_string(draws.size()) +
                                                   " values are not " + std::to_string(runs) + " x " +
                                                   std::to_string(K) + " draws of " + to_string(shape));
  projected_accumulators acc(ctx, shape, K);
  // One run per batch: tiles start at each run's first chain.
  chain_buffer x(ctx, K, shape);
  for (std::size_t r = 0; r < runs; ++r) {
    detail::copy_bytes(ctx, x.storage.data(), draws.data() + r * K * N, K * N * sizeof(cfloat));
    acc.add(ctx, op, x.view(), r * K);
  }
  return to_maps(shape, kind, K, acc, ctx);
}

sample_result sample(const context& ctx, const inverse_problem& problem, const prior& prior,
                     const sampler_params& params, const design_params& design, const progress_callback& progress) {
  check_design(design);
  TWOFOLD_EXPECTS(problem.sets() == 1, "sample() pools its runs into the maps of one posterior; a problem with " +
                                           std::to_string(problem.sets()) +
                                           " measurement sets needs posterior_draws() (one set per run)");
  const auto sampler = detail::make_sampler(ctx, problem, prior, params, design.chains_per_run);
  const image_shape shape = problem.shape();
  const std::size_t R = design.runs, K = design.chains_per_run, N = shape.pixels();
  // Chains of one particle system (smc: K); 1 for samplers with independent chains.
  const std::size_t P = sampler->particles();
  design_runner runner(ctx, problem, *sampler, design, progress);
  projected_accumulators acc(ctx, shape, K);
  std::vector<cfloat> draws(design.keep_draws ? R * K * N : 0);
  const auto accumulate = [&](chain_view x, std::size_t first) {
    acc.add(ctx, problem.op(), x, first);
    if (design.keep_draws) detail::copy_bytes(ctx, draws.data() + first * N, x.data, x.size() * sizeof(cfloat));
  };

  std::size_t chains = R * K;
  if (design.kind == run_design::replicate) {
    runner.waves("posterior", R * K, K, P, 0,
                 [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler->posterior(ctx, x, rng, K, obs); },
                 accumulate);
  } else {
    // Stage 1: one posterior draw per run, projected onto the row space: x_R ~ p(P_R x | y).
    // A particle sampler runs a whole system of P chains per run and keeps its first.
    buffer<cfloat> anchors(ctx, R * N);
    runner.waves("stage 1", R * P, P, P, 1,
                 [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler->posterior(ctx, x, rng, P, obs); },
                 [&](chain_view x, std::size_t first) {
                   const std::size_t first_run = first / P, runs = x.chains / P;
                   cfloat* out = anchors.data() + first_run * N;
                   if (P == 1) detail::copy_bytes(ctx, out, x.data, x.size() * sizeof(cfloat));
                   else
                     for (std::size_t r = 0; r < runs; ++r) detail::copy_bytes(ctx, out + r * N, x.chain(r * P), N * sizeof(cfloat));
                   problem.op().range_project(ctx, chain_view{out, runs, shape});
                 });
    // Stage 2: K completions per run, x ~ p(x | P_R x = x_R).
    runner.waves("stage 2", R * K, K, 1, 0,
                 [&](chain_view x, const rng_stream& rng, const auto& obs) {
                   sampler->conditional(ctx, x, rng, anchors.data(), K, obs);
                 },
                 accumulate);
    chains += R * P;
  }
  return {to_maps(shape, design.kind, K, acc, ctx), runner.finish_report(chains), std::move(draws)};
}

}  // namespace twofold
