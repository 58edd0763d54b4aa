// Measurement sets (include/twofold/problem/inverse_problem.hpp): a problem with S measurements of
// one A and σ_y samples its runs side by side, run r conditioning on set r. Every
// sampler must give run r of the batch the draws that the single-set problem r
// gives the same chains, and must really read set r (not set 0).
#include <twofold/twofold.hpp>
#include <twofold/twofold.hpp>
#include <twofold/priors/gaussian_mixture.hpp>
#include <twofold/sampling/sample.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace twofold {
namespace {

using namespace twofold::testing;

constexpr std::size_t sets = 3, chains = 8;

/// S = 3 measurements of one Fourier mask operator, stacked.
std::vector<cfloat> stacked_kspace(const context& ctx, const gaussian_prior& prior, const linear_operator& op,
                                   double sigma) {
  std::vector<cfloat> all;
  for (std::uint64_t seed = 99; seed < 99 + sets; ++seed) {
    const auto y = simulate_kspace(ctx, prior, op, sigma, seed);
    all.insert(all.end(), y.begin(), y.end());
  }
  return all;
}

struct batch_comparison {
  double largest_difference = 0;  ///< batch run r against single set r, same chains
  double smallest_set_effect = HUGE_VAL;  ///< batch run r (r > 0) against single set 0, same chains
};

/// Draws runs × K chains of the S-set problem and, per set r, of the single-set
/// problem r; compares run r's chains.
batch_comparison compare(const context& ctx, const inverse_problem& batch, const prior& prior,
                         const sampler_params& sp) {
  design_params d;
  d.runs = sets;
  d.chains_per_run = chains;
  d.seed = 5;
  const std::size_t N = batch.shape().pixels(), run = chains * N;
  const auto together = posterior_draws(ctx, batch, prior, sp, d);
  const auto first = posterior_draws(ctx, batch.measurement_set(ctx, 0), prior, sp, d);
  batch_comparison c;
  for (std::size_t r = 0; r < sets; ++r) {
    const auto alone = r == 0 ? first : posterior_draws(ctx, batch.measurement_set(ctx, r), prior, sp, d);
    double effect = 0;
    for (std::size_t i = r * run; i < (r + 1) * run; ++i) {
      c.largest_difference = std::max(c.largest_difference, double(abs(together[i] - alone[i])));
      effect = std::max(effect, double(abs(together[i] - first[i])));
    }
    if (r > 0) c.smallest_set_effect = std::min(c.smallest_set_effect, effect);
  }
  return c;
}

/// The closed-form Fourier problem with S measurement sets (set 0 is its kspace).
struct fourier_sets_case : fourier_case {
  inverse_problem batch{ctx, op, stacked_kspace(ctx, prior, *op, sigma), sigma, field::complex, sets};
};

// Every sampler whose chains (or particle systems) never interact across runs gives
// the same bits: the run's y is the only thing that differs. The exact sampler with
// a Gaussian prior samples set 0's posterior and shifts each run by m(y_r) − m(y_0):
// equal in distribution, the same draws up to float rounding of the shift.
TEST(MeasurementSets, EverySamplerGivesRunRTheDrawsOfSetR) {
  fourier_sets_case c;
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                          sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm, sampler_kind::smc}) {
    sampler_params sp;
    sp.kind = kind;
    sp.schedule.levels = 30;
    const auto r = compare(c.ctx, c.batch, c.prior, sp);
    if (kind == sampler_kind::exact) EXPECT_LT(r.largest_difference, 1e-5) << to_string(kind);
    else EXPECT_EQ(r.largest_difference, 0.0) << to_string(kind);
    // The sets are independent measurements: run r must move with its own y.
    EXPECT_GT(r.smallest_set_effect, 1e-2) << to_string(kind);
  }
}

