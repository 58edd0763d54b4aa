#include "scenario.hpp"

#include "timing.hpp"

#include <twofold/twofold.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace twofold::bench {
namespace {

/// A forward folder's lead field whitened by its noise covariance (G, r × n) and the
/// minimum-norm prior variances on it (docs/eeg.md).
struct whitened_lead_field {
  std::size_t rows = 0, columns = 0;
  std::vector<double> g;
  std::vector<double> variance;
};

std::vector<double> read_doubles(const std::string& path, std::vector<std::size_t>& shape) {
  const io::npy_array a = io::read_npy(path, path);
  if (a.type != io::dtype::float64) throw std::runtime_error(path + ": expected float64");
  shape = a.shape;
  std::vector<double> v(a.elements());
  std::memcpy(v.data(), a.data.data(), v.size() * sizeof(double));
  return v;
}

whitened_lead_field load_lead_field(const std::string& dir) {
  std::vector<std::size_t> ls, cs;
  const auto l = read_doubles(dir + "/leadfield.npy", ls);
  const auto c = read_doubles(dir + "/noise_covariance.npy", cs);
  const auto w = make_noise_whitener(c, cs.at(0), dir + "/noise_covariance.npy");
  whitened_lead_field out;
  out.rows = w.rank;
  out.columns = ls.at(1);
  out.g = w.apply(l, out.columns, dir + "/leadfield.npy");
  out.variance = minimum_norm_source_variance(out.g, out.rows, out.columns, minimum_norm_params{});
  return out;
}

struct problem_data {
  std::shared_ptr<const linear_operator> op;
  std::shared_ptr<const multicoil_operator> multicoil;  ///< op again, for the multi-coil scenario
  std::vector<cfloat> measurements;
  field values = field::complex;
};

/// y = A x + noise: CN(0, σ_y²) on the MRI mask's locations (phantom 0 of a seeded
/// family is x), N(0, σ_y²) for the dense lead field (x ~ N(0, I)).
problem_data make_problem(const context& ctx, const scenario_config& c) {
  problem_data d;
  std::vector<cfloat> truth;
  std::vector<float> mask;
  if (c.op == scenario_operator::mixture_1d) {
    d.op = std::make_shared<inpainting_operator>(ctx, c.shape, std::vector<float>{1.0f});
    d.values = field::real;
    d.measurements = {cfloat(2.5f, 0.0f)};
    return d;
  }
  if (c.op == scenario_operator::dense && !c.lead_field_dir.empty()) {
    // The shipped lead field, whitened; x* a draw from the minimum-norm prior.
    const auto lf = load_lead_field(c.lead_field_dir);
    std::vector<cfloat> g(lf.g.size());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = {float(lf.g[i]), 0.0f};
    truth.resize(lf.columns);
    for (std::size_t i = 0; i < lf.columns; ++i)
      truth[i] = {float(std::sqrt(lf.variance[i]) * 1.41421356 * complex_normal(3, 0, 0, rng_purpose::test, i).re),
                  0.0f};
    d.op = std::make_shared<dense_operator>(ctx, g, lf.rows, c.shape);
    d.values = field::real;
  } else if (c.op == scenario_operator::dense) {
    const std::size_t m = c.sensors, n = c.shape.pixels();
    std::vector<cfloat> lead_field(m * n);
    // N(0, 1) as rng_stream draws it for real problems: √2 times a complex draw's real part.
    const auto real_normal = [](std::uint64_t seed, std::size_t i) {
      return 1.41421356f * complex_normal(seed, 0, 0, rng_purpose::test, i).re;
    };
    const float scale = float(1.0 / std::sqrt(double(n)));  // entries N(0, 1/n): |A x| ≈ |x| per row
    for (std::size_t i = 0; i < m * n; ++i) lead_field[i] = {scale * real_normal(2, i), 0.0f};
    truth.resize(n);
    for (std::size_t i = 0; i < n; ++i) truth[i] = {real_normal(3, i), 0.0f};
    d.op = std::make_shared<dense_operator>(ctx, lead_field, m, c.shape);
    d.values = field::real;
  } else {
    truth = make_phantom({c.shape, 1, 1.0, true}, 0);
    mask = expand_line_mask(make_line_mask({c.shape.width, c.acceleration, 0.0, line_pattern::random, 0}), c.shape);
    if (c.op == scenario_operator::single_coil) {
      d.op = std::make_shared<fourier_mask_operator>(ctx, c.shape, mask);
    } else {
      const std::vector<cfloat> maps = make_coil_maps({c.shape.height, c.shape.width, c.coils}, {0, 1.5, 1.0});
      d.multicoil = std::make_shared<multicoil_operator>(ctx, c.shape, c.coils, maps, mask);
      d.op = d.multicoil;
    }
  }
  d.measurements = simulate_measurements(ctx, *d.op, truth, c.sigma_y, d.values, 1);
  return d;
}

std::unique_ptr<prior> make_prior(const context& ctx, const scenario_config& c) {
  if (!c.model.empty()) return std::make_unique<torchscript_prior>(ctx, c.model, c.shape);
  if (c.op == scenario_operator::mixture_1d) {  // the validation suite's gmm-1d prior
    const std::vector<double> w{0.5, 0.3, 0.2};
    const std::vector<cfloat> mu{cfloat(-3.0f, 0.0f), cfloat(0.5f, 0.0f), cfloat(4.0f, 0.0f)};
    const std::vector<float> v{0.3f, 0.5f, 0.2f};
    return std::make_unique<gaussian_mixture_prior>(ctx, gaussian_basis::pixel, c.shape, w, mu, v, field::real);
  }
  if (c.op == scenario_operator::dense && !c.lead_field_dir.empty()) {
    const auto v = load_lead_field(c.lead_field_dir).variance;
    return std::make_unique<gaussian_prior>(ctx, gaussian_basis::pixel, c.shape, std::vector<cfloat>(c.shape.pixels()),
                                            std::vector<float>(v.begin(), v.end()));
  }
  if (c.op == scenario_operator::dense)
    return std::make_unique<gaussian_prior>(ctx, gaussian_basis::pixel, c.shape,
                                            std::vector<cfloat>(c.shape.pixels()),
                                            std::vector<float>(c.shape.pixels(), 1.0f));
  const gaussian_basis basis = c.sampler == sampler_kind::exact ? gaussian_basis::fourier : gaussian_basis::pixel;
  return std::make_unique<gaussian_prior>(estimate_gaussian_prior(
      ctx, basis, c.shape, make_phantom_family({c.shape, 1, 1.0, true}, 1, c.prior_images)));
}

}  // namespace

