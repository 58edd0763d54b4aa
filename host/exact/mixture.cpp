// Exact posteriors of Gaussian-mixture priors (see include/twofold/exact/mixture.hpp). The
// dense form works in the prior's coefficients c = Bᴴx (B = I or the centred
// inverse DFT), where every prior covariance is diagonal, with G = A B:
//   S = G diag(v) Gᴴ + σ² I,  r = y − G μ̃,  m_c = μ̃ + diag(v) Gᴴ S⁻¹ r,
//   C_c = diag(v) − diag(v) Gᴴ S⁻¹ G diag(v),  log N(y) = −κ (rᴴS⁻¹r + log det S) + const,
// and maps back by m = B m_c, C = B C_c Bᴴ. Matrices are column-major (LAPACK's order).
#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include <twofold/operators/linear_operator.hpp>
#include <twofold/exact/dense.hpp>
#include <twofold/core/fft.hpp>
#include <twofold/exact/mixture.hpp>

#include <complex>
#define lapack_complex_float std::complex<float>
#define lapack_complex_double std::complex<double>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {
namespace {

using zd = std::complex<double>;

double kappa_of(field f) { return f == field::real ? 0.5 : 1.0; }

/// Normalised weights from log-weights by log-sum-exp.
std::vector<double> normalise_log_weights(std::vector<double> lw) {
  const double top = *std::max_element(lw.begin(), lw.end());
  double total = 0;
  for (double& l : lw) total += (l = std::exp(l - top));
  for (double& l : lw) l /= total;
  return lw;
}

/// K images in the prior's basis (coefficients) or back, on the backend.
std::vector<cfloat> apply_batch(const context& ctx, image_shape shape, std::span<const cfloat> images,
                                const auto& transform) {
  chain_buffer b(ctx, images.size() / shape.pixels(), shape);
  detail::copy_bytes(ctx, b.storage.data(), images.data(), images.size_bytes());
  transform(b.view());
  return to_host(ctx, b.storage);
}

mixture_posterior atoms_posterior(const context& ctx, const inverse_problem& problem,
                                  const gaussian_mixture_prior& prior, mixture_posterior post) {
  const std::size_t K = prior.components(), N = post.shape.pixels();
  const linear_operator& op = problem.op();
  chain_buffer x(ctx, K, post.shape), ax(ctx, K, op.codomain());
  detail::copy_bytes(ctx, x.storage.data(), prior.means().data(), K * N * sizeof(cfloat));
  op.apply(ctx, x.view(), ax.view());
  const auto a = to_host(ctx, ax.storage);
  const std::size_t M = op.codomain().pixels();
  const double s2 = problem.sigma_y() * problem.sigma_y();
  std::vector<double> lw(K);
  for (std::size_t k = 0; k < K; ++k) {
    double r = 0;
    for (std::size_t i = 0; i < M; ++i) r += norm2(cdouble(problem.measurements()[i]) - cdouble(a[k * M + i]));
    lw[k] = std::log(prior.weights()[k]) - kappa_of(post.values) * r / s2;
  }
  post.weights = normalise_log_weights(lw);
  post.means.resize(K * N);
  for (std::size_t i = 0; i < K * N; ++i) post.means[i] = cdouble(prior.means()[i]);
  post.pixel_variances.assign(K * N, 0.0);
  post.basis = gaussian_basis::pixel;
  post.basis_variances.assign(K * N, 0.0f);
  return post;
}

/// The posterior of a prior diagonal in V given coefficient data ỹ_i = a_i (Vᴴx)_i + n_i
/// (a_i = 0: unobserved), n_i of variance s2 (0: noiseless).
mixture_posterior diagonal_posterior(const context& ctx, const gaussian_mixture_prior& prior, const spectral_form& sf,
                                     const std::vector<cfloat>& y, const std::vector<float>& a, double s2,
                                     mixture_posterior post) {
  const std::size_t K = prior.components(), N = post.shape.pixels();
  const auto mu = apply_batch(ctx, post.shape, prior.means(), [&](chain_view v) { sf.analyse(ctx, v, v); });
  const double kappa = kappa_of(post.values);
  std::vector<cfloat> mean_c(K * N);
  post.basis_variances.resize(K * N);
  std::vector<double> lw(K);
  for (std::size_t k = 0; k < K; ++k) {
    double log_evidence = 0;
    for (std::size_t i = 0; i < N; ++i) {
      const double v = prior.variances()[k * N + i];
      const cdouble m(mu[k * N + i]);
      if (a[i] == 0) {
        mean_c[k * N + i] = cfloat(m);
        post.basis_variances[k * N + i] = float(v);
        continue;
      }
      const double s = double(a[i]) * a[i] * v + s2;
      TWOFOLD_EXPECTS(s > 0, "noiseless mixture conditional: component " + std::to_string(k) +
                                 " has variance 0 on an observed coefficient");
      const cdouble r = cdouble(y[i]) - double(a[i]) * m;
      mean_c[k * N + i] = cfloat(m + (v * a[i] / s) * r);
      post.basis_variances[k * N + i] = float(v * s2 / s);
      log_evidence -= kappa * (norm2(r) / s + std::log(s));
    }
    lw[k] = std::log(prior.weights()[k]) + log_evidence;
  }
  post.weights = normalise_log_weights(lw);
  const auto means = apply_batch(ctx, post.shape, mean_c, [&](chain_view v) {
    chain_buffer x(ctx, v.chains, v.shape);
    sf.synthesise(ctx, v, x.view());
    detail::copy_bytes(ctx, v.data, x.storage.data(), v.size() * sizeof(cfloat));
  });
  post.means.resize(K * N);
  for (std::size_t i = 0; i < K * N; ++i) post.means[i] = cdouble(means[i]);
  post.basis = prior.basis();
  post.pixel_variances.resize(K * N);
  for (std::size_t k = 0; k < K; ++k) {
    double average = 0;
    for (std::size_t i = 0; i < N; ++i) average += post.basis_variances[k * N + i];
    for (std::size_t i = 0; i < N; ++i)
      post.pixel_variances[k * N + i] =
          prior.basis() == gaussian_basis::pixel ? post.basis_variances[k * N + i] : average / double(N);
  }
  return post;
}

/// B (N×N column-major): the identity, or the synthesis Fᴴ of the centred 2-D DFT.
std::vector<zd> basis_matrix(image_shape s, gaussian_basis basis) {
  const std::size_t N = s.pixels();
  std::vector<zd> b(N * N);
  if (basis == gaussian_basis::pixel) {
    for (std::size_t i = 0; i < N; ++i) b[i * N + i] = 1;
    return b;
  }
  const auto fh = centred_dft_matrix(s.height), fw = centred_dft_matrix(s.width);
  // F[(a,b),(c,d)] = FH[a,c] FW[b,d]; B = Fᴴ, so B(row (c,d), column (a,b)) = conj F[(a,b),(c,d)].
  for (std::size_t a = 0; a < s.height; ++a)
    for (std::size_t bb = 0; bb < s.width; ++bb)
      for (std::size_t c = 0; c < s.height; ++c)
        for (std::size_t d = 0; d < s.width; ++d) {
          const cdouble f = fh[a * s.height + c] * fw[bb * s.width + d];
          b[(a * s.width + bb) * N + (c * s.width + d)] = zd(f.re, -f.im);
        }
  return b;
}

void check_lapack(lapack_int info, const char* what) {
  TWOFOLD_ENSURES(info == 0, std::string("mixture posterior: LAPACK ") + what + " failed (info " +
                                 std::to_string(info) + ")");
}

mixture_posterior dense_mixture_posterior(const context& ctx, const inverse_problem& problem,
                                          const gaussian_mixture_prior& prior, mixture_posterior post) {
  const std::size_t K = prior.components(), N = post.shape.pixels();
  const std::size_t M = problem.op().codomain().pixels();
  const auto a_rows = operator_matrix(ctx, problem.op());  // M×N row-major
  const auto B = basis_matrix(post.shape, prior.basis());
  // G = A B, column-major M×N.
  std::vector<zd> G(M * N);
  for (std::size_t j = 0; j < N; ++j)
    for (std::size_t l = 0; l < N; ++l) {
      const zd b = B[j * N + l];
      if (b == zd(0)) continue;
      for (std::size_t i = 0; i < M; ++i) G[j * M + i] += zd(a_rows[i * N + l].re, a_rows[i * N + l].im) * b;
    }
  const auto mu_c = apply_batch(ctx, post.shape, prior.means(), [&](chain_view v) {
    if (prior.basis() == gaussian_basis::fourier) fft2c(ctx, v, fft_direction::forward);
  });
  const double s2 = problem.sigma_y() * problem.sigma_y(), kappa = kappa_of(post.values);
  std::vector<double> lw(K);
  post.means.resize(K * N);
  post.pixel_variances.resize(K * N);
  post.eigenvectors.resize(K * N * N);
  post.eigenvalues.resize(K * N);
  for (std::size_t k = 0; k < K; ++k) {
    const float* v = prior.variances().data() + k * N;
    // S = G diag(v) Gᴴ + σ² I (M×M), W = diag(v) Gᴴ (N×M).
    std::vector<zd> W(N * M), S(M * M);
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) W[i * N + j] = double(v[j]) * std::conj(G[j * M + i]);
    for (std::size_t c = 0; c < M; ++c) {
      for (std::size_t r = 0; r < M; ++r) {
        zd t = 0;
        for (std::size_t j = 0; j < N; ++j) t += G[j * M + r] * W[c * N + j];
        S[c * M + r] = t;
      }
      S[c * M + c] += s2;
    }
    std::vector<zd> r(M);
    for (std::size_t i = 0; i < M; ++i) {
      zd g = 0;
      for (std::size_t j = 0; j < N; ++j) g += G[j * M + i] * zd(mu_c[k * N + j].re, mu_c[k * N + j].im);
      r[i] = zd(problem.measurements()[i].re, problem.measurements()[i].im) - g;
    }
    check_lapack(LAPACKE_zpotrf(LAPACK_COL_MAJOR, 'L', lapack_int(M), S.data(), lapack_int(M)), "zpotrf");
    double log_det = 0;
    for (std::size_t i = 0; i < M; ++i) log_det += 2 * std::log(S[i * M + i].real());
    std::vector<zd> alpha = r, SW = W;  // S⁻¹ r and S⁻¹ G diag(v) = S⁻¹ Wᴴ
    check_lapack(LAPACKE_zpotrs(LAPACK_COL_MAJOR, 'L', lapack_int(M), 1, S.data(), lapack_int(M), alpha.data(),
                                lapack_int(M)), "zpotrs");
    std::vector<zd> WH(M * N);  // Wᴴ, M×N column-major
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) WH[j * M + i] = std::conj(W[i * N + j]);
    SW = WH;
    check_lapack(LAPACKE_zpotrs(LAPACK_COL_MAJOR, 'L', lapack_int(M), lapack_int(N), S.data(), lapack_int(M),
                                SW.data(), lapack_int(M)), "zpotrs");
    double quad = 0;
    for (std::size_t i = 0; i < M; ++i) quad += (std::conj(r[i]) * alpha[i]).real();
    lw[k] = std::log(prior.weights()[k]) - kappa * (quad + log_det);
    // m_c = μ̃ + W α;  C_c = diag(v) − W S⁻¹ Wᴴ.
    std::vector<zd> mc(N), Cc(N * N);
    for (std::size_t j = 0; j < N; ++j) {
      zd t = zd(mu_c[k * N + j].re, mu_c[k * N + j].im);
      for (std::size_t i = 0; i < M; ++i) t += W[i * N + j] * alpha[i];
      mc[j] = t;
    }
    for (std::size_t c = 0; c < N; ++c)
      for (std::size_t rr = 0; rr < N; ++rr) {
        zd t = rr == c ? zd(v[c]) : zd(0);
        for (std::size_t i = 0; i < M; ++i) t -= W[i * N + rr] * SW[c * M + i];
        Cc[c * N + rr] = t;
      }
    // Image domain: m = B m_c, C = B C_c Bᴴ.
    std::vector<zd> BC(N * N), C(N * N);
    for (std::size_t c = 0; c < N; ++c)
      for (std::size_t l = 0; l < N; ++l) {
        const zd x = Cc[c * N + l];
        if (x == zd(0)) continue;
        for (std::size_t rr = 0; rr < N; ++rr) BC[c * N + rr] += B[l * N + rr] * x;
      }
    for (std::size_t c = 0; c < N; ++c)
      for (std::size_t l = 0; l < N; ++l) {
        const zd b = std::conj(B[l * N + c]);
        if (b == zd(0)) continue;
        for (std::size_t rr = 0; rr < N; ++rr) C[c * N + rr] += BC[l * N + rr] * b;
      }
    for (std::size_t rr = 0; rr < N; ++rr) {
      zd t = 0;
      for (std::size_t l = 0; l < N; ++l) t += B[l * N + rr] * mc[l];
      post.means[k * N + rr] = cdouble(t.real(), post.values == field::real ? 0.0 : t.imag());
      post.pixel_variances[k * N + rr] = C[rr * N + rr].real();
    }
    std::vector<double> lambda(N);
    check_lapack(LAPACKE_zheevd(LAPACK_COL_MAJOR, 'V', 'L', lapack_int(N), C.data(), lapack_int(N), lambda.data()),
                 "zheevd");
    for (std::size_t i = 0; i < N; ++i) post.eigenvalues[k * N + i] = std::max(0.0, lambda[i]);
    for (std::size_t i = 0; i < N * N; ++i) post.eigenvectors[k * N * N + i] = cdouble(C[i].real(), C[i].imag());
  }
  post.weights = normalise_log_weights(lw);
  return post;
}

}  // namespace

