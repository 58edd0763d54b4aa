// Simulation-based calibration: every replicate's x* and y in one measurement-set
// batch, ranks of test functions, χ² and ECDF-band uniformity
// (see include/twofold/diagnostics/sbc.hpp).
#include <twofold/diagnostics/sbc.hpp>

#include <twofold/core/error.hpp>
#include <twofold/priors/gaussian.hpp>
#include <twofold/priors/gaussian_mixture.hpp>
#include <twofold/problem/simulate.hpp>

#include "host/diagnostics/order_statistics.hpp"
#include "host/sampling/sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

namespace twofold {
namespace {

using detail::coordinates;
using detail::coverage_of;
using detail::sorted_coordinates;
using detail::sorted_quantile;

/// Chi-square statistic and p-value of a histogram against the uniform.
void chi_square(sbc_test& t, std::size_t bins, std::size_t K) {
  t.histogram.assign(bins, 0);
  for (const std::size_t r : t.ranks) ++t.histogram[r * bins / (K + 1)];
  const double expected = double(t.ranks.size()) / double(bins);
  t.chi2 = 0;
  for (const std::size_t h : t.histogram) t.chi2 += (double(h) - expected) * (double(h) - expected) / expected;
  t.chi2_p = chi_square_upper_tail(t.chi2, double(bins - 1));
}

void draw_from(const context& ctx, const prior& p, chain_view x, const rng_stream& rng) {
  TWOFOLD_EXPECTS(p.can_draw(), "simulation-based calibration draws x* from the prior: prior '" + p.name() +
                                    "' cannot be sampled (use a Gaussian or Gaussian-mixture prior)");
  p.draw(ctx, x, 0.0, rng);
}

/// A x_c for every image of a batch (backend memory), on the host [chains, M].
std::vector<cfloat> forward_images(const context& ctx, const linear_operator& op, const_chain_view x) {
  chain_buffer ax(ctx, x.chains, op.codomain());
  op.apply(ctx, x, ax.view());
  return to_host(ctx, ax.storage);
}

/// ‖A x_c − y‖² for every image of a batch from its A x_c (`a`, host), y the
/// measurement set of replicate first + c / per_replicate.
std::vector<double> squared_residuals(const inverse_problem& problem, std::span<const cfloat> a, std::size_t chains,
                                      std::size_t first, std::size_t per_replicate) {
  const std::size_t M = problem.op().codomain().pixels();
  const auto& y = problem.measurements();
  std::vector<double> r(chains);
  for (std::size_t c = 0; c < chains; ++c) {
    const cfloat* yl = y.data() + (first + c / per_replicate) * M;
    for (std::size_t i = 0; i < M; ++i) r[c] += norm2(cdouble(a[c * M + i]) - cdouble(yl[i]));
  }
  return r;
}

/// (x − μ)ᴴΣ⁻¹(x − μ) for every image of a host batch.
std::vector<double> prior_quadratic(const context& ctx, const gaussian_prior& prior, std::span<const cfloat> x,
                                    std::size_t chains) {
  const image_shape s = prior.shape();
  const std::size_t N = s.pixels();
  std::vector<cfloat> centred(x.size());
  for (std::size_t i = 0; i < centred.size(); ++i) centred[i] = x[i] - prior.mean()[i % N];
  chain_buffer c = to_backend(ctx, centred, chains, s), pc(ctx, chains, s);
  prior.apply_precision(ctx, c.view(), pc.view());
  const auto p = to_host(ctx, pc.storage);
  std::vector<double> q(chains);
  for (std::size_t k = 0; k < chains; ++k)
    for (std::size_t i = k * N; i < (k + 1) * N; ++i)
      q[k] += double(centred[i].re) * p[i].re + double(centred[i].im) * p[i].im;
  return q;
}

/// Replicates per batch: as many as the backend's memory holds as chains (the
/// engine's wave size) and 256 MiB of draws on the host hold, at least one.
std::size_t replicates_per_batch(const context& ctx, const linear_operator& op, std::size_t K,
                                 std::size_t prior_bytes) {
  constexpr std::size_t host_bytes = std::size_t{256} << 20;
  const std::size_t by_host = host_bytes / (K * op.domain().pixels() * sizeof(cfloat));
  return std::max<std::size_t>(1, std::min(detail::chains_that_fit(ctx, op, prior_bytes) / K, by_host));
}

/// x = μ + F z for every chain of the latent batch `z`: a new image batch.
chain_buffer image_of(const context& ctx, const latent_factor& f, const chain_buffer& z) {
  const image_shape s = f.factor->codomain();
  chain_buffer x(ctx, z.chains, s);
  f.factor->apply(ctx, z.view(), x.view());
  auto h = to_host(ctx, x.storage);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] += f.mean[i % s.pixels()];
  return to_backend(ctx, h, z.chains, s);
}

/// SBC proper (`factor` null: the sampler's unknown is the image) or of a latent prior
/// (the sampler samples z on A F; test functions, coverage and conformal see x = μ + F z).
sbc_result calibrate(const context& ctx, std::shared_ptr<const linear_operator> op, const latent_factor* factor,
                     double sigma_y, field values, const prior& prior, const sampler_params& sampler_settings,
                     const sbc_params& params, const twofold::prior* truth_prior) {
  const std::size_t L = params.replicates, K = params.draws;
  TWOFOLD_EXPECTS(op != nullptr, "SBC needs an operator");
  TWOFOLD_EXPECTS(L >= 2, "SBC replicates L must be >= 2 (got " + std::to_string(L) + ")");
  TWOFOLD_EXPECTS(K >= 1, "SBC draws per replicate K must be >= 1 (got " + std::to_string(K) + ")");
  TWOFOLD_EXPECTS(L * K < (std::size_t{1} << 32), "SBC: L·K must be below 2^32 chains");
  TWOFOLD_EXPECTS(params.bins >= 2 && params.bins <= K + 1 && (K + 1) % params.bins == 0,
                  "SBC bins must divide the K + 1 = " + std::to_string(K + 1) + " possible ranks (got " +
                      std::to_string(params.bins) + ")");
  // The image x the test functions see, and the operator on it (A); the sampler's
  // unknown has op's domain (z, when a latent factor maps it to x).
  const linear_operator& image_op = factor ? *factor->image_operator : *op;
  const image_shape s = image_op.domain(), sz = op->domain();
  const std::size_t N = s.pixels();
  TWOFOLD_EXPECTS(params.pixels <= N, "SBC pixel test functions: " + std::to_string(params.pixels) +
                                          " requested, the image has " + std::to_string(N) + " pixels");
  const auto start = std::chrono::steady_clock::now();
  const twofold::prior& truth_from = truth_prior ? *truth_prior : prior;
  TWOFOLD_EXPECTS(truth_from.shape() == sz, "SBC: the truth prior's shape differs from the operator's image shape");
  const bool real = values == field::real;
  const gaussian_prior* gaussian = prior.gaussian_form();
  // A mixture's log density where it has one (no atoms).
  const gaussian_mixture_prior* mixture = prior.mixture_form();
  if (mixture && std::ranges::find(mixture->variances(), 0.0f) != mixture->variances().end()) mixture = nullptr;

  // Fixed random directions in the range and null spaces (a different seed from x*).
  chain_buffer dirs;
  {
    std::vector<cfloat> w(2 * N);
    const rng_stream r{params.seed, 0, 0, rng_purpose::test, 77, real};
    for (std::size_t i = 0; i < 2 * N; ++i) w[i] = r.normal(i / N, i % N);
    dirs = to_backend(ctx, w, 2, s);
    image_op.range_project(ctx, chain_view{dirs.storage.data(), 1, s});
    image_op.null_project(ctx, chain_view{dirs.storage.data() + N, 1, s});
  }
  const auto dir = to_host(ctx, dirs.storage);

  // Every replicate's x*_l (chain l) and y_l = A x*_l + n_l: one problem with L
  // measurement sets, whose run l is replicate l.
  chain_buffer truth(ctx, L, sz);  // x*_l (z*_l with a latent factor)
  if (params.truths.empty()) {
    draw_from(ctx, truth_from, truth.view(), rng_stream{params.seed, 0, 0, rng_purpose::prior_perturbation, 9, real});
  } else {
    TWOFOLD_EXPECTS(truth_prior == nullptr, "SBC: give the truths or a prior to draw them from, not both");
    TWOFOLD_EXPECTS(params.truths.size() == L * sz.pixels(),
                    "SBC truths: " + std::to_string(params.truths.size()) + " values are not the " +
                        std::to_string(L) + " replicates' images of " + to_string(sz));
    for (std::size_t i = 0; i < params.truths.size(); ++i)
      TWOFOLD_EXPECTS(is_finite(params.truths[i]) && (!real || params.truths[i].im == 0.0f),
                      "SBC truths: value " + std::to_string(i) + " (replicate " + std::to_string(i / sz.pixels()) +
                          ") is " + (real ? "not a finite real number" : "not finite"));
    truth = to_backend(ctx, params.truths, L, sz);
  }
  TWOFOLD_EXPECTS(std::isfinite(params.truth_noise_scale) && params.truth_noise_scale > 0,
                  "SBC: the simulated noise scale must be finite and > 0 (got " +
                      std::to_string(params.truth_noise_scale) + ")");
  const double truth_sigma = sigma_y * params.truth_noise_scale;
  const auto yh = simulate_measurements(ctx, *op, truth.view(), truth_sigma,
                                        rng_stream{params.seed, 0, 0, rng_purpose::measurement_noise, 9, real});
  // A held-out measurement of every x*_l (independent noise) for the predictive coverage.
  const auto heldout = simulate_measurements(ctx, *op, truth.view(), truth_sigma,
                                             rng_stream{params.seed, 0, 0, rng_purpose::measurement_noise, 10, real});
  const inverse_problem problem(ctx, op, yh, sigma_y, values, L);
  const std::size_t M = op->codomain().pixels();
  const auto& measured = problem.measured_mask();
  const auto sampler = detail::make_sampler(ctx, problem, prior, sampler_settings, K);
  std::vector<double> truth_residual, truth_density;
  if (!params.stage2) {  // of z* itself: ‖A F z − y‖ = ‖A x − y‖, and the latent prior's density
    truth_residual = squared_residuals(problem, forward_images(ctx, *op, truth.view()), L, 0, 1);
    if (gaussian) truth_density = prior_quadratic(ctx, *gaussian, to_host(ctx, truth.storage), L);
    if (mixture) truth_density = mixture->log_density(ctx, truth.view());
  }
  // Stage 2 conditions run l on P_R x*_l (P_R z*_l for A F, which fixes A x*_l and so
  // P_R x*_l) and ranks P_N x against P_N x*_l.
  chain_buffer anchors;
  if (params.stage2) {
    anchors = chain_buffer(ctx, L, sz);
    copy(ctx, truth.storage, anchors.storage);
    op->range_project(ctx, anchors.view());
  }
  if (factor) truth = image_of(ctx, *factor, truth);
  if (params.stage2) image_op.null_project(ctx, truth.view());
  const auto truths = to_host(ctx, truth.storage);

  sbc_result out;
  out.replicates = L;
  out.draws = K;
  out.stage2 = params.stage2;
  std::vector<std::string> names;
  for (std::size_t j = 0; j < params.pixels; ++j) names.push_back("pixel " + std::to_string(j * N / params.pixels));
  names.push_back(params.stage2 ? "null projection" : "range projection");
  if (!params.stage2) names.push_back("null projection");
  if (!params.stage2) names.push_back("residual |Ax - y|^2");
  if (gaussian && !params.stage2) names.push_back("prior quadratic form");
  if (mixture && !params.stage2) names.push_back("prior log density");
  out.tests.resize(names.size());
  for (std::size_t t = 0; t < names.size(); ++t) {
    out.tests[t].name = names[t];
    out.tests[t].ranks.resize(L);
  }
  const auto levels = default_coverage_levels();
  out.coverage.nominal = levels;
  out.coverage.quantile.assign(levels.size(), 0.0);
  out.coverage.gaussian.assign(levels.size(), 0.0);
  for (double l = 0; l <= 5.0 + 1e-9; l += 0.02) out.scales.push_back(l);
  out.miscoverage_by_scale.resize(L);
  std::vector<coverage_curve> coverage_by_replicate(L), predictive_by_replicate(params.stage2 ? 0 : L);

  const auto dot_re = [&](const cfloat* a, const cfloat* b) {
    double d = 0;
    for (std::size_t i = 0; i < N; ++i) d += double(a[i].re) * b[i].re + double(a[i].im) * b[i].im;
    return d;
  };
  // Replicates run as the runs of one batch of chains (several batches when memory
  // asks); chain l·K + k is draw k of replicate l wherever its batch starts.
  // A batch that runs out of backend memory is sampled again with half as many
  // replicates when the batches are sized automatically (the draws do not depend on
  // the batch: chain l·K + k's random numbers are its own).
  std::size_t per_batch =
      params.batch_replicates > 0 ? params.batch_replicates : replicates_per_batch(ctx, *op, K, detail::prior_bytes_per_chain(prior));
  for (std::size_t first = 0; first < L;) {
    const std::size_t count = std::min(per_batch, L - first);
    chain_buffer x;
    try {
      x = chain_buffer(ctx, count * K, sz);
      const rng_stream rng{params.seed, first * K, 0, rng_purpose::diffusion_noise, 1, real};
      if (params.stage2)
        sampler->conditional(ctx, x.view(), rng, anchors.storage.data(), K, {});
      else
        sampler->posterior(ctx, x.view(), rng, K, {});
    } catch (const out_of_memory& e) {
      if (params.batch_replicates > 0)
        detail::throw_out_of_memory(__FILE__, __LINE__,
                                    std::string(e.what()) + " for a batch of " + std::to_string(count) +
                                        " replicates; set a smaller batch_replicates, or 0 to size batches "
                                        "automatically");
      if (count == 1)
        detail::throw_out_of_memory(__FILE__, __LINE__, std::string(e.what()) + " even for one replicate");
      per_batch = count / 2;
      ++out.batches_halved;
      continue;
    }
    ++out.batches;
    {
      const auto sampled = to_host(ctx, x.storage);
      for (std::size_t i = 0; i < sampled.size(); ++i)
        TWOFOLD_ENSURES(is_finite(sampled[i]), "SBC: a draw of replicate " +
                                                   std::to_string(first + i / (K * sz.pixels())) +
                                                   " is not finite; try more noise levels or a smaller step");
    }
    std::vector<double> residual, density;
    std::vector<cfloat> ax;
    if (!params.stage2) {  // of the sampled unknown (z with a latent factor; see above)
      ax = forward_images(ctx, *op, x.view());
      residual = squared_residuals(problem, ax, count * K, first, K);
      if (gaussian) density = prior_quadratic(ctx, *gaussian, to_host(ctx, x.storage), count * K);
      if (mixture) density = mixture->log_density(ctx, x.view());
    }
    if (factor) x = image_of(ctx, *factor, x);
    if (params.stage2) image_op.null_project(ctx, x.view());
    const auto xs = to_host(ctx, x.storage);

#pragma omp parallel for schedule(dynamic)
    for (std::int64_t j = 0; j < std::int64_t(count); ++j) {
      const std::size_t l = first + std::size_t(j);
      const std::span<const cfloat> draws(xs.data() + std::size_t(j) * K * N, K * N);
      const cfloat* const ts = truths.data() + l * N;
      // Test functions of every draw (index 0..K−1) and of x* (index K).
      std::vector<std::vector<double>> f(names.size(), std::vector<double>(K + 1));
      for (std::size_t k = 0; k <= K; ++k) {
        const cfloat* image = k < K ? draws.data() + k * N : ts;
        std::size_t t = 0;
        for (std::size_t p = 0; p < params.pixels; ++p) f[t++][k] = image[p * N / params.pixels].re;
        if (params.stage2) {
          f[t++][k] = dot_re(dir.data() + N, image);
        } else {
          f[t++][k] = dot_re(dir.data(), image);
          f[t++][k] = dot_re(dir.data() + N, image);
          f[t++][k] = k < K ? residual[std::size_t(j) * K + k] : truth_residual[l];
          if (gaussian || mixture) f[t++][k] = k < K ? density[std::size_t(j) * K + k] : truth_density[l];
        }
      }
      // Ties (e.g. P_N x ≡ 0 on an observed pixel in stage 2) are broken uniformly at
      // random, as SBC prescribes: a function constant over draws is trivially calibrated.
      for (std::size_t t = 0; t < names.size(); ++t) {
        std::size_t below = 0, ties = 0;
        for (std::size_t k = 0; k < K; ++k) below += f[t][k] < f[t][K], ties += f[t][k] == f[t][K];
        const double u = uniform(params.seed, l * names.size() + t, rng_purpose::test, 78);
        out.tests[t].ranks[l] = below + std::min(ties, static_cast<std::size_t>(u * double(ties + 1)));
      }
      // Coverage of x* by this replicate's draws, and the miscoverage of scaled intervals.
      const auto sorted = sorted_coordinates(draws, N, values);
      const auto truth_coords = coordinates(std::span<const cfloat>(ts, N), values);
      const auto c = coverage_of(sorted, truth_coords, levels);
      std::vector<double> miss(out.scales.size(), 0.0);
      const double D = double(sorted.size());
      for (std::size_t p = 0; p < sorted.size(); ++p) {
        const double med = sorted_quantile(sorted[p], 0.5), lo = sorted_quantile(sorted[p], 0.05),
                     hi = sorted_quantile(sorted[p], 0.95), t = truth_coords[p];
        for (std::size_t i = 0; i < out.scales.size(); ++i) {
          const double lam = out.scales[i];
          miss[i] += (t < med - lam * (med - lo) || t > med + lam * (hi - med)) ? 1.0 / D : 0.0;
        }
      }
      coverage_by_replicate[l] = c;
      out.miscoverage_by_scale[l] = std::move(miss);
      // The held-out measurement against the replicated ones A x_k + n_k (noise of the
      // assumed σ_y; chain l·K + k of its stream, whatever the batch).
      if (!params.stage2)
        predictive_by_replicate[l] = detail::predictive_coverage_of(
            detail::replicated_measurements(std::span<const cfloat>(ax.data() + std::size_t(j) * K * M, K * M),
                                            measured, sigma_y, values,
                                            rng_stream{params.seed, l * K, 0, rng_purpose::measurement_noise, 11, real}),
            detail::measured_coordinates(std::span<const cfloat>(heldout.data() + l * M, M), measured, values), levels,
            params.seed, l * M * (real ? 1 : 2));
    }
    first += count;
  }
  for (const auto& c : coverage_by_replicate)
    for (std::size_t i = 0; i < levels.size(); ++i) {
      out.coverage.quantile[i] += c.quantile[i] / double(L);
      out.coverage.gaussian[i] += c.gaussian[i] / double(L);
    }
  if (!params.stage2)
    out.predictive_coverage = average_coverage(predictive_by_replicate,
                                               (values == field::complex ? 2 : 1) * problem.measured_entries(), K);
  out.band = uniform_rank_ecdf_band(L, K, 0.01, params.seed);
  for (auto& t : out.tests) {
    chi_square(t, params.bins, K);
    t.ecdf_difference = rank_ecdf_difference(t.ranks, out.band);
    t.ecdf_gamma = rank_ecdf_gamma(t.ranks, out.band);
    const auto at_most = std::upper_bound(out.band.null_gamma.begin(), out.band.null_gamma.end(), t.ecdf_gamma);
    t.ecdf_p = double(1 + (at_most - out.band.null_gamma.begin())) / double(out.band.null_gamma.size() + 1);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace

sbc_result simulation_based_calibration(const context& ctx, std::shared_ptr<const linear_operator> op, double sigma_y,
                                        field values, const prior& prior, const sampler_params& sampler,
                                        const sbc_params& params, const twofold::prior* truth_prior) {
  return calibrate(ctx, std::move(op), nullptr, sigma_y, values, prior, sampler, params, truth_prior);
}

sbc_result simulation_based_calibration(const context& ctx, std::shared_ptr<const linear_operator> op,
                                        const latent_factor& factor, double sigma_y, field values,
                                        const prior& latent_prior, const sampler_params& sampler,
                                        const sbc_params& params, const twofold::prior* truth_prior) {
  TWOFOLD_EXPECTS(op != nullptr && factor.image_operator != nullptr && factor.factor != nullptr,
                  "SBC with a latent factor needs the operators A F, A and F");
  const image_shape sz = op->domain(), s = factor.image_operator->domain();
  TWOFOLD_EXPECTS(factor.factor->domain() == sz && factor.factor->codomain() == s,
                  "SBC latent factor: F must map the prior's shape " + to_string(sz) + " to A's image " + to_string(s) +
                      " (got " + to_string(factor.factor->domain()) + " -> " + to_string(factor.factor->codomain()) +
                      ")");
  TWOFOLD_EXPECTS(op->codomain() == factor.image_operator->codomain(),
                  "SBC latent factor: A F and A must have the same measurements");
  TWOFOLD_EXPECTS(factor.mean.size() == s.pixels(), "SBC latent factor: the mean must be one image of " +
                                                        to_string(s) + " (got " + std::to_string(factor.mean.size()) +
                                                        " values)");
  {  // op must be A F: one random probe, to float round-off
    const bool real = values == field::real;
    std::vector<cfloat> w(sz.pixels());
    const rng_stream r{params.seed, 0, 0, rng_purpose::test, 79, real};
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = r.normal(0, i);
    const chain_buffer z = to_backend(ctx, w, 1, sz);
    chain_buffer fz(ctx, 1, s), afz(ctx, 1, op->codomain()), bz(ctx, 1, op->codomain());
    factor.factor->apply(ctx, z.view(), fz.view());
    factor.image_operator->apply(ctx, fz.view(), afz.view());
    op->apply(ctx, z.view(), bz.view());
    const auto a = to_host(ctx, afz.storage), b = to_host(ctx, bz.storage);
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff += norm2(cdouble(a[i]) - cdouble(b[i])), norm += norm2(cdouble(a[i]));
    TWOFOLD_EXPECTS(diff <= 1e-6 * norm, "SBC latent factor: the sampled operator is not A F (relative difference " +
                                             std::to_string(std::sqrt(diff / std::max(norm, 1e-300))) + ")");
  }
  return calibrate(ctx, std::move(op), &factor, sigma_y, values, latent_prior, sampler, params, truth_prior);
}

conformal_result conformal_scale(const sbc_result& sbc, double alpha, std::size_t calibration) {
  const std::size_t L = sbc.miscoverage_by_scale.size();
  TWOFOLD_EXPECTS(alpha > 0 && alpha < 1, "conformal risk level alpha must lie in (0, 1)");
  TWOFOLD_EXPECTS(calibration >= 1 && calibration < L, "conformal calibration needs 1 <= calibration replicates < " +
                                                           std::to_string(L) + " (the rest are the test set)");
  conformal_result r;
  r.alpha = alpha;
  r.calibration = calibration;
  r.test = L - calibration;
  r.scale = std::numeric_limits<double>::infinity();
  const double n = double(calibration);
  for (std::size_t i = 0; i < sbc.scales.size(); ++i) {
    double risk = 0;
    for (std::size_t l = 0; l < calibration; ++l) risk += sbc.miscoverage_by_scale[l][i] / n;
    if (n / (n + 1) * risk + 1 / (n + 1) <= alpha) {
      r.scale = sbc.scales[i];
      r.calibration_risk = risk;
      for (std::size_t l = calibration; l < L; ++l) r.test_risk += sbc.miscoverage_by_scale[l][i] / double(r.test);
      return r;
    }
  }
  return r;
}

}  // namespace twofold
