#pragma once
// Shared builders for the statistical tests: small problems with known answers.
#include <twofold/core/buffer.hpp>
#include <twofold/core/error.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/priors/gaussian.hpp>
#include <twofold/problem/inverse_problem.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <memory>
#include <vector>

namespace twofold::testing {

inline std::vector<cfloat> random_image(image_shape s, std::uint64_t seed, float scale = 1.0f) {
  std::vector<cfloat> x(s.pixels());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = scale * complex_normal(seed, 0, 0, rng_purpose::test, i, 7);
  return x;
}

/// A random 2-D 0/1 mask sampling about `fraction` of the grid (and its centre).
inline std::vector<float> random_mask(image_shape s, double fraction, std::uint64_t seed) {
  std::vector<float> m(s.pixels());
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = uniform(seed, 0, rng_purpose::test, std::uint32_t(i)) < fraction ? 1.0f : 0.0f;
  m[s.pixels() / 2] = 1.0f;
  return m;
}

/// A random m×n matrix (C order), real when asked.
inline std::vector<cfloat> random_matrix(std::size_t rows, std::size_t cols, bool real, std::uint64_t seed) {
  auto a = random_image({rows, cols}, seed);
  if (real)
    for (auto& z : a) z.im = 0.0f;
  return a;
}

/// A rank-`rank` m×n matrix: the product of random m×rank and rank×n factors.
inline std::vector<cfloat> low_rank_matrix(std::size_t rows, std::size_t cols, std::size_t rank, std::uint64_t seed) {
  auto l = random_image({rows, rank}, seed), r = random_image({rank, cols}, seed + 1);
  std::vector<cfloat> a(rows * cols);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      std::complex<double> s = 0;
      for (std::size_t k = 0; k < rank; ++k)
        s += std::complex<double>(l[i * rank + k].re, l[i * rank + k].im) *
             std::complex<double>(r[k * cols + j].re, r[k * cols + j].im);
      a[i * cols + j] = {float(s.real()), float(s.imag())};
    }
  return a;
}

/// Smooth random coil maps (low-order polynomials in x, y with random complex
/// coefficients), not normalised: the operator must not rely on Σ|S|² = 1.
inline std::vector<cfloat> smooth_maps(image_shape s, std::size_t coils, std::uint64_t seed) {
  std::vector<cfloat> maps(coils * s.pixels());
  for (std::size_t c = 0; c < coils; ++c) {
    auto k = random_image({1, 3}, seed + c);
    for (std::size_t h = 0; h < s.height; ++h)
      for (std::size_t w = 0; w < s.width; ++w) {
        const float u = float(h) / float(s.height) - 0.5f, v = float(w) / float(s.width) - 0.5f;
        maps[(c * s.height + h) * s.width + w] = {1.0f + k[0].re * u + k[1].re * v + 0.3f * k[2].re * u * v,
                                                  k[0].im * u + k[1].im * v};
      }
  }
  return maps;
}

/// A k-space mask made of whole lines (W flags) on an H×W grid.
inline std::vector<float> line_mask(image_shape s, const std::vector<int>& lines) {
  std::vector<float> m(s.pixels(), 0.0f);
  for (std::size_t h = 0; h < s.height; ++h)
    for (int w : lines) m[h * s.width + std::size_t(w)] = 1.0f;
  return m;
}

/// A smooth decaying power spectrum λ_k = amplitude / (1 + |k − c|²/width²).
inline std::vector<float> decaying_spectrum(image_shape s, double amplitude, double width) {
  std::vector<float> v(s.pixels());
  for (std::size_t h = 0; h < s.height; ++h)
    for (std::size_t w = 0; w < s.width; ++w) {
      const double dh = double(h) - double(s.height / 2), dw = double(w) - double(s.width / 2);
      v[h * s.width + w] = float(amplitude / (1 + (dh * dh + dw * dw) / (width * width)));
    }
  return v;
}

/// y = A x + n with n ~ CN(0, σ² I), from one prior draw x.
inline std::vector<cfloat> simulate_kspace(const context& ctx, const gaussian_prior& prior,
                                           const linear_operator& op, double sigma, std::uint64_t seed) {
  chain_buffer x(ctx, 1, prior.shape()), y(ctx, 1, op.codomain());
  prior.draw(ctx, x.view(), 0.0, rng_stream{seed, 0, 0, rng_purpose::test, 1});
  op.apply(ctx, x.view(), y.view());
  auto k = to_host(ctx, y.storage);
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] += float(sigma) * complex_normal(seed, 0, 0, rng_purpose::measurement_noise, i);
  return k;
}

/// Variance of the final draw of the ancestral sampler (host/samplers/exact.cpp) for
/// a one-dimensional Gaussian target of variance c started at its exact marginal:
/// the recursion V ← a² V + T(S − T)/S with a = (c + T)/(c + S). The sampler's only
/// error is this discretisation; tests compare Monte Carlo output against it.
inline double ancestral_variance(double c, const std::vector<double>& levels) {
  double V = c + levels.front() * levels.front();
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const double S = levels[i] * levels[i], T = i + 1 < levels.size() ? levels[i + 1] * levels[i + 1] : 0.0;
    const double a = (c + T) / (c + S);
    V = a * a * V + T * (S - T) / S;
  }
  return V;
}

/// The message of the bad_input `f` throws; a test failure if it throws
/// something else or nothing.
template <class F>
std::string bad_input_message(F&& f) {
  try {
    f();
  } catch (const bad_input& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected bad_input, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected bad_input, nothing was thrown";
  return {};
}

/// Monte Carlo standard errors of the nested estimators for one pixel whose
/// ambiguity is a and estimation e: Var â = a²/(R(K−1)) (complex pixel: 2(K−1)
/// real degrees of freedom per run), Var var_r(m_r) ≈ (e + a/K)²/(R−1).
inline double se_ambiguity(double a, std::size_t R, std::size_t K) { return a / std::sqrt(double(R * (K - 1))); }
inline double se_estimation(double a, double e, std::size_t R, std::size_t K) {
  return std::sqrt(std::pow(e + a / double(K), 2) / double(R - 1) + std::pow(a / double(K), 2) / double(R * (K - 1)));
}

inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

}  // namespace twofold::testing

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "message: " << (text)
