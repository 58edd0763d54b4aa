// Every operator against its own dense matrix (operator_matrix, built by applying the
// operator to unit images) and against exact linear algebra on that matrix:
// dot-product adjoint test, normal = adjoint ∘ apply, P_R = A⁺A (from an eigen-
// decomposition of AᴴA in double precision), P_N = I − P_R, and for operators with a
// spectral form Vᴴ V = I, Uᴴ A = diag(a) Vᴴ and P_R = V 1[a > 0] Vᴴ. Odd and even
// sizes. Tolerances: float32 operators applied to O(1) data are accurate to a few
// 1e-6 relative; 1e-4 leaves room for FFT round-off and sums over ~100 terms.
#include "tests/support/operator_cases.hpp"
#include "tests/support/test_support.hpp"

#include <twofold/data/coil_maps.hpp>
#include <twofold/core/error.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/twofold.hpp>
#include <twofold/exact/dense.hpp>
#include <twofold/sampling/sample.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#define lapack_complex_float std::complex<float>  // as lapack.h suggests for C++
#define lapack_complex_double std::complex<double>
#include <lapacke.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace twofold {
namespace {

using cd = std::complex<double>;
using testing::mean_of;
using testing::operator_case;
using testing::random_image;
using testing::random_matrix;
using testing::smooth_maps;

// ---- helpers on host vectors ------------------------------------------------------------

cd dot(const std::vector<cfloat>& a, const std::vector<cfloat>& b) {  // aᴴb
  cd s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::conj(cd(a[i].re, a[i].im)) * cd(b[i].re, b[i].im);
  return s;
}

double norm(const std::vector<cfloat>& a) { return std::sqrt(dot(a, a).real()); }

double max_abs_difference(const std::vector<cfloat>& a, const std::vector<cfloat>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(cd(a[i].re - b[i].re, a[i].im - b[i].im)));
  return m;
}

/// Applies `f` to a batch of host images and returns the result on the host.
std::vector<cfloat> run(const context& ctx, const std::vector<cfloat>& in, std::size_t chains, image_shape in_shape,
                        image_shape out_shape,
                        const std::function<void(const_chain_view, chain_view)>& f) {
  auto x = to_backend<cfloat>(ctx, in);
  chain_buffer out(ctx, chains, out_shape);
  f({x.data(), chains, in_shape}, out.view());
  return to_host(ctx, out.storage);
}

/// P = A⁺A (N×N row-major) and rank(A) from the eigen-decomposition of AᴴA in double
/// precision; eigenvalues ≤ 1e-10 · max (singular values ≤ 1e-5 · max: above float
/// round-off, below every operator's own cut-off) count as zero.
struct exact_projector {
  std::vector<cd> p;
  std::size_t rank = 0;
};

exact_projector exact_range_projector(const std::vector<cdouble>& a, std::size_t m, std::size_t n) {
  // Column-major with our own, padded workspaces: OpenBLAS 0.3.21's AVX-512 zgemv_n
  // (inside zheev's tridiagonalisation) reads a little past the end of a vector, and
  // segfaulted when LAPACKE's tightly sized buffers ended at the top of the heap.
  constexpr std::size_t pad = 64;
  std::vector<lapack_complex_double> g(n * n + pad);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      cd s = 0;
      for (std::size_t k = 0; k < m; ++k)
        s += std::conj(cd(a[k * n + i].re, a[k * n + i].im)) * cd(a[k * n + j].re, a[k * n + j].im);
      g[i + j * n] = s;
    }
  std::vector<double> lambda(n + pad), rwork(3 * n + pad);
  lapack_complex_double size = 0;
  EXPECT_EQ(LAPACKE_zheev_work(LAPACK_COL_MAJOR, 'V', 'U', lapack_int(n), g.data(), lapack_int(n), lambda.data(),
                               &size, -1, rwork.data()),
            0);
  std::vector<lapack_complex_double> work(std::size_t(size.real()) + pad);
  EXPECT_EQ(LAPACKE_zheev_work(LAPACK_COL_MAJOR, 'V', 'U', lapack_int(n), g.data(), lapack_int(n), lambda.data(),
                               work.data(), lapack_int(size.real()), rwork.data()),
            0);
  const double top = *std::max_element(lambda.begin(), lambda.begin() + std::ptrdiff_t(n));
  exact_projector out{std::vector<cd>(n * n), 0};
  for (std::size_t k = 0; k < n; ++k) {
    if (lambda[k] <= 1e-10 * top) continue;
    ++out.rank;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) out.p[i * n + j] += g[i + k * n] * std::conj(g[j + k * n]);
  }
  return out;
}

