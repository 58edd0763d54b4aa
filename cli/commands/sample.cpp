// `twofold sample`: the engine on user data, for every operator and input format.
// Every input is read and checked before the output folder is touched; nothing is
// written unless all succeeds.
#include "run/checkpoint.hpp"
#include "commands.hpp"
#include "run/draws.hpp"
#include "commands/eeg.hpp"
#include "inputs/factor_prior.hpp"
#include "inputs/inputs.hpp"
#include "run/mpi.hpp"
#include "run/outputs.hpp"

#include <twofold/twofold.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>

namespace twofold::cli {
namespace {

using io::shape_text;

constexpr const char* factor_prior_name = "gaussian with covariance factor F F^T";

struct sample_options {
  common_options common;
  problem_inputs inputs;
  double sigma = 0;
  bool reference = false;
  bool cfl = false;
  bool sbc_stage2 = false;
  bool save_draws = false;
  checkpoint_options checkpoints;
  bool mpi = false;
  double sbc_noise_scale = 1.0;
};



/// --design sbc: simulation-based calibration of the sampler on this operator, noise
/// level and prior (the measurements only fix the operator's shape): --runs
/// replicates × --chains draws. Writes calibration.json (rank histograms, χ²
/// p-values, coverage over replicates, a conformal interval scale) and summary.json.
/// `calibrate` runs the library's SBC for the parameters (a prior object, or a
/// covariance factor: calibrate_factor_prior); `prior_name` goes into summary.json,
/// `truths` (where x* comes from) into both files.
void run_sbc(const sample_options& o, const context& ctx, const loaded_problem& p, const std::string& prior_name,
             const std::string& truths, field values, const sampler_params& sp, bool no_report,
             const std::function<sbc_result(const sbc_params&)>& calibrate) {
  sbc_params params;
  params.replicates = o.common.runs.runs;
  params.draws = o.common.runs.chains_per_run;
  params.stage2 = o.sbc_stage2;
  params.seed = o.common.runs.seed;
  params.pixels = std::min<std::size_t>(4, p.op->domain().pixels());
  params.truth_noise_scale = o.sbc_noise_scale;
  // --wave-chains bounds the chains sampled together: whole replicates of K draws.
  if (o.common.runs.wave_chains > 0) params.batch_replicates = std::max<std::size_t>(1, o.common.runs.wave_chains / params.draws);
  params.bins = 0;
  for (std::size_t b = 2; b <= 20 && b <= params.draws + 1; ++b)
    if ((params.draws + 1) % b == 0) params.bins = b;
  TWOFOLD_EXPECTS(params.bins > 0, "--design sbc: --chains K needs K + 1 to have a divisor between 2 and 20 for the "
                                   "rank histogram (got K = " + std::to_string(params.draws) + "; e.g. 19, 49, 99)");
  io::output_folder folder = open_output_folder(o.common, input_paths(o.inputs));
  std::fprintf(stderr, "twofold sample --design sbc: %zu replicates x %zu draws (%s) on %s\n", params.replicates,
               params.draws, params.stage2 ? "stage 2" : "posterior", ctx.device_name().c_str());
  const auto r = [&] {
    stage_progress progress("sbc");
    return calibrate(params);
  }();
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : r.tests)
    tests.push_back({{"name", t.name}, {"ranks", t.ranks}, {"histogram", t.histogram}, {"chi2", t.chi2},
                     {"chi2_p", t.chi2_p}, {"ecdf_difference", t.ecdf_difference}, {"ecdf_p", t.ecdf_p}});
  nlohmann::json cal;
  cal["sbc"] = {{"L", r.replicates}, {"K", r.draws}, {"stage2", r.stage2}, {"bins", params.bins}, {"truths", truths},
                {"tests", tests},
                {"ecdf_band", {{"alpha", r.band.alpha}, {"z", r.band.z}, {"lower", r.band.lower},
                               {"upper", r.band.upper}, {"simulations", r.band.null_gamma.size()}}}};
  cal["coverage"] = {{"nominal", r.coverage.nominal}, {"quantile", r.coverage.quantile},
                     {"gaussian", r.coverage.gaussian}, {"over", "replicates (x* from the prior)"}};
  if (!r.stage2)
    cal["predictive_coverage"] = predictive_coverage_json(
        r.predictive_coverage, "replicates: a held-out measurement A x* + n' of each replicate against the replicated "
                               "measurements A x_k + n_k of its K draws (standard error over replicates)");
  if (o.sbc_noise_scale != 1.0) cal["sbc"]["simulated_noise_scale"] = o.sbc_noise_scale;
  const auto conformal = conformal_scale(r, 0.1, r.replicates / 2);
  cal["conformal"] = {{"alpha", conformal.alpha},
                      {"scale", std::isfinite(conformal.scale) ? nlohmann::json(conformal.scale) : nlohmann::json()},
                      {"calibration_replicates", conformal.calibration},
                      {"calibration_risk", conformal.calibration_risk},
                      {"test_replicates", conformal.test},
                      {"test_risk", conformal.test_risk},
                      {"guarantee", "E[fraction of coordinates outside the scaled 5-95 % interval] <= alpha for "
                                    "exchangeable replicates (conformal risk control)"}};
  nlohmann::json summary;
  summary["command"] = "sample --design sbc";
  summary["inputs"] = {{"operator", p.op->name()}, {"sigma_y", o.sigma}, {"prior", prior_name},
                       {"field", values == field::real ? "real" : "complex"}};
  summary["sampler"] = {{"kind", to_string(sp.kind)}, {"levels", sp.schedule.levels}};
  double smallest = 1, smallest_ecdf = 1;
  for (const auto& t : r.tests) {
    smallest = std::min(smallest, t.chi2_p);
    smallest_ecdf = std::min(smallest_ecdf, t.ecdf_p);
  }
  summary["sbc"] = {{"replicates", r.replicates}, {"draws", r.draws}, {"smallest_chi2_p", smallest},
                    {"simulated_noise_scale", o.sbc_noise_scale}, {"truths", truths},
                    {"smallest_ecdf_p", smallest_ecdf},
                    {"tests", r.tests.size()}, {"batches", r.batches}, {"batches_halved", r.batches_halved},
                    {"seconds", r.seconds}, {"device", ctx.device_name()}};
  for (const auto& [name, j] : {std::pair<const char*, const nlohmann::json&>{"calibration.json", cal},
                                std::pair<const char*, const nlohmann::json&>{"summary.json", summary}}) {
    std::ofstream out(folder.stage(name), std::ios::binary);
    out << j.dump(2) << "\n";
    out.close();
    TWOFOLD_ENSURES(out.good(), std::string("could not write ") + name);
  }
  finish_folder(folder, no_report);
  const double calibrated = 0.9 * double(r.draws - 1) / double(r.draws + 1);
  std::printf("twofold sample --design sbc: smallest chi-square p-value %.3g over %zu test functions; 90 %% intervals "
              "cover %.3f (calibrated: about %.3f)",
              smallest, r.tests.size(), r.coverage.quantile[8], calibrated);
  if (!r.stage2)
    std::printf("; 90 %% predictive intervals cover %.3f +- %.3f of held-out measurements", 
                r.predictive_coverage.curve.quantile[8], r.predictive_coverage.quantile_standard_error[8]);
  std::printf("; outputs in %s\n", o.common.out.c_str());
}

/// The file the run's draws stream to. --checkpoint/--resume: beside the checkpoint
/// (`.<out>.twofold-checkpoint-draws.npy`), where they outlive a kill; reopened when
/// resuming from a checkpoint, else started afresh (an older checkpoint is removed
/// first: its draws are gone). Otherwise in the staging folder: `draws.npy` with
/// --save-draws, else a scratch file removed before the commit.
draw_file open_draw_file(const sample_options& o, io::output_folder& folder, const run_checkpoints& checkpoints,
                         image_shape shape, std::size_t n) {
  const bool pair = o.save_draws && o.cfl;
  if (o.checkpoints.active()) {
    const std::filesystem::path base = checkpoints.draws_base();
    const std::filesystem::path npy = base.string() + ".npy";
    const std::optional<std::filesystem::path> cfl = pair ? std::optional(base) : std::nullopt;
    if (checkpoints.resuming()) return draw_file::reopen(npy, cfl, n, shape);
    checkpoints.remove();
    return draw_file::create(npy, cfl, n, shape);
  }
  if (!o.save_draws) return draw_file::create(folder.staging_dir() / ".draws-scratch.npy", std::nullopt, n, shape);
  std::optional<std::filesystem::path> cfl;
  if (pair) {
    folder.stage("draws.hdr");
    cfl = folder.stage("draws.cfl").replace_extension();
  }
  return draw_file::create(folder.stage("draws.npy"), cfl, n, shape);
}

/// Before the commit: --save-draws puts the draws into the folder (a hard link of the
/// checkpoint's file), else the scratch file in the staging folder goes. The file beside
/// a checkpoint stays until the commit succeeded (run_checkpoints::remove): a kill
/// before it resumes with its draws.
void keep_or_remove_draws(const sample_options& o, io::output_folder& folder, draw_file& draws) {
  if (o.checkpoints.active() && !o.save_draws) return;
  if (!o.save_draws) return draws.remove();
  if (!o.checkpoints.active()) return;  // written in place
  std::optional<std::filesystem::path> cfl;
  if (o.cfl) {
    folder.stage("draws.hdr");
    cfl = folder.stage("draws.cfl").replace_extension();
  }
  draws.publish_as(folder.stage("draws.npy"), cfl);
}

/// `set-000`, `set-001`, …: the subfolder of measurement set s.
std::string set_folder(std::size_t s) {
  char name[32];
  std::snprintf(name, sizeof name, "set-%03zu", s);
  return name;
}

/// What measurement sets (--measurements [S, ...]) do not support: refused before any
/// work, naming the flag.
void check_sets_options(const sample_options& o, const loaded_problem& p) {
  const std::string sets = "--measurements holds " + std::to_string(p.sets) + " measurement sets (a leading set axis)";
  TWOFOLD_EXPECTS(o.common.design == "replicate",
                  sets + ": they are sampled side by side with --design replicate (every chain a posterior draw of "
                         "its set; the cascade's two stages need one set); add --design replicate, or give one set");
  TWOFOLD_EXPECTS(o.common.sampler != "smc", sets + ": --sampler smc would make each set's R x K chains one particle "
                                                    "system; sample the sets one at a time with smc");
  TWOFOLD_EXPECTS(!o.reference, sets + ": --reference is not supported with sets; sample a set alone for it");
  TWOFOLD_EXPECTS(!o.checkpoints.active(), sets + ": --checkpoint and --resume are not supported with sets");
  TWOFOLD_EXPECTS(!o.mpi, sets + ": --mpi is not supported with sets");
  TWOFOLD_EXPECTS(o.inputs.heldout.empty(), sets + ": --heldout-measurements is not supported with sets");
  TWOFOLD_EXPECTS(o.inputs.prior_kind != "factor", sets + ": --prior factor is not supported with sets");
  TWOFOLD_EXPECTS(o.inputs.forward.empty(), sets + ": --forward (EEG outputs) is not supported with sets");
  TWOFOLD_EXPECTS(o.sbc_noise_scale == 1.0, "--sbc-noise-scale needs --design sbc");
}

/// --measurements [S, ...]: the S problems of one operator sampled side by side in one
/// batch (the library's measurement sets: posterior_draws with S runs of R·K chains, set
/// s's draws are chains s·R·K … (s + 1)·R·K − 1), streamed to one draw file per set;
/// then per set the maps of the replicate design of R runs × K chains
/// (maps_from_draws), its calibration figures and the usual files in `set-NNN/`, and
/// a summary.json at the top that describes the layout.
void run_sets(const sample_options& o, const context& ctx, const loaded_problem& p, const prior& prior, field values,
              const sampler_params& sp, const design_params& dp, bool no_report) {
  const std::size_t S = p.sets, R = dp.runs, K = dp.chains_per_run, RK = R * K;
  const image_shape shape = p.op->domain();
  std::optional<std::vector<cfloat>> truths;  // [S, H, W] or one image for all
  if (!o.inputs.truth.empty()) {
    const auto t = io::read_complex_array(o.inputs.truth, "truth image");
    expect_truth(t.shape, shape, S);
    truths = t.values;
  }
  const inverse_problem batch(ctx, p.op, p.y, o.sigma, values, S);
  io::output_folder folder = open_output_folder(o.common, input_paths(o.inputs));
  std::fprintf(stderr, "twofold sample: %zu measurement sets of a %s operator side by side, %s image, on %s\n", S,
               p.op->name().c_str(), to_string(shape).c_str(), ctx.device_name().c_str());
  std::vector<std::string> subfolders;
  std::vector<output_place> places;
  std::vector<draw_file> draws;
  for (std::size_t s = 0; s < S; ++s) {
    subfolders.push_back(set_folder(s));
    places.emplace_back(folder, subfolders.back());
    std::optional<std::filesystem::path> cfl;
    if (o.save_draws && o.cfl) cfl = places.back().stage("draws");
    draws.push_back(draw_file::create(o.save_draws ? places.back().stage("draws.npy")
                                                   : folder.staging_dir() / (".draws-scratch-" + subfolders.back() + ".npy"),
                                      cfl, RK, shape));
  }
  design_params batch_design = dp;
  batch_design.runs = S;
  batch_design.chains_per_run = RK;
  batch_design.keep_draws = false;
  const std::size_t N = shape.pixels();
  batch_design.draw_sink = [&](std::size_t first, std::span<const cfloat> wave) {
    for (std::size_t done = 0, n = wave.size() / N; done < n;) {  // a wave may span sets
      const std::size_t chain = first + done, s = chain / RK, in_set = std::min(n - done, RK - chain % RK);
      draws[s].write(chain % RK, wave.subspan(done * N, in_set * N));
      done += in_set;
    }
  };
  const auto start = std::chrono::steady_clock::now();
  posterior_draws(ctx, batch, prior, sp, batch_design, stderr_progress());
  sample_report report;
  report.device = ctx.device_name();
  report.runs = R;
  report.chains_per_run = K;
  report.chains = S * RK;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json summary;
  summary["command"] = "sample";
  summary["inputs"] = {{"operator", p.op->name()}, {"measurements", o.inputs.measurements}, {"mask", o.inputs.mask},
                       {"maps", o.inputs.maps}, {"matrix", o.inputs.matrix}, {"sigma_y", o.sigma},
                       {"field", values == field::real ? "real" : "complex"}, {"prior", prior.name()},
                       {"prior_basis", o.inputs.prior_basis}, {"image_shape", to_string(shape)},
                       {"measurement_shape", to_string(p.op->codomain())}};
  record_run(summary, sp, dp, report);
  summary["report"] = {{"device", report.device}, {"seconds", report.seconds}, {"chains", report.chains}};
  summary["measurement_sets"] = {
      {"sets", S},
      {"folders", subfolders},
      {"layout", "set-NNN/ holds the usual outputs (maps, calibration.json, summary.json, draws with --save-draws) of "
                 "measurement set NNN, the leading axis of --measurements"},
      {"sampling", "all sets in one batch (the library's measurement sets): set s's R x K draws are chains "
                   "s*R*K ... (s+1)*R*K-1 of posterior_draws with S runs of R*K chains, the same random numbers as "
                   "that call on set s alone; the maps are the replicate design's of R runs x K chains"}};
  for (std::size_t s = 0; s < S; ++s) {
    stage_progress progress("outputs of " + subfolders[s]);
    const inverse_problem problem = batch.measurement_set(ctx, s);
    const auto set_draws = all_draws(draws[s]);  // one set's R·K draws, for its maps
    const uncertainty_maps maps = maps_from_draws(ctx, *p.op, run_design::replicate, set_draws, R, K);
    require_finite_maps(maps, std::string(to_string(sp.kind)));
    std::optional<std::vector<cfloat>> truth;
    if (truths) {
      const std::size_t at = truths->size() == N ? 0 : s * N;
      truth.emplace(truths->begin() + std::ptrdiff_t(at), truths->begin() + std::ptrdiff_t(at + N));
    }
    nlohmann::json set_summary = summary;
    set_summary.erase("measurement_sets");
    set_summary["measurement_set"] = {{"index", s}, {"of", S}, {"chains", {s * RK, (s + 1) * RK - 1}}};
    quantile_maps quantiles;
    const auto calibration = calibration_figures(ctx, problem, maps, draws[s], truth, quantiles, {}, dp.seed);
    write_outputs(places[s], {maps, problem.zero_filled(), p.mask, truth, std::nullopt, set_summary, o.cfl, quantiles,
                              calibration});
    if (!o.save_draws) draws[s].remove();
  }
  {
    std::ofstream out(folder.stage("summary.json"), std::ios::binary);
    out << summary.dump(2) << "\n";
    out.close();
    TWOFOLD_ENSURES(out.good(), "could not write summary.json");
  }
  finish_folder(folder, no_report, subfolders);
  std::printf("twofold sample: %zu measurement sets x %zu runs x %zu chains in %.1f s; outputs in %s/set-000 ... %s\n",
              S, R, K, report.seconds, o.common.out.c_str(), subfolders.back().c_str());
}

void run_sample(const sample_options& o, bool no_report, const CLI::App& cmd) {
  const auto sp = to_sampler_params(o.common);
  const bool sbc = o.common.design == "sbc";
  TWOFOLD_EXPECTS(o.mpi || launched_processes() == 1,
                  "launched by an MPI launcher with " + std::to_string(launched_processes()) +
                      " processes: add --mpi to split the runs over them (otherwise each would run the whole job)");
  TWOFOLD_EXPECTS(!o.mpi || (!sbc && o.inputs.prior_kind != "factor" && !o.checkpoints.active()),
                  "--mpi supports the cascade and replicate designs, without --prior factor, --checkpoint or --resume");
  // --mpi: one process per share of the runs; rank 0 alone reads and writes beside --out
  // (another node's process could not tell whether rank 0's staging folder is alive).
  std::optional<mpi_job> job;
  if (o.mpi) job.emplace();
  const bool writer = !job || job->rank() == 0;
  // Repair what killed runs left beside --out first, even if this run then fails.
  if (writer) recover_beside_out(o.common);
  const auto dp = sbc ? design_params{} : to_design_params(o.common);
  TWOFOLD_EXPECTS(std::isfinite(o.sigma) && o.sigma > 0, "--sigma must be finite and > 0 (got " + std::to_string(o.sigma) + ")");
  check_input_shapes(o.inputs);  // from the headers, before any large read
  if (writer) {
    // Refuse an --out that holds an input or is someone else's folder before any work.
    const io::output_folder probe = open_output_folder(o.common, input_paths(o.inputs));
  }
  TWOFOLD_EXPECTS(!o.checkpoints.active() || (!sbc && o.inputs.prior_kind != "factor"),
                  "--checkpoint and --resume are not supported with --design sbc or --prior factor");
  const backend_request backend = o.inputs.prior_kind == "torchscript" ? backend_for_network(o.common.backend)
                                                                     : parse_backend(o.common.backend, "--backend");
  // --mpi on GPUs: each process of a node on its own device, by its rank on the node.
  const int devices = job && backend != backend_request::cpu ? cuda_device_count() : 0;
  context ctx(backend, devices > 0 ? job->local_rank() % devices : 0);
  // The state to continue from (refused when made by a run with other settings or inputs).
  const run_checkpoints checkpoints(o.checkpoints, o.common.out, cmd, input_paths(o.inputs), ctx,
                                    "twofold sample");

  const loaded_problem p = [&] {
    stage_progress progress("reading inputs");
    return load_problem(ctx, o.inputs);
  }();
  const double sigma = o.sigma;
  const image_shape shape = p.op->domain();
  const field values = choose_field(o.inputs, p);
  const bool factor = o.inputs.prior_kind == "factor";  // --prior factor: sampled through x = μ + F z
  std::optional<factor_prior> fp;
  std::unique_ptr<twofold::prior> prior;
  if (factor) {
    TWOFOLD_EXPECTS(values == field::real, "--prior factor needs a real problem (real matrix and data)");
    fp = read_factor_prior(o.inputs, p);
  } else {
    prior = read_prior(ctx, o.inputs, shape, values, &p);
  }
  if (p.sets > 1) {
    TWOFOLD_EXPECTS(!sbc, "--measurements holds " + std::to_string(p.sets) +
                              " measurement sets: --design sbc simulates its own data; give one measurement");
    check_sets_options(o, p);
    return run_sets(o, ctx, p, *prior, values, sp, dp, no_report);
  }
  std::optional<eeg_forward> forward;
  if (!o.inputs.forward.empty()) forward = read_forward(o.inputs.forward, false);
  if (sbc) {
    TWOFOLD_EXPECTS(o.inputs.heldout.empty(), "--heldout-measurements does not apply to --design sbc (it simulates "
                                              "a held-out measurement per replicate)");
    if (factor)
      return run_sbc(o, ctx, p, factor_prior_name, "drawn from the prior", values, sp, no_report,
                     [&](const sbc_params& params) { return calibrate_factor_prior(ctx, p, *fp, sigma, sp, params); });
    // A prior that cannot be drawn from (a network): x* from the same sampler run with
    // nothing observed, the prior that sampler implies (prior_draws).
    const bool drawn = prior->can_draw();
    return run_sbc(o, ctx, p, prior->name(),
                   drawn ? "drawn from the prior" : "prior_draws: the sampler with nothing observed", values, sp,
                   no_report, [&](const sbc_params& params) {
                     if (drawn) return simulation_based_calibration(ctx, p.op, sigma, values, *prior, sp, params);
                     sbc_params given = params;
                     given.truths = prior_draws(ctx, shape, values, *prior, sp, params.replicates, params.seed);
                     return simulation_based_calibration(ctx, p.op, sigma, values, *prior, sp, given);
                   });
  }
  std::optional<std::vector<cfloat>> truth;
  if (!o.inputs.truth.empty()) {
    const auto t = io::read_complex_array(o.inputs.truth, "truth image");
    expect_image(t.shape, shape, "truth image", "the image (the operator's domain)");
    truth = t.values;
  }
  TWOFOLD_EXPECTS(o.sbc_noise_scale == 1.0, "--sbc-noise-scale needs --design sbc");
  const auto heldout = read_heldout_measurements(o.inputs, p);
  const inverse_problem problem(ctx, p.op, p.y, sigma, values);
  // The draws stream to a file (cli/run/draws.hpp); these two read them all into memory.
  if (factor) require_memory_for_draws(dp, shape, "--prior factor's draws (transformed in memory)");
  if (!heldout.empty())
    require_memory_for_draws(dp, shape, "the predictive coverage of --heldout-measurements reads every draw, which");
  std::optional<gaussian_posterior_maps> reference;
  if (o.reference && writer) {
    stage_progress progress("exact reference");
    reference = factor ? factor_prior_reference(p, *fp, sigma) : exact_posterior(ctx, problem, *prior);
  }

  std::optional<io::output_folder> staged;
  if (writer) staged.emplace(open_output_folder(o.common, input_paths(o.inputs)));
  if (writer)
    std::fprintf(stderr, "twofold sample: %s operator, %s image, %s measurements, on %s\n", p.op->name().c_str(),
               to_string(shape).c_str(), to_string(p.op->codomain()).c_str(), ctx.device_name().c_str());
  // The R·K draws go to a file wave by wave as the library hands them over: the run
  // holds one wave of them, never all (the figures below read the file in pieces).
  std::optional<draw_file> draws;
  if (writer) draws = open_draw_file(o, *staged, checkpoints, shape, dp.runs * dp.chains_per_run);
  design_params streamed = dp;
  streamed.keep_draws = !writer;  // --mpi: the other processes send their share's draws to rank 0
  if (writer) streamed.draw_sink = [&](std::size_t first, std::span<const cfloat> d) { draws->write(first, d); };
  std::optional<sample_result> gathered;
  if (job) {
    if (writer) std::fprintf(stderr, "twofold sample --mpi: %zu runs over %d processes\n", dp.runs, job->size());
    gathered = job->sample(ctx, problem, *prior, sp, streamed, writer ? stderr_progress() : progress_callback{});
    if (!writer) return job->finish_together();  // rank 0 writes; wait until it has
  } else if (factor) {
    design_params keep = dp;
    keep.keep_draws = true;
    gathered = sample_factor_prior(ctx, p, *fp, sigma, sp, keep, stderr_progress());
    draws->write(0, gathered->draws);
    std::vector<cfloat>().swap(gathered->draws);
  } else {
    gathered = sample(ctx, problem, *prior, sp, streamed, stderr_progress(), checkpoints.params());
  }
  const sample_result& result = *gathered;
  io::output_folder& folder = *staged;

  nlohmann::json summary;
  summary["command"] = "sample";
  summary["inputs"] = {{"operator", p.op->name()},   {"measurements", o.inputs.measurements}, {"mask", o.inputs.mask},
                       {"maps", o.inputs.maps},             {"matrix", o.inputs.matrix},             {"sigma_y", o.sigma},
                       {"field", values == field::real ? "real" : "complex"},
                       {"prior", factor ? std::string(factor_prior_name) : prior->name()}, {"prior_basis", o.inputs.prior_basis}, {"image_shape", to_string(shape)},
                       {"measurement_shape", to_string(p.op->codomain())}};
  // ‖A‖₂ (Langevin's step rule scales with it above 1; docs/design.md §1.5).
  if (p.op->name() == "dense") summary["inputs"]["operator_norm"] = p.op->norm_bound(ctx);
  if (o.inputs.prior_kind == "torchscript")
    summary["inputs"]["model"] = {{"path", o.inputs.model.path}, {"output", o.inputs.model.output},
                                  {"noise", o.inputs.model.noise}, {"scale", o.inputs.model.scale}};
  record_run(summary, sp, dp, result.report);
  if (reference) summary["against_exact_reference"] = compare_with_reference(result.maps, *reference);
  require_finite_maps(result.maps, std::string(to_string(sp.kind)));
  if (forward) {  // EEG: per-source maps and sensor-space data for the report (cli/commands/eeg.cpp)
    std::vector<double> sensor_y = p.sensor_y;
    if (sensor_y.empty())
      for (const cfloat z : p.y) sensor_y.push_back(z.re);
    const gaussian_prior* g = factor ? nullptr : prior->gaussian_form();
    std::vector<double> variance;
    if (g) variance.assign(g->variance().begin(), g->variance().end());
    if (factor) variance = fp->variance();
    summary["eeg"] = stage_eeg_outputs(folder, *forward, result.maps, sensor_y, truth,
                                       variance.empty() ? nullptr : &variance, reference ? &*reference : nullptr);
  }
  quantile_maps quantiles;
  const auto calibration = [&] {
    stage_progress progress("calibration figures");
    return calibration_figures(ctx, problem, result.maps, *draws, truth, quantiles, heldout, dp.seed);
  }();
  write_outputs(folder, {result.maps, problem.zero_filled(), p.mask, truth, reference, summary, o.cfl, quantiles,
                         calibration});
  keep_or_remove_draws(o, folder, *draws);
  finish_folder(folder, no_report);
  checkpoints.remove();  // the run is complete: its checkpoint is obsolete
  if (job) job->finish_together();
  std::printf("twofold sample: %zu runs x %zu chains in %.1f s; outputs in %s\n", dp.runs, dp.chains_per_run,
              result.report.seconds, o.common.out.c_str());
}

}  // namespace

