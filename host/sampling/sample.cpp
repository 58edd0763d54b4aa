// Run designs (docs/design.md §1.6): plans waves, drives the sampler and feeds the nested
// accumulators, whose uncertainty maps host/sampling/maps.cpp forms; the draws of
// posterior_draws and prior_draws.
#include <twofold/core/error.hpp>
#include <twofold/sampling/sample.hpp>
#include <twofold/operators/spectral_operator.hpp>
#include <twofold/sampling/scale_out.hpp>

#include "host/sampling/maps.hpp"
#include "host/sampling/nested_accumulator.hpp"
#include "host/backend/fft_engine.hpp"
#include "host/backend/reductions.hpp"
#include "host/sampling/sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
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
// λ and four CG vectors), plus the prior's scratch and its share of the FFT engine's
// work area. The work area is estimated from a transform of `probe` images of the
// domain's shape, scaled to the larger of the domain and the codomain (coil images).
std::size_t detail::chains_that_fit(const context& ctx, const linear_operator& op, std::size_t prior_bytes) {
  const std::size_t domain = op.domain().pixels(), codomain = op.codomain().pixels();
  constexpr std::size_t probe = 256;
  const std::size_t fft_bytes = (ctx.fft().work_area_bytes(probe, op.domain()) + probe - 1) / probe *
                                ((std::max(domain, codomain) + domain - 1) / domain);
  const std::size_t bytes_per_chain = (12 * domain + 8 * codomain) * sizeof(cfloat) + prior_bytes + fft_bytes;
  const std::size_t fit = ctx.available_memory() / 2 / bytes_per_chain;
  TWOFOLD_EXPECTS(fit >= 1, "one chain of a " + to_string(op.domain()) + " image with " + to_string(op.codomain()) +
                                " measurements does not fit in the backend's free memory");
  return fit;
}