class Operator : public ::testing::TestWithParam<operator_case> {
 protected:
  context ctx{backend_request::cpu};
  std::unique_ptr<linear_operator> op = GetParam().make(ctx);
  image_shape in = op->domain(), out = op->codomain();
  static constexpr std::size_t chains = 3;
};

TEST_P(Operator, AdjointPassesTheDotProductTest) {
  const auto x = random_image({chains * in.height, in.width * in.coils}, 11);
  const auto y = random_image({chains * out.height, out.width * out.coils}, 12);
  const auto ax = run(ctx, x, chains, in, out, [&](auto a, auto b) { op->apply(ctx, a, b); });
  const auto aty = run(ctx, y, chains, out, in, [&](auto a, auto b) { op->adjoint(ctx, a, b); });
  // Per chain: ⟨A x, y⟩ = ⟨x, Aᴴ y⟩.
  for (std::size_t c = 0; c < chains; ++c) {
    const auto part = [c](const std::vector<cfloat>& v, std::size_t n) {
      return std::vector<cfloat>(v.begin() + std::ptrdiff_t(c * n), v.begin() + std::ptrdiff_t((c + 1) * n));
    };
    const cd lhs = dot(part(ax, out.pixels()), part(y, out.pixels()));
    const cd rhs = dot(part(x, in.pixels()), part(aty, in.pixels()));
    EXPECT_LE(std::abs(lhs - rhs), 1e-5 * norm(part(ax, out.pixels())) * norm(part(y, out.pixels())))
        << "chain " << c << ": " << lhs << " vs " << rhs;
  }
}

TEST_P(Operator, NormalIsAdjointOfApplyAndMayWorkInPlace) {
  const auto x = random_image({chains * in.height, in.width * in.coils}, 13);
  const auto ax = run(ctx, x, chains, in, out, [&](auto a, auto b) { op->apply(ctx, a, b); });
  const auto ahax = run(ctx, ax, chains, out, in, [&](auto a, auto b) { op->adjoint(ctx, a, b); });
  const auto normal = run(ctx, x, chains, in, in, [&](auto a, auto b) { op->normal(ctx, a, b); });
  auto in_place = to_backend<cfloat>(ctx, x);
  op->normal(ctx, const_chain_view{in_place.data(), chains, in}, chain_view{in_place.data(), chains, in});
  EXPECT_LE(max_abs_difference(normal, ahax), 1e-5 * norm(ahax));
  EXPECT_LE(max_abs_difference(to_host(ctx, in_place), ahax), 1e-5 * norm(ahax));
}

TEST_P(Operator, MatchesItsDenseMatrix) {
  const auto a = operator_matrix(ctx, *op);
  ASSERT_EQ(a.size(), out.pixels() * in.pixels());
  const auto x = random_image(in, 14);
  const auto ax = run(ctx, x, 1, in, out, [&](auto u, auto v) { op->apply(ctx, u, v); });
  double worst = 0;
  for (std::size_t i = 0; i < out.pixels(); ++i) {
    cd s = 0;
    for (std::size_t j = 0; j < in.pixels(); ++j)
      s += cd(a[i * in.pixels() + j].re, a[i * in.pixels() + j].im) * cd(x[j].re, x[j].im);
    worst = std::max(worst, std::abs(s - cd(ax[i].re, ax[i].im)));
  }
  EXPECT_LE(worst, 1e-5 * norm(ax));
}

