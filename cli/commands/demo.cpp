// `twofold demo`: a phantom from the built-in family, a 4× line mask, a pixel-basis
// Gaussian prior estimated from other members of the family, cascade mode with
// the chosen sampler (langevin by default), and the exact reference for the same
// problem (row-wise dense algebra, exact for line masks) to measure it against.
// `--prior learned` / `--prior torchscript`: the same problem (64² by default) with a
// TorchScript denoiser as the prior; there is no exact reference then.
#include "run/checkpoint.hpp"
#include "commands.hpp"
#include "commands/eeg.hpp"
#include "inputs/inputs.hpp"
#include "run/outputs.hpp"

#include <twofold/twofold.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace twofold::cli {
namespace {

/// The network demo's defaults (--sampler, --runs, --chains, --levels, --ddrm-eta): ddrm at
/// 100 levels with eta = 1, the setting chosen on held-out tuning images and validated on
/// 50 others with the shipped model (docs/validation.md); one network call per level.
constexpr const char* network_demo_sampler = "ddrm";
constexpr std::size_t network_demo_runs = 8, network_demo_chains = 8, network_demo_levels = 100;
constexpr double network_demo_ddrm_eta = 1.0;

struct demo_options {
  common_options common;
  std::size_t size = 48;
  std::size_t family = 200;
  double acceleration = 4.0;
  double sigma = 0.02;
  double prior_scale = 1.0;  ///< the sampler's prior variance × this (≠ 1: a deliberately miscalibrated run)
  std::string problem = "mri";  ///< mri | eeg (cli/commands/eeg.cpp)
  eeg_demo_options eeg;
  std::string prior = "gaussian";  ///< gaussian | torchscript (--model) | learned (the shipped model)
  model_options model;
  checkpoint_options checkpoints;
};

namespace fs = std::filesystem;

/// The shipped learned prior (data/models/phantom-denoiser/model.pt): $TWOFOLD_LEARNED_MODEL,
/// else the installed copy beside the program (share/twofold/models/...), else the source tree's.
fs::path default_learned_model() {
  if (const char* env = std::getenv("TWOFOLD_LEARNED_MODEL"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / TWOFOLD_LEARNED_MODEL_INSTALLED;
    if (fs::is_regular_file(installed, ec)) return installed;
  }
  return TWOFOLD_LEARNED_MODEL_SOURCE;
}

/// The demo's measurement: member 0 of the phantom family keyed by --seed, a random
/// line mask, and y = M F x* + n, n ~ CN(0, σ² I).
struct demo_measurement {
  std::vector<cfloat> truth;
  std::vector<std::uint8_t> lines;
  std::vector<float> mask;
  std::vector<cfloat> kspace;
  inverse_problem problem;
};

demo_measurement measure_demo_phantom(const context& ctx, const demo_options& o, image_shape shape) {
  auto truth = make_phantom({shape, o.common.runs.seed, 1.0, true}, 0);
  line_mask_params lm;
  lm.width = shape.width;
  lm.acceleration = o.acceleration;
  lm.seed = o.common.runs.seed;
  auto lines = make_line_mask(lm);
  auto mask = expand_line_mask(lines, shape);
  const auto op = std::make_shared<fourier_mask_operator>(ctx, shape, mask);
  auto kspace = simulate_measurements(ctx, *op, truth, o.sigma, field::complex, o.common.runs.seed);
  inverse_problem problem(ctx, op, kspace, o.sigma);
  return {std::move(truth), std::move(lines), std::move(mask), std::move(kspace), std::move(problem)};
}

/// The demo with a TorchScript prior: the phantom problem, no exact reference.
void run_network_demo(const demo_options& o, bool no_report) {
  const auto sp = to_sampler_params(o.common);
  const auto dp = to_design_params(o.common);
  TWOFOLD_EXPECTS(o.size >= 8 && o.size <= 1024, "--size must be in [8, 1024]");
  TWOFOLD_EXPECTS(std::isfinite(o.sigma) && o.sigma > 0, "--sigma must be finite and > 0");
  TWOFOLD_EXPECTS(o.prior_scale == 1.0, "--prior-scale scales the Gaussian prior; it does not apply to --prior " + o.prior);
  model_options model = o.model;
  if (o.prior == "learned") {
    TWOFOLD_EXPECTS(model.path.empty(), "--prior learned uses the shipped model; give --prior torchscript --model FILE "
                                        "for another one");
    model = {};  // the shipped model's conventions: x0 output, sigma input, scale 1
    model.path = default_learned_model().string();
    TWOFOLD_EXPECTS(fs::is_regular_file(model.path),
                    "--prior learned: the shipped model " + model.path +
                        " is missing (it is committed with the repository as data/models/phantom-denoiser/model.pt "
                        "and installed to share/twofold/models/; TWOFOLD_LEARNED_MODEL overrides the path)");
  } else {
    TWOFOLD_EXPECTS(!model.path.empty(), "--prior torchscript needs --model FILE (docs/learned_priors.md)");
  }
  require_memory_for_draws(dp, image_shape{o.size, o.size});
  io::output_folder folder = open_output_folder(o.common, {model.path});
  context ctx(backend_for_network(o.common.backend));
  const image_shape shape{o.size, o.size};
  const auto net = load_torchscript_prior(ctx, model, shape, field::complex);
  std::fprintf(stderr, "twofold demo with %s on %s\n", net->name().c_str(), ctx.device_name().c_str());

  const demo_measurement measured = measure_demo_phantom(ctx, o, shape);
  const auto& [truth, lines, mask, kspace, problem] = measured;

  design_params keep = dp;
  keep.keep_draws = true;
  const auto result = sample(ctx, problem, *net, sp, keep, stderr_progress());
  require_finite_maps(result.maps, std::string(to_string(sp.kind)));
  const auto timing = dynamic_cast<const torchscript_prior&>(*net).timing();

  nlohmann::json summary;
  summary["command"] = "demo";
  summary["problem"] = {{"shape", {shape.height, shape.width}},
                        {"acceleration", o.acceleration},
                        {"sampled_lines", std::count(lines.begin(), lines.end(), 1)},
                        {"sigma_y", o.sigma},
                        {"prior", "TorchScript denoiser " + model.path},
                        {"model", {{"path", model.path}, {"output", model.output}, {"noise", model.noise},
                                   {"scale", model.scale}}}};
  record_run(summary, sp, dp, result.report);
  summary["report"]["network_calls"] = timing.calls;
  summary["report"]["network_seconds"] = timing.network_seconds;
  summary["report"]["network_call_seconds"] = timing.call_seconds;
  quantile_maps quantiles;
  const auto calibration = [&] {
    stage_progress progress("calibration figures");
    return calibration_figures(ctx, problem, result, truth, quantiles);
  }();
  write_outputs(folder, {result.maps, problem.zero_filled(), mask, truth, std::nullopt, summary, false, quantiles,
                         calibration});
  finish_folder(folder, no_report);

  const std::size_t n = result.draws.size() / shape.pixels();
  std::printf("twofold demo: %zux%zu, %s prior, %s sampler, %zu runs x %zu chains, %.1f s on %s (%.0f %% of it in "
              "the network)\n",
              shape.height, shape.width, net->name().c_str(), std::string(to_string(sp.kind)).c_str(), dp.runs,
              dp.chains_per_run, result.report.seconds, result.report.device.c_str(),
              100.0 * timing.network_seconds / std::max(result.report.seconds, 1e-9));
  double ambiguity = 0, estimation = 0;
  for (std::size_t p = 0; p < shape.pixels(); ++p) {
    ambiguity += result.maps.ambiguity.empty() ? 0.0 : result.maps.ambiguity[p];
    estimation += result.maps.estimation_clipped.empty() ? 0.0 : result.maps.estimation_clipped[p];
  }
  if (!result.maps.ambiguity.empty())
    std::printf("  mean ambiguity std %.4f, mean estimation std %.4f (root of the pixel-averaged variances)\n",
                std::sqrt(ambiguity / double(shape.pixels())), std::sqrt(estimation / double(shape.pixels())));
  std::printf("  calibration: 90 %% intervals cover %.3f of the truth's pixel values (Re, Im; calibrated: about %.3f), "
              "forward PSNR %.1f dB\n",
              calibration["coverage"]["quantile"][8].get<double>(), 0.9 * double(n - 1) / double(n + 1),
              calibration["psnr_forward"].get<double>());
  std::printf("  outputs in %s\n", o.common.out.c_str());
}

void run_demo(const demo_options& o, bool no_report, const CLI::App& cmd) {
  // Repair what killed runs left beside --out first, even if this run then fails.
  recover_beside_out(o.common);
  TWOFOLD_EXPECTS(o.problem == "mri" || o.problem == "eeg", "--problem must be mri or eeg (got '" + o.problem + "')");
  TWOFOLD_EXPECTS(o.prior == "gaussian" || o.prior == "torchscript" || o.prior == "learned",
                  "--prior must be gaussian, torchscript or learned (got '" + o.prior + "')");
  TWOFOLD_EXPECTS(o.problem == "mri" || o.prior == "gaussian", "--prior " + o.prior + " needs --problem mri");
  TWOFOLD_EXPECTS(o.prior != "gaussian" || o.model.path.empty(), "--model is read only with --prior torchscript");
  TWOFOLD_EXPECTS(o.problem == "mri" || !o.checkpoints.active(), "--checkpoint and --resume: MRI demo only");
  TWOFOLD_EXPECTS(o.prior == "gaussian" || !o.checkpoints.active(),
                  "--checkpoint and --resume: not with a network prior");
  if (o.problem == "eeg") return run_eeg_demo(o.common, o.eeg, no_report);
  if (o.prior != "gaussian") return run_network_demo(o, no_report);
  const auto sp = to_sampler_params(o.common);
  const auto dp = to_design_params(o.common);
  TWOFOLD_EXPECTS(o.size >= 8 && o.size <= 1024, "--size must be in [8, 1024]");
  TWOFOLD_EXPECTS(std::isfinite(o.sigma) && o.sigma > 0, "--sigma must be finite and > 0");
  TWOFOLD_EXPECTS(std::isfinite(o.prior_scale) && o.prior_scale > 0, "--prior-scale must be finite and > 0");
  // The demo's pixel-basis prior does not share the MRI operator's Fourier basis, so the
  // exact sampler takes its dense form: replicate design, at most 1024 pixels.
  TWOFOLD_EXPECTS(sp.kind != sampler_kind::exact || (dp.kind == run_design::replicate && o.size <= 32),
                  "demo --sampler exact needs --design replicate and --size 32 or less (got --design " +
                      std::string(to_string(dp.kind)) + " --size " + std::to_string(o.size) +
                      "): the demo's pixel-basis prior does not share the MRI operator's basis, so the exact sampler "
                      "uses its dense form, which has no cascade split and holds at most 1024 pixels");
  require_memory_for_draws(dp, image_shape{o.size, o.size});
  context ctx(parse_backend(o.common.backend, "--backend"));
  io::output_folder folder = open_output_folder(o.common, {});
  std::fprintf(stderr, "twofold demo on %s\n", ctx.device_name().c_str());
  // The demo's data follow from its settings: the fingerprint has no input files.
  const run_checkpoints checkpoints(o.checkpoints, o.common.out, cmd, {}, ctx, "twofold demo");

  const image_shape shape{o.size, o.size};
  const phantom_params family{shape, o.common.runs.seed, 1.0, true};
  const demo_measurement measured = measure_demo_phantom(ctx, o, shape);  // member 0 of `family`
  const auto& [truth, lines, mask, kspace, problem] = measured;
  const auto others = make_phantom_family(family, 1, o.family);
  const auto prior = estimate_gaussian_prior(ctx, gaussian_basis::pixel, shape, others);
  // --prior-scale: the sampler is told a prior whose variance is off by this factor
  // (the exact reference keeps the estimated prior): reconstructions stay plausible,
  // calibration does not.
  auto told_variance = prior.variance();
  for (auto& v : told_variance) v *= float(o.prior_scale);
  const gaussian_prior told(ctx, gaussian_basis::pixel, shape, prior.mean(), told_variance);

  design_params keep = dp;
  keep.keep_draws = true;
  const auto result = sample(ctx, problem, told, sp, keep, stderr_progress(), checkpoints.params());
  require_finite_maps(result.maps, std::string(to_string(sp.kind)));
  const auto reference = [&] {
    stage_progress progress("exact reference");
    return line_mask_posterior_pixel_prior(shape, prior.mean(), prior.variance(), lines, kspace, o.sigma);
  }();

  nlohmann::json summary;
  summary["command"] = "demo";
  summary["problem"] = {{"shape", {shape.height, shape.width}},
                        {"acceleration", o.acceleration},
                        {"sampled_lines", std::count(lines.begin(), lines.end(), 1)},
                        {"sigma_y", o.sigma},
                        {"prior", "pixel-basis Gaussian estimated from " + std::to_string(o.family) + " phantoms"},
                        {"prior_scale", o.prior_scale}};
  record_run(summary, sp, dp, result.report);
  summary["against_exact_reference"] = compare_with_reference(result.maps, reference);
  quantile_maps quantiles;
  const auto calibration = [&] {
    stage_progress progress("calibration figures");
    return calibration_figures(ctx, problem, result, truth, quantiles);
  }();
  write_outputs(folder, {result.maps, problem.zero_filled(), mask, truth, reference, summary, false, quantiles,
                         calibration});
  finish_folder(folder, no_report);
  checkpoints.remove();  // the run is complete: its checkpoint is obsolete

  const auto& c = summary["against_exact_reference"];
  std::printf("twofold demo: %zux%zu, %s sampler, %zu runs x %zu chains, %.1f s on %s\n", shape.height, shape.width,
              std::string(to_string(sp.kind)).c_str(), dp.runs, dp.chains_per_run, result.report.seconds,
              result.report.device.c_str());
  // The replicate design has no ambiguity/estimation split: only the total variance compares.
  if (c.contains("ambiguity_ratio"))
    std::printf("  against the exact posterior: mean error %.3f posterior std (RMS), ambiguity ratio %.3f, "
                "estimation ratio %.3f\n",
                c["mean_error_rms_in_posterior_std"].get<double>(), c["ambiguity_ratio"].get<double>(),
                c["estimation_ratio"].get<double>());
  else
    std::printf("  against the exact posterior: mean error %.3f posterior std (RMS), total variance ratio %.3f\n",
                c["mean_error_rms_in_posterior_std"].get<double>(), c["total_variance_ratio"].get<double>());
  const std::size_t n = result.draws.size() / shape.pixels();
  std::printf("  calibration: 90 %% intervals cover %.3f of the truth's pixel values (Re, Im; calibrated: about %.3f), "
              "forward PSNR %.1f dB\n",
              calibration["coverage"]["quantile"][8].get<double>(), 0.9 * double(n - 1) / double(n + 1),
              calibration["psnr_forward"].get<double>());
  std::printf("  outputs in %s\n", o.common.out.c_str());
}

}  // namespace

std::function<void()> add_demo_command(CLI::App& app) {
  auto o = std::make_shared<demo_options>();
  auto* cmd = app.add_subcommand("demo", "Sample a built-in phantom problem and compare with the exact posterior");
  add_common_options(*cmd, o->common);
  cmd->add_option("--size", o->size, "image height = width")->capture_default_str()->check(count_in(8, 1024));
  cmd->add_option("--family", o->family, "phantoms the prior is estimated from")
      ->capture_default_str()
      ->check(count_in(2, 100000));
  cmd->add_option("--acceleration", o->acceleration, "line-mask acceleration")
      ->capture_default_str()
      ->check(number_in(1, 64, false, false));
  cmd->add_option("--sigma", o->sigma, "noise sigma_y (complex: E|n|^2 = sigma^2)")
      ->capture_default_str()
      ->check(sigma_range());
  cmd->add_option("--prior-scale", o->prior_scale,
                  "sample with the prior variance times this (e.g. 0.1: a miscalibrated run whose coverage collapses)")
      ->capture_default_str()
      ->check(number_in(1e-6, 1e6, false, false));
  cmd->add_option("--problem", o->problem,
                  "mri: the phantom problem; eeg: source imaging on the shipped EEG lead field (docs/eeg.md)")
      ->capture_default_str();
  cmd->add_option("--forward", o->eeg.forward, "eeg: a forward folder from python/eeg/make_forward.py (default: "
                                               "the shipped 64-channel sphere model)");
  cmd->add_option("--lambda2", o->eeg.lambda2, "eeg: MNE's lambda2 = 1/SNR^2 of the minimum-norm prior")
      ->capture_default_str();
  cmd->add_option("--depth", o->eeg.depth, "eeg: MNE's depth-weighting exponent (0: none)")->capture_default_str();
  cmd->add_option("--amplitude", o->eeg.amplitude, "eeg: moment of each active source, nA m")->capture_default_str();
  cmd->add_option("--prior", o->prior,
                  "gaussian: estimated from --family phantoms, with the exact reference; learned: the shipped "
                  "TorchScript denoiser (data/models/phantom-denoiser); torchscript: the model of --model "
                  "(docs/learned_priors.md)")
      ->capture_default_str();
  add_model_options(*cmd, o->model);
  o->common.out = "demo-output";
  add_checkpoint_options(*cmd, o->checkpoints);
  auto no_report = std::make_shared<bool>(false);
  cmd->add_flag("--no-report", *no_report, "do not write report.html (it needs python3 with matplotlib)");
  return [o, no_report, cmd] {
    // EEG: pto unless a sampler is named (exact for Gaussian priors, about 30x faster
    // than langevin's 900 steps here; docs/eeg.md).
    if (o->problem == "eeg" && cmd->count("--sampler") == 0) o->common.sampler = "pto";
    // A network prior: the learned model's 64² training size and a shorter run (every
    // step is a network call; docs/learned_priors.md), unless the flags say otherwise.
    if (o->prior != "gaussian") {
      if (cmd->count("--size") == 0) o->size = 64;
      if (cmd->count("--sampler") == 0) o->common.sampler = network_demo_sampler;
      if (cmd->count("--runs") == 0) o->common.runs.runs = network_demo_runs;
      if (cmd->count("--chains") == 0) o->common.runs.chains_per_run = network_demo_chains;
      if (cmd->count("--levels") == 0) o->common.sampling.schedule.levels = network_demo_levels;
      if (cmd->count("--ddrm-eta") == 0) o->common.sampling.ddrm.eta = network_demo_ddrm_eta;
    }
    run_demo(*o, *no_report, *cmd);
  };
}

}  // namespace twofold::cli
