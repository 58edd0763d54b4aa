// EEG source imaging in the command line (see eeg.hpp): forward folders, source- and
// sensor-space outputs, and `twofold demo --problem eeg`.
#include "commands/eeg.hpp"
#include "inputs/inputs.hpp"
#include "run/outputs.hpp"

#include <twofold/twofold.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>

namespace twofold::cli {

namespace fs = std::filesystem;
using io::shape_text;

fs::path default_forward() {
  if (const char* env = std::getenv("TWOFOLD_EEG_FORWARD"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / TWOFOLD_EEG_FORWARD_INSTALLED;
    if (fs::is_directory(installed, ec)) return installed;
  }
  return TWOFOLD_EEG_FORWARD_SOURCE;
}

namespace {

/// A real array of `rows` × `columns` (columns 0: any), named by its file on error.
std::vector<double> read_matrix(const fs::path& path, std::size_t rows, std::size_t columns,
                                std::vector<std::size_t>* shape = nullptr) {
  const std::string what = path.string();
  TWOFOLD_EXPECTS(fs::is_regular_file(path), what + ": no such file");
  std::vector<double> v;
  const auto a = read_real(what, what, v);
  TWOFOLD_EXPECTS(a.shape.size() == 2 && (rows == 0 || a.shape[0] == rows) && (columns == 0 || a.shape[1] == columns),
                  what + " has shape " + shape_text(a.shape) + " but [" + (rows ? std::to_string(rows) : "n") + ", " +
                      (columns ? std::to_string(columns) : "n") + "] was expected");
  if (shape) *shape = a.shape;
  return v;
}

struct depth_band {
  double lo, hi;  // mm from the nearest electrode
};
constexpr depth_band bands[] = {{0, 30}, {30, 45}, {45, 60}, {60, 80}, {80, 1000}};

/// A source's depth: its distance to the nearest electrode, in mm (the electrodes
/// cover the upper head only, so sources low in the sphere are deep too).
std::vector<double> depth_mm(const eeg_forward& f) {
  std::vector<double> e(f.sources(), 1e300);
  for (std::size_t s = 0; s < e.size(); ++s)
    for (std::size_t c = 0; c < f.channels; ++c) {
      double d2 = 0;
      for (int k = 0; k < 3; ++k) d2 += std::pow(f.source_positions[s * 3 + k] - f.channel_positions[c * 3 + k], 2);
      e[s] = std::min(e[s], 1000 * std::sqrt(d2));
    }
  return e;
}

std::vector<double> sqrt_of(std::vector<double> v) {
  for (double& x : v) x = std::sqrt(std::max(x, 0.0));
  return v;
}

}  // namespace

eeg_forward read_forward(const fs::path& dir, bool need_covariance) {
  TWOFOLD_EXPECTS(fs::is_directory(dir), "EEG forward folder " + dir.string() + " does not exist");
  eeg_forward f;
  f.dir = dir;
  const fs::path meta_path = dir / "forward.json";
  TWOFOLD_EXPECTS(fs::is_regular_file(meta_path), meta_path.string() + ": no such file");
  nlohmann::json meta;
  try {
    std::ifstream in(meta_path);
    meta = nlohmann::json::parse(in);
    f.per_source = meta.value("components_per_source", std::size_t{3});
    const auto c = meta.at("head_centre_m");
    for (int k = 0; k < 3; ++k) f.centre[k] = c.at(k).get<double>();
    f.channel_names = meta.value("channel_names", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    TWOFOLD_EXPECTS(false, meta_path.string() + ": " + e.what());
  }
  TWOFOLD_EXPECTS(f.per_source == 1 || f.per_source == 3,
                  meta_path.string() + ": components_per_source must be 1 or 3");
  std::vector<std::size_t> shape;
  f.leadfield = read_matrix(dir / "leadfield.npy", 0, 0, &shape);
  f.channels = shape[0];
  f.components = shape[1];
  TWOFOLD_EXPECTS(f.components % f.per_source == 0, (dir / "leadfield.npy").string() + " has " +
                                                        std::to_string(f.components) + " columns, not " +
                                                        std::to_string(f.per_source) + " per source");
  f.source_positions = read_matrix(dir / "source_positions.npy", f.sources(), 3);
  f.channel_positions = read_matrix(dir / "channel_positions.npy", f.channels, 3);
  if (need_covariance || fs::exists(dir / "noise_covariance.npy"))
    f.covariance = read_matrix(dir / "noise_covariance.npy", f.channels, f.channels);
  TWOFOLD_EXPECTS(f.channel_names.empty() || f.channel_names.size() == f.channels,
                  meta_path.string() + " names " + std::to_string(f.channel_names.size()) +
                      " channels but the lead field has " + std::to_string(f.channels));
  return f;
}

nlohmann::json depth_table(const eeg_forward& f, const std::vector<double>& ambiguity,
                           const std::vector<double>& estimation, const std::vector<double>* prior_variance) {
  const auto ecc = depth_mm(f);
  const auto amb = sqrt_of(per_source_sum(ambiguity, f.per_source));
  const auto est = sqrt_of(per_source_sum(estimation, f.per_source));
  std::vector<double> pri;
  if (prior_variance) pri = sqrt_of(per_source_sum(*prior_variance, f.per_source));
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& b : bands) {
    double n = 0, a = 0, e = 0, p = 0, frac = 0;
    for (std::size_t s = 0; s < ecc.size(); ++s)
      if (ecc[s] >= b.lo && ecc[s] < b.hi) {
        n += 1;
        a += amb[s];
        e += est[s];
        if (!pri.empty()) {
          p += pri[s];
          frac += amb[s] * amb[s] / (pri[s] * pri[s]);
        }
      }
    if (n == 0) continue;
    nlohmann::json row{{"depth_mm", {b.lo, b.hi < 1000 ? nlohmann::json(b.hi) : nlohmann::json()}},
                       {"sources", n},
                       {"mean_ambiguity_std", a / n},
                       {"mean_estimation_std", e / n}};
    if (!pri.empty()) {
      row["mean_prior_std"] = p / n;
      row["mean_ambiguity_fraction_of_prior_variance"] = frac / n;
    }
    rows.push_back(row);
  }
  return rows;
}

nlohmann::json stage_eeg_outputs(io::output_folder& folder, const eeg_forward& f, const uncertainty_maps& maps,
                                 std::span<const double> sensor_y, const std::optional<std::vector<cfloat>>& truth,
                                 const std::vector<double>* prior_variance, const gaussian_posterior_maps* reference) {
  TWOFOLD_EXPECTS(maps.mean.size() == f.components,
                  "the forward folder " + f.dir.string() + " has " + std::to_string(f.components) +
                      " source components but the image has " + std::to_string(maps.mean.size()));
  TWOFOLD_EXPECTS(sensor_y.size() == f.channels, "the forward folder " + f.dir.string() + " has " +
                                                     std::to_string(f.channels) + " channels but the data has " +
                                                     std::to_string(sensor_y.size()));
  const std::size_t k = f.per_source, S = f.sources(), m = f.channels, n = f.components;
  std::vector<double> mean(n);
  for (std::size_t j = 0; j < n; ++j) mean[j] = maps.mean[j].re;
  const auto write = [&](const char* name, const std::vector<double>& v, std::vector<std::size_t> shape) {
    io::write_npy(folder.stage(name), v, shape);
  };
  write("source_mean.npy", per_source_norm(mean, k), {S});
  if (!maps.ambiguity.empty()) {
    write("source_ambiguity_std.npy", sqrt_of(per_source_sum(maps.ambiguity, k)), {S});
    write("source_estimation_std.npy", sqrt_of(per_source_sum(maps.estimation_clipped, k)), {S});
  }
  write("source_total_std.npy", sqrt_of(per_source_sum(maps.total_variance, k)), {S});
  if (reference && !reference->ambiguity.empty()) {
    write("source_reference_ambiguity_std.npy", sqrt_of(per_source_sum(reference->ambiguity, k)), {S});
    write("source_reference_estimation_std.npy", sqrt_of(per_source_sum(reference->estimation, k)), {S});
  }
  if (truth) {
    std::vector<double> t(n);
    for (std::size_t j = 0; j < n; ++j) t[j] = (*truth)[j].re;
    write("source_truth.npy", per_source_norm(t, k), {S});
  }
  write("source_positions.npy", f.source_positions, {S, 3});
  write("channel_positions.npy", f.channel_positions, {m, 3});
  std::vector<double> fit(m, 0.0), residual(m);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) fit[i] += f.leadfield[i * n + j] * mean[j];
    residual[i] = sensor_y[i] - fit[i];
  }
  write("sensor_data.npy", std::vector<double>(sensor_y.begin(), sensor_y.end()), {m});
  write("sensor_fit.npy", fit, {m});
  write("sensor_residual.npy", residual, {m});
  nlohmann::json eeg{{"forward", f.dir.string()},
                     {"channels", m},
                     {"sources", S},
                     {"components_per_source", k},
                     {"head_centre_m", f.centre},
                     {"units", {{"source", "nA m"}, {"sensor", "uV"}}},
                     {"channel_names", f.channel_names}};
  if (!maps.ambiguity.empty()) eeg["depth_bands"] = depth_table(f, maps.ambiguity, maps.estimation_clipped, prior_variance);
  return eeg;
}

