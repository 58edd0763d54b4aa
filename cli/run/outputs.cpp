#include "run/outputs.hpp"

#include <twofold/twofold.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>
#include <string>
#include <thread>

namespace twofold::cli {
namespace {

std::vector<float> magnitude(const std::vector<cfloat>& z) {
  std::vector<float> m(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) m[i] = abs(z[i]);
  return m;
}
std::vector<float> magnitude(const std::vector<cdouble>& z) {
  std::vector<float> m(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) m[i] = static_cast<float>(abs(z[i]));
  return m;
}
std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }
std::vector<float> std_dev(const std::vector<double>& v) {
  std::vector<float> s(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) s[i] = static_cast<float>(std::sqrt(std::max(v[i], 0.0)));
  return s;
}
std::vector<cfloat> as_cfloat(const std::vector<cdouble>& v) {
  std::vector<cfloat> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = cfloat(v[i]);
  return out;
}

class writer {
 public:
  writer(const output_place& folder, image_shape shape, bool cfl)
      : folder_(folder), shape_(shape), dims_{shape.height, shape.width}, cfl_(cfl) {}

  /// name.npy, and name.cfl/.hdr (BART's column-major layout) when asked.
  void npy(const std::string& name, const std::vector<float>& v) {
    io::write_npy(folder_.stage(name + ".npy"), v, dims_);
    if (cfl_) cfl(name, std::vector<cfloat>(v.begin(), v.end()));
  }
  void npy(const std::string& name, const std::vector<cfloat>& v) {
    io::write_npy(folder_.stage(name + ".npy"), v, dims_);
    if (cfl_) cfl(name, v);
  }
  void png(const std::string& name, const std::vector<float>& v, const std::string& title, io::colormap map,
           std::optional<float> hi = {}) {
    io::png_map_options o;
    o.map = map;
    o.title = title;
    if (hi) {
      o.lo = 0.0f;
      o.hi = *hi;
    }
    io::write_png_map(folder_.stage(name + ".png"), v, shape_.height, shape_.width, o);
  }

 private:
  void cfl(const std::string& name, const std::vector<cfloat>& v) {
    folder_.stage(name + ".hdr");
    const auto bart = io::coil_stack_to_cfl(shape_, v);
    io::write_cfl(folder_.stage(name + ".cfl"), bart.data, bart.dims);
  }

  const output_place& folder_;
  image_shape shape_;
  std::size_t dims_[2];
  bool cfl_;
};

float max_of(const std::vector<float>& v);

/// √ambiguity and √estimation as a PNG pair on one colour scale, so they compare by eye.
void write_std_pair(writer& w, const std::string& prefix, const std::string& title_prefix,
                    const std::vector<float>& amb, const std::vector<float>& est, float hi) {
  w.png(prefix + "ambiguity_std", amb, title_prefix + "ambiguity std", io::colormap::magma, hi);
  w.png(prefix + "estimation_std", est, title_prefix + "estimation std", io::colormap::magma, hi);
}

float max_of(const std::vector<float>& v) {
  float m = 0;
  for (float x : v)
    if (std::isfinite(x)) m = std::max(m, x);
  return m;
}

}  // namespace

void record_run(nlohmann::json& summary, const sampler_params& sp, const design_params& dp, const sample_report& report) {
  summary["sampler"] = {{"kind", to_string(sp.kind)},
                        {"schedule", to_string(sp.schedule.kind)},
                        {"levels", sp.schedule.levels},
                        {"inner_steps", sp.langevin.inner_steps},
                        {"step", sp.langevin.step}};
  summary["design"] = {{"kind", to_string(dp.kind)}, {"runs", dp.runs}, {"chains_per_run", dp.chains_per_run},
                       {"seed", dp.seed}};
  summary["report"] = {{"device", report.device},
                       {"seconds", report.seconds},
                       {"chains", report.chains},
                       {"steps_per_chain", report.steps_per_chain},
                       {"chain_steps_per_second", report.chain_steps_per_second},
                       {"waves", report.waves},
                       {"wave_chains", report.wave_chains},
                       {"waves_halved", report.waves_halved}};
}

