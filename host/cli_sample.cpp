// `twofold sample`: the engine on user data. Every input is read and checked
// before the output folder is touched; nothing is written unless all succeeds.
#include "host/cli_commands.hpp"
#include "host/cli_outputs.hpp"

#include <twofold/operators.hpp>
#include <twofold/error.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/reference_fourier.hpp>

#include <cstdio>
#include <memory>
#include <optional>

namespace twofold::cli {
namespace {

struct sample_options {
  common_options common;
  std::string kspace, mask, prior_images, prior_mean, prior_variance, prior_spectrum, truth;
  std::string prior_basis = "pixel";
  double sigma = 0;
  double variance_floor = 1e-3;
  bool reference = false;
};

image_shape shape_of(const io::npy_array& a, const std::string& what) {
  TWOFOLD_EXPECTS(a.shape.size() == 2, what + " must be a 2-D array [H, W] (got " + std::to_string(a.shape.size()) +
                                           " dimensions)");
  TWOFOLD_EXPECTS(a.shape[0] > 0 && a.shape[1] > 0, what + " is empty");
  return {a.shape[0], a.shape[1]};
}

void expect_shape(const io::npy_array& a, image_shape s, const std::string& what) {
  TWOFOLD_EXPECTS(shape_of(a, what) == s, what + " has shape " + std::to_string(a.shape[0]) + "x" +
                                              std::to_string(a.shape[1]) + " but the k-space is " +
                                              std::to_string(s.height) + "x" + std::to_string(s.width));
}

/// A mask given as [H, W] or as W line flags.
std::vector<float> read_mask(const std::string& path, image_shape s) {
  const auto a = io::read_npy(path, "mask");
  auto values = io::as_float32(a, "mask");
  if (a.shape.size() == 1) {
    TWOFOLD_EXPECTS(a.shape[0] == s.width, "mask has " + std::to_string(a.shape[0]) +
                                               " line flags but the k-space has " + std::to_string(s.width) +
                                               " phase-encode lines");
    std::vector<float> full(s.pixels());
    for (std::size_t h = 0; h < s.height; ++h)
      for (std::size_t w = 0; w < s.width; ++w) full[h * s.width + w] = values[w];
    return full;
  }
  expect_shape(a, s, "mask");
  return values;
}

gaussian_prior read_prior(const context& ctx, const sample_options& o, image_shape s) {
  const gaussian_basis basis = o.prior_basis == "fourier" ? gaussian_basis::fourier : gaussian_basis::pixel;
  TWOFOLD_EXPECTS(o.prior_basis == "pixel" || o.prior_basis == "fourier", "--prior-basis must be pixel or fourier");
  if (!o.prior_images.empty()) {
    const auto a = io::read_npy(o.prior_images, "prior image stack");
    TWOFOLD_EXPECTS(a.shape.size() == 3 && a.shape[1] == s.height && a.shape[2] == s.width,
                    "prior image stack must have shape [N, " + std::to_string(s.height) + ", " +
                        std::to_string(s.width) + "]");
    return estimate_gaussian_prior(ctx, basis, s, io::as_complex64(a, "prior image stack"), o.variance_floor);
  }
  TWOFOLD_EXPECTS(!o.prior_mean.empty(), "give --prior-images, or --prior-mean with --prior-variance or --prior-spectrum");
  const bool spectrum = !o.prior_spectrum.empty();
  TWOFOLD_EXPECTS(spectrum != !o.prior_variance.empty(), "give exactly one of --prior-variance and --prior-spectrum");
  const auto mean = io::read_npy(o.prior_mean, "prior mean");
  expect_shape(mean, s, "prior mean");
  const std::string what = spectrum ? "prior spectrum" : "prior variance";
  const auto var = io::read_npy(spectrum ? o.prior_spectrum : o.prior_variance, what);
  expect_shape(var, s, what);
  return gaussian_prior(ctx, spectrum ? gaussian_basis::fourier : gaussian_basis::pixel, s,
                        io::as_complex64(mean, "prior mean"), io::as_float32(var, what));
}

void run_sample(const sample_options& o) {
  const auto sp = to_sampler_params(o.common);
  const auto dp = to_design_params(o.common);
  TWOFOLD_EXPECTS(std::isfinite(o.sigma) && o.sigma > 0, "--sigma must be finite and > 0 (got " + std::to_string(o.sigma) + ")");
  context ctx(parse_backend(o.common.backend, "--backend"));

  const auto k = io::read_npy(o.kspace, "k-space");
  const image_shape shape = shape_of(k, "k-space");
  const auto kspace = io::as_complex64(k, "k-space");
  const auto mask = read_mask(o.mask, shape);
  const auto prior = read_prior(ctx, o, shape);
  std::optional<std::vector<cfloat>> truth;
  if (!o.truth.empty()) {
    const auto t = io::read_npy(o.truth, "truth image");
    expect_shape(t, shape, "truth image");
    truth = io::as_complex64(t, "truth image");
  }
  const auto op = std::make_shared<fourier_mask_operator>(ctx, shape, mask);
  const inverse_problem problem(ctx, op, kspace, o.sigma);

  std::optional<gaussian_posterior_maps> reference;
  if (o.reference) {
    if (prior.basis() == gaussian_basis::fourier) reference = fourier_posterior(ctx, prior, *op, kspace, o.sigma);
    else {
      TWOFOLD_EXPECTS(op->lines().has_value(),
                      "--reference with a pixel-basis prior needs a line mask (whole phase-encode lines)");
      reference = line_mask_posterior_pixel_prior(shape, prior.mean(), prior.variance(), *op->lines(), kspace, o.sigma);
    }
  }
  io::output_folder folder(o.common.out);
  std::fprintf(stderr, "twofold sample on %s\n", ctx.device_name().c_str());
  const auto result = sample(ctx, problem, prior, sp, dp, stderr_progress());

  nlohmann::json summary;
  summary["command"] = "sample";
  summary["inputs"] = {{"kspace", o.kspace}, {"mask", o.mask}, {"sigma_y", o.sigma}, {"prior_basis", o.prior_basis}};
  summary["sampler"] = {{"kind", to_string(sp.kind)}, {"schedule", to_string(sp.schedule.kind)},
                        {"levels", sp.schedule.levels}, {"inner_steps", sp.langevin.inner_steps}};
  summary["design"] = {{"kind", to_string(dp.kind)}, {"runs", dp.runs}, {"chains_per_run", dp.chains_per_run},
                       {"seed", dp.seed}};
  summary["report"] = {{"device", result.report.device}, {"seconds", result.report.seconds},
                       {"chains", result.report.chains},
                       {"chain_steps_per_second", result.report.chain_steps_per_second}};
  if (reference) summary["against_exact_reference"] = compare_with_reference(result.maps, *reference);
  write_outputs(folder, {result.maps, problem.zero_filled(), mask, truth, reference, summary});
  std::printf("twofold sample: %zu runs x %zu chains in %.1f s; outputs in %s\n", dp.runs, dp.chains_per_run,
              result.report.seconds, o.common.out.c_str());
}

}  // namespace

std::function<void()> add_sample_command(CLI::App& app) {
  auto o = std::make_shared<sample_options>();
  auto* cmd = app.add_subcommand("sample", "Sample the posterior of single-coil Cartesian MRI data from .npy files");
  add_common_options(*cmd, o->common);
  cmd->add_option("--kspace", o->kspace, "k-space [H, W] .npy (complex or real)")->required();
  cmd->add_option("--mask", o->mask, "mask .npy: [H, W] or [W] line flags, entries 0/1")->required();
  cmd->add_option("--sigma", o->sigma, "noise sigma_y (complex: E|n|^2 = sigma^2)")->required();
  cmd->add_option("--prior-images", o->prior_images, "image stack [N, H, W] to estimate a Gaussian prior from");
  cmd->add_option("--prior-basis", o->prior_basis, "pixel | fourier (with --prior-images)")->capture_default_str();
  cmd->add_option("--prior-mean", o->prior_mean, "prior mean image [H, W]");
  cmd->add_option("--prior-variance", o->prior_variance, "per-pixel prior variance [H, W] (pixel basis)");
  cmd->add_option("--prior-spectrum", o->prior_spectrum, "prior power spectrum [H, W], centred k-space (fourier basis)");
  cmd->add_option("--variance-floor", o->variance_floor, "relative variance floor for estimated priors")->capture_default_str();
  cmd->add_option("--truth", o->truth, "ground-truth image [H, W] for the error map");
  cmd->add_flag("--reference", o->reference, "also compute the exact Gaussian posterior and compare");
  return [o] { run_sample(*o); };
}

}  // namespace twofold::cli
