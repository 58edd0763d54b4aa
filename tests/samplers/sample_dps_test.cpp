// DPS (Chung et al. 2023) makes no exactness claim. What it promises, and is tested
// for: forward consistency (the normalised residual ‖A x − y‖²/(m σ_y²) of its draws
// is of the order 1) on complex and real fields. Its bias against the exact Gaussian
// posterior is measured and recorded (mean error in posterior std units, variance
// ratio), with bounds at the measured values plus Monte Carlo room.
#include <twofold/twofold.hpp>
#include <twofold/exact/fourier.hpp>
#include <twofold/sampling/sample.hpp>

#include "host/sampling/sampler.hpp"
#include "tests/support/fourier_case.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace twofold {
namespace {

using namespace twofold::testing;

struct draws {
  std::vector<cfloat> x;  // chains × N
  std::size_t chains;
};

draws draw_chains(const context& ctx, const inverse_problem& problem, const prior& prior, sampler_kind kind,
                      std::size_t chains, std::size_t levels, double zeta = 1.0,
                      schedule_kind schedule = schedule_kind::edm_karras) {
  sampler_params sp;
  sp.kind = kind;
  sp.schedule.kind = schedule;
  sp.schedule.levels = levels;
  sp.dps.zeta = zeta;
  const auto sampler = detail::make_sampler(ctx, problem, prior, sp, 1);
  chain_buffer x(ctx, chains, problem.shape());
  sampler->posterior(ctx, x.view(), rng_stream{21, 0, 0, rng_purpose::diffusion_noise, 0, problem.is_real()}, 1, {});
  return {to_host(ctx, x.storage), chains};
}

/// Mean over chains of ‖A x − y‖² / (m σ_y²), m = number of measured entries.
double normalised_residual(const context& ctx, const inverse_problem& problem, const draws& d, std::size_t m) {
  const image_shape ms = problem.op().codomain();
  chain_buffer x(ctx, d.chains, problem.shape()), y(ctx, d.chains, ms);
  detail::copy_bytes(ctx, x.storage.data(), d.x.data(), d.x.size() * sizeof(cfloat));
  problem.op().apply(ctx, x.view(), y.view());
  const auto ax = to_host(ctx, y.storage);
  double r = 0;
  // Entries A never reaches (unsampled positions) are not measurements.
  for (std::size_t i = 0; i < ax.size(); ++i)
    if (ax[i] != cfloat{}) r += norm2(ax[i] - problem.measurements()[i % ms.pixels()]);
  return r / (double(d.chains) * double(m) * problem.sigma_y() * problem.sigma_y());
}

struct bias {
  double mean_error;      // RMS over pixels of |mean − exact| / exact std
  double variance_ratio;  // spatial mean of the sample variance / exact variance
};

bias measure(const draws& d, const gaussian_posterior_maps& want) {
  const std::size_t N = want.mean.size();
  double z2 = 0, v = 0, vw = 0;
  for (std::size_t p = 0; p < N; ++p) {
    cdouble m{};
    for (std::size_t c = 0; c < d.chains; ++c) m += cdouble(d.x[c * N + p]);
    m = (1.0 / double(d.chains)) * m;
    double var = 0;
    for (std::size_t c = 0; c < d.chains; ++c) var += norm2(cdouble(d.x[c * N + p]) - m);
    v += var / double(d.chains - 1);
    vw += want.variance[p];
    z2 += norm2(m - want.mean[p]) / want.variance[p];
  }
  return {std::sqrt(z2 / double(N)), v / vw};
}

TEST(DpsSampler, ForwardConsistentWithMeasuredBias) {
  // Measured (512 chains, 100 levels, ζ = 1, seed 21) against the closed form:
  //                     mean error  variance ratio  normalised residual
  //   exact             0.036       0.908           0.894 (closed form 1.000; 0.897
  //                                                 after the ancestral discretisation)
  //   dps, edm-karras   0.071       0.906           0.800
  //   dps, vp-linear    0.075       0.884           0.798
  // Promised and tested: the residual is of the order 1 (stated band [0.5, 1.5]).
  // Bounds with Monte Carlo room around the measured values (the per-pixel SE of a
  // 512-chain mean is 0.044 std; of the variance ratio ≈ 0.06/pixel): mean error below
  // 0.2 std, variance ratio within 0.9 ± 0.2.
  fourier_case fc({1, 3, 4, 5}, 0.1, {8, 8});
  const auto problem = fc.problem();
  const auto want = fourier_posterior(fc.ctx, fc.prior, *fc.op, fc.kspace, fc.sigma);
  const std::size_t chains = 512, L = 100;
  for (const auto sched : {schedule_kind::edm_karras, schedule_kind::vp_linear}) {
    const auto d = draw_chains(fc.ctx, problem, fc.prior, sampler_kind::dps, chains, L, 1.0, sched);
    const auto b = measure(d, want);
    const double res = normalised_residual(fc.ctx, problem, d, fc.op->sampled());
    const std::string k(to_string(sched));
    RecordProperty(k + "_mean_error_rms_std", std::to_string(b.mean_error));
    RecordProperty(k + "_variance_ratio", std::to_string(b.variance_ratio));
    RecordProperty(k + "_normalised_residual", std::to_string(res));
    EXPECT_GT(res, 0.5) << k;
    EXPECT_LT(res, 1.5) << k;
    EXPECT_LT(b.mean_error, 0.2) << k;
    EXPECT_NEAR(b.variance_ratio, 0.9, 0.2) << k;
  }
}

TEST(DpsSampler, RunsOnRealFields) {
  // A real dense operator (an EEG-like lead field) and a real pixel prior: draws stay
  // real and forward consistent. The normalised DPS step moves u by about ζ‖A‖ per
  // level whatever the residual, so consistency needs ζ matched to the problem:
  // measured residual 16.7 at the paper's ζ = 1 here, of the order 1 at ζ = 0.1.
  const context ctx(backend_request::cpu);
  const image_shape s{1, 12};
  const std::size_t m = 6;
  // Entries of variance 1/n, so ‖A‖ is of the order 1 like the masks DPS's ζ was tuned
  // on (a fixed normalised step moves u by about ζ‖A‖ per level whatever the residual).
  auto a = random_matrix(m, s.pixels(), true, 4);
  for (auto& z : a) z = (1.0f / std::sqrt(float(s.pixels()))) * z;
  auto op = std::make_shared<dense_operator>(ctx, a, m, s);
  std::vector<cfloat> mean(s.pixels());
  const std::vector<float> var(s.pixels(), 0.5f);
  const gaussian_prior prior(ctx, gaussian_basis::pixel, s, mean, var);
  chain_buffer truth(ctx, 1, s), y(ctx, 1, op->codomain());
  const auto t = random_image(s, 5, 0.7f);
  std::vector<cfloat> real_truth(t);
  for (auto& z : real_truth) z.im = 0.0f;
  detail::copy_bytes(ctx, truth.storage.data(), real_truth.data(), real_truth.size() * sizeof(cfloat));
  op->apply(ctx, truth.view(), y.view());
  auto yh = to_host(ctx, y.storage);
  const double sigma = 0.05;
  for (std::size_t i = 0; i < m; ++i) yh[i] = {yh[i].re + float(sigma) * 1.41421356f * complex_normal(6, 0, 0, rng_purpose::test, i).re, 0.0f};
  const inverse_problem problem(ctx, op, yh, sigma, field::real);
  const auto d = draw_chains(ctx, problem, prior, sampler_kind::dps, 256, 100, 0.1);
  for (const cfloat z : d.x) ASSERT_EQ(z.im, 0.0f);
  const double res = normalised_residual(ctx, problem, d, m);
  RecordProperty("real_normalised_residual", std::to_string(res));
  EXPECT_GT(res, 0.2);
  EXPECT_LT(res, 2.0);
}

/// A prior with a denoiser but no VJP (an external denoiser without gradients).
class no_vjp_prior final : public prior {
 public:
  explicit no_vjp_prior(const gaussian_prior& g) : g_(g) {}
  image_shape shape() const override { return g_.shape(); }
  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override {
    g_.denoise(ctx, z, s, out);
  }
  std::string name() const override { return "external"; }

 private:
  const gaussian_prior& g_;
};

TEST(DpsSampler, RefusesPriorsWithoutVjpAndBadZeta) {
  fourier_case fc({1, 3, 4, 5}, 0.1, {8, 8});
  const auto problem = fc.problem();
  sampler_params sp;
  sp.kind = sampler_kind::dps;
  const no_vjp_prior external(fc.prior);
  const auto msg = bad_input_message([&] { detail::make_sampler(fc.ctx, problem, external, sp, 1); });
  EXPECT_CONTAINS(msg, "sampler 'dps'");
  EXPECT_CONTAINS(msg, "'external'");
  sp.dps.zeta = 0;
  EXPECT_CONTAINS(bad_input_message([&] { detail::make_sampler(fc.ctx, problem, fc.prior, sp, 1); }), "zeta");
}

}  // namespace
}  // namespace twofold