std::vector<cdouble> mixture_posterior::mean() const {
  const std::size_t N = shape.pixels();
  std::vector<cdouble> m(N);
  for (std::size_t k = 0; k < components(); ++k)
    for (std::size_t p = 0; p < N; ++p) m[p] += weights[k] * means[k * N + p];
  return m;
}

std::vector<double> mixture_posterior::variance() const {
  const std::size_t N = shape.pixels();
  const auto m = mean();
  std::vector<double> v(N);
  for (std::size_t k = 0; k < components(); ++k)
    for (std::size_t p = 0; p < N; ++p) v[p] += weights[k] * (pixel_variances[k * N + p] + norm2(means[k * N + p] - m[p]));
  return v;
}

std::vector<cfloat> mixture_posterior::draw(const context& ctx, std::size_t count, std::uint64_t seed) const {
  const std::size_t N = shape.pixels(), K = components();
  const rng_stream rng{seed, 0, 0, rng_purpose::diffusion_noise, 7, values == field::real};
  if (basis) {
    std::vector<cfloat> m(means.size());
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = cfloat(means[i]);
    const auto mix = gaussian_mixture_prior::degenerate(ctx, *basis, shape, weights, m, basis_variances, values);
    chain_buffer x(ctx, count, shape);
    mix.draw(ctx, x.view(), 0.0, rng);
    return to_host(ctx, x.storage);
  }
  std::vector<cfloat> out(count * N);
  std::vector<double> cumulative(K);
  double acc = 0;
  for (std::size_t k = 0; k < K; ++k) cumulative[k] = (acc += weights[k]);
  for (std::size_t c = 0; c < count; ++c) {
    const double pick = uniform(seed, c, rng_purpose::mixture_component, 7);
    std::size_t k = 0;
    while (k + 1 < K && pick >= cumulative[k]) ++k;
    for (std::size_t p = 0; p < N; ++p) {
      cdouble x = means[k * N + p];
      for (std::size_t j = 0; j < N; ++j) {
        const cfloat z = rng.normal(c, j);
        x += std::sqrt(eigenvalues[k * N + j]) * eigenvectors[k * N * N + j * N + p] * cdouble(z);
      }
      out[c * N + p] = cfloat(values == field::real ? cdouble(x.re, 0.0) : x);
    }
  }
  return out;
}