const char* operator_id(scenario_operator op) {
  switch (op) {
    case scenario_operator::single_coil: return "single-coil";
    case scenario_operator::multicoil: return "multicoil";
    case scenario_operator::dense: return "dense";
    case scenario_operator::mixture_1d: return "gmm-1d";
  }
  return "?";
}

std::vector<memory_pass> passes_per_step(const scenario_config& c) {
  const double N = double(c.shape.pixels());
  std::vector<memory_pass> p;
  if (c.op == scenario_operator::mixture_1d) {
    // exact_sampler::ancestral with the diagonal mixture denoiser (K = 3 components,
    // pixel basis, one pixel): host/priors/gaussian_mixture.cpp, the few-pixel path
    // (small_mixture_denoise: quadratic forms, responsibilities and the weighted
    // component denoisers of one chain in registers; the K·N component factors are
    // computed once per call for all chains and not counted).
    p.push_back({"denoise: small_mixture_denoise reads z, writes d", 1, 1, N});
    p.push_back({"ancestral_step: reads u, d; writes u", 2, 1, N});
    return p;
  }
  if (c.sampler == sampler_kind::exact) {
    // exact_sampler::ancestral: the one-component Fourier-basis posterior's denoiser
    // (host/priors/fourier_gaussian_denoiser.cpp: the plain DFT pair around one raw-order
    // pass that shrinks and adds the mean term; no centring passes), ancestral_step.
    p.push_back({"denoise: DFT d <- F u, out of place (library FFT, assumed one pass)", 1, 1, N});
    p.push_back({"denoise: raw_order_denoise d = (w_raw/N) d + (1 - w_raw) mu_raw (maps: one image per call)", 1, 1, N});
    p.push_back({"denoise: inverse DFT of d, in place (library FFT)", 1, 1, N});
    p.push_back({"ancestral_step: reads u, d; writes u", 2, 1, N});
    return p;
  }
  if (!c.model.empty()) {
    // langevin_sampler::run with a prior that is not a pixel-basis Gaussian: the normal,
    // the network (not counted: its own traffic), langevin_step reading u, d and g.
    p.push_back({"normal: row DFTs g <- F_W u (library FFT, out of place)", 1, 1, N});
    p.push_back({"normal: multiply_by_map g *= raw-order mask / W", 1, 1, N});
    p.push_back({"normal: row DFTs g <- F_W^H g (library FFT)", 1, 1, N});
    p.push_back({"torchscript_prior: copy u into the network's [B, 2, H, W] layout", 1, 1, N});
    p.push_back({"torchscript_prior: copy the network's output into d", 1, 1, N});
    p.push_back({"langevin_step: reads u, d, g; writes u", 3, 1, N});
    return p;
  }
  // langevin_sampler::run: the operator's normal, then one step that also computes
  // the pixel-basis Gaussian denoiser (fused_langevin_step; no denoise pass).
  if (c.op == scenario_operator::single_coil) {
    // Fᴴ M F with the centring cancelled and a line mask: 1-D row DFTs, out of place
    // then in place, around one weight pass (host/operators/fourier_mask.cpp).
    p.push_back({"normal: row DFTs g <- F_W u (library FFT, out of place)", 1, 1, N});
    p.push_back({"normal: multiply_by_map g *= raw-order mask / W", 1, 1, N});
    p.push_back({"normal: row DFTs g <- F_W^H g (library FFT)", 1, 1, N});
  } else if (c.op == scenario_operator::multicoil) {
    // coil_expand, the mask's normal in place on the C coil planes (the single-coil
    // row DFT pair around the raw-order mask), coil_combine (host/operators/multicoil.cpp).
    const int C = int(c.coils);
    p.push_back({"normal: coil_expand z_c <- S_c u", 1, C, N});
    p.push_back({"normal: row DFTs of the coil planes, in place (library FFT)", C, C, N});
    p.push_back({"normal: multiply_by_map z_c *= raw-order mask / W", C, C, N});
    p.push_back({"normal: inverse row DFTs of the coil planes (library FFT)", C, C, N});
    p.push_back({"normal: coil_combine g <- sum_c conj(S_c) z_c", C, 1, N});
  } else {
    const double m = double(c.sensors);
    p.push_back({"normal: GEMM y <- A u (reads u)", 1, 0, N});
    p.push_back({"normal: GEMM y <- A u (writes y)", 0, 1, m});
    p.push_back({"normal: GEMM g <- A^H y (reads y)", 1, 0, m});
    p.push_back({"normal: GEMM g <- A^H y (writes g)", 0, 1, N});
    p.push_back({"normal: the lead field, read once per GEMM for the batch", 2, 0, m * N / double(c.chains())});
  }
  p.push_back({"fused_langevin_step: reads u, g; writes u (D(u, s) computed in the step)", 2, 1, N});
  return p;
}