nlohmann::json compare_with_reference(const uncertainty_maps& maps, const gaussian_posterior_maps& ref) {
  const std::size_t N = maps.mean.size();
  double z2 = 0, a = 0, ra = 0, e = 0, re = 0, t = 0, rt = 0;
  for (std::size_t p = 0; p < N; ++p) {
    z2 += norm2(maps.mean[p] - ref.mean[p]) / ref.variance[p];
    t += maps.total_variance[p];
    rt += ref.variance[p];
    if (!maps.ambiguity.empty() && !ref.ambiguity.empty()) {
      a += maps.ambiguity[p];
      ra += ref.ambiguity[p];
      e += maps.estimation[p];
      re += ref.estimation[p];
    }
  }
  nlohmann::json j;
  j["mean_error_rms_in_posterior_std"] = std::sqrt(z2 / double(N));
  j["total_variance_ratio"] = t / rt;
  if (!maps.ambiguity.empty() && !ref.ambiguity.empty()) {
    j["ambiguity_ratio"] = a / ra;
    j["estimation_ratio"] = e / re;
  }
  j["explanation"] =
      "mean error: RMS over pixels of |sampler mean - exact mean| / exact posterior std (Monte Carlo alone gives "
      "about 1/sqrt(chains)); ratios: spatial sums of the sampler's variance maps over the exact ones (1 = exact)";
  return j;
}

void require_finite_maps(const uncertainty_maps& maps, const std::string& sampler) {
  const auto check = [&](const char* name, std::size_t bad, std::size_t n) {
    if (bad == 0) return;
    throw runtime_failure("the " + sampler + " sampler produced values that are not finite float32 numbers (NaN, "
                          "infinity, or beyond 3.4e38) in " + std::to_string(bad) + " of " + std::to_string(n) +
                          " pixels of the " + name +
                          " map; nothing was written. Its steps diverged or the data's scale is extreme: use "
                          "smaller step parameters (e.g. --dps-zeta, --step), more --levels, another --sampler, or "
                          "rescale the data");
  };
  // The maps are written as float32: a double beyond its range would become an infinity.
  const auto bad_value = [](double x) { return !(std::abs(x) <= double(std::numeric_limits<float>::max())); };
  const auto count = [&](const std::vector<double>& v) {
    return std::size_t(std::count_if(v.begin(), v.end(), bad_value));
  };
  check("mean", std::size_t(std::count_if(maps.mean.begin(), maps.mean.end(),
                                          [&](cdouble z) { return bad_value(z.re) || bad_value(z.im); })),
        maps.mean.size());
  check("total variance", count(maps.total_variance), maps.total_variance.size());
  check("ambiguity", count(maps.ambiguity), maps.ambiguity.size());
  check("estimation", count(maps.estimation), maps.estimation.size());
  check("between-run variance", count(maps.between_run_variance), maps.between_run_variance.size());
  check("range variance", count(maps.range_variance), maps.range_variance.size());
  check("null variance", count(maps.null_variance), maps.null_variance.size());
}

void require_memory_for_draws(const design_params& d, image_shape shape, const std::string& why) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return;
  const long double memory = static_cast<long double>(pages) * static_cast<long double>(page);
  const long double need = static_cast<long double>(d.runs) * static_cast<long double>(d.chains_per_run) *
                           static_cast<long double>(shape.pixels()) * sizeof(cfloat);
  char text[160];
  std::snprintf(text, sizeof text, "%.3g GB for %zu x %zu draws of %zu pixels, against %.3g GB of memory",
                double(need / 1e9), d.runs, d.chains_per_run, shape.pixels(), double(memory / 1e9));
  TWOFOLD_EXPECTS(need <= memory / 2,
                  "--runs x --chains is too large for this machine: " + why + " need " + text +
                      " (at most half may be used; lower --runs or --chains)");
}

