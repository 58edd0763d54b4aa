// `twofold sample`: the engine on user data, for every operator and input format.
// Every input is read and checked before the output folder is touched; nothing is
// written unless all succeeds.
#include "commands.hpp"
#include "outputs.hpp"

#include <twofold/twofold.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

namespace twofold::cli {
namespace {

using io::shape_text;

struct sample_options {
  common_options common;
  std::string op = "mri";
  std::string measurements, mask, maps, matrix, kernel;
  std::string prior_images, prior_mean, prior_variance, prior_spectrum, prior_weights, truth;
  std::string prior_kind = "gaussian";
  std::string prior_basis = "pixel";
  std::string field = "auto";
  std::optional<std::size_t> slice;
  std::size_t factor = 0;
  double kernel_std = 0;
  cg_params projection{1e-5, 1000};  ///< multi-coil P_R
  double sigma = 0;
  double variance_floor = 1e-3;
  bool reference = false;
  bool cfl = false;
  bool sbc_stage2 = false;
};

/// `shape` as an image: [H, W], or [n] / [1, n] for the 1×n images of dense operators.
image_shape as_image(const std::vector<std::size_t>& shape, const std::string& what) {
  TWOFOLD_EXPECTS(shape.size() == 1 || shape.size() == 2,
                  what + " must be a 1-D or 2-D array (got shape " + shape_text(shape) + ")");
  const image_shape s = shape.size() == 1 ? image_shape{1, shape[0]} : image_shape{shape[0], shape[1]};
  TWOFOLD_EXPECTS(s.pixels() > 0, what + " is empty");
  return s;
}

/// Checks that an array read as `what` holds one image of `expected` shape ([H, W],
/// or [W] / [H·W] when H = 1).
void expect_image(const std::vector<std::size_t>& shape, image_shape expected, const std::string& what,
                  const std::string& against) {
  const image_shape got = as_image(shape, what);
  TWOFOLD_EXPECTS(got == expected || (expected.height == 1 && got.pixels() == expected.pixels()),
                  what + " has shape " + shape_text(shape) + " but " + against + " is " + to_string(expected));
}

bool is_hdf5(const std::string& path) {
  const auto ext = std::filesystem::path(path).extension();
  return ext == ".h5" || ext == ".hdf5";
}

/// The operator with its measurements, and what the outputs need to know of it.
struct loaded_problem {
  std::shared_ptr<const linear_operator> op;
  std::vector<cfloat> y;
  std::vector<float> mask;  ///< the k-space or pixel mask, for the outputs (empty when none)
  bool real_data = true;    ///< the operator's matrix and y have no imaginary parts
};

bool all_real(std::span<const cfloat> v) {
  for (const cfloat z : v)
    if (z.im != 0.0f) return false;
  return true;
}

/// A 0/1 mask of an image shape: [H, W], or W line flags when `lines_allowed`; read
/// from --mask, else from a fastMRI measurements file's `mask` dataset.
std::vector<float> read_mask(const sample_options& o, image_shape s, bool lines_allowed, const std::string& what) {
  std::string path = o.mask;
  io::array_read_options options{"mask", o.slice};
  if (path.empty() && is_hdf5(o.measurements) && io::inspect_fastmri(o.measurements, "measurements").has_mask)
    path = o.measurements;
  TWOFOLD_EXPECTS(!path.empty(), "--operator " + o.op + " needs --mask (" + what + ")");
  const auto a = io::read_float_array(path, what, options);
  if (lines_allowed && a.shape.size() == 1) {
    TWOFOLD_EXPECTS(a.shape[0] == s.width, what + " has " + std::to_string(a.shape[0]) + " line flags but the data has " +
                                               std::to_string(s.width) + " phase-encode lines");
    std::vector<float> full(s.pixels());
    for (std::size_t i = 0; i < full.size(); ++i) full[i] = a.values[i % s.width];
    return full;
  }
  expect_image(a.shape, s, what, "the data");
  return a.values;
}

loaded_problem load_problem(const context& ctx, const sample_options& o) {
  const io::array_read_options kspace_options{"kspace", o.slice};
  const bool mri = o.op == "mri" || o.op == "mri-multicoil";
  const auto y = io::read_complex_array(o.measurements, mri ? "k-space" : "measurements", kspace_options);
  loaded_problem p;
  p.y = y.values;
  p.real_data = all_real(y.values);
  if (o.op == "mri") {
    TWOFOLD_EXPECTS(y.shape.size() == 2, "measurements (k-space) must be [H, W] for --operator mri (got " +
                                             shape_text(y.shape) + "; multi-coil data needs --operator mri-multicoil)");
    const image_shape s = as_image(y.shape, "measurements");
    p.mask = read_mask(o, s, true, "k-space mask");
    p.op = std::make_shared<fourier_mask_operator>(ctx, s, p.mask);
    p.real_data = false;
  } else if (o.op == "mri-multicoil") {
    TWOFOLD_EXPECTS(y.shape.size() == 3 || y.shape.size() == 2,
                    "measurements (k-space) must be [coils, H, W] for --operator mri-multicoil (got " +
                        shape_text(y.shape) + ")");
    const std::size_t coils = y.shape.size() == 3 ? y.shape[0] : 1;
    const image_shape s{y.shape[y.shape.size() - 2], y.shape.back()};
    TWOFOLD_EXPECTS(!o.maps.empty(), "--operator mri-multicoil needs --maps (sensitivity maps [coils, H, W])");
    const auto maps = io::read_complex_array(o.maps, "sensitivity maps");
    const std::vector<std::size_t> want{coils, s.height, s.width};
    TWOFOLD_EXPECTS(maps.shape == want || (coils == 1 && maps.shape == std::vector<std::size_t>{s.height, s.width}),
                    "sensitivity maps have shape " + shape_text(maps.shape) + " but the k-space is " +
                        shape_text(y.shape) + " (expected " + shape_text(want) + ")");
    const std::size_t blind = validate_coil_maps(maps.values, {s.height, s.width, coils}, "sensitivity maps");
    if (blind > 0)
      std::fprintf(stderr, "twofold: note: %zu of %zu pixels have zero coil sensitivity (invisible to the data)\n",
                   blind, s.pixels());
    p.mask = read_mask(o, s, true, "k-space mask");
    p.op = std::make_shared<multicoil_operator>(ctx, s, coils, maps.values, p.mask, o.projection);
    p.real_data = false;
  } else if (o.op == "dense") {
    TWOFOLD_EXPECTS(!o.matrix.empty(), "--operator dense needs --matrix (the lead field, [sensors, sources])");
    const auto a = io::read_complex_array(o.matrix, "matrix");
    TWOFOLD_EXPECTS(a.shape.size() == 2 && a.shape[0] > 0 && a.shape[1] > 0,
                    "matrix must be a 2-D array [rows, columns] (got " + shape_text(a.shape) + ")");
    TWOFOLD_EXPECTS(y.values.size() == a.shape[0] && (y.shape.size() == 1 || y.shape.size() == 2),
                    "measurements have shape " + shape_text(y.shape) + " but the matrix has " +
                        std::to_string(a.shape[0]) + " rows (expected [" + std::to_string(a.shape[0]) + "])");
    p.op = std::make_shared<dense_operator>(ctx, a.values, a.shape[0], image_shape{1, a.shape[1]});
    p.real_data = p.real_data && all_real(a.values);
  } else if (o.op == "blur") {
    const image_shape s = as_image(y.shape, "measurements");
    TWOFOLD_EXPECTS(o.kernel.empty() != (o.kernel_std == 0),
                    "--operator blur needs exactly one of --kernel FILE and --kernel-std S");
    image_shape ks;
    std::vector<cfloat> k;
    if (!o.kernel.empty()) {
      const auto a = io::read_complex_array(o.kernel, "blur kernel");
      ks = as_image(a.shape, "blur kernel");
      k = a.values;
    } else {
      TWOFOLD_EXPECTS(std::isfinite(o.kernel_std) && o.kernel_std > 0, "--kernel-std must be finite and > 0");
      // Radius 3 std, clipped to the image (the kernel must fit the circular grid).
      const std::size_t fit = (std::min(s.height, s.width) - 1) / 2;
      k = gaussian_blur_kernel(o.kernel_std, std::max<std::size_t>(1, std::min(fit, std::size_t(std::ceil(3 * o.kernel_std)))), ks);
    }
    p.op = std::make_shared<convolution_operator>(ctx, s, k, ks);
    p.real_data = p.real_data && all_real(k);
  } else if (o.op == "inpaint") {
    const image_shape s = as_image(y.shape, "measurements");
    p.mask = read_mask(o, s, false, "pixel mask");
    p.op = std::make_shared<inpainting_operator>(ctx, s, p.mask);
  } else if (o.op == "superres") {
    const image_shape low = as_image(y.shape, "measurements");
    TWOFOLD_EXPECTS(o.factor >= 1, "--operator superres needs --factor F (>= 1)");
    p.op = std::make_shared<superres_operator>(image_shape{low.height * o.factor, low.width * o.factor}, o.factor);
  } else {
    TWOFOLD_EXPECTS(false, "--operator must be one of mri, mri-multicoil, dense, blur, inpaint, superres (got '" +
                               o.op + "')");
  }
  return p;
}

/// `shape` as a stack of `count` images of shape `s`: [count, H, W], or [count, W] when H = 1.
std::size_t stack_count(const std::vector<std::size_t>& shape, image_shape s, const std::string& what) {
  const bool ok = (shape.size() == 3 && shape[1] == s.height && shape[2] == s.width) ||
                  (s.height == 1 && shape.size() == 2 && shape[1] == s.width);
  TWOFOLD_EXPECTS(ok && shape[0] >= 1, what + " must have shape [N, " + std::to_string(s.height) + ", " +
                                           std::to_string(s.width) + "] (got " + shape_text(shape) + ")");
  return shape[0];
}

/// The prior the options describe: --prior gaussian (estimated from --prior-images,
/// or --prior-mean with --prior-variance / --prior-spectrum), mixture
/// (--prior-weights [K], --prior-mean [K, H, W], --prior-variance or
/// --prior-spectrum [K, H, W]) or empirical (--prior-images).
std::unique_ptr<prior> read_prior(const context& ctx, const sample_options& o, image_shape s, field values) {
  TWOFOLD_EXPECTS(o.prior_basis == "pixel" || o.prior_basis == "fourier", "--prior-basis must be pixel or fourier");
  if (o.prior_kind == "empirical") {
    TWOFOLD_EXPECTS(!o.prior_images.empty(), "--prior empirical needs --prior-images [N, H, W]");
    const auto a = io::read_complex_array(o.prior_images, "prior image stack");
    stack_count(a.shape, s, "prior image stack");
    return std::make_unique<gaussian_mixture_prior>(make_empirical_prior(ctx, s, a.values, values));
  }
  if (o.prior_kind == "mixture") {
    TWOFOLD_EXPECTS(!o.prior_weights.empty() && !o.prior_mean.empty(),
                    "--prior mixture needs --prior-weights [K], --prior-mean [K, H, W] and --prior-variance or "
                    "--prior-spectrum [K, H, W]");
    const bool spectrum = !o.prior_spectrum.empty();
    TWOFOLD_EXPECTS(spectrum != !o.prior_variance.empty(), "give exactly one of --prior-variance and --prior-spectrum");
    const auto w = io::read_float_array(o.prior_weights, "prior weights");
    const auto mean = io::read_complex_array(o.prior_mean, "prior means");
    const std::string what = spectrum ? "prior spectra" : "prior variances";
    const auto var = io::read_float_array(spectrum ? o.prior_spectrum : o.prior_variance, what);
    const std::size_t K = stack_count(mean.shape, s, "prior means");
    TWOFOLD_EXPECTS(stack_count(var.shape, s, what) == K && w.values.size() == K,
                    "--prior-weights, --prior-mean and --prior-" + std::string(spectrum ? "spectrum" : "variance") +
                        " must describe the same number of components (got " + std::to_string(w.values.size()) +
                        ", " + std::to_string(K) + " and " + shape_text(var.shape) + ")");
    const std::vector<double> weights(w.values.begin(), w.values.end());
    return std::make_unique<gaussian_mixture_prior>(ctx, spectrum ? gaussian_basis::fourier : gaussian_basis::pixel,
                                                    s, weights, mean.values, var.values, values);
  }
  TWOFOLD_EXPECTS(o.prior_kind == "gaussian",
                  "--prior must be gaussian, mixture or empirical (got '" + o.prior_kind + "')");
  const gaussian_basis basis = o.prior_basis == "fourier" ? gaussian_basis::fourier : gaussian_basis::pixel;
  if (!o.prior_images.empty()) {
    const auto a = io::read_complex_array(o.prior_images, "prior image stack");
    TWOFOLD_EXPECTS(stack_count(a.shape, s, "prior image stack") >= 2,
                    "prior image stack must hold at least 2 images to estimate a Gaussian (got " +
                        shape_text(a.shape) + ")");
    return std::make_unique<gaussian_prior>(estimate_gaussian_prior(ctx, basis, s, a.values, o.variance_floor));
  }
  TWOFOLD_EXPECTS(!o.prior_mean.empty(), "give --prior-images, or --prior-mean with --prior-variance or --prior-spectrum");
  const bool spectrum = !o.prior_spectrum.empty();
  TWOFOLD_EXPECTS(spectrum != !o.prior_variance.empty(), "give exactly one of --prior-variance and --prior-spectrum");
  const auto mean = io::read_complex_array(o.prior_mean, "prior mean");
  expect_image(mean.shape, s, "prior mean", "the image (the operator's domain)");
  const std::string what = spectrum ? "prior spectrum" : "prior variance";
  const auto var = io::read_float_array(spectrum ? o.prior_spectrum : o.prior_variance, what);
  expect_image(var.shape, s, what, "the image (the operator's domain)");
  return std::make_unique<gaussian_prior>(ctx, spectrum ? gaussian_basis::fourier : gaussian_basis::pixel, s,
                                          mean.values, var.values);
}

/// The field before the prior exists: explicit, or auto — real when nothing
/// complex enters (a real lead field, real data, a real prior mean or image stack);
/// MRI is always complex. A Fourier-basis prior draws complex images.
field choose_field(const sample_options& o, const loaded_problem& p) {
  if (o.field == "complex") return field::complex;
  if (o.field == "real") return field::real;
  TWOFOLD_EXPECTS(o.field == "auto", "--field must be auto, real or complex (got '" + o.field + "')");
  if (!p.real_data || !o.prior_spectrum.empty() || o.prior_basis == "fourier") return field::complex;
  const std::string& source = o.prior_images.empty() ? o.prior_mean : o.prior_images;
  return !source.empty() && all_real(io::read_complex_array(source, "prior mean").values) ? field::real
                                                                                         : field::complex;
}

/// --design sbc: simulation-based calibration of the sampler on this operator, noise
/// level and prior (the measurements only fix the operator's shape): --runs
/// replicates × --chains draws. Writes calibration.json (rank histograms, χ²
/// p-values, coverage over replicates, a conformal interval scale) and summary.json.
void run_sbc(const sample_options& o, const context& ctx, const loaded_problem& p, const prior& prior, field values,
             const sampler_params& sp) {
  sbc_params params;
  params.replicates = o.common.runs.runs;
  params.draws = o.common.runs.chains_per_run;
  params.stage2 = o.sbc_stage2;
  params.seed = o.common.runs.seed;
  params.pixels = std::min<std::size_t>(4, p.op->domain().pixels());
  // --wave-chains bounds the chains sampled together: whole replicates of K draws.
  if (o.common.runs.wave_chains > 0) params.batch_replicates = std::max<std::size_t>(1, o.common.runs.wave_chains / params.draws);
  params.bins = 0;
  for (std::size_t b = 2; b <= 20 && b <= params.draws + 1; ++b)
    if ((params.draws + 1) % b == 0) params.bins = b;
  TWOFOLD_EXPECTS(params.bins > 0, "--design sbc: --chains K needs K + 1 to have a divisor between 2 and 20 for the "
                                   "rank histogram (got K = " + std::to_string(params.draws) + "; e.g. 19, 49, 99)");
  io::output_folder folder(o.common.out);
  std::fprintf(stderr, "twofold sample --design sbc: %zu replicates x %zu draws (%s) on %s\n", params.replicates,
               params.draws, params.stage2 ? "stage 2" : "posterior", ctx.device_name().c_str());
  const auto r = simulation_based_calibration(ctx, p.op, o.sigma, values, prior, sp, params);
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : r.tests)
    tests.push_back({{"name", t.name}, {"ranks", t.ranks}, {"histogram", t.histogram}, {"chi2", t.chi2},
                     {"chi2_p", t.chi2_p}, {"ecdf_difference", t.ecdf_difference}, {"ecdf_p", t.ecdf_p}});
  nlohmann::json cal;
  cal["sbc"] = {{"L", r.replicates}, {"K", r.draws}, {"stage2", r.stage2}, {"bins", params.bins}, {"tests", tests},
                {"ecdf_band", {{"alpha", r.band.alpha}, {"z", r.band.z}, {"lower", r.band.lower},
                               {"upper", r.band.upper}, {"simulations", r.band.null_gamma.size()}}}};
  cal["coverage"] = {{"nominal", r.coverage.nominal}, {"quantile", r.coverage.quantile},
                     {"gaussian", r.coverage.gaussian}, {"over", "replicates (x* from the prior)"}};
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
  summary["inputs"] = {{"operator", p.op->name()}, {"sigma_y", o.sigma}, {"prior", prior.name()},
                       {"field", values == field::real ? "real" : "complex"}};
  summary["sampler"] = {{"kind", to_string(sp.kind)}, {"levels", sp.schedule.levels}};
  double smallest = 1, smallest_ecdf = 1;
  for (const auto& t : r.tests) {
    smallest = std::min(smallest, t.chi2_p);
    smallest_ecdf = std::min(smallest_ecdf, t.ecdf_p);
  }
  summary["sbc"] = {{"replicates", r.replicates}, {"draws", r.draws}, {"smallest_chi2_p", smallest},
                    {"smallest_ecdf_p", smallest_ecdf},
                    {"tests", r.tests.size()}, {"batches", r.batches}, {"seconds", r.seconds},
                    {"device", ctx.device_name()}};
  for (const auto& [name, j] : {std::pair<const char*, const nlohmann::json&>{"calibration.json", cal},
                                std::pair<const char*, const nlohmann::json&>{"summary.json", summary}}) {
    std::ofstream out(folder.stage(name), std::ios::binary);
    out << j.dump(2) << "\n";
    out.close();
    TWOFOLD_ENSURES(out.good(), std::string("could not write ") + name);
  }
  folder.commit();
  std::printf("twofold sample --design sbc: smallest chi-square p-value %.3g over %zu test functions; 90 %% intervals "
              "cover %.3f (calibrated: about %.3f); outputs in %s\n",
              smallest, r.tests.size(), r.coverage.quantile[8],
              0.9 * double(r.draws - 1) / double(r.draws + 1), o.common.out.c_str());
}

void run_sample(const sample_options& o) {
  const auto sp = to_sampler_params(o.common);
  const bool sbc = o.common.design == "sbc";
  const auto dp = sbc ? design_params{} : to_design_params(o.common);
  TWOFOLD_EXPECTS(std::isfinite(o.sigma) && o.sigma > 0, "--sigma must be finite and > 0 (got " + std::to_string(o.sigma) + ")");
  context ctx(parse_backend(o.common.backend, "--backend"));

  const loaded_problem p = load_problem(ctx, o);
  const image_shape shape = p.op->domain();
  const field values = choose_field(o, p);
  const auto prior = read_prior(ctx, o, shape, values);
  if (sbc) return run_sbc(o, ctx, p, *prior, values, sp);
  std::optional<std::vector<cfloat>> truth;
  if (!o.truth.empty()) {
    const auto t = io::read_complex_array(o.truth, "truth image");
    expect_image(t.shape, shape, "truth image", "the image (the operator's domain)");
    truth = t.values;
  }
  const inverse_problem problem(ctx, p.op, p.y, o.sigma, values);
  std::optional<gaussian_posterior_maps> reference;
  if (o.reference) reference = exact_posterior(ctx, problem, *prior);

  io::output_folder folder(o.common.out);
  std::fprintf(stderr, "twofold sample: %s operator, %s image, %s measurements, on %s\n", p.op->name().c_str(),
               to_string(shape).c_str(), to_string(p.op->codomain()).c_str(), ctx.device_name().c_str());
  design_params keep = dp;
  keep.keep_draws = true;
  const auto result = sample(ctx, problem, *prior, sp, keep, stderr_progress());

  nlohmann::json summary;
  summary["command"] = "sample";
  summary["inputs"] = {{"operator", p.op->name()},   {"measurements", o.measurements}, {"mask", o.mask},
                       {"maps", o.maps},             {"matrix", o.matrix},             {"sigma_y", o.sigma},
                       {"field", values == field::real ? "real" : "complex"},
                       {"prior", prior->name()}, {"prior_basis", o.prior_basis}, {"image_shape", to_string(shape)},
                       {"measurement_shape", to_string(p.op->codomain())}};
  summary["sampler"] = {{"kind", to_string(sp.kind)}, {"schedule", to_string(sp.schedule.kind)},
                        {"levels", sp.schedule.levels}, {"inner_steps", sp.langevin.inner_steps}};
  summary["design"] = {{"kind", to_string(dp.kind)}, {"runs", dp.runs}, {"chains_per_run", dp.chains_per_run},
                       {"seed", dp.seed}};
  summary["report"] = {{"device", result.report.device}, {"seconds", result.report.seconds},
                       {"chains", result.report.chains},
                       {"chain_steps_per_second", result.report.chain_steps_per_second}};
  if (reference) summary["against_exact_reference"] = compare_with_reference(result.maps, *reference);
  quantile_maps quantiles;
  const auto calibration = calibration_figures(ctx, problem, result, truth, quantiles);
  write_outputs(folder, {result.maps, problem.zero_filled(), p.mask, truth, reference, summary, o.cfl, quantiles,
                         calibration});
  std::printf("twofold sample: %zu runs x %zu chains in %.1f s; outputs in %s\n", dp.runs, dp.chains_per_run,
              result.report.seconds, o.common.out.c_str());
}

}  // namespace