std::vector<scenario_config> single_coil_scenarios(size_preset size, std::size_t repeats) {
  const bool gpu = size == size_preset::gpu;
  scenario_config base;
  base.name = "single-coil line mask";
  base.shape = gpu ? image_shape{256, 256} : image_shape{64, 64};
  base.runs = gpu ? 8 : 2;
  base.chains_per_run = gpu ? 512 : 16;  // 4096 or 32 chains
  base.prior_images = gpu ? 64 : 32;
  base.repeats = repeats;

  scenario_config langevin = base;  // 250 × 4 = 1000 or 25 × 4 = 100 steps
  langevin.id = "single-coil-langevin";
  langevin.sampler = sampler_kind::langevin;
  langevin.inner_steps = 4;
  langevin.levels = gpu ? 250 : 25;

  scenario_config exact = base;  // one step per level
  exact.id = "single-coil-exact";
  exact.sampler = sampler_kind::exact;
  exact.inner_steps = 1;
  exact.levels = gpu ? 1000 : 100;
  return {langevin, exact};
}

scenario_config multicoil_scenario(size_preset size, std::size_t repeats) {
  const bool gpu = size == size_preset::gpu;
  scenario_config c;
  c.id = "multicoil-langevin";
  c.name = "8-coil line mask";
  c.op = scenario_operator::multicoil;
  c.shape = gpu ? image_shape{320, 320} : image_shape{64, 64};
  c.coils = 8;
  c.runs = gpu ? 8 : 2;
  c.chains_per_run = gpu ? 128 : 16;  // 1024 or 32 chains
  c.prior_images = gpu ? 64 : 32;
  c.inner_steps = 4;
  c.levels = gpu ? 250 : 25;  // 1000 or 100 steps
  c.repeats = repeats;
  return c;
}