bool shares_basis(const linear_operator& op, const gaussian_mixture_prior& prior) {
  const spectral_form* sf = op.spectral();
  return sf && sf->coefficient_shape().pixels() == prior.shape().pixels() &&
         ((sf->basis() == spectral_basis::pixel && prior.basis() == gaussian_basis::pixel) ||
          (sf->basis() == spectral_basis::fourier && prior.basis() == gaussian_basis::fourier));
}

mixture_posterior exact_mixture_conditional(const context& ctx, const linear_operator& op,
                                            const gaussian_mixture_prior& prior, std::span<const cfloat> anchor) {
  TWOFOLD_EXPECTS(shares_basis(op, prior), "the exact stage-2 conditional of a mixture prior needs the prior's basis "
                                           "to be the operator's (pixel prior with inpainting, Fourier prior with a "
                                           "Cartesian mask); use --design replicate");
  const spectral_form& sf = *op.spectral();
  mixture_posterior post;
  post.shape = prior.shape();
  post.values = prior.values();
  const auto c = apply_batch(ctx, post.shape, anchor, [&](chain_view v) { sf.analyse(ctx, v, v); });
  std::vector<float> observed(sf.singular_values().size());
  for (std::size_t i = 0; i < observed.size(); ++i) observed[i] = sf.singular_values()[i] > 0 ? 1.0f : 0.0f;
  return diagonal_posterior(ctx, prior, sf, c, observed, 0.0, std::move(post));
}