std::function<void()> add_sample_command(CLI::App& app) {
  auto o = std::make_shared<sample_options>();
  auto* cmd = app.add_subcommand(
      "sample", "Sample the posterior of y = A x + n from data files (.npy, BART .cfl/.hdr, fastMRI .h5)");
  add_common_options(*cmd, o->common);
  add_input_options(*cmd, o->inputs);
  cmd->add_option("--sigma", o->sigma, "noise sigma_y (complex: E|n|^2 = sigma^2)")->required()->check(sigma_range());
  cmd->add_flag("--reference", o->reference,
                "also compute the exact posterior and compare (Gaussian: every map; mixture: mean and variance)");
  cmd->add_flag("--cfl", o->cfl, "also write every map as a BART .cfl/.hdr pair");
  cmd->add_flag("--save-draws", o->save_draws,
                "also write the R*K posterior draws: draws.npy [R*K, H, W] complex64 (and draws.cfl/.hdr, BART dims "
                "(H, W, 1, R*K), with --cfl), streamed wave by wave (memory: one wave)");
  cmd->add_flag("--sbc-stage2", o->sbc_stage2,
                "--design sbc: calibrate cascade stage 2 alone (rank P_N x* among completions given P_R x*)");
  add_checkpoint_options(*cmd, o->checkpoints);
  cmd->add_flag("--mpi", o->mpi,
                "split the runs over the processes of an MPI job (mpirun -n P twofold sample ... --mpi); rank 0 "
                "writes --out; the maps are bit-identical to one process's (docs/scaling.md)");
  cmd->add_option("--sbc-noise-scale", o->sbc_noise_scale,
                  "--design sbc: simulate the data with this many times the assumed noise std (1: SBC proper; 2: a "
                  "noise level underestimated 2x, which the predictive coverage and the residual test flag)")
      ->capture_default_str()
      ->check(number_in(1e-3, 1e3, false, false));
  auto no_report = std::make_shared<bool>(false);
  cmd->add_flag("--no-report", *no_report, "do not write report.html (it needs python3 with matplotlib)");
  return [o, no_report, cmd] { run_sample(*o, *no_report, *cmd); };
}

}  // namespace twofold::cli