void finish_folder(io::output_folder& folder, bool no_report, const std::vector<std::string>& subfolders) {
  if (!no_report) {
    stage_progress progress("report");
    if (subfolders.empty()) write_report(folder.staging_dir(), true, folder.final_dir());
    for (const auto& sub : subfolders) write_report(folder.staging_dir() / sub, true, folder.final_dir() / sub);
  }
  folder.commit();
}

output_place::output_place(io::output_folder& folder, std::string subfolder)
    : folder_(folder), subfolder_(std::move(subfolder)) {
  std::error_code ec;
  std::filesystem::create_directory(staging_dir(), ec);
  TWOFOLD_ENSURES(!ec, "could not create " + staging_dir().string() + ": " + ec.message());
}

std::filesystem::path output_place::stage(const std::string& file_name) const {
  if (subfolder_.empty()) return folder_.stage(file_name);
  TWOFOLD_EXPECTS(file_name.find('/') == std::string::npos, "output file names are plain names");
  return staging_dir() / file_name;
}

std::filesystem::path output_place::final_dir() const {
  return subfolder_.empty() ? folder_.final_dir() : folder_.final_dir() / subfolder_;
}

std::filesystem::path output_place::staging_dir() const {
  return subfolder_.empty() ? folder_.staging_dir() : folder_.staging_dir() / subfolder_;
}

io::output_folder open_output_folder(const common_options& o, const std::vector<std::string>& inputs) {
  io::output_folder_options options;
  options.force = o.force;
  for (const auto& i : inputs)
    if (!i.empty()) options.inputs.emplace_back(i);
  return io::output_folder(o.out, options);
}

void recover_beside_out(const common_options& o) {
  if (o.out.empty()) return;
  std::error_code ec;
  std::filesystem::path target = std::filesystem::absolute(o.out, ec).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  io::recover_output_folders(target.parent_path());
}

struct stage_progress::state {
  std::string stage;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread ticker;
};

stage_progress::stage_progress(std::string stage) : state_(std::make_unique<state>()) {
  state_->stage = std::move(stage);
  state* s = state_.get();
  s->ticker = std::thread([s] {
    std::unique_lock lock(s->m);
    for (int tick = 1;; ++tick) {
      // The first line after 1 s, then one every 2 s.
      if (s->cv.wait_until(lock, s->start + std::chrono::seconds(2 * tick - 1), [s] { return s->done; })) return;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - s->start).count();
      std::fprintf(stderr, "[%s] running, %.0f s elapsed\n", s->stage.c_str(), elapsed);
    }
  });
}

stage_progress::~stage_progress() {
  {
    std::lock_guard lock(state_->m);
    state_->done = true;
  }
  state_->cv.notify_all();
  state_->ticker.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - state_->start).count();
  if (elapsed > 1.0) std::fprintf(stderr, "[%s] done in %.1f s\n", state_->stage.c_str(), elapsed);
}