/// One line per depth band of a depth table (depth_table's rows).
void print_depth_bands(const nlohmann::json& rows) {
  for (const auto& row : rows) {
    const auto& range = row["depth_mm"];
    char band[32];
    if (range[1].is_null())
      std::snprintf(band, sizeof band, ">= %.0f", range[0].get<double>());
    else
      std::snprintf(band, sizeof band, "%.0f-%.0f", range[0].get<double>(), range[1].get<double>());
    std::printf("  %-12s %8.0f %14.3f %15.3f %11.3f %19.3f\n", band, row["sources"].get<double>(),
                row["mean_ambiguity_std"].get<double>(), row["mean_estimation_std"].get<double>(),
                row["mean_prior_std"].get<double>(),
                row["mean_ambiguity_fraction_of_prior_variance"].get<double>());
  }
}

void run_eeg_demo(const common_options& common, const eeg_demo_options& o, bool no_report) {
  const auto sp = to_sampler_params(common);
  const auto dp = to_design_params(common);
  TWOFOLD_EXPECTS(std::isfinite(o.lambda2) && o.lambda2 > 0, "--lambda2 must be finite and > 0");
  TWOFOLD_EXPECTS(std::isfinite(o.amplitude) && o.amplitude > 0, "--amplitude must be finite and > 0");
  context ctx(parse_backend(common.backend, "--backend"));
  const eeg_forward f = read_forward(o.forward.empty() ? default_forward() : fs::path(o.forward));
  const std::size_t m = f.channels, n = f.components, k = f.per_source;
  const auto w = make_noise_whitener(f.covariance, m, (f.dir / "noise_covariance.npy").string());
  const std::size_t r = w.rank;
  const auto g = w.apply(f.leadfield, n, (f.dir / "leadfield.npy").string());
  const minimum_norm_params mp{k, o.depth, 10.0, o.lambda2};
  const auto v = minimum_norm_source_variance(g, r, n, mp);
  const gaussian_prior prior(ctx, gaussian_basis::pixel, {1, n}, std::vector<cfloat>(n),
                             std::vector<float>(v.begin(), v.end()));
  io::output_folder folder = open_output_folder(common, {f.dir.string()});
  std::fprintf(stderr, "twofold demo --problem eeg on %s\n", ctx.device_name().c_str());

  // Three patches at different distances from the head centre: the grid source
  // nearest each target and its neighbours within 20 mm, every source with moment
  // `amplitude` (nA m) along the radial direction of the patch centre (z for the
  // deep one, whose radial direction is ill-defined).
  struct patch {
    const char* name;
    std::array<double, 3> direction;
    double radius_mm;
  };
  const patch patches[] = {{"superficial", {0.6, 0.0, 0.8}, 70}, {"middle", {-0.8, 0.36, 0.48}, 42},
                           {"deep", {0.0, -0.6, 0.8}, 12}};
  std::vector<cfloat> truth(n);
  nlohmann::json patch_json = nlohmann::json::array();
  for (const auto& p : patches) {
    std::array<double, 3> target;
    for (int a = 0; a < 3; ++a) target[a] = f.centre[a] + p.radius_mm * 1e-3 * p.direction[a];
    std::size_t best = 0;
    double best_d = 1e300;
    for (std::size_t s = 0; s < f.sources(); ++s) {
      double d = 0;
      for (int a = 0; a < 3; ++a) d += std::pow(f.source_positions[s * 3 + a] - target[a], 2);
      if (d < best_d) best_d = d, best = s;
    }
    std::array<double, 3> ori{0, 0, 1};
    if (p.radius_mm > 20) ori = p.direction;
    std::size_t count = 0;
    for (std::size_t s = 0; s < f.sources(); ++s) {
      double d = 0;
      for (int a = 0; a < 3; ++a) d += std::pow(f.source_positions[s * 3 + a] - f.source_positions[best * 3 + a], 2);
      if (std::sqrt(d) > 0.020) continue;
      ++count;
      if (k == 3)
        for (int a = 0; a < 3; ++a) truth[s * 3 + a].re += float(o.amplitude * ori[a]);
      else
        truth[s].re += float(o.amplitude);
    }
    double ecc = 0;
    for (int a = 0; a < 3; ++a) ecc += std::pow(f.source_positions[best * 3 + a] - f.centre[a], 2);
    patch_json.push_back({{"name", p.name}, {"centre_source", best}, {"sources", count},
                          {"from_centre_mm", 1000 * std::sqrt(ecc)}, {"depth_mm", depth_mm(f)[best]},
                          {"moment_nAm", o.amplitude}});
  }

  // y = L x* + n, n ~ N(0, C): n = E_r Λ_r^{1/2} z = Wᵀ Λ_r z with z ~ N(0, I_r), so W y = G x* + z.
  std::mt19937_64 rng(common.runs.seed + 18);
  std::normal_distribution<double> normal;
  std::vector<double> y(m, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) y[i] += f.leadfield[i * n + j] * truth[j].re;
  for (std::size_t i = 0; i < r; ++i) {
    const double scaled = w.eigenvalues[m - r + i] * normal(rng);
    for (std::size_t c = 0; c < m; ++c) y[c] += w.matrix[i * m + c] * scaled;
  }
  const auto yw = w.apply(y, 1, "sensor data");
  std::vector<cfloat> gy(r), gf(g.size());
  for (std::size_t i = 0; i < r; ++i) gy[i] = {float(yw[i]), 0.0f};
  for (std::size_t i = 0; i < g.size(); ++i) gf[i] = {float(g[i]), 0.0f};
  const auto op = std::make_shared<dense_operator>(ctx, gf, r, image_shape{1, n});
  const inverse_problem problem(ctx, op, gy, 1.0, field::real);
  // Held-out measurements of the same sources (another 20 trials' worth, independent
  // noise; whitened: G x* + z'), for the posterior predictive coverage.
  constexpr std::size_t heldout_sets = 20;
  std::vector<cfloat> heldout(heldout_sets * r);
  for (std::size_t s = 0; s < heldout_sets; ++s)
    for (std::size_t i = 0; i < r; ++i) {
      double value = normal(rng);
      for (std::size_t j = 0; j < n; ++j) value += g[i * n + j] * truth[j].re;
      heldout[s * r + i] = {float(value), 0.0f};
    }

  design_params keep = dp;
  keep.keep_draws = true;
  const auto result = sample(ctx, problem, prior, sp, keep, stderr_progress());
  const auto reference = exact_posterior(ctx, problem, prior);
  {  // each patch centre: recovered amplitude and its exact stds
    const auto amb = per_source_sum(reference.ambiguity, k), est = per_source_sum(reference.estimation, k);
    std::vector<double> mean(n);
    for (std::size_t j = 0; j < n; ++j) mean[j] = reference.mean[j].re;
    const auto amp = per_source_norm(mean, k);
    for (auto& pj : patch_json) {
      const std::size_t s = pj["centre_source"].get<std::size_t>();
      pj["posterior_mean_amplitude_nAm"] = amp[s];
      pj["exact_ambiguity_std_nAm"] = std::sqrt(amb[s]);
      pj["exact_estimation_std_nAm"] = std::sqrt(std::max(est[s], 0.0));
    }
  }

  nlohmann::json summary;
  summary["command"] = "demo --problem eeg";
  summary["problem"] = {{"kind", "eeg"},
                        {"forward", f.dir.string()},
                        {"channels", m},
                        {"whitened_rank", r},
                        {"sources", f.sources()},
                        {"components", n},
                        {"prior", "minimum-norm Gaussian: depth " + std::to_string(o.depth) + ", limit 10, lambda2 " +
                                      std::to_string(o.lambda2)},
                        {"sigma_y", 1.0},
                        {"noise", "N(0, C) in sensor space; unit white noise after whitening"},
                        {"patches", patch_json}};
  record_run(summary, sp, dp, result.report);
  summary["against_exact_reference"] = compare_with_reference(result.maps, reference);
  const std::optional<std::vector<cfloat>> truth_opt = truth;
  auto eeg = stage_eeg_outputs(folder, f, result.maps, y, truth_opt, &v, &reference);
  eeg["exact_depth_bands"] = depth_table(f, reference.ambiguity, reference.estimation, &v);
  summary["eeg"] = eeg;
  quantile_maps quantiles;
  const auto calibration = calibration_figures(ctx, problem, result, truth_opt, quantiles, heldout, dp.seed);
  write_outputs(folder, {result.maps, problem.zero_filled(), {}, truth_opt, reference, summary, false, quantiles,
                         calibration});
  finish_folder(folder, no_report);

  const auto& c = summary["against_exact_reference"];
  std::printf("twofold demo --problem eeg: %zu channels (rank %zu after whitening), %zu sources x %zu components, "
              "%s sampler, %zu runs x %zu chains, %.1f s on %s\n",
              m, r, f.sources(), k, std::string(to_string(sp.kind)).c_str(), dp.runs, dp.chains_per_run,
              result.report.seconds, result.report.device.c_str());
  std::printf("  against the exact posterior: mean error %.3f posterior std (RMS), ambiguity ratio %.3f, "
              "estimation ratio %.3f\n",
              c["mean_error_rms_in_posterior_std"].get<double>(), c.value("ambiguity_ratio", std::nan("")),
              c.value("estimation_ratio", std::nan("")));  // absent in the replicate design
  const auto& pc = calibration["predictive_coverage"];
  std::printf("  posterior predictive: 90 %% intervals of replicated measurements cover %.3f +- %.3f of %zu held-out "
              "measurements' whitened channels (calibrated: 0.9)\n",
              pc["quantile"][8].get<double>(), pc["standard_error"][8].get<double>(), heldout_sets);
  std::printf("  per-source std (nA m, trace of the 3x3 block) by depth (distance to the nearest electrode):\n"
              "  %-12s %8s %14s %15s %11s %19s\n", "band (mm)", "sources", "ambiguity std", "estimation std",
              "prior std", "ambiguity/prior var");
  print_depth_bands(eeg["depth_bands"]);
  std::printf("  the same from the exact posterior (closed forms; estimation is not Monte Carlo noise there):\n");
  print_depth_bands(eeg["exact_depth_bands"]);
  std::printf("  active patches (centre source; exact posterior):\n");
  for (const auto& pj : patch_json)
    std::printf("  %-12s depth %5.1f mm: |mean| %.2f of %.1f nA m, ambiguity std %.2f, estimation std %.2f\n",
                pj["name"].get<std::string>().c_str(), pj["depth_mm"].get<double>(),
                pj["posterior_mean_amplitude_nAm"].get<double>(), pj["moment_nAm"].get<double>(),
                pj["exact_ambiguity_std_nAm"].get<double>(), pj["exact_estimation_std_nAm"].get<double>());
  std::printf("  outputs in %s\n", common.out.c_str());
}

}  // namespace twofold::cli
