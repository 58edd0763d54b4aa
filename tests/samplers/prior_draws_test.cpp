// prior_draws (include/twofold/sampling/sample.hpp): the posterior sampler run with
// nothing observed draws the prior itself. Against a Gaussian prior's closed-form
// moments: pto exactly (A = 0 leaves the perturbation x' ~ prior untouched), the exact
// sampler up to its time discretisation, ddrm (its DDIM-η step everywhere) against the
// closed form of its own recursion; bad input refused.
#include <twofold/twofold.hpp>
#include <twofold/sampling/sample.hpp>

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace twofold {
namespace {

using namespace twofold::testing;

struct moments {
  double mean_error = 0;      ///< RMS over pixels of (m̂ − m)/σ, m and σ² the expected mean and variance
  double variance_ratio = 0;  ///< Σ sample variance / Σ expected variance
};

/// Sample moments of `n` draws against expected per-pixel means and variances
/// (default: the prior's own).
moments of(const std::vector<cfloat>& draws, const gaussian_prior& prior, std::size_t n,
           std::vector<cdouble> mean = {}, std::vector<double> variance = {}) {
  const std::size_t N = prior.shape().pixels();
  if (mean.empty())
    for (std::size_t p = 0; p < N; ++p) mean.push_back(cdouble(prior.mean()[p]));
  if (variance.empty())
    for (std::size_t p = 0; p < N; ++p) variance.push_back(prior.variance()[p]);
  double sq = 0, var = 0, expected = 0;
  for (std::size_t p = 0; p < N; ++p) {
    cdouble m{};
    for (std::size_t c = 0; c < n; ++c) m += cdouble(draws[c * N + p]);
    m = m * (1.0 / double(n));
    double v = 0;
    for (std::size_t c = 0; c < n; ++c) v += norm2(cdouble(draws[c * N + p]) - m);
    v /= double(n - 1);
    sq += norm2(m - mean[p]) / variance[p];
    var += v;
    expected += variance[p];
  }
  return {std::sqrt(sq / double(N)), var / expected};
}

/// ddrm with nothing observed on a pixel-basis Gaussian prior (variance v, mean μ per
/// pixel): the linear recursion its steps make (host/samplers/spectral.cpp), in closed
/// form. u_T = s_max ζ; at level s → s' (s' = 0 after the last), with the denoiser
/// D = μ + v/(v + s²)(u − μ): u' = D + k (u − D) + η s' ζ, k = √(1 − η²) s'/s; so
/// E u' − μ = a (E u − μ) and Var u' = a² Var u + η² s'², a = (v + k s²)/(v + s²).
void ddrm_unconditional_moments(const gaussian_prior& prior, const schedule_params& schedule, double eta,
                                std::vector<cdouble>& mean, std::vector<double>& variance) {
  const auto levels = noise_levels(schedule);
  for (std::size_t p = 0; p < prior.shape().pixels(); ++p) {
    const double v = prior.variance()[p];
    const cdouble mu(prior.mean()[p]);
    cdouble offset = cdouble{} - mu;
    double var = levels.front() * levels.front();
    for (std::size_t i = 0; i < levels.size(); ++i) {
      const double s = levels[i], next = i + 1 < levels.size() ? levels[i + 1] : 0.0;
      const double k = std::sqrt(1 - eta * eta) * next / s, a = (v + k * s * s) / (v + s * s);
      offset = offset * a;
      var = a * a * var + eta * eta * next * next;
    }
    mean.push_back(mu + offset);
    variance.push_back(var);
  }
}

TEST(PriorDraws, MatchTheGaussianPriorsMoments) {
  const context ctx(backend_request::cpu);
  const image_shape shape{6, 8};
  std::vector<float> variance(shape.pixels());
  for (std::size_t i = 0; i < variance.size(); ++i) variance[i] = 0.2f + 0.1f * float(i % 7);
  const gaussian_prior prior(ctx, gaussian_basis::pixel, shape, random_image(shape, 4, 0.5f), variance);
  const std::size_t n = 2000;
  // Per pixel (m̂ − μ)/σ ~ N(0, 1/n): the RMS over 48 pixels exceeds 3.5/√n with
  // probability < 5e-4 even for one pixel. A summed variance over 48 complex pixels
  // and n draws has relative SE √(1/(48 n)) ≈ 0.0032 (complex: 2 real parts each).
  const double mean_bound = 3.5 / std::sqrt(double(n)), se = std::sqrt(1.0 / (48.0 * double(n)));
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  const auto pto = of(prior_draws(ctx, shape, field::complex, prior, sp, n, 3), prior, n);
  EXPECT_LT(pto.mean_error, mean_bound);
  EXPECT_NEAR(pto.variance_ratio, 1.0, 4 * se);
  // The exact sampler at 300 levels: variance −3.1 … −3.8 % by its discretisation
  // (README, "Samplers"), plus 4 SE.
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 300;
  const auto exact = of(prior_draws(ctx, shape, field::complex, prior, sp, n, 3), prior, n);
  EXPECT_LT(exact.mean_error, mean_bound);
  EXPECT_NEAR(exact.variance_ratio, 0.965, 0.02 + 4 * se);
  // ddrm with nothing observed takes its DDIM-η step (η = 0.85) in every direction: its
  // closed-form recursion, which under-disperses (measured 0.75 of the prior's variance
  // at 300 levels: the step shrinks u − D, whose variance is below s², as if it were
  // all noise).
  sp.kind = sampler_kind::ddrm;
  std::vector<cdouble> ddrm_mean;
  std::vector<double> ddrm_variance;
  ddrm_unconditional_moments(prior, sp.schedule, sp.ddrm.eta, ddrm_mean, ddrm_variance);
  const auto ddrm = of(prior_draws(ctx, shape, field::complex, prior, sp, n, 3), prior, n, ddrm_mean, ddrm_variance);
  EXPECT_LT(ddrm.mean_error, mean_bound);
  EXPECT_NEAR(ddrm.variance_ratio, 1.0, 4 * se);
  EXPECT_LT(of(prior_draws(ctx, shape, field::complex, prior, sp, n, 3), prior, n).variance_ratio, 0.9);
  // A prior 2x wider is not mistaken for it.
  std::vector<float> wide = variance;
  for (auto& v : wide) v *= 4.0f;
  const gaussian_prior wider(ctx, gaussian_basis::pixel, shape, prior.mean(), wide);
  sp.kind = sampler_kind::pto;
  EXPECT_GT(of(prior_draws(ctx, shape, field::complex, wider, sp, n, 3), prior, n).variance_ratio, 3.5);
  // Real problems give real draws; chain c does not depend on the count.
  std::vector<cfloat> real_mean(shape.pixels());
  for (std::size_t i = 0; i < real_mean.size(); ++i) real_mean[i] = cfloat{prior.mean()[i].re, 0.0f};
  const gaussian_prior real_prior(ctx, gaussian_basis::pixel, shape, real_mean, variance);
  const auto real = prior_draws(ctx, shape, field::real, real_prior, sp, 4, 9);
  for (const cfloat v : real) EXPECT_EQ(v.im, 0.0f);
  const auto more = prior_draws(ctx, shape, field::real, real_prior, sp, 6, 9);
  for (std::size_t i = 0; i < real.size(); ++i) EXPECT_EQ(real[i], more[i]) << i;
}

TEST(PriorDraws, BadInputIsRefused) {
  const context ctx(backend_request::cpu);
  const image_shape shape{4, 4};
  const gaussian_prior prior(ctx, gaussian_basis::pixel, shape, std::vector<cfloat>(16),
                             std::vector<float>(16, 1.0f));
  const sampler_params sp;
  EXPECT_CONTAINS(bad_input_message([&] { prior_draws(ctx, shape, field::complex, prior, sp, 0); }),
                  "count must lie in [1, 2^32)");
  EXPECT_CONTAINS(bad_input_message([&] { prior_draws(ctx, image_shape{0, 4}, field::complex, prior, sp, 2); }),
                  "non-empty H x W");
}

}  // namespace
}  // namespace twofold