void write_outputs(const output_place& folder, const run_record& run) {
  require_finite_maps(run.maps, run.summary.contains("sampler") ? run.summary["sampler"].value("kind", "") : "");
  const image_shape shape = run.maps.shape;
  writer w(folder, shape, run.cfl);
  const auto& m = run.maps;

  w.npy("mean", as_cfloat(m.mean));
  w.npy("total_variance", as_float(m.total_variance));
  w.npy("between_run_variance", as_float(m.between_run_variance));
  w.npy("range_variance", as_float(m.range_variance));
  w.npy("null_variance", as_float(m.null_variance));
  w.npy("zero_filled", run.zero_filled);
  if (!run.mask.empty()) w.npy("mask", run.mask);

  const auto mean_mag = magnitude(m.mean);
  const float level = std::max(max_of(mean_mag), max_of(magnitude(run.zero_filled)));
  w.png("mean", mean_mag, "posterior mean |x|", io::colormap::gray, level);
  w.png("zero_filled", magnitude(run.zero_filled), "adjoint |A^H y| (zero-filled for MRI)", io::colormap::gray, level);
  w.png("total_std", std_dev(m.total_variance), "total posterior std", io::colormap::magma);
  if (!run.mask.empty()) {
    std::vector<std::uint8_t> mask8(run.mask.size());
    for (std::size_t i = 0; i < mask8.size(); ++i) mask8[i] = run.mask[i] > 0 ? 255 : 0;
    io::write_png_gray8(folder.stage("mask.png"), mask8, shape.height, shape.width);
  }

  // The sampler's and the exact std maps share one colour scale.
  const auto amb = std_dev(m.ambiguity), est = std_dev(m.estimation_clipped);
  std::vector<float> ref_amb, ref_est;
  if (run.reference) ref_amb = std_dev(run.reference->ambiguity), ref_est = std_dev(run.reference->estimation);
  const float hi = std::max({max_of(amb), max_of(est), max_of(ref_amb), max_of(ref_est)});
  if (!m.ambiguity.empty()) {
    w.npy("ambiguity", as_float(m.ambiguity));
    w.npy("estimation", as_float(m.estimation));
    w.npy("estimation_clipped", as_float(m.estimation_clipped));
    write_std_pair(w, "", "", amb, est, hi);
  }
  if (run.truth) {
    w.npy("truth", *run.truth);
    w.png("truth", magnitude(*run.truth), "truth |x|", io::colormap::gray, level);
    std::vector<float> err(shape.pixels());
    for (std::size_t p = 0; p < err.size(); ++p) err[p] = float(abs(m.mean[p] - cdouble((*run.truth)[p])));
    w.png("error", err, "|mean - truth|", io::colormap::magma);
  }
  if (run.reference) {
    const auto& r = *run.reference;
    w.npy("reference_mean", as_cfloat(r.mean));
    w.npy("reference_variance", as_float(r.variance));
    if (!r.ambiguity.empty()) {  // mixture posteriors have no closed-form split
      w.npy("reference_ambiguity", as_float(r.ambiguity));
      w.npy("reference_estimation", as_float(r.estimation));
      write_std_pair(w, "reference_", "exact ", ref_amb, ref_est, hi);
    }
  }
  if (run.quantiles) {
    std::vector<float> q_lo(run.quantiles->lo.begin(), run.quantiles->lo.end());
    std::vector<float> q_hi(run.quantiles->hi.begin(), run.quantiles->hi.end()), width(q_lo.size());
    for (std::size_t p = 0; p < width.size(); ++p) width[p] = q_hi[p] - q_lo[p];
    w.npy("quantile_lo", q_lo);
    w.npy("quantile_hi", q_hi);
    w.png("quantile_width", width, "width of the 5-95 % interval of |x|", io::colormap::magma);
  }
  if (!run.calibration.is_null()) {
    std::ofstream cal(folder.stage("calibration.json"), std::ios::binary);
    cal << run.calibration.dump(2) << "\n";
    cal.close();
    TWOFOLD_ENSURES(cal.good(), "could not write calibration.json");
  }
  const std::string text = run.summary.dump(2) + "\n";
  std::ofstream json(folder.stage("summary.json"), std::ios::binary);
  json << text;
  json.close();
  TWOFOLD_ENSURES(json.good(), "could not write summary.json");
}

nlohmann::json predictive_coverage_json(const predictive_coverage_curve& c, const std::string& over) {
  return {{"nominal", c.curve.nominal},
          {"quantile", c.curve.quantile},
          {"gaussian", c.curve.gaussian},
          {"standard_error", c.quantile_standard_error},
          {"groups", c.groups},
          {"coordinates", c.coordinates},
          {"draws", c.draws},
          {"over", over}};
}

