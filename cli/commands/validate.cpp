// `twofold validate`: every sampler on a fixed suite of problems with exact
// posteriors, measured against exact draws (docs/design.md §1.5: every sampler's bias is
// published). Writes JSON and the markdown of docs/validation.md.
#include "commands.hpp"

#include <twofold/twofold.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace twofold::cli {
namespace {

struct validate_options {
  std::string backend = "auto";
  std::string size = "ci";
  std::string json = "validation.json";
  std::string markdown;
  std::string samplers = "exact,pto,langevin,dps,pigdm,ddrm,ddnm,smc";
  std::string problems = "gaussian-mri,gmm-1d,gmm-dense,gmm-mri";
  std::size_t runs = 0, chains = 0, levels = 0;  ///< 0: the size's default
  std::uint64_t seed = 0;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

/// One problem of the suite: an operator, data and an analytic prior (a Gaussian
/// is kept as such so that `pto` applies; its exact posterior uses the
/// one-component mixture).
struct suite_problem {
  std::string name, description;
  std::shared_ptr<const linear_operator> op;
  field values = field::complex;
  double sigma = 0;
  std::unique_ptr<prior> the_prior;
  std::unique_ptr<gaussian_mixture_prior> as_mixture;
  std::vector<cfloat> y;
};

/// y = A x* + n with x* a prior draw (seeded).
std::vector<cfloat> simulate(const context& ctx, const linear_operator& op, const gaussian_mixture_prior& prior,
                             double sigma, field values, std::uint64_t seed) {
  const rng_stream rng{seed, 0, 0, rng_purpose::measurement_noise, 3, values == field::real};
  chain_buffer x(ctx, 1, op.domain());
  prior.draw(ctx, x.view(), 0.0, rng);
  // The noise of chain 1 of the same stream (chain 0 drew x*).
  rng_stream noise = rng;
  noise.first_chain = 1;
  return simulate_measurements(ctx, op, x.view(), sigma, noise);
}

gaussian_mixture_prior mixture_of(const context& ctx, const gaussian_prior& g, field values) {
  const std::vector<double> one{1.0};
  return gaussian_mixture_prior(ctx, g.basis(), g.shape(), one, g.mean(), g.variance(), values);
}

std::vector<suite_problem> make_suite(const context& ctx, std::uint64_t seed) {
  std::vector<suite_problem> suite;
  const auto lines = [](image_shape s, std::initializer_list<std::size_t> on) {
    std::vector<std::uint8_t> flags(s.width, 0);
    for (const std::size_t w : on) flags[w] = 1;
    return expand_line_mask(flags, s);
  };
  const auto spectrum = [](image_shape s, double amplitude, double width) {
    std::vector<float> v(s.pixels());
    for (std::size_t h = 0; h < s.height; ++h)
      for (std::size_t w = 0; w < s.width; ++w) {
        const double kh = double(h) - double(s.height / 2), kw = double(w) - double(s.width / 2);
        v[h * s.width + w] = float(amplitude * std::exp(-(kh * kh + kw * kw) / (2 * width * width)) + 0.02);
      }
    return v;
  };
  const auto random_images = [](image_shape s, std::size_t count, float scale, bool real, std::uint64_t key) {
    std::vector<cfloat> v(count * s.pixels());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const cfloat z = complex_normal(key, i, 0, rng_purpose::test, 0, 9);
      v[i] = real ? cfloat(scale * z.re, 0.0f) : scale * z;
    }
    return v;
  };

