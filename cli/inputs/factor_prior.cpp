// `--prior factor` (see factor_prior.hpp): z of y − A μ = (A F) z + n sampled with the
// N(0, I) prior, every kept draw mapped to x = μ + F z, the maps of x accumulated by
// maps_from_draws; the exact reference by dense_posterior_factor_prior.
#include "inputs/factor_prior.hpp"

#include <twofold/twofold.hpp>

#include <memory>
#include <string>

namespace twofold::cli {

using io::shape_text;

std::vector<double> factor_prior::variance() const {
  std::vector<double> v(mean.size(), 0.0);
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = 0; j < rank; ++j) v[i] += factor[i * rank + j] * factor[i * rank + j];
  return v;
}

factor_prior read_factor_prior(const problem_inputs& o, const loaded_problem& p) {
  TWOFOLD_EXPECTS(!p.matrix.empty(), "--prior factor needs --operator dense with a real matrix (--matrix or --forward)");
  TWOFOLD_EXPECTS(!o.prior_factor.empty(), "--prior factor needs --prior-factor F.npy ([n, k], prior covariance F F^T)");
  const std::size_t n = p.op->domain().pixels();
  factor_prior f;
  const auto a = read_real(o.prior_factor, "prior factor " + o.prior_factor, f.factor);
  TWOFOLD_EXPECTS(a.shape.size() == 2 && a.shape[0] == n && a.shape[1] > 0,
                  "prior factor " + o.prior_factor + " has shape " + shape_text(a.shape) + " but the matrix has " +
                      std::to_string(n) + " columns (expected [" + std::to_string(n) + ", k])");
  f.rank = a.shape[1];
  f.mean.assign(n, 0.0);
  if (!o.prior_mean.empty()) {
    const auto m = read_real(o.prior_mean, "prior mean " + o.prior_mean, f.mean);
    expect_image(m.shape, image_shape{1, n}, "prior mean " + o.prior_mean, "the image (the operator's domain)");
  }
  return f;
}

namespace {

/// y − A μ and A F (float, as the engine's dense operator holds it).
struct latent_data {
  std::vector<cfloat> y, af;
};

latent_data latent_problem(const loaded_problem& p, const factor_prior& f) {
  const std::size_t m = p.matrix_rows, n = f.mean.size(), k = f.rank;
  latent_data d{std::vector<cfloat>(m), std::vector<cfloat>(m * k)};
  for (std::size_t i = 0; i < m; ++i) {
    double r = i < p.y.size() ? p.y[i].re : 0.0;
    for (std::size_t j = 0; j < n; ++j) r -= p.matrix[i * n + j] * f.mean[j];
    d.y[i] = {float(r), 0.0f};
    for (std::size_t l = 0; l < k; ++l) {
      double v = 0;
      for (std::size_t j = 0; j < n; ++j) v += p.matrix[i * n + j] * f.factor[j * k + l];
      d.af[i * k + l] = {float(v), 0.0f};
    }
  }
  return d;
}

gaussian_prior white_prior(const context& ctx, std::size_t k) {
  return {ctx, gaussian_basis::pixel, {1, k}, std::vector<cfloat>(k), std::vector<float>(k, 1.0f)};
}

}  // namespace

sbc_result calibrate_factor_prior(const context& ctx, const loaded_problem& p, const factor_prior& f, double sigma,
                                  const sampler_params& sp, const sbc_params& params) {
  const std::size_t n = f.mean.size(), k = f.rank;
  const auto d = latent_problem(p, f);
  latent_factor x_of_z;
  x_of_z.image_operator = p.op;
  std::vector<cfloat> factor(n * k), mean(n);
  for (std::size_t i = 0; i < factor.size(); ++i) factor[i] = {float(f.factor[i]), 0.0f};
  for (std::size_t i = 0; i < n; ++i) mean[i] = {float(f.mean[i]), 0.0f};
  x_of_z.factor = std::make_shared<dense_operator>(ctx, factor, n, image_shape{1, k});
  x_of_z.mean = std::move(mean);
  const auto zop = std::make_shared<dense_operator>(ctx, d.af, p.matrix_rows, image_shape{1, k});
  return simulation_based_calibration(ctx, zop, x_of_z, sigma, field::real, white_prior(ctx, k), sp, params);
}

sample_result sample_factor_prior(const context& ctx, const loaded_problem& p, const factor_prior& f, double sigma,
                                  const sampler_params& sp, const design_params& design,
                                  const progress_callback& progress) {
  const std::size_t m = p.matrix_rows, n = f.mean.size(), k = f.rank;
  const auto [yz, b] = latent_problem(p, f);
  const auto zop = std::make_shared<dense_operator>(ctx, b, m, image_shape{1, k});
  const inverse_problem zproblem(ctx, zop, yz, sigma, field::real);
  const gaussian_prior white = white_prior(ctx, k);
  design_params keep = design;
  keep.keep_draws = true;
  const auto z = sample(ctx, zproblem, white, sp, keep, progress);
  const std::size_t draws = design.runs * design.chains_per_run;
  sample_result out;
  out.draws.resize(draws * n);
  for (std::size_t d = 0; d < draws; ++d)
    for (std::size_t i = 0; i < n; ++i) {
      double v = f.mean[i];
      for (std::size_t l = 0; l < k; ++l) v += f.factor[i * k + l] * double(z.draws[d * k + l].re);
      out.draws[d * n + i] = {float(v), 0.0f};
    }
  out.maps = maps_from_draws(ctx, *p.op, design.kind, out.draws, design.runs, design.chains_per_run);
  out.report = z.report;
  return out;
}

gaussian_posterior_maps factor_prior_reference(const loaded_problem& p, const factor_prior& f, double sigma) {
  std::vector<double> y(p.y.size());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = p.y[i].re;
  return dense_posterior_factor_prior(p.matrix, p.matrix_rows, f.mean.size(), f.factor, f.rank, f.mean, y, sigma);
}

}  // namespace twofold::cli