nlohmann::json calibration_figures(const context& ctx, const inverse_problem& problem, const sample_result& result,
                                   const std::optional<std::vector<cfloat>>& truth, quantile_maps& quantiles,
                                   std::span<const cfloat> heldout, std::uint64_t seed) {
  return calibration_figures(ctx, problem, result.maps, draws_in_memory(result.draws, problem.shape()), truth,
                             quantiles, heldout, seed);
}

nlohmann::json calibration_figures(const context& ctx, const inverse_problem& problem, const uncertainty_maps& maps,
                                   const draw_source& draws, const std::optional<std::vector<cfloat>>& truth,
                                   quantile_maps& quantiles, std::span<const cfloat> heldout, std::uint64_t seed) {
  quantiles = tiled_pixel_quantiles(draws, problem.values());
  const auto residuals = chunked_residuals(ctx, problem, draws);
  nlohmann::json j;
  j["draws"] = draws.draws();
  j["quantile_levels"] = {quantiles.lo_level, quantiles.hi_level};
  j["quantile_maps_of"] = problem.is_real() ? "x" : "|x| (magnitude)";
  j["coverage_of"] = problem.is_real() ? "x per pixel" : "Re x and Im x per pixel";
  j["residuals"] = residuals;
  j["psnr_forward"] = forward_psnr(ctx, problem, maps.mean);
  j["ssim_forward"] = forward_ssim(ctx, problem, maps.mean);
  if (!maps.ambiguity.empty()) j["entanglement"] = entanglement(maps);
  if (truth) {
    const auto levels = default_coverage_levels();
    const auto c = tiled_coverage(draws, *truth, problem.values(), levels);
    j["coverage"] = {{"nominal", c.nominal}, {"quantile", c.quantile}, {"gaussian", c.gaussian}};
  }
  if (!heldout.empty()) {
    // Ranks among the replicated measurements of every draw: all draws at once.
    const auto c = predictive_coverage(ctx, problem, all_draws(draws), heldout, default_coverage_levels(), seed);
    j["predictive_coverage"] = predictive_coverage_json(
        c, "held-out measurement sets (standard error over the sets, given the data: they share the object's "
           "posterior deviation)");
  }
  j["explanation"] = {
      {"residuals", "per draw |A x - y|^2 / (m sigma_y^2); exact posterior draws give about 1 or a little less"},
      {"psnr_forward", "PSNR (dB) of A x_mean against y on the measured entries"},
      {"ssim_forward", "SSIM of |A x_mean| against |y| on the measurement planes (1: A x_mean reproduces y)"},
      {"entanglement", "correlation across pixels of the ambiguity and estimation maps"},
      {"coverage", "fraction of pixel coordinates whose true value lies in the central p-interval of the draws "
                   "(quantile) or in mean +- z sigma (gaussian); a calibrated sampler with n draws gives about "
                   "p (n - 1)/(n + 1) when the truth is a draw from the prior"},
      {"predictive_coverage",
       "fraction of measured coordinates of held-out measurements (whitened units where the noise covariance was "
       "whitened) whose randomised rank (PIT) among replicated measurements A x_k + n_k, one per draw, lies in the "
       "central p-interval: p when the model (noise level included) is right and the draws are independent; "
       "cascade draws, which share P_R x within a run, give slightly less"}};
  return j;
}

progress_callback stderr_progress() {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last](const progress_event& e) {
    const auto now = std::chrono::steady_clock::now();
    const bool final_step = e.step == e.steps && e.chains_done + 1 >= e.chains_total;
    if (now - *last < std::chrono::milliseconds(500) && !final_step) return;
    *last = now;
    std::fprintf(stderr, "[%.*s] step %zu/%zu, chains %zu/%zu done, %.1f s elapsed, ETA %.1f s\n",
                 static_cast<int>(e.stage.size()), e.stage.data(), e.step, e.steps, e.chains_done, e.chains_total,
                 e.elapsed_seconds, e.eta_seconds);
  };
}

}  // namespace twofold::cli