std::vector<std::size_t> mixture_posterior::classify(const context& ctx, std::span<const cfloat> draws) const {
  const std::size_t N = shape.pixels(), K = components();
  TWOFOLD_EXPECTS(!draws.empty() && draws.size() % N == 0, "classify: draws must be a stack of " + to_string(shape) +
                                                               " images");
  const std::size_t count = draws.size() / N;
  double mean_variance = 0;
  for (double v : variance()) mean_variance += v / double(N);
  const double s = 1e-3 * std::sqrt(mean_variance);
  std::vector<std::size_t> label(count);
  if (basis) {
    std::vector<cfloat> m(means.size());
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = cfloat(means[i]);
    const auto mix = gaussian_mixture_prior::degenerate(ctx, *basis, shape, weights, m, basis_variances, values);
    chain_buffer x(ctx, count, shape);
    detail::copy_bytes(ctx, x.storage.data(), draws.data(), draws.size_bytes());
    const auto r = mix.responsibilities(ctx, x.view(), s);
    for (std::size_t c = 0; c < count; ++c)
      for (std::size_t k = 1; k < K; ++k)
        if (r[k * count + c] > r[label[c] * count + c]) label[c] = k;
    return label;
  }
  const double kappa = kappa_of(values);
  for (std::size_t c = 0; c < count; ++c) {
    double best = -HUGE_VAL;
    for (std::size_t k = 0; k < K; ++k) {
      double l = std::log(weights[k]);
      for (std::size_t j = 0; j < N; ++j) {
        cdouble proj;
        for (std::size_t p = 0; p < N; ++p)
          proj += conj(eigenvectors[k * N * N + j * N + p]) * (cdouble(draws[c * N + p]) - means[k * N + p]);
        const double v = eigenvalues[k * N + j] + s * s;
        l -= kappa * (norm2(proj) / v + std::log(v));
      }
      if (l > best) best = l, label[c] = k;
    }
  }
  return label;
}