// The exact sampler without a shared basis (dense form): a Gaussian prior shifts by
// C Aᴴ(y_r − y_0)/σ_y² from set 0's eigenvectors; a two-component mixture builds the
// posterior of each run's set (weights and means both depend on y).
TEST(MeasurementSets, ExactSamplerInDenseFormFollowsEachSet) {
  fourier_sets_case c;
  const gaussian_prior pixel_prior(c.ctx, gaussian_basis::pixel, c.shape, random_image(c.shape, 4, 0.3f),
                                   std::vector<float>(c.shape.pixels(), 0.3f));
  const inverse_problem batch(c.ctx, c.op, stacked_kspace(c.ctx, pixel_prior, *c.op, c.sigma), c.sigma,
                              field::complex, sets);
  sampler_params sp;
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 30;
  const auto gaussian = compare(c.ctx, batch, pixel_prior, sp);
  EXPECT_LT(gaussian.largest_difference, 1e-5);
  EXPECT_GT(gaussian.smallest_set_effect, 1e-2);

  const std::size_t N = c.shape.pixels();
  std::vector<cfloat> means = random_image(c.shape, 6, 0.5f);
  const auto second = random_image(c.shape, 7, 0.5f);
  means.insert(means.end(), second.begin(), second.end());
  std::vector<float> variances(2 * N, 0.2f);
  std::fill(variances.begin() + std::ptrdiff_t(N), variances.end(), 0.05f);
  const gaussian_mixture_prior mixture(c.ctx, gaussian_basis::pixel, c.shape, std::vector<double>{0.3, 0.7}, means, variances);
  const auto mixed = compare(c.ctx, batch, mixture, sp);
  EXPECT_EQ(mixed.largest_difference, 0.0);
  EXPECT_GT(mixed.smallest_set_effect, 1e-2);
}

/// A two-component Fourier mixture in the operator's basis (diagonal form).
gaussian_mixture_prior fourier_mixture(const fourier_sets_case& c) {
  auto means = random_image(c.shape, 8, 0.3f);
  for (auto& v : means) v += cfloat{1.0f, 0.0f};
  const auto second = random_image(c.shape, 9, 0.3f);
  means.insert(means.end(), second.begin(), second.end());
  auto spectra = decaying_spectrum(c.shape, 0.5, 2.0);
  const auto other = decaying_spectrum(c.shape, 0.2, 1.0);
  spectra.insert(spectra.end(), other.begin(), other.end());
  return gaussian_mixture_prior(c.ctx, gaussian_basis::fourier, c.shape, std::vector<double>{0.4, 0.6}, means, spectra);
}

// The diagonal form: one mixture_target over all sets against the prior's own
// denoiser per set (a constant-variance log-determinant shortcut and FFT batch
// sizes differ: float rounding only).
TEST(MeasurementSets, ExactMixtureInTheSharedBasisFollowsEachSet) {
  fourier_sets_case c;
  const auto mixture = fourier_mixture(c);
  sampler_params sp;
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 30;
  const auto r = compare(c.ctx, c.batch, mixture, sp);
  EXPECT_LT(r.largest_difference, 1e-4);
  EXPECT_GT(r.smallest_set_effect, 1e-2);
}

// Cascade stage 2 of a mixture samples every run of a wave in one target: the maps
// must not depend on how runs fall into waves.
TEST(MeasurementSets, ExactMixtureCascadeDoesNotDependOnWaves) {
  fourier_sets_case c;
  const auto mixture = fourier_mixture(c);
  const auto problem = c.problem();
  sampler_params sp;
  sp.kind = sampler_kind::exact;
  sp.schedule.levels = 30;
  design_params d;
  d.runs = 5;
  d.chains_per_run = 6;
  std::vector<uncertainty_maps> maps;
  for (const std::size_t wave : {std::size_t{0}, std::size_t{4}, std::size_t{9}}) {
    d.wave_chains = wave;
    maps.push_back(sample(c.ctx, problem, mixture, sp, d).maps);
  }
  for (std::size_t i = 1; i < maps.size(); ++i)
    for (std::size_t p = 0; p < c.shape.pixels(); ++p) {
      EXPECT_EQ(maps[i].mean[p], maps[0].mean[p]) << "wave setting " << i;
      EXPECT_EQ(maps[i].ambiguity[p], maps[0].ambiguity[p]) << "wave setting " << i;
    }
}