TEST_P(Operator, ProjectorsAreThePseudoInverseProjectors) {
  const std::size_t n = in.pixels();
  const auto exact = exact_range_projector(operator_matrix(ctx, *op), out.pixels(), n);
  ASSERT_GT(exact.rank, 0u);
  const auto x = random_image({chains * in.height, in.width * in.coils}, 15);
  auto range = to_backend<cfloat>(ctx, x), null = to_backend<cfloat>(ctx, x);
  op->range_project(ctx, chain_view{range.data(), chains, in});
  op->null_project(ctx, chain_view{null.data(), chains, in});
  const auto pr = to_host(ctx, range), pn = to_host(ctx, null);
  // Multi-coil P_R is iterative (CG stopped at 1e-5 relative residual of AᴴA); the
  // error in z is at most that times cond(AᴴA on the row space), here < 100.
  const double tol = op->spectral() == nullptr ? 1e-3 : 1e-5;
  for (std::size_t c = 0; c < chains; ++c) {
    std::vector<cfloat> want(n), want_null(n), xc(x.begin() + std::ptrdiff_t(c * n), x.begin() + std::ptrdiff_t((c + 1) * n));
    for (std::size_t i = 0; i < n; ++i) {
      cd s = 0;
      for (std::size_t j = 0; j < n; ++j) s += exact.p[i * n + j] * cd(xc[j].re, xc[j].im);
      want[i] = {float(s.real()), float(s.imag())};
      want_null[i] = {xc[i].re - want[i].re, xc[i].im - want[i].im};
    }
    const std::vector<cfloat> got(pr.begin() + std::ptrdiff_t(c * n), pr.begin() + std::ptrdiff_t((c + 1) * n));
    const std::vector<cfloat> got_null(pn.begin() + std::ptrdiff_t(c * n), pn.begin() + std::ptrdiff_t((c + 1) * n));
    EXPECT_LE(max_abs_difference(got, want), tol * norm(xc)) << "P_R, chain " << c << ", rank " << exact.rank;
    EXPECT_LE(max_abs_difference(got_null, want_null), tol * norm(xc)) << "P_N, chain " << c;
  }
  // A P_N x = 0.
  const auto a_null = run(ctx, pn, chains, in, out, [&](auto u, auto v) { op->apply(ctx, u, v); });
  const auto a_x = run(ctx, x, chains, in, out, [&](auto u, auto v) { op->apply(ctx, u, v); });
  EXPECT_LE(norm(a_null), tol * norm(a_x));
}

TEST_P(Operator, SpectralFormIsTheSvd) {
  const spectral_form* sf = op->spectral();
  if (sf == nullptr) {
    EXPECT_EQ(op->name(), "mri-multicoil") << "only multi-coil MRI without the row SVD lacks a spectral form (its P_R is by CG)";
    return;
  }
  const image_shape cs = sf->coefficient_shape();
  const auto& a = sf->singular_values();
  ASSERT_EQ(a.size(), cs.pixels());
  const std::size_t rank = std::size_t(std::count_if(a.begin(), a.end(), [](float s) { return s > 0; }));
  EXPECT_EQ(rank, exact_range_projector(operator_matrix(ctx, *op), out.pixels(), in.pixels()).rank);

  // Vᴴ V = I on coefficients.
  const auto c = random_image({chains * cs.height, cs.width}, 16);
  const auto vc = run(ctx, c, chains, cs, in, [&](auto u, auto v) { sf->synthesise(ctx, u, v); });
  const auto vhvc = run(ctx, vc, chains, in, cs, [&](auto u, auto v) { sf->analyse(ctx, u, v); });
  EXPECT_LE(max_abs_difference(vhvc, c), 1e-5 * norm(c));

  // Uᴴ A x = a ⊙ Vᴴ x on the coefficients with a > 0.
  const auto x = random_image({chains * in.height, in.width}, 17);
  const auto ax = run(ctx, x, chains, in, out, [&](auto u, auto v) { op->apply(ctx, u, v); });
  const auto uhax = run(ctx, ax, chains, out, cs, [&](auto u, auto v) { sf->measurement_coefficients(ctx, u, v); });
  auto vhx = run(ctx, x, chains, in, cs, [&](auto u, auto v) { sf->analyse(ctx, u, v); });
  double worst = 0;
  for (std::size_t i = 0; i < vhx.size(); ++i) {
    const float s = a[i % cs.pixels()];
    if (s > 0) worst = std::max(worst, std::abs(cd(uhax[i].re - s * vhx[i].re, uhax[i].im - s * vhx[i].im)));
  }
  EXPECT_LE(worst, 1e-5 * norm(ax));

  // P_R = V 1[a > 0] Vᴴ.
  for (std::size_t i = 0; i < vhx.size(); ++i)
    if (!(a[i % cs.pixels()] > 0)) vhx[i] = {0, 0};
  const auto want = run(ctx, vhx, chains, cs, in, [&](auto u, auto v) { sf->synthesise(ctx, u, v); });
  auto got = to_backend<cfloat>(ctx, x);
  op->range_project(ctx, chain_view{got.data(), chains, in});
  EXPECT_LE(max_abs_difference(to_host(ctx, got), want), 1e-5 * norm(x));
}