std::function<void()> add_sample_command(CLI::App& app) {
  auto o = std::make_shared<sample_options>();
  auto* cmd = app.add_subcommand(
      "sample", "Sample the posterior of y = A x + n from data files (.npy, BART .cfl/.hdr, fastMRI .h5)");
  add_common_options(*cmd, o->common);
  cmd->add_option("--operator", o->op, "mri | mri-multicoil | dense | blur | inpaint | superres")->capture_default_str();
  cmd->add_option("--measurements,--kspace", o->measurements,
                  "y: k-space [H, W] (mri), [coils, H, W] (mri-multicoil), [m] (dense), an image (blur, inpaint, "
                  "superres)")
      ->required();
  cmd->add_option("--slice", o->slice, "fastMRI .h5 slice (default: the middle one)");
  cmd->add_option("--mask", o->mask,
                  "mri: k-space mask [H, W] or [W] line flags (default: the .h5 file's mask); inpaint: pixel mask [H, W]");
  cmd->add_option("--maps", o->maps, "mri-multicoil: sensitivity maps [coils, H, W] (.npy or BART .cfl)");
  cmd->add_option("--projection-tolerance", o->projection.tolerance,
                  "mri-multicoil: relative residual of the CG range projection P_R")
      ->capture_default_str();
  cmd->add_option("--projection-iterations", o->projection.max_iterations,
                  "mri-multicoil: most CG iterations of P_R")
      ->capture_default_str();
  cmd->add_option("--matrix", o->matrix, "dense: the matrix / lead field [m, n], real or complex");
  cmd->add_option("--kernel", o->kernel, "blur: the kernel [h, w], centred at (h/2, w/2)");
  cmd->add_option("--kernel-std", o->kernel_std, "blur: a normalised Gaussian kernel of this std (pixels)");
  cmd->add_option("--factor", o->factor, "superres: the block-averaging factor");
  cmd->add_option("--field", o->field, "auto | real | complex (auto: real when A, y and the prior mean are real)")
      ->capture_default_str();
  cmd->add_option("--sigma", o->sigma, "noise sigma_y (complex: E|n|^2 = sigma^2)")->required();
  cmd->add_option("--prior", o->prior_kind, "gaussian | mixture | empirical")->capture_default_str();
  cmd->add_option("--prior-images", o->prior_images,
                  "image stack [N, H, W]: a Gaussian prior is estimated from it, or (--prior empirical) its images "
                  "are the prior's atoms");
  cmd->add_option("--prior-weights", o->prior_weights, "mixture: component weights [K], >= 0, summing to 1");
  cmd->add_option("--prior-basis", o->prior_basis, "pixel | fourier (with --prior-images)")->capture_default_str();
  cmd->add_option("--prior-mean", o->prior_mean, "prior mean image [H, W] (mixture: [K, H, W])");
  cmd->add_option("--prior-variance", o->prior_variance, "per-pixel prior variance [H, W] (mixture: [K, H, W])");
  cmd->add_option("--prior-spectrum", o->prior_spectrum,
                  "prior power spectrum [H, W], centred k-space, fourier basis (mixture: [K, H, W])");
  cmd->add_option("--variance-floor", o->variance_floor, "relative variance floor for estimated priors")->capture_default_str();
  cmd->add_option("--truth", o->truth, "ground-truth image [H, W] for the error map");
  cmd->add_flag("--reference", o->reference,
                "also compute the exact posterior and compare (Gaussian: every map; mixture: mean and variance)");
  cmd->add_flag("--cfl", o->cfl, "also write every map as a BART .cfl/.hdr pair");
  cmd->add_flag("--sbc-stage2", o->sbc_stage2,
                "--design sbc: calibrate cascade stage 2 alone (rank P_N x* among completions given P_R x*)");
  auto no_report = std::make_shared<bool>(false);
  cmd->add_flag("--no-report", *no_report, "do not write report.html (it needs python3 with matplotlib)");
  return [o, no_report] {
    run_sample(*o);
    if (!*no_report) write_report(o->common.out, true);  // after the outputs are committed
  };
}

}  // namespace twofold::cli