  {  // 1. Gaussian single-coil MRI: the closed-form case.
    suite_problem p;
    const image_shape s{16, 16};
    p.name = "gaussian-mri";
    p.description = "single-coil MRI 16x16, 6 of 16 phase-encode lines, stationary (Fourier-basis) Gaussian prior, "
                    "sigma_y = 0.1";
    p.op = std::make_shared<fourier_mask_operator>(ctx, s, lines(s, {2, 5, 7, 8, 9, 12}));
    p.sigma = 0.1;
    auto g = std::make_unique<gaussian_prior>(ctx, gaussian_basis::fourier, s, random_images(s, 1, 0.5f, false, 1),
                                              spectrum(s, 4.0, 3.0));
    p.as_mixture = std::make_unique<gaussian_mixture_prior>(mixture_of(ctx, *g, p.values));
    p.the_prior = std::move(g);
    suite.push_back(std::move(p));
  }
  {  // 2. A 1-D three-mode mixture with a likelihood between modes.
    suite_problem p;
    const image_shape s{1, 1};
    p.name = "gmm-1d";
    p.description = "1-D mixture of 3 modes (-3, 0.5, 4; variances 0.3, 0.5, 0.2; weights 0.5, 0.3, 0.2), "
                    "y = 0.8 x + n with sigma_y = 1, y = 2.5: the likelihood reweights and moves every mode";
    const std::vector<cfloat> a{cfloat(0.8f, 0.0f)};
    p.op = std::make_shared<dense_operator>(ctx, a, 1, s);
    p.values = field::real;
    p.sigma = 1.0;
    const std::vector<double> w{0.5, 0.3, 0.2};
    const std::vector<cfloat> mu{cfloat(-3.0f, 0.0f), cfloat(0.5f, 0.0f), cfloat(4.0f, 0.0f)};
    const std::vector<float> v{0.3f, 0.5f, 0.2f};
    p.as_mixture = std::make_unique<gaussian_mixture_prior>(ctx, gaussian_basis::pixel, s, w, mu, v, field::real);
    p.y = {cfloat(2.5f, 0.0f)};
    suite.push_back(std::move(p));
  }
  {  // 3. A mixture in dimension 16 seen through 3 random rows.
    suite_problem p;
    const image_shape s{1, 16};
    p.name = "gmm-dense";
    p.description = "real mixture of 3 modes in dimension 16 (per-pixel variances 0.1-0.5), a random 3x16 "
                    "operator, sigma_y = 0.3";
    const auto a = random_images({3, 16}, 1, 1.0f / 4.0f, true, 2);
    p.op = std::make_shared<dense_operator>(ctx, a, 3, s);
    p.values = field::real;
    p.sigma = 0.3;
    const std::vector<double> w{0.45, 0.35, 0.2};
    std::vector<float> v(3 * 16);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1f + 0.1f * float(i % 5);
    p.as_mixture = std::make_unique<gaussian_mixture_prior>(ctx, gaussian_basis::pixel, s, w,
                                                            random_images(s, 3, 1.5f, true, 3), v, field::real);
    suite.push_back(std::move(p));
  }
  {  // 4. Two stationary modes that differ only where k-space is not sampled.
    suite_problem p;
    const image_shape s{12, 12};
    const std::vector<std::size_t> sampled{1, 4, 5, 6, 7, 10};
    p.name = "gmm-mri";
    p.description = "single-coil MRI 12x12, 6 of 12 lines, mixture of 2 stationary Gaussians (weights 0.6, 0.4) whose "
                    "means differ only on unsampled lines, sigma_y = 0.2: the data cannot tell the modes apart, so "
                    "the posterior keeps both (bimodal ambiguity)";
    p.op = std::make_shared<fourier_mask_operator>(ctx, s, lines(s, {1, 4, 5, 6, 7, 10}));
    p.sigma = 0.2;
    const std::vector<double> w{0.6, 0.4};
    auto v = spectrum(s, 2.0, 2.0);
    v.insert(v.end(), v.begin(), v.end());
    auto k = random_images(s, 2, 0.6f, false, 4);
    for (std::size_t h = 0; h < s.height; ++h)  // mode 2 = mode 1 + a pattern on unsampled lines
      for (std::size_t c = 0; c < s.width; ++c) {
        const bool on = std::find(sampled.begin(), sampled.end(), c) != sampled.end();
        const std::size_t i = h * s.width + c;
        k[s.pixels() + i] = k[i] + (on || (c != 2 && c != 9) ? cfloat{} : cfloat(6.0f, 0.0f));
      }
    chain_buffer means = to_backend(ctx, k, 2, s);
    fft2c(ctx, means.view(), fft_direction::inverse);
    p.as_mixture = std::make_unique<gaussian_mixture_prior>(ctx, gaussian_basis::fourier, s, w,
                                                            to_host(ctx, means.storage), v);
    suite.push_back(std::move(p));
  }
  for (auto& p : suite) {
    if (p.y.empty()) p.y = simulate(ctx, *p.op, *p.as_mixture, p.sigma, p.values, seed + 17);
  }
  return suite;
}

/// Counts denoiser and VJP evaluations (per chain) of the prior it wraps.
struct counting_prior {
  std::shared_ptr<std::atomic<std::size_t>> denoised = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<std::atomic<std::size_t>> vjps = std::make_shared<std::atomic<std::size_t>>(0);
  callback_prior wrapper;
  explicit counting_prior(const prior& inner)
      : wrapper(inner.shape(), inner.name(),
                [&inner, n = denoised](const context& ctx, const_chain_view z, double s, chain_view out) {
                  *n += z.chains;
                  inner.denoise(ctx, z, s, out);
                },
                [&inner, n = vjps](const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) {
                  *n += z.chains;
                  inner.vjp(ctx, z, s, w, out);
                }) {}
};

struct size_params {
  std::size_t runs, chains, levels, directions;
};

nlohmann::json measure(const context& ctx, const suite_problem& p, sampler_kind kind, const size_params& z,
                       const mixture_posterior& post, const std::vector<cfloat>& exact_draws, std::uint64_t seed) {
  nlohmann::json r;
  r["problem"] = p.name;
  r["sampler"] = std::string(to_string(kind));
  const inverse_problem problem(ctx, p.op, p.y, p.sigma, p.values);
  const prior& base = p.the_prior ? *p.the_prior : static_cast<const prior&>(*p.as_mixture);
  // exact and pto use the analytic prior's closed forms, not its denoiser.
  const bool analytic = kind == sampler_kind::exact || kind == sampler_kind::pto;
  counting_prior counted(base);
  sampler_params sp;
  sp.kind = kind;
  sp.schedule.levels = z.levels;
  sp.schedule.s_max = 20.0;
  sp.schedule.s_min = 1e-3;
  design_params d;
  d.runs = z.runs;
  d.chains_per_run = z.chains;
  d.seed = seed;
  const auto start = std::chrono::steady_clock::now();
  std::vector<cfloat> draws;
  try {
    draws = posterior_draws(ctx, problem, analytic ? base : counted.wrapper, sp, d);
  } catch (const bad_input& e) {
    r["status"] = "unsupported";
    r["reason"] = e.what();
    return r;
  } catch (const runtime_failure& e) {
    r["status"] = "failed";
    r["reason"] = e.what();
    return r;
  }
  r["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r["status"] = "ok";
  const std::size_t n = z.runs * z.chains, N = post.shape.pixels();
  const auto m = post.mean();
  const auto v = post.variance();
  std::vector<cdouble> mean(N);
  std::vector<double> var(N), scale(N);
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t q = 0; q < N; ++q) mean[q] += (1.0 / double(n)) * cdouble(draws[c * N + q]);
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t q = 0; q < N; ++q) var[q] += norm2(cdouble(draws[c * N + q]) - mean[q]) / double(n - 1);
  double z2 = 0, vs = 0, ve = 0;
  for (std::size_t q = 0; q < N; ++q) {
    z2 += norm2(mean[q] - m[q]) / v[q];
    vs += var[q];
    ve += v[q];
    scale[q] = std::sqrt(v[q]);
  }
  r["mean_error"] = std::sqrt(z2 / double(N));
  r["variance_ratio"] = vs / ve;
  if (post.components() > 1) {
    const auto labels = post.classify(ctx, draws);
    std::vector<double> freq(post.components());
    for (std::size_t l : labels) freq[l] += 1.0 / double(n);
    double tv = 0;
    for (std::size_t k = 0; k < freq.size(); ++k) tv += 0.5 * std::abs(freq[k] - post.weights[k]);
    r["mode_weights"] = freq;
    r["mode_weight_tv"] = tv;
  }
  r["sliced_wasserstein"] = sliced_wasserstein(draws, exact_draws, N, p.values, scale, z.directions, seed + 5);
  r["normalised_residual"] = [&] {  // mean over draws of ‖A x − y‖² / (m σ_y²)
    const chain_buffer x = to_backend(ctx, draws, n, post.shape);
    chain_buffer ax(ctx, n, p.op->codomain());
    p.op->apply(ctx, x.view(), ax.view());
    const auto h = to_host(ctx, ax.storage);
    const std::size_t M = p.op->codomain().pixels();
    double sum = 0;
    for (std::size_t c = 0; c < n; ++c)
      for (std::size_t i = 0; i < M; ++i) sum += norm2(cdouble(h[c * M + i]) - cdouble(problem.measurements()[i]));
    return sum / (double(n) * double(problem.measured_entries()) * p.sigma * p.sigma);
  }();
  if (analytic) {
    r["denoiser_evaluations_per_chain"] = kind == sampler_kind::exact ? double(z.levels) : 0.0;
  } else {
    r["denoiser_evaluations_per_chain"] = double(*counted.denoised) / double(n);
    r["vjp_evaluations_per_chain"] = double(*counted.vjps) / double(n);
  }
  return r;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

/// The line after which a markdown report's hand-written sections live: `--markdown`
/// onto a file holding it keeps the line and everything after it (docs/validation.md's
/// learned-prior section, produced by python/validate_learned_prior.py, not by this
/// command).
constexpr const char* kept_below_marker =
    "<!-- twofold validate --markdown keeps this line and everything below it; the rest is generated -->";

/// What `--markdown FILE` keeps of FILE: from the marker line to the end, or nothing.
std::string kept_tail(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::size_t at = s.find(kept_below_marker);
  if (at == std::string::npos) return {};
  // The marker must start a line.
  while (at != std::string::npos && at > 0 && s[at - 1] != '\n') at = s.find(kept_below_marker, at + 1);
  return at == std::string::npos ? std::string() : s.substr(at);
}

std::string markdown(const nlohmann::json& j) {
  std::ostringstream md;
  md << "# Sampler validation\n\n"
     << "Generated by `" << j["command"].get<std::string>() << "` on " << j["device"].get<std::string>()
     << " (do not edit by hand; rerun the command).\n\n"
     << "Every sampler draws " << j["draws"].get<std::size_t>() << " posterior samples (" << j["runs"].get<std::size_t>()
     << " runs x " << j["chains_per_run"].get<std::size_t>() << " chains, " << j["levels"].get<std::size_t>()
     << " noise levels) of problems whose posterior is known exactly, and is compared with as many exact draws:\n\n"
     << "- **mean error**: RMS over pixels of |sampler mean - exact mean| / exact posterior std. Monte Carlo alone "
        "gives about 1/sqrt(draws) = "
     << fixed(1.0 / std::sqrt(j["draws"].get<double>()), 3)
     << " (more for smc, whose particles are correlated).\n"
     << "- **variance ratio**: summed sampler variance over summed exact variance (1 = exact; > 1 over-dispersed).\n"
     << "- **mode weights (TV)**: total-variation distance between the fraction of draws nearest each posterior "
        "component and the exact weights w~_k.\n"
     << "- **SW2**: sliced 2-Wasserstein distance to exact draws, coordinates in units of the exact posterior std; "
        "the *floor* is the distance between two independent sets of exact draws.\n"
     << "- **residual**: mean of |A x - y|^2 / (m sigma_y^2) over draws (forward consistency; the exact posterior "
        "gives a value below 1, since the posterior fits the noise partly).\n"
     << "- **D evals**: denoiser evaluations per chain (VJPs in brackets); time on this device.\n\n";
  for (const auto& p : j["problems"]) {
    md << "## " << p["name"].get<std::string>() << "\n\n" << p["description"].get<std::string>() << ". Exact mode weights: ";
    for (std::size_t k = 0; k < p["exact_weights"].size(); ++k)
      md << (k ? ", " : "") << fixed(p["exact_weights"][k].get<double>(), 3);
    md << "; SW2 floor " << fixed(p["sliced_wasserstein_floor"].get<double>(), 3) << ".\n\n"
       << "| sampler | mean error | variance ratio | mode weights (TV) | SW2 | residual | D evals | time (s) |\n"
       << "|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : j["results"]) {
      if (r["problem"] != p["name"]) continue;
      md << "| " << r["sampler"].get<std::string>() << " | ";
      if (r["status"] != "ok") {
        std::string reason = r["reason"].get<std::string>();
        md << r["status"].get<std::string>() << ": " << reason << " | | | | | | |\n";
        continue;
      }
      md << fixed(r["mean_error"].get<double>(), 3) << " | " << fixed(r["variance_ratio"].get<double>(), 3) << " | "
         << (r.contains("mode_weight_tv") ? fixed(r["mode_weight_tv"].get<double>(), 3) : std::string("-")) << " | "
         << fixed(r["sliced_wasserstein"].get<double>(), 3) << " | " << fixed(r["normalised_residual"].get<double>(), 2)
         << " | " << fixed(r["denoiser_evaluations_per_chain"].get<double>(), 0)
         << (r.contains("vjp_evaluations_per_chain") && r["vjp_evaluations_per_chain"].get<double>() > 0
                 ? " (" + fixed(r["vjp_evaluations_per_chain"].get<double>(), 0) + ")"
                 : std::string())
         << " | " << fixed(r["seconds"].get<double>(), 2) << " |\n";
    }
    md << "\n";
  }
  return md.str();
}

