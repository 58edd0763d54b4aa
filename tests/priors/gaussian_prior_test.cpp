// The Fourier-basis Gaussian denoiser (host/priors/fourier_gaussian_denoiser.hpp) runs
// in raw FFT order with the centring folded into its maps; here it is checked against
// the dense formula D(z) = F_cᴴ[μ̃ + w ⊙ (F_c z − μ̃)], w = v/(v + s²), in double.
#include <twofold/core/fft.hpp>
#include <twofold/priors/gaussian.hpp>
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace twofold {
namespace {

/// F_c of an H×W image (C order) as the Kronecker product of the 1-D centred DFTs.
std::vector<cdouble> centred_dft_2d(image_shape shape) {
  const std::size_t H = shape.height, W = shape.width, N = H * W;
  const auto fh = centred_dft_matrix(H), fw = centred_dft_matrix(W);
  std::vector<cdouble> f(N * N);
  for (std::size_t kh = 0; kh < H; ++kh)
    for (std::size_t kw = 0; kw < W; ++kw)
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t w = 0; w < W; ++w) f[(kh * W + kw) * N + h * W + w] = fh[kh * H + h] * fw[kw * W + w];
  return f;
}

std::vector<cdouble> apply(const std::vector<cdouble>& f, const std::vector<cdouble>& x, bool adjoint) {
  const std::size_t N = x.size();
  std::vector<cdouble> y(N);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j) y[i] += adjoint ? conj(f[j * N + i]) * x[j] : f[i * N + j] * x[j];
  return y;
}

TEST(GaussianPrior, FourierDenoiserMatchesTheDenseFormula) {
  // Even, odd and one-row shapes; variances that vary by coefficient, some 0 (a
  // degenerate prior pins those coefficients to the mean); several noise levels.
  const context ctx(backend_request::cpu);
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const image_shape shape : {image_shape{6, 8}, image_shape{5, 7}, image_shape{1, 9}}) {
    const std::size_t N = shape.pixels(), C = 3;
    std::vector<cfloat> mean(N), z(C * N);
    std::vector<float> variance(N);
    for (auto& m : mean) m = {u(gen), u(gen)};
    for (auto& x : z) x = {2 * u(gen), 2 * u(gen)};
    for (std::size_t p = 0; p < N; ++p) variance[p] = p % 5 == 2 ? 0.0f : 0.1f + std::abs(u(gen)) * 2.0f;
    const auto prior = gaussian_prior::degenerate(ctx, gaussian_basis::fourier, shape, mean, variance);
    const auto f = centred_dft_2d(shape);
    std::vector<cdouble> m(N);
    for (std::size_t p = 0; p < N; ++p) m[p] = cdouble(mean[p]);
    const auto mean_k = apply(f, m, false);
    for (const double s : {0.05, 0.7, 3.0}) {
      chain_buffer b(ctx, C, shape);
      detail::copy_bytes(ctx, b.storage.data(), z.data(), z.size() * sizeof(cfloat));
      prior.denoise(ctx, b.view(), s, b.view());
      const auto got = to_host(ctx, b.storage);
      for (std::size_t c = 0; c < C; ++c) {
        std::vector<cdouble> zc(N);
        for (std::size_t p = 0; p < N; ++p) zc[p] = cdouble(z[c * N + p]);
        auto k = apply(f, zc, false);
        for (std::size_t p = 0; p < N; ++p) {
          const double w = variance[p] / (variance[p] + s * s);
          k[p] = mean_k[p] + w * (k[p] - mean_k[p]);
        }
        const auto want = apply(f, k, true);
        for (std::size_t p = 0; p < N; ++p)
          ASSERT_LT(abs(cdouble(got[c * N + p]) - want[p]), 2e-6 * (1.0 + abs(want[p])))
              << shape.height << "x" << shape.width << " s=" << s << " chain " << c << " pixel " << p;
      }
    }
  }
}

}  // namespace
}  // namespace twofold