// The cascade of the perturb-then-optimise sampler (exact for any Gaussian prior and
// operator) against the dense posterior of the operator's matrix: every operator has
// an exact reference for its posterior, ambiguity and estimation maps.
TEST_P(Operator, PtoCascadeMatchesTheDensePosterior) {
  const bool real = GetParam().values == field::real;
  const std::size_t n = in.pixels();
  auto mu = random_image(in, 21);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(0.3 + 2.7 * uniform(22, i, rng_purpose::test));
  if (real)
    for (auto& z : mu) z.im = 0;
  // y = A x* + n with x* drawn from the prior and n of the problem's field.
  const double sigma = 0.3;
  const gaussian_prior prior(ctx, gaussian_basis::pixel, in, mu, v);
  chain_buffer truth(ctx, 1, in), y(ctx, 1, out);
  prior.draw(ctx, truth.view(), 0.0, rng_stream{23, 0, 0, rng_purpose::test, 0, real});
  op->apply(ctx, truth.view(), y.view());
  auto kspace = to_host(ctx, y.storage);
  const rng_stream noise{24, 0, 0, rng_purpose::measurement_noise, 0, real};
  for (std::size_t i = 0; i < kspace.size(); ++i) kspace[i] += float(sigma) * noise.normal(0, i);

  const auto want = dense_posterior(in, operator_matrix(ctx, *op), out.pixels(), mu, v, kspace, sigma);
  std::shared_ptr<const linear_operator> shared = GetParam().make(ctx);
  const inverse_problem problem(ctx, shared, kspace, sigma, GetParam().values);
  sampler_params sp;
  sp.kind = sampler_kind::pto;
  sp.cg.tolerance = 1e-6;
  design_params d;
  d.runs = 32;
  d.chains_per_run = 16;
  d.seed = 25;
  const auto got = sample(ctx, problem, prior, sp, d).maps;
  const double R = double(d.runs), K = double(d.chains_per_run);

  // Per pixel, â = mean_r v_r has relative standard error 1/√(R(K−1)) (complex: 2
  // real degrees of freedom per draw; real: √2 times more). The RMS over pixels of
  // the relative error is therefore ≈ that SE when unbiased; 1.5× bounds it with
  // room (its own spread over ≥ 30 pixels is ~15 %). Pixels A pins completely
  // (ambiguity 0) are compared in absolute terms.
  const double se_a = (real ? std::sqrt(2.0) : 1.0) / std::sqrt(R * (K - 1));
  double rms = 0, vmax = *std::max_element(v.begin(), v.end());
  std::size_t counted = 0;
  for (std::size_t p = 0; p < n; ++p) {
    if (want.ambiguity[p] > 1e-3 * vmax) {
      rms += std::pow(got.ambiguity[p] / want.ambiguity[p] - 1, 2);
      ++counted;
    } else {
      EXPECT_LT(got.ambiguity[p], 1e-3 * vmax) << "pixel " << p;
    }
  }
  if (counted > 0) {
    EXPECT_LT(std::sqrt(rms / double(counted)), 1.5 * se_a) << counted << " pixels";
  }
  // Spatial means: estimation's between-run estimate has relative SE ≈ √(1/(R−1))
  // per pixel (√2 more for real problems: half the degrees of freedom); 4 SE on the
  // average is generous.
  EXPECT_NEAR(mean_of(got.ambiguity), mean_of(want.ambiguity), 4 * se_a * mean_of(want.ambiguity) + 1e-6);
  EXPECT_NEAR(mean_of(got.estimation) / mean_of(want.estimation), 1.0, 4 * (real ? std::sqrt(2.0) : 1.0) / std::sqrt(R - 1));
  // Mean: per-pixel Monte Carlo variance of the cascade mean is (e + a/K)/R ≤ v/R;
  // the RMS z-score over pixels is ≈ √(1/R) when unbiased, 3× bounds it.
  double z2 = 0, imag = 0;
  for (std::size_t p = 0; p < n; ++p) {
    z2 += norm2(got.mean[p] - want.mean[p]) / want.variance[p];
    imag = std::max(imag, std::abs(got.mean[p].im));
  }
  EXPECT_LT(std::sqrt(z2 / double(n)), 3 / std::sqrt(R));
  if (real) {
    EXPECT_EQ(imag, 0.0) << "a real problem's draws stay real";
  }
}