void run_validate(const validate_options& o) {
  TWOFOLD_EXPECTS(o.size == "ci" || o.size == "full", "--size must be ci or full (got '" + o.size + "')");
  size_params z = o.size == "ci" ? size_params{4, 64, 100, 64} : size_params{8, 500, 400, 256};
  if (o.runs) z.runs = o.runs;
  if (o.chains) z.chains = o.chains;
  if (o.levels) z.levels = o.levels;
  std::vector<sampler_kind> kinds;
  for (const auto& name : split(o.samplers)) kinds.push_back(parse_sampler(name));
  const auto wanted = split(o.problems);
  context ctx(parse_backend(o.backend, "--backend"));
  std::fprintf(stderr, "twofold validate (%s) on %s\n", o.size.c_str(), ctx.device_name().c_str());
  const std::size_t n = z.runs * z.chains;
  nlohmann::json j;
  j["command"] = "twofold validate --size " + o.size + " --seed " + std::to_string(o.seed) +
                 (o.runs || o.chains || o.levels ? " (runs/chains/levels overridden)" : "");
  j["device"] = ctx.device_name();
  j["draws"] = n;
  j["runs"] = z.runs;
  j["chains_per_run"] = z.chains;
  j["levels"] = z.levels;
  j["problems"] = nlohmann::json::array();
  j["results"] = nlohmann::json::array();
  auto suite = make_suite(ctx, o.seed);
  for (const auto& name : wanted)
    TWOFOLD_EXPECTS(std::any_of(suite.begin(), suite.end(), [&](const auto& p) { return p.name == name; }),
                    "--problems: unknown problem '" + name + "' (gaussian-mri, gmm-1d, gmm-dense, gmm-mri)");
  for (const auto& p : suite) {
    if (std::find(wanted.begin(), wanted.end(), p.name) == wanted.end()) continue;
    const inverse_problem problem(ctx, p.op, p.y, p.sigma, p.values);
    const auto post = exact_mixture_posterior(ctx, problem, *p.as_mixture);
    const auto exact_draws = post.draw(ctx, n, o.seed + 101), other = post.draw(ctx, n, o.seed + 202);
    std::vector<double> scale(post.shape.pixels());
    const auto v = post.variance();
    for (std::size_t q = 0; q < scale.size(); ++q) scale[q] = std::sqrt(v[q]);
    j["problems"].push_back({{"name", p.name},
                             {"description", p.description},
                             {"exact_weights", post.weights},
                             {"sliced_wasserstein_floor",
                              sliced_wasserstein(exact_draws, other, scale.size(), p.values, scale, z.directions,
                                                 o.seed + 5)}});
    for (const sampler_kind kind : kinds) {
      std::fprintf(stderr, "  %s: %s\n", p.name.c_str(), std::string(to_string(kind)).c_str());
      j["results"].push_back(measure(ctx, p, kind, z, post, exact_draws, o.seed));
    }
  }
  const std::string text = j.dump(2) + "\n";
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(text.data()), text.size());
  io::write_file_atomically(o.json, std::span<const std::span<const std::byte>>(&bytes, 1));
  if (!o.markdown.empty()) {
    // The kept sections of the file being replaced, then the whole file atomically.
    const std::string md = markdown(j) + kept_tail(o.markdown);
    const std::span<const std::byte> mb(reinterpret_cast<const std::byte*>(md.data()), md.size());
    io::write_file_atomically(o.markdown, std::span<const std::span<const std::byte>>(&mb, 1));
  }
  std::printf("twofold validate: %zu results in %s%s%s\n", j["results"].size(), o.json.c_str(),
              o.markdown.empty() ? "" : " and ", o.markdown.c_str());
}

}  // namespace