// Each set's unmeasured entries are zeroed, and set r of the batch is the problem
// built from y_r alone.
TEST(MeasurementSets, EachSetIsTheProblemOfItsMeasurement) {
  fourier_sets_case c;
  const std::size_t M = c.op->codomain().pixels(), N = c.shape.pixels();
  auto raw = stacked_kspace(c.ctx, c.prior, *c.op, c.sigma);
  for (auto& v : raw) v += cfloat{1.0f, -2.0f};  // also on entries the mask never reaches
  const inverse_problem batch(c.ctx, c.op, raw, c.sigma, field::complex, sets);
  EXPECT_EQ(batch.sets(), sets);
  for (std::size_t r = 0; r < sets; ++r) {
    const inverse_problem alone(c.ctx, c.op, std::span<const cfloat>(raw).subspan(r * M, M), c.sigma);
    const auto one = batch.measurement_set(c.ctx, r);
    EXPECT_EQ(one.sets(), 1u);
    EXPECT_EQ(one.measured_entries(), alone.measured_entries());
    for (std::size_t i = 0; i < M; ++i) {
      EXPECT_EQ(batch.measurements()[r * M + i], alone.measurements()[i]) << "set " << r << " entry " << i;
      EXPECT_EQ(one.measurements()[i], alone.measurements()[i]);
    }
    for (std::size_t p = 0; p < N; ++p) EXPECT_EQ(batch.zero_filled()[r * N + p], alone.zero_filled()[p]);
  }
}

TEST(MeasurementSets, BadInputIsRefused) {
  fourier_sets_case c;
  const auto y = simulate_kspace(c.ctx, c.prior, *c.op, c.sigma, 1);
  EXPECT_CONTAINS(bad_input_message([&] { inverse_problem(c.ctx, c.op, y, c.sigma, field::complex, 0); }),
                  "at least one measurement set");
  EXPECT_CONTAINS(bad_input_message([&] { inverse_problem(c.ctx, c.op, y, c.sigma, field::complex, 2); }),
                  "2 sets of");
  EXPECT_CONTAINS(bad_input_message([&] { (void)c.batch.measurement_set(c.ctx, sets); }), "measurement set 3");
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  design_params d;
  d.runs = sets + 1;
  EXPECT_CONTAINS(bad_input_message([&] { posterior_draws(c.ctx, c.batch, c.prior, sp, d); }), "needs runs = 3");
  d.runs = sets;
  EXPECT_CONTAINS(bad_input_message([&] { sample(c.ctx, c.batch, c.prior, sp, d); }), "posterior_draws");
  EXPECT_CONTAINS(bad_input_message([&] { normalised_residuals(c.ctx, c.batch, random_image(c.shape, 1)); }),
                  "one measurement set at a time");
}

// SBC's batches of replicates are only a memory plan: any split gives the same ranks.
TEST(MeasurementSets, SbcDoesNotDependOnHowReplicatesAreBatched) {
  fourier_sets_case c;
  sampler_params sp;
  sp.kind = sampler_kind::langevin;
  sp.schedule.levels = 20;
  sbc_params params;
  params.replicates = 10;
  params.draws = 9;
  params.bins = 5;
  std::vector<sbc_result> results;
  for (const std::size_t batch : {std::size_t{0}, std::size_t{1}, std::size_t{4}}) {
    params.batch_replicates = batch;
    results.push_back(simulation_based_calibration(c.ctx, c.op, c.sigma, field::complex, c.prior, sp, params));
  }
  for (std::size_t i = 1; i < results.size(); ++i)
    for (std::size_t t = 0; t < results[0].tests.size(); ++t)
      EXPECT_EQ(results[i].tests[t].ranks, results[0].tests[t].ranks) << results[0].tests[t].name << " split " << i;
}

}  // namespace
}  // namespace twofold
