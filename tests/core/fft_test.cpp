// The centred orthonormal FFT against a direct O(N²) DFT written from the
// definition X[k] = Σ_n x[n] e^{-2πi(k−c)(n−c)/N}/√N, c = ⌊N/2⌋, per axis.
#include <twofold/core/buffer.hpp>
#include <twofold/core/fft.hpp>
#include <twofold/core/philox.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <vector>

namespace twofold {
namespace {

using cd = std::complex<double>;

std::vector<cd> direct_dft2c(const std::vector<cfloat>& x, image_shape s, int sign) {
  const double pi = 3.14159265358979323846;
  const long H = static_cast<long>(s.height), W = static_cast<long>(s.width);
  const long cH = H / 2, cW = W / 2;
  std::vector<cd> out(s.pixels());
  for (long kh = 0; kh < H; ++kh)
    for (long kw = 0; kw < W; ++kw) {
      cd acc = 0;
      for (long h = 0; h < H; ++h)
        for (long w = 0; w < W; ++w) {
          const double t = -sign * 2 * pi *
                           (double((kh - cH) * (h - cH)) / double(H) + double((kw - cW) * (w - cW)) / double(W));
          acc += cd(x[h * W + w].re, x[h * W + w].im) * std::polar(1.0, t);
        }
      out[kh * W + kw] = acc / std::sqrt(double(H * W));
    }
  return out;
}

std::vector<cfloat> random_images(std::size_t n, std::uint64_t seed) {
  std::vector<cfloat> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = complex_normal(seed, 0, 0, rng_purpose::test, i);
  return x;
}

class CentredFft : public ::testing::TestWithParam<image_shape> {};

TEST_P(CentredFft, MatchesDirectDftBothDirections) {
  const image_shape s = GetParam();
  context ctx(backend_request::cpu);
  const std::size_t chains = 3;
  const auto host = random_images(chains * s.pixels(), 11);
  for (const auto dir : {fft_direction::forward, fft_direction::inverse}) {
    chain_buffer x(ctx, chains, s);
    detail::copy_bytes(ctx, x.storage.data(), host.data(), host.size() * sizeof(cfloat));
    fft2c(ctx, x.view(), dir);
    const auto got = to_host(ctx, x.storage);
    for (std::size_t c = 0; c < chains; ++c) {
      std::vector<cfloat> one(host.begin() + long(c * s.pixels()), host.begin() + long((c + 1) * s.pixels()));
      const auto want = direct_dft2c(one, s, dir == fft_direction::forward ? 1 : -1);
      double err = 0, ref = 0;
      for (std::size_t i = 0; i < s.pixels(); ++i) {
        const cfloat g = got[c * s.pixels() + i];
        err += std::norm(cd(g.re, g.im) - want[i]);
        ref += std::norm(want[i]);
      }
      EXPECT_LT(std::sqrt(err / ref), 1e-5) << "chain " << c;
    }
  }
}

TEST_P(CentredFft, RoundTripIsIdentityAndPreservesNorm) {
  const image_shape s = GetParam();
  context ctx(backend_request::cpu);
  const auto host = random_images(2 * s.pixels(), 5);
  chain_buffer x(ctx, 2, s);
  detail::copy_bytes(ctx, x.storage.data(), host.data(), host.size() * sizeof(cfloat));
  fft2c(ctx, x.view(), fft_direction::forward);
  const auto k = to_host(ctx, x.storage);
  double n0 = 0, n1 = 0;
  for (std::size_t i = 0; i < host.size(); ++i) n0 += norm2(host[i]), n1 += norm2(k[i]);
  EXPECT_NEAR(n1 / n0, 1.0, 1e-5);  // orthonormal: Parseval
  fft2c(ctx, x.view(), fft_direction::inverse);
  const auto back = to_host(ctx, x.storage);
  for (std::size_t i = 0; i < host.size(); ++i) {
    EXPECT_NEAR(back[i].re, host[i].re, 1e-5);
    EXPECT_NEAR(back[i].im, host[i].im, 1e-5);
  }
}

TEST(CentredFftConvention, DcOfAConstantImageLandsAtFloorHalf) {
  context ctx(backend_request::cpu);
  for (const image_shape s : {image_shape{4, 6}, image_shape{5, 7}}) {
    std::vector<cfloat> ones(s.pixels(), cfloat{1, 0});
    chain_buffer x(ctx, 1, s);
    detail::copy_bytes(ctx, x.storage.data(), ones.data(), ones.size() * sizeof(cfloat));
    fft2c(ctx, x.view(), fft_direction::forward);
    const auto k = to_host(ctx, x.storage);
    const std::size_t dc = (s.height / 2) * s.width + s.width / 2;
    EXPECT_NEAR(k[dc].re, std::sqrt(double(s.pixels())), 1e-4);
    double rest = 0;
    for (std::size_t i = 0; i < k.size(); ++i)
      if (i != dc) rest += norm2(k[i]);
    EXPECT_LT(rest, 1e-8);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CentredFft,
                         ::testing::Values(image_shape{8, 8}, image_shape{6, 10}, image_shape{5, 7}, image_shape{9, 4},
                                           image_shape{1, 5}, image_shape{7, 7}));

}  // namespace
}  // namespace twofold