namespace {

using clock_type = std::chrono::steady_clock;

std::size_t wave_capacity(const context& ctx, const linear_operator& op, const design_params& d,
                          std::size_t prior_bytes) {
  return d.wave_chains > 0 ? d.wave_chains : detail::chains_that_fit(ctx, op, prior_bytes);
}

/// Splits chains [begin, end) into waves of at most `capacity` chains that start on
/// accumulation tiles (capacity below one tile is raised to one tile); `begin` is a
/// tile start. With `systems` > 1 (a sampler's particle systems, which are whole
/// runs: systems == per_run) waves hold whole systems instead (at least one). A plan
/// from a wave start of another plan with the same capacity is that plan's rest.
std::vector<std::pair<std::size_t, std::size_t>> plan_waves(std::size_t begin, std::size_t end, std::size_t per_run,
                                                            std::size_t capacity, std::size_t systems) {
  std::vector<std::pair<std::size_t, std::size_t>> waves;
  if (systems > 1) {
    TWOFOLD_ENSURES(systems == per_run && begin % systems == 0 && end % systems == 0,
                    "particle systems must be whole runs");
    const std::size_t step = std::max<std::size_t>(capacity / systems, 1) * systems;
    for (std::size_t b = begin; b < end; b += step) waves.emplace_back(b, std::min(step, end - b));
    return waves;
  }
  std::size_t first = begin, last = begin;
  for (const auto& t : detail::tiles_of(begin, end - begin, per_run)) {
    if (last > first && last - first + t.count > capacity) {
      waves.emplace_back(first, last - first);
      first = last;
    }
    last += t.count;
  }
  if (last > first) waves.emplace_back(first, last - first);
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
        shape_(problem.shape()), real_(problem.is_real()), capacity_(wave_capacity(ctx, problem.op(), design, sampler.prior_bytes_per_chain)), start_(clock_type::now()) {}

  /// Samples chains [begin, end) (substream `substream`) wave by wave, each wave
  /// holding whole particle systems of `systems` chains, hands each finished wave to
  /// `consume(x, first_chain)` and then calls `after_wave(next_chain)`.
  template <class Draw, class Consume, class After>
  void waves(std::string_view stage, std::size_t begin, std::size_t end, std::size_t per_run, std::size_t systems,
             std::uint32_t substream, Draw&& draw, Consume&& consume, After&& after_wave) {
    const std::size_t total = end - begin;
    std::size_t done = 0;
    auto plan = plan_waves(begin, end, per_run, capacity_, systems);
    for (std::size_t i = 0; i < plan.size();) {
      const auto [first, count] = plan[i];
      const rng_stream rng{design_.seed, first, 0, rng_purpose::diffusion_noise, substream, real_};
      const auto observe = [&](std::size_t step, std::size_t steps) { report(stage, done, total, step, steps, count); };
      std::optional<chain_buffer> x;
      try {
        x.emplace(ctx_, count, shape_);
        draw(x->view(), rng, observe);
      } catch (const out_of_memory& e) {
        // The same chains again in smaller waves. Only the sampling is retried: nothing
        // outside the wave has changed yet (an allocation failure while the finished wave
        // is consumed is an error).
        x.reset();
        shrink_after(e, first, end, per_run, systems, count);
        plan = plan_waves(first, end, per_run, capacity_, systems);
        i = 0;
        continue;
      }
      check_finite(ctx_, x->view(), first);
      consume(x->view(), first);
      done += count;
      ++waves_;
      largest_wave_ = std::max(largest_wave_, count);
      chain_steps_ += double(count) * double(sampler_.steps());
      ++i;
      after_wave(first + count);
    }
  }

  /// After an allocation failure in a wave of `count` chains at `first`: halves the
  /// capacity when the waves were sized automatically and a smaller wave exists (the
  /// CPU's results do not depend on the wave size; CUDA's may differ in rounding), else
  /// rethrows naming what to change.
  void shrink_after(const out_of_memory& e, std::size_t first, std::size_t end, std::size_t per_run,
                    std::size_t systems, std::size_t count) {
    const std::size_t smallest = plan_waves(first, end, per_run, 1, systems).front().second;
    if (design_.wave_chains > 0)
      detail::throw_out_of_memory(__FILE__, __LINE__,
                                  std::string(e.what()) + " for a wave of " + std::to_string(count) +
                                      " chains; set a smaller wave_chains (--wave-chains), or 0 to size waves "
                                      "automatically");
    if (count <= smallest)
      detail::throw_out_of_memory(__FILE__, __LINE__,
                                  std::string(e.what()) + " even for the smallest wave (" + std::to_string(count) +
                                      " chains)");
    capacity_ = std::max<std::size_t>(count / 2, 1);
    ++shrunk_;
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
    r.waves_halved = shrunk_;
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
  std::size_t waves_ = 0, largest_wave_ = 0, shrunk_ = 0;
  double chain_steps_ = 0;
};

void check_design(const design_params& design) {
  TWOFOLD_EXPECTS(design.runs >= 2, "runs must be >= 2 (got " + std::to_string(design.runs) + ")");
  TWOFOLD_EXPECTS(design.chains_per_run >= 2,
                  "chains per run must be >= 2 (got " + std::to_string(design.chains_per_run) + ")");
  TWOFOLD_EXPECTS(design.runs * design.chains_per_run < (std::size_t{1} << 32), "at most 2^32 chains per job");
}

/// design.draw_sink(first, the wave's draws): `kept` when they are kept on the host
/// anyway, else a host copy of `x`.
void hand_over(const context& ctx, const design_params& design, const_chain_view x, std::size_t first,
               const cfloat* kept) {
  if (!design.draw_sink) return;
  if (kept != nullptr) return design.draw_sink(first, std::span<const cfloat>(kept, x.size()));
  const auto host = to_host(ctx, x.data, x.size());
  design.draw_sink(first, host);
}

}  // namespace

namespace {

/// The replicate design's R·K posterior draws: `reserve(R·K)` before the waves are
/// sized (memory it takes is not the chains'), then each finished wave to
/// `store(x, first_chain)`.
template <class Reserve, class Store>
void draw_posterior(const context& ctx, const inverse_problem& problem, const prior& prior,
                    const sampler_params& params, const design_params& design, const progress_callback& progress,
                    Reserve&& reserve, Store&& store) {
  check_design(design);
  problem.check_sets(design.runs);
  const auto sampler = detail::make_sampler(ctx, problem, prior, params, design.chains_per_run);
  const std::size_t K = design.chains_per_run, total = design.runs * K;
  reserve(total);
  design_runner runner(ctx, problem, *sampler, design, progress);
  runner.waves("posterior", 0, total, K, sampler->particles(), 0,
               [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler->posterior(ctx, x, rng, K, obs); },
               store, [](std::size_t) {});
}

}  // namespace

std::vector<cfloat> posterior_draws(const context& ctx, const inverse_problem& problem, const prior& prior,
                                    const sampler_params& params, const design_params& design,
                                    const progress_callback& progress) {
  const std::size_t N = problem.shape().pixels();
  const bool keep = design.keep_draws || !design.draw_sink;
  std::vector<cfloat> draws;
  draw_posterior(
      ctx, problem, prior, params, design, progress, [&](std::size_t total) { draws.resize(keep ? total * N : 0); },
      [&](chain_view x, std::size_t first) {
        if (keep) detail::copy_bytes(ctx, draws.data() + first * N, x.data, x.size() * sizeof(cfloat));
        hand_over(ctx, design, x, first, keep ? draws.data() + first * N : nullptr);
      });
  return draws;
}

buffer<cfloat> posterior_draws_on_backend(const context& ctx, const inverse_problem& problem, const prior& prior,
                                          const sampler_params& params, const design_params& design,
                                          const progress_callback& progress) {
  const std::size_t N = problem.shape().pixels();
  buffer<cfloat> draws;
  draw_posterior(
      ctx, problem, prior, params, design, progress, [&](std::size_t total) { draws = buffer<cfloat>(ctx, total * N); },
      [&](chain_view x, std::size_t first) {
        cfloat* kept = draws.data() + first * N;
        detail::copy_bytes(ctx, kept, x.data, x.size() * sizeof(cfloat));
        hand_over(ctx, design, x, first, ctx.is_cuda() ? nullptr : kept);
      });
  return draws;
}

namespace {

/// A = 0 on H × W images, in the spectral form of a pixel mask that observes nothing
/// (V = U = I, every a_k = 0): the problem of prior_draws, in which P_R = 0 and
/// P_N = I. Private: a user's operator that measures nothing is refused as bad input.
class nothing_observed final : public spectral_operator {
 public:
  explicit nothing_observed(image_shape shape) : spectral_operator("nothing observed", spectral_basis::pixel, shape) {
    singular_values_.assign(shape.pixels(), 0.0f);
  }
  void apply(const context& ctx, const_chain_view x, chain_view y) const override {
    expect_batch(x, shape_, "image batch");
    expect_batch(y, shape_, "measurement batch");
    detail::zero_bytes(ctx, y.data, y.size() * sizeof(cfloat));
  }
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override { apply(ctx, y, x); }
  void normal(const context& ctx, const_chain_view x, chain_view out) const override { apply(ctx, x, out); }
  void range_project(const context& ctx, chain_view x) const override { apply(ctx, x, x); }
  void null_project(const context&, chain_view x) const override { expect_batch(x, shape_, "image batch"); }
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override {
    expect_batch(x, shape_, "image batch");
    detail::copy_if_distinct(ctx, x, c);
  }
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override {
    expect_batch(c, shape_, "coefficient batch");
    detail::copy_if_distinct(ctx, c, x);
  }
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override {
    expect_batch(y, shape_, "measurement batch");
    detail::copy_if_distinct(ctx, y, c);
  }
};

/// prior_draws(): one run of `count` chains of the problem that observes nothing;
/// `reserve(count)` before the waves are sized, then each finished wave to
/// `store(x, first_chain)`.
template <class Reserve, class Store>
void draw_prior(const context& ctx, image_shape shape, field values, const prior& prior,
                const sampler_params& params, std::size_t count, std::uint64_t seed,
                const progress_callback& progress, Reserve&& reserve, Store&& store) {
  TWOFOLD_EXPECTS(shape.pixels() > 0 && shape.coils == 1, "prior_draws: the image shape must be a non-empty H x W");
  TWOFOLD_EXPECTS(count >= 1 && count < (std::size_t{1} << 32),
                  "prior_draws: count must lie in [1, 2^32) (got " + std::to_string(count) + ")");
  const auto op = std::make_shared<const nothing_observed>(shape);
  const std::vector<cfloat> nothing(shape.pixels(), cfloat{});
  const inverse_problem problem(ctx, op, nothing, 1.0, values);
  const auto sampler = detail::make_sampler(ctx, problem, prior, params, count);
  design_params design;
  design.kind = run_design::replicate;
  design.runs = 1;
  design.chains_per_run = count;
  design.seed = seed;
  reserve(count);
  design_runner runner(ctx, problem, *sampler, design, progress);
  runner.waves("prior", 0, count, count, sampler->particles(), 0,
               [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler->posterior(ctx, x, rng, count, obs); },
               store, [](std::size_t) {});
}

}  // namespace

std::vector<cfloat> prior_draws(const context& ctx, image_shape shape, field values, const prior& prior,
                                const sampler_params& params, std::size_t count, std::uint64_t seed,
                                const progress_callback& progress) {
  const std::size_t N = shape.pixels();
  std::vector<cfloat> draws;
  draw_prior(
      ctx, shape, values, prior, params, count, seed, progress, [&](std::size_t n) { draws.resize(n * N); },
      [&](chain_view x, std::size_t first) {
        detail::copy_bytes(ctx, draws.data() + first * N, x.data, x.size() * sizeof(cfloat));
      });
  return draws;
}

buffer<cfloat> prior_draws_on_backend(const context& ctx, image_shape shape, field values, const prior& prior,
                                      const sampler_params& params, std::size_t count, std::uint64_t seed,
                                      const progress_callback& progress) {
  const std::size_t N = shape.pixels();
  buffer<cfloat> draws;
  draw_prior(
      ctx, shape, values, prior, params, count, seed, progress,
      [&](std::size_t n) { draws = buffer<cfloat>(ctx, n * N); },
      [&](chain_view x, std::size_t first) {
        detail::copy_bytes(ctx, draws.data() + first * N, x.data, x.size() * sizeof(cfloat));
      });
  return draws;
}

namespace {

/// Runs [first_run, first_run + runs) of the design into `acc` (which expects chain
/// first_run·K next): the cascade's stage 1 for these runs, then their completions,
/// or the replicate design's posterior draws. Continues from `checkpoint.resume`
/// and hands states to `checkpoint.save` (whole designs only: first_run = 0).
/// Returns the report and, with design.keep_draws, the share's draws.
std::pair<sample_report, std::vector<cfloat>> sample_runs(const context& ctx, const inverse_problem& problem,
                                                         const detail::sampler& sampler, const design_params& design,
                                                         std::size_t first_run, std::size_t runs,
                                                         detail::projected_accumulators& acc, const progress_callback& progress,
                                                         const checkpoint_params& checkpoint) {
  const image_shape shape = problem.shape();
  const std::size_t R = design.runs, K = design.chains_per_run, N = shape.pixels();
  // Chains of one particle system (smc: K); 1 for samplers with independent chains.
  const std::size_t P = sampler.particles();
  const bool cascade = design.kind == run_design::cascade;
  const std::uint32_t accumulating_stage = cascade ? 2 : 0;
  design_runner runner(ctx, problem, sampler, design, progress);
  std::vector<cfloat> draws(design.keep_draws ? runs * K * N : 0);
  buffer<cfloat> anchors(ctx, cascade ? R * N : 0);

  // Where to start: the beginning, or the checkpoint's stage and chain.
  std::uint32_t stage = cascade ? 1 : 0;
  std::size_t begin = 0;
  if (const sample_checkpoint* c = checkpoint.resume) {
    TWOFOLD_EXPECTS(first_run == 0 && runs == R, "a checkpoint continues a whole design, not a share of its runs");
    const bool stage_fits = cascade ? (c->stage == 1 || c->stage == 2) : c->stage == 0;
    TWOFOLD_EXPECTS(stage_fits, "checkpoint: stage " + std::to_string(c->stage) + " is not a stage of the " +
                                    std::string(to_string(design.kind)) + " design");
    const std::size_t per_run = c->stage == 1 ? P : K;
    TWOFOLD_EXPECTS(c->next_chain <= R * per_run && c->next_chain % (c->stage == 2 ? 1 : P) == 0 &&
                        c->next_chain % per_run % detail::accumulation_tile == 0,
                    "checkpoint: chain " + std::to_string(c->next_chain) + " is not where a wave of stage " +
                        std::to_string(c->stage) + " starts");
    const std::size_t anchored = c->stage == 1 ? c->next_chain / P : (c->stage == 2 ? R : 0);
    TWOFOLD_EXPECTS(c->anchors.size() == anchored * N, "checkpoint: " + std::to_string(c->anchors.size()) +
                                                           " anchor values, expected " + std::to_string(anchored * N));
    const std::size_t drawn = c->stage == accumulating_stage && design.keep_draws ? c->next_chain : 0;
    TWOFOLD_EXPECTS(c->draws.size() == drawn * N, "checkpoint: " + std::to_string(c->draws.size()) +
                                                      " draw values, expected " + std::to_string(drawn * N));
    const std::size_t state = c->accumulators.size() / 3;
    TWOFOLD_EXPECTS(c->accumulators.size() == 3 * state, "checkpoint: the accumulator state is not three states");
    const std::span<const double> all(c->accumulators);
    acc.x.restore(ctx, all.subspan(0, state));
    acc.range.restore(ctx, all.subspan(state, state));
    acc.null.restore(ctx, all.subspan(2 * state, state));
    const std::size_t accumulated = c->stage == accumulating_stage ? c->next_chain : 0;
    TWOFOLD_EXPECTS(acc.x.next_chain() == accumulated && acc.range.next_chain() == accumulated &&
                        acc.null.next_chain() == accumulated,
                    "checkpoint: the accumulators are not at chain " + std::to_string(accumulated));
    if (!c->anchors.empty()) detail::copy_bytes(ctx, anchors.data(), c->anchors.data(), c->anchors.size() * sizeof(cfloat));
    std::copy(c->draws.begin(), c->draws.end(), draws.begin());
    stage = c->stage;
    begin = c->next_chain;
  }

  using clock = std::chrono::steady_clock;
  auto last_save = clock::now();
  const auto after_wave = [&](std::uint32_t in_stage, std::size_t next_chain) {
    if (!checkpoint.save) return;
    if (std::chrono::duration<double>(clock::now() - last_save).count() < checkpoint.every_seconds) return;
    sample_checkpoint c;
    c.stage = in_stage;
    c.next_chain = next_chain;
    const std::size_t anchored = in_stage == 1 ? next_chain / P : (in_stage == 2 ? R : 0);
    c.anchors = to_host(ctx, anchors.data(), anchored * N);
    for (const auto* a : {&acc.x, &acc.range, &acc.null}) {
      const auto state = a->save(ctx);
      c.accumulators.insert(c.accumulators.end(), state.begin(), state.end());
    }
    if (in_stage == accumulating_stage && design.keep_draws)
      c.draws.assign(draws.begin(), draws.begin() + std::ptrdiff_t(next_chain * N));
    checkpoint.save(c);
    last_save = clock::now();
  };

  const std::size_t first_chain = first_run * K;
  const auto accumulate = [&](chain_view x, std::size_t first) {
    acc.add(ctx, problem.op(), x, first);
    cfloat* kept = design.keep_draws ? draws.data() + (first - first_chain) * N : nullptr;
    if (kept != nullptr) detail::copy_bytes(ctx, kept, x.data, x.size() * sizeof(cfloat));
    hand_over(ctx, design, x, first, kept);
  };

  std::size_t chains = runs * K;
  if (!cascade) {
    runner.waves("posterior", std::max(begin, first_chain), first_chain + runs * K, K, P, 0,
                 [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler.posterior(ctx, x, rng, K, obs); },
                 accumulate, [&](std::size_t next) { after_wave(0, next); });
  } else {
    // Stage 1: one posterior draw per run, projected onto the row space: x_R ~ p(P_R x | y).
    // A particle sampler runs a whole system of P chains per run and keeps its first.
    if (stage == 1)
      runner.waves("stage 1", std::max(begin, first_run * P), (first_run + runs) * P, P, P, 1,
                   [&](chain_view x, const rng_stream& rng, const auto& obs) { sampler.posterior(ctx, x, rng, P, obs); },
                   [&](chain_view x, std::size_t first) {
                     const std::size_t first_anchor = first / P, anchored = x.chains / P;
                     cfloat* out = anchors.data() + first_anchor * N;
                     if (P == 1) detail::copy_bytes(ctx, out, x.data, x.size() * sizeof(cfloat));
                     else
                       for (std::size_t r = 0; r < anchored; ++r)
                         detail::copy_bytes(ctx, out + r * N, x.chain(r * P), N * sizeof(cfloat));
                     problem.op().range_project(ctx, chain_view{out, anchored, shape});
                   },
                   [&](std::size_t next) { after_wave(1, next); });
    // Stage 2: K completions per run, x ~ p(x | P_R x = x_R).
    runner.waves("stage 2", stage == 2 ? std::max(begin, first_chain) : first_chain, first_chain + runs * K, K, 1, 0,
                 [&](chain_view x, const rng_stream& rng, const auto& obs) {
                   sampler.conditional(ctx, x, rng, anchors.data(), K, obs);
                 },
                 accumulate, [&](std::size_t next) { after_wave(2, next); });
    chains += runs * P;
  }
  return {runner.finish_report(chains), std::move(draws)};
}

}  // namespace

sample_result sample(const context& ctx, const inverse_problem& problem, const prior& prior,
                     const sampler_params& params, const design_params& design, const progress_callback& progress,
                     const checkpoint_params& checkpoint) {
  check_design(design);
  TWOFOLD_EXPECTS(problem.sets() == 1, "sample() pools its runs into the maps of one posterior; a problem with " +
                                           std::to_string(problem.sets()) +
                                           " measurement sets needs posterior_draws() (one set per run)");
  const auto sampler = detail::make_sampler(ctx, problem, prior, params, design.chains_per_run);
  detail::projected_accumulators acc(ctx, problem.shape(), design.chains_per_run);
  auto [report, draws] = sample_runs(ctx, problem, *sampler, design, 0, design.runs, acc, progress, checkpoint);
  return detail::result_of(ctx, problem.shape(), design, acc, report, std::move(draws));
}

run_share sample_share(const context& ctx, const inverse_problem& problem, const prior& prior,
                       const sampler_params& params, const design_params& design, std::size_t first_run,
                       std::size_t runs, const progress_callback& progress) {
  check_design(design);
  TWOFOLD_EXPECTS(problem.sets() == 1, "sample_share() pools its runs into the maps of one posterior; a problem with " +
                                           std::to_string(problem.sets()) + " measurement sets needs posterior_draws()");
  TWOFOLD_EXPECTS(runs >= 1 && first_run < design.runs && runs <= design.runs - first_run,
                  "sample_share: runs [" + std::to_string(first_run) + ", " + std::to_string(first_run + runs) +
                      ") are not a non-empty part of the design's " + std::to_string(design.runs) + " runs");
  const auto sampler = detail::make_sampler(ctx, problem, prior, params, design.chains_per_run);
  const image_shape shape = problem.shape();
  const std::size_t K = design.chains_per_run, N = shape.pixels();
  detail::projected_accumulators acc(ctx, shape, K, first_run * K);
  buffer<math::welford> logs(ctx, 3 * runs * N);
  acc.x.log_runs(logs.data(), first_run);
  acc.range.log_runs(logs.data() + runs * N, first_run);
  acc.null.log_runs(logs.data() + 2 * runs * N, first_run);
  auto [report, draws] = sample_runs(ctx, problem, *sampler, design, first_run, runs, acc, progress, {});
  run_share share;
  share.shape = shape;
  share.first_run = first_run;
  share.runs = runs;
  share.chains_per_run = K;
  std::vector<double>* parts[] = {&share.x, &share.range, &share.null};
  for (std::size_t a = 0; a < 3; ++a) *parts[a] = detail::pack(to_host(ctx, logs.data() + a * runs * N, runs * N));
  share.draws = std::move(draws);
  share.report = report;
  return share;
}

struct share_merger::state {
  const context& ctx;
  image_shape shape;
  design_params design;
  detail::projected_accumulators acc;
  std::vector<cfloat> draws;
  sample_report report;
  double chain_steps = 0;
  std::size_t next_run = 0;
  state(const context& c, image_shape s, const design_params& d)
      : ctx(c), shape(s), design(d), acc(c, s, d.chains_per_run) {}
};

share_merger::share_merger(const context& ctx, const linear_operator& op, const design_params& design)
    : state_(std::make_unique<state>(ctx, op.domain(), design)) {
  check_design(design);
  if (design.keep_draws) state_->draws.reserve(design.runs * design.chains_per_run * op.domain().pixels());
}
share_merger::~share_merger() = default;
share_merger::share_merger(share_merger&&) noexcept = default;
share_merger& share_merger::operator=(share_merger&&) noexcept = default;

void share_merger::add(const run_share& share) {
  state& s = *state_;
  const std::size_t N = s.shape.pixels(), K = s.design.chains_per_run;
  TWOFOLD_EXPECTS(share.first_run == s.next_run, "share_merger: the share of runs [" +
                                                     std::to_string(share.first_run) + ", " +
                                                     std::to_string(share.first_run + share.runs) +
                                                     ") does not start at run " + std::to_string(s.next_run));
  TWOFOLD_EXPECTS(share.shape == s.shape && share.chains_per_run == K && share.runs <= s.design.runs - s.next_run,
                  "share_merger: the share's image shape, chains per run or run count does not fit the design");
  for (const auto* part : {&share.x, &share.range, &share.null})
    TWOFOLD_EXPECTS(part->size() == 4 * share.runs * N, "share_merger: a share's accumulator states have the wrong size");
  TWOFOLD_EXPECTS(!s.design.keep_draws || share.draws.size() == share.runs * K * N,
                  "share_merger: the share holds no draws (the design keeps them)");
  const auto fold = [&](detail::nested_accumulator& a, const std::vector<double>& states) {
    const auto unpacked = detail::unpack(states);
    const buffer<math::welford> dev = to_backend(s.ctx, std::span<const math::welford>(unpacked));
    a.add_closed_runs(s.ctx, dev.data(), share.runs);
  };
  fold(s.acc.x, share.x);
  fold(s.acc.range, share.range);
  fold(s.acc.null, share.null);
  if (s.design.keep_draws) s.draws.insert(s.draws.end(), share.draws.begin(), share.draws.end());
  if (s.next_run == 0) s.report.device = share.report.device;
  s.report.chains += share.report.chains;
  s.report.steps_per_chain = share.report.steps_per_chain;
  s.report.waves += share.report.waves;
  s.report.wave_chains = std::max(s.report.wave_chains, share.report.wave_chains);
  s.report.waves_halved += share.report.waves_halved;
  s.report.seconds = std::max(s.report.seconds, share.report.seconds);
  s.chain_steps += share.report.chain_steps_per_second * share.report.seconds;
  s.next_run += share.runs;
}

sample_result share_merger::finish() {
  state& s = *state_;
  TWOFOLD_EXPECTS(s.next_run == s.design.runs, "share_merger: the shares cover " + std::to_string(s.next_run) +
                                                   " of the design's " + std::to_string(s.design.runs) + " runs");
  sample_report r = s.report;
  r.runs = s.design.runs;
  r.chains_per_run = s.design.chains_per_run;
  r.chain_steps_per_second = s.chain_steps / std::max(r.seconds, 1e-9);
  return detail::result_of(s.ctx, s.shape, s.design, s.acc, r, std::move(s.draws));
}

}  // namespace twofold