scenario_config dense_scenario(size_preset size, std::size_t repeats) {
  const bool gpu = size == size_preset::gpu;
  scenario_config c;
  c.id = "dense-langevin";
  c.name = "EEG lead field";
  c.op = scenario_operator::dense;
  c.shape = image_shape{1, gpu ? std::size_t{8196} : std::size_t{2048}};
  c.sensors = gpu ? 128 : 64;
  c.runs = 8;
  c.chains_per_run = gpu ? 512 : 16;  // 4096 or 128 chains
  c.inner_steps = 4;
  c.levels = gpu ? 250 : 25;  // 1000 or 100 steps
  c.repeats = repeats;
  return c;
}

scenario_config eeg_scenario(size_preset size, std::size_t repeats, const std::string& forward_dir) {
  const bool gpu = size == size_preset::gpu;
  const auto lf = load_lead_field(forward_dir);
  scenario_config c;
  c.id = "eeg-langevin";
  c.name = "shipped EEG lead field (whitened)";
  c.op = scenario_operator::dense;
  c.lead_field_dir = forward_dir;
  c.shape = image_shape{1, lf.columns};
  c.sensors = lf.rows;
  c.runs = 8;
  c.chains_per_run = gpu ? 512 : 16;  // 4096 or 128 chains
  c.inner_steps = 4;
  c.levels = gpu ? 250 : 25;  // 1000 or 100 steps
  c.sigma_y = 1.0;            // whitened noise
  c.repeats = repeats;
  return c;
}

scenario_config mixture_scenario(size_preset size, std::size_t repeats) {
  const bool gpu = size == size_preset::gpu;
  scenario_config c;
  c.id = "gmm-1d-exact";
  c.name = "1-D three-mode mixture";
  c.op = scenario_operator::mixture_1d;
  c.sampler = sampler_kind::exact;
  c.shape = image_shape{1, 1};
  c.runs = 8;
  c.chains_per_run = gpu ? 125000 : 12500;  // 10⁶ or 10⁵ chains
  c.levels = gpu ? 1000 : 100;
  c.sigma_y = 1.0;
  c.repeats = repeats;
  return c;
}

scenario_config learned_scenario(size_preset size, std::size_t repeats) {
  const bool gpu = size == size_preset::gpu;
  scenario_config c;
  c.id = "single-coil-learned";
  c.name = "single-coil line mask, TorchScript prior";
  c.shape = image_shape{64, 64};
  c.runs = 2;
  c.chains_per_run = gpu ? 128 : 4;  // 256 or 8 chains
  c.inner_steps = 4;
  c.levels = gpu ? 25 : 5;  // 100 or 20 steps
  c.repeats = repeats;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("TWOFOLD_BENCH_MODEL"); env && *env) {
    c.model = env;
  } else if (const fs::path shipped = TWOFOLD_BENCH_SOURCE_DIR "/data/models/phantom-denoiser/model.pt";
             fs::is_regular_file(shipped, ec)) {
    c.model = shipped.string();
  } else {
#ifdef TWOFOLD_BENCH_CONV_DENOISER
    if (fs::is_regular_file(TWOFOLD_BENCH_CONV_DENOISER, ec)) c.model = TWOFOLD_BENCH_CONV_DENOISER;
#endif
  }
  return c;
}

std::vector<scenario_config> all_scenarios(size_preset size, std::size_t repeats) {
  std::vector<scenario_config> all = single_coil_scenarios(size, repeats);
  all.push_back(multicoil_scenario(size, repeats));
  all.push_back(dense_scenario(size, repeats));
  all.push_back(eeg_scenario(size, repeats, TWOFOLD_BENCH_SOURCE_DIR "/data/eeg/biosemi64-sphere"));
  all.push_back(mixture_scenario(size, repeats));
  all.push_back(learned_scenario(size, repeats));
  return all;
}

sampler_params sampler_settings(const scenario_config& c) {
  sampler_params p;
  p.kind = c.sampler;
  p.schedule.kind = schedule_kind::edm_karras;
  p.schedule.levels = c.levels;
  p.langevin.inner_steps = c.inner_steps;
  return p;
}