std::function<void()> add_validate_command(CLI::App& app) {
  auto o = std::make_shared<validate_options>();
  auto* cmd = app.add_subcommand("validate",
                                 "Run every sampler on problems with exact posteriors and report its bias "
                                 "(JSON; markdown with --markdown, e.g. docs/validation.md)");
  cmd->add_option("--backend", o->backend, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--size", o->size, "ci (seconds) | full (the published table)")->capture_default_str();
  cmd->add_option("--out", o->json, "JSON output file")->capture_default_str();
  cmd->add_option("--markdown", o->markdown,
                  "also write the markdown report here (a line '" + std::string(kept_below_marker) +
                      "' in the file and everything below it are kept)");
  cmd->add_option("--samplers", o->samplers, "comma-separated samplers")->capture_default_str();
  cmd->add_option("--problems", o->problems, "comma-separated problems")->capture_default_str();
  cmd->add_option("--runs", o->runs, "runs (0: the size's default)")->check(count_in(0, 1000000));
  cmd->add_option("--chains", o->chains, "chains per run (0: the size's default)")->check(count_in(0, 1000000));
  cmd->add_option("--levels", o->levels, "noise levels (0: the size's default)")->check(count_in(0, 1000000));
  cmd->add_option("--seed", o->seed, "random seed")
      ->capture_default_str()
      ->check(count_in(0, std::numeric_limits<std::uint64_t>::max()));
  return [o] { run_validate(*o); };
}

}  // namespace twofold::cli