mixture_posterior exact_mixture_posterior(const context& ctx, const inverse_problem& problem,
                                          const gaussian_mixture_prior& prior) {
  TWOFOLD_EXPECTS(prior.shape() == problem.shape(), "mixture posterior: prior shape " + to_string(prior.shape()) +
                                                        " differs from the operator's " + to_string(problem.shape()));
  TWOFOLD_EXPECTS(prior.values() == problem.values() || problem.values() == field::complex,
                  "mixture posterior: a real problem needs a real-valued mixture prior");
  TWOFOLD_EXPECTS(problem.sets() == 1, "mixture posterior: one measurement set at a time (the problem has " +
                                            std::to_string(problem.sets()) + "; use measurement_set(r))");
  mixture_posterior post;
  post.shape = prior.shape();
  post.values = problem.values();
  const auto& v = prior.variances();
  if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }))
    return atoms_posterior(ctx, problem, prior, std::move(post));
  if (const spectral_form* sf = problem.op().spectral(); shares_basis(problem.op(), prior)) {
    chain_buffer y(ctx, 1, problem.op().codomain()), c(ctx, 1, sf->coefficient_shape());
    detail::copy_bytes(ctx, y.storage.data(), problem.measurements().data(), y.view().size() * sizeof(cfloat));
    sf->measurement_coefficients(ctx, y.view(), c.view());
    return diagonal_posterior(ctx, prior, *sf, to_host(ctx, c.storage), sf->singular_values(), problem.sigma_y() * problem.sigma_y(),
                              std::move(post));
  }
  TWOFOLD_EXPECTS(post.shape.pixels() <= dense_mixture_max_pixels,
                  "the exact posterior of a mixture prior with operator '" + problem.op().name() +
                      "' needs a shared basis (pixel prior with inpainting, Fourier prior with a Cartesian mask) or "
                      "at most " + std::to_string(dense_mixture_max_pixels) + " pixels (got " +
                      to_string(post.shape) + ")");
  return dense_mixture_posterior(ctx, problem, prior, std::move(post));
}

}  // namespace twofold