INSTANTIATE_TEST_SUITE_P(All, Operator, ::testing::ValuesIn(testing::operator_cases()),
                         [](const ::testing::TestParamInfo<operator_case>& param_info) {
                           std::string s = param_info.param.label;
                           for (auto& ch : s)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

// ---- details of single operators -------------------------------------------------------

TEST(MulticoilOperator, RowSvdAndConjugateGradientProjectionsAgree) {
  // A line mask gets the exact row-wise SVD; max_spectral_bytes = 0 forces the CG
  // projection on the same operator. CG stops at a 1e-5 relative residual of AᴴA.
  context ctx(backend_request::cpu);
  const image_shape s{6, 7};
  const auto maps = smooth_maps(s, 3, 7);
  const auto mask = testing::line_mask(s, {1, 3, 4});
  multicoil_operator svd(ctx, s, 3, maps, mask), cg(ctx, s, 3, maps, mask, {1e-5, 1000}, 0);
  ASSERT_NE(svd.spectral(), nullptr);
  ASSERT_EQ(cg.spectral(), nullptr);
  const auto x = random_image({2 * s.height, s.width}, 18);
  auto a = to_backend<cfloat>(ctx, x), b = to_backend<cfloat>(ctx, x);
  svd.range_project(ctx, chain_view{a.data(), 2, s});
  cg.range_project(ctx, chain_view{b.data(), 2, s});
  EXPECT_EQ(svd.last_projection_iterations(), 0u);
  EXPECT_GT(cg.last_projection_iterations(), 0u);
  EXPECT_LT(cg.last_projection_iterations(), 1000u);
  EXPECT_LE(max_abs_difference(to_host(ctx, a), to_host(ctx, b)), 1e-3 * norm(x));
}

TEST(MulticoilOperator, RejectsMapsAndMasksOfTheWrongSize) {
  context ctx(backend_request::cpu);
  const image_shape s{6, 7};
  const auto maps = smooth_maps(s, 3, 7);
  const auto mask = testing::line_mask(s, {1});
  EXPECT_THROW(multicoil_operator(ctx, s, 2, maps, mask), bad_input);
  EXPECT_THROW(multicoil_operator(ctx, s, 3, maps, std::vector<float>(7, 1.0f)), bad_input);
  auto bad = maps;
  bad[5].re = std::nanf("");
  EXPECT_THROW(multicoil_operator(ctx, s, 3, bad, mask), bad_input);
}

TEST(DenseOperator, RejectsMatricesThatDoNotFitTheSources) {
  context ctx(backend_request::cpu);
  // A lead field with fewer columns than the source vector has entries.
  EXPECT_THROW(dense_operator(ctx, random_matrix(4, 10, true, 1), 4, image_shape{1, 12}), bad_input);
  EXPECT_THROW(dense_operator(ctx, std::vector<cfloat>(12, cfloat{0, 0}), 1, image_shape{1, 12}), bad_input);
  auto a = random_matrix(2, 6, true, 2);
  a[3].im = std::numeric_limits<float>::infinity();
  EXPECT_THROW(dense_operator(ctx, a, 2, image_shape{1, 6}), bad_input);
}

TEST(DenseOperator, RealLeadFieldMapsRealSourcesToRealMeasurements) {
  context ctx(backend_request::cpu);
  dense_operator op(ctx, random_matrix(5, 9, true, 3), 5, image_shape{1, 9});
  EXPECT_TRUE(op.is_real());
  auto x = random_image({1, 9}, 4);
  for (auto& z : x) z.im = 0;
  const auto y = run(ctx, x, 1, op.domain(), op.codomain(), [&](auto u, auto v) { op.apply(ctx, u, v); });
  for (const auto& z : y) EXPECT_EQ(z.im, 0.0f);
}

TEST(SuperresOperator, RejectsAFactorThatDoesNotDivideTheImage) {
  EXPECT_THROW(superres_operator(image_shape{6, 9}, 2), bad_input);
  EXPECT_THROW(superres_operator(image_shape{6, 9}, 0), bad_input);
}

TEST(ConvolutionOperator, RejectsNonFiniteAndOversizedKernels) {
  context ctx(backend_request::cpu);
  std::vector<cfloat> k(9, cfloat{1.0f / 9, 0});
  EXPECT_THROW(convolution_operator(ctx, image_shape{2, 2}, k, image_shape{3, 3}), bad_input);
  k[4].re = std::nanf("");
  EXPECT_THROW(convolution_operator(ctx, image_shape{8, 8}, k, image_shape{3, 3}), bad_input);
}

TEST(RealRngStream, DrawsRealStandardNormals) {
  const rng_stream real{42, 0, 0, rng_purpose::test, 0, true};
  const std::size_t n = 20000;
  double sum = 0, sum2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const cfloat z = real.normal(0, i);
    ASSERT_EQ(z.im, 0.0f);
    sum += z.re;
    sum2 += double(z.re) * z.re;
  }
  // Mean 0 (standard error 1/√n) and variance 1 (standard error √(2/n)), 5 standard errors.
  EXPECT_NEAR(sum / double(n), 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(sum2 / double(n), 1.0, 5 * std::sqrt(2.0 / double(n)));
}

}  // namespace
}  // namespace twofold