scenario_result run_scenario(const context& ctx, const scenario_config& c, double copy_bytes_per_second) {
  const problem_data data = make_problem(ctx, c);
  const inverse_problem problem(ctx, data.op, data.measurements, c.sigma_y, data.values);
  const auto prior_ptr = make_prior(ctx, c);
  const prior& prior = *prior_ptr;
  const design_params design{run_design::replicate, c.runs, c.chains_per_run, 0, 0};

  sampler_params warm = sampler_settings(c);
  warm.schedule.levels = 2;
  warm.langevin.inner_steps = 1;
  (void)sample(ctx, problem, prior, warm, design);
  ctx.synchronize();

  scenario_result r;
  r.config = c;
  r.prior = prior.name();
  const sampler_params params = sampler_settings(c);
  const auto* net = dynamic_cast<const torchscript_prior*>(&prior);
  std::vector<torchscript_timing> net_time;
  for (std::size_t i = 0; i < c.repeats; ++i) {
    const torchscript_timing before = net ? net->timing() : torchscript_timing{};
    const stopwatch watch;
    const sample_result s = sample(ctx, problem, prior, params, design);
    ctx.synchronize();
    r.wall_seconds.push_back(watch.seconds());
    if (net) {
      const torchscript_timing after = net->timing();
      net_time.push_back({after.calls - before.calls, after.network_seconds - before.network_seconds,
                          after.call_seconds - before.call_seconds});
    }
    r.engine_seconds.push_back(s.report.seconds);
    r.waves = s.report.waves;
    r.wave_chains = s.report.wave_chains;
    if (s.report.chains != c.chains() || s.report.steps_per_chain != c.steps_per_chain())
      throw std::logic_error("benchmark and engine disagree on chains or steps: " + std::to_string(s.report.chains) +
                             " x " + std::to_string(s.report.steps_per_chain) + " run, " + std::to_string(c.chains()) +
                             " x " + std::to_string(c.steps_per_chain()) + " expected");
  }
  r.seconds = median(r.wall_seconds);
  if (net) {  // the split of the median repeat
    const std::size_t m = std::size_t(std::min_element(r.wall_seconds.begin(), r.wall_seconds.end(),
                                                       [&](double a, double b) {
                                                         return std::abs(a - r.seconds) < std::abs(b - r.seconds);
                                                       }) -
                                      r.wall_seconds.begin());
    r.network_seconds = net_time[m].network_seconds;
    r.prior_call_seconds = net_time[m].call_seconds;
    r.network_calls = net_time[m].calls;
  }
  r.chain_steps_per_second = double(c.chains()) * double(c.steps_per_chain()) / r.seconds;
  r.passes = passes_per_step(c);
  if (const auto& mc = data.multicoil) {
    const int C = int(c.coils);
    if (const spectral_form* sf = mc->spectral()) {
      // The accumulators' P_R = V Vᴴ row by row (line masks): per chain, analyse reads
      // the image and writes H·r coefficients, synthesise reads them and writes the
      // image (the bases are shared by the batch); spread over the steps of a chain.
      r.projection = "row-svd";
      const double coefficients = double(sf->coefficient_shape().pixels());
      r.passes.push_back({"accumulators: P_R = V Vᴴ by row SVD (image, once per chain)", 1, 1,
                          double(c.shape.pixels()) / double(c.steps_per_chain())});
      r.passes.push_back({"accumulators: P_R = V Vᴴ by row SVD (coefficients, once per chain)", 1, 1,
                          coefficients / double(c.steps_per_chain())});
    } else {
      // The accumulators' P_R (batched CG, host/sampling/conjugate_gradient.cpp) is not amortised
      // here: per iteration the normal (1 + 8C reads, 1 + 8C writes), cg_advance (4, 2),
      // the identity preconditioner's copy (1, 1), dots r·z, r·r, p·AᴴAp (2 + 1 + 2, 0)
      // and cg_direction (2, 1); spread over the steps of a chain.
      r.projection = "cg";
      r.projection_iterations = mc->last_projection_iterations();
      r.passes.push_back({"accumulators: P_R by CG, " + std::to_string(r.projection_iterations) +
                              " iterations spread over the steps",
                          13 + 8 * C, 5 + 8 * C,
                          double(c.shape.pixels()) * double(r.projection_iterations) / double(c.steps_per_chain())});
    }
  }
  r.bytes_per_chain_step = 0;
  for (const auto& p : r.passes)
    r.bytes_per_chain_step += double(p.reads + p.writes) * p.elements * double(sizeof(cfloat));
  r.achieved_bytes_per_second = r.chain_steps_per_second * r.bytes_per_chain_step;
  r.roofline_fraction = r.achieved_bytes_per_second / copy_bytes_per_second;
  return r;
}

}  // namespace twofold::bench
