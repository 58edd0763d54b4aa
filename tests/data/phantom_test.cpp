// The random modified Shepp–Logan family: exactness at zero perturbation (values
// derived by hand from Toft's ellipse table), determinism, bounds, and the spatial
// structure of the family's moments.
#include <twofold/core/error.hpp>
#include <twofold/data/phantom.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <vector>

namespace twofold {
namespace {

constexpr double pi = 3.141592653589793238462643383279502884;

bool same_bits(const std::vector<cfloat>& a, const std::vector<cfloat>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(cfloat)) == 0;
}

// The pixel of an N×N image containing normalised point (x, y), y up.
cfloat at(const std::vector<cfloat>& img, std::size_t N, double x, double y) {
  const auto row = static_cast<std::size_t>(std::floor((1.0 - y) * 0.5 * static_cast<double>(N)));
  const auto col = static_cast<std::size_t>(std::floor((x + 1.0) * 0.5 * static_cast<double>(N)));
  return img[row * N + col];
}

phantom_params exact(std::size_t n) {
  phantom_params p;
  p.shape = {n, n};
  p.perturbation = 0.0;
  p.smooth_phase = false;
  return p;
}

// Toft's table: amplitude, a, b, x0, y0, angle (degrees).
// clang-format off
constexpr double shepp_logan[10][6] = {
    { 1.0, .69,   .92,   0,    0,     0},
    {-.8,  .6624, .874,  0,   -.0184, 0},
    {-.2,  .11,   .31,   .22,  0,   -18},
    {-.2,  .16,   .41,  -.22,  0,    18},
    { .1,  .21,   .25,   0,    .35,   0},
    { .1,  .046,  .046,  0,    .1,    0},
    { .1,  .046,  .046,  0,   -.1,    0},
    { .1,  .046,  .023, -.08, -.605,  0},
    { .1,  .023,  .023,  0,   -.606,  0},
    { .1,  .023,  .046,  .06, -.605,  0}};
// clang-format on

// The phantom at one point, as MATLAB's phantom() evaluates it.
double shepp_logan_at(double x, double y) {
  double v = 0;
  for (const auto& e : shepp_logan) {
    const double t = e[5] * pi / 180, dx = x - e[3], dy = y - e[4];
    const double u = dx * std::cos(t) + dy * std::sin(t), w = dy * std::cos(t) - dx * std::sin(t);
    if (u * u / (e[1] * e[1]) + w * w / (e[2] * e[2]) <= 1) v += e[0];
  }
  return v;
}

TEST(PhantomExact, InteriorValuesMatchTheModifiedSheppLoganTable) {
  // Each point's pixel (N = 128) lies with all 3×3 sub-samples on one side of every
  // ellipse boundary (checked by hand; the skull probes have ≥ 0.008 to spare), so
  // anti-aliasing leaves the table value exact.
  struct probe {
    double x, y, value;
    const char* where;
  };
  const probe probes[] = {
      {0.0, 0.0, 0.2, "brain: 1 - 0.8"},
      {0.0, 0.35, 0.3, "ellipse 5 (above centre): 1 - 0.8 + 0.1"},
      {0.0, 0.08, 0.3, "ellipse 6: 1 - 0.8 + 0.1"},
      {0.0, -0.1, 0.3, "ellipse 7: 1 - 0.8 + 0.1"},
      {0.0, -0.606, 0.3, "ellipse 9: 1 - 0.8 + 0.1"},
      {0.22, 0.0, 0.0, "right ventricle centre: 1 - 0.8 - 0.2"},
      {-0.22, 0.0, 0.0, "left ventricle centre"},
      // 0.25 along the long axis of the right ventricle, tilted by -18°: inside it.
      {0.22 + 0.25 * std::sin(18.0 * pi / 180), 0.25 * std::cos(18.0 * pi / 180), 0.0, "tilted ventricle"},
      // Its mirror image across the ventricle's vertical: outside it, inside ellipse 5.
      {0.22 - 0.25 * std::sin(18.0 * pi / 180), 0.25 * std::cos(18.0 * pi / 180), 0.3, "beside the ventricle"},
      {0.0, 0.89, 1.0, "skull, top"},
      {0.675, 0.0, 1.0, "skull, right"},
      {0.95, 0.95, 0.0, "background corner"},
      {-0.8, 0.0, 0.0, "background left"},
  };
  const std::size_t N = 128;
  const auto img = make_phantom(exact(N), 0);
  ASSERT_EQ(img.size(), N * N);
  for (const probe& p : probes) {
    const cfloat v = at(img, N, p.x, p.y);
    EXPECT_NEAR(v.re, p.value, 1e-6) << p.where << " at (" << p.x << ", " << p.y << ")";
    EXPECT_EQ(v.im, 0.0f) << p.where;
  }
}

TEST(PhantomExact, OddSizeHasAPixelAtTheCentre) {
  const std::size_t N = 129;
  const auto img = make_phantom(exact(N), 0);
  EXPECT_NEAR(img[64 * N + 64].re, 0.2, 1e-6);
  EXPECT_NEAR(at(img, N, 0.0, 0.35).re, 0.3, 1e-6);
}

TEST(PhantomExact, MeanEqualsTheSumOfEllipseAreas) {
  // mean = Σ A_k π a_k b_k / 4 over [-1, 1]². Only boundary pixels carry error,
  // with mixed signs; measured |error| is 2e-4 at N = 128 and 6e-5 at N = 256. The
  // tolerance 2e-4 catches a wrong pixel pitch (2/(N-1) instead of 2/N: ~1e-3) or a
  // missing or doubled ellipse (≥ 1.7e-4 for the smallest, ≥ 1e-3 for the others).
  double expected = 0;
  for (const auto& e : shepp_logan) expected += e[0] * pi * e[1] * e[2] / 4.0;
  const std::size_t N = 256;
  const auto img = make_phantom(exact(N), 0);
  double mean = 0;
  for (const cfloat& v : img) mean += v.re;
  mean /= static_cast<double>(img.size());
  EXPECT_NEAR(mean, expected, 2e-4);
}

TEST(PhantomExact, AntiAliasingBeatsPointSampling) {
  // Reference pixel averages: a 9× finer render box-filtered down. Supersampled
  // pixels must be much closer to it than pixel-centre samples of the same table,
  // while away from edges both agree exactly.
  const std::size_t N = 64, F = 9;
  const auto img = make_phantom(exact(N), 0), fine = make_phantom(exact(N * F), 0);
  double err_aa = 0, err_point = 0;
  std::size_t agree = 0;
  for (std::size_t r = 0; r < N; ++r)
    for (std::size_t c = 0; c < N; ++c) {
      double ref = 0;
      for (std::size_t i = 0; i < F; ++i)
        for (std::size_t j = 0; j < F; ++j) ref += fine[(r * F + i) * N * F + c * F + j].re;
      ref /= F * F;
      const double x = (static_cast<double>(c) + 0.5) * 2 / N - 1, y = 1 - (static_cast<double>(r) + 0.5) * 2 / N;
      const double point = shepp_logan_at(x, y), aa = img[r * N + c].re;
      err_aa += (aa - ref) * (aa - ref);
      err_point += (point - ref) * (point - ref);
      agree += std::abs(aa - point) < 1e-6;
    }
  // Measured: 0.77 against 18.5 (ratio 0.04).
  EXPECT_LT(err_aa, 0.1 * err_point);
  EXPECT_GT(agree, N * N * 8 / 10);
}

TEST(PhantomExact, SameForEveryMemberAndBounded) {
  const auto a = make_phantom(exact(64), 0), b = make_phantom(exact(64), 12345);
  EXPECT_TRUE(same_bits(a, b));
  float lo = 1, hi = 0;
  for (const cfloat& v : a) {
    lo = std::min(lo, v.re);
    hi = std::max(hi, v.re);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_NEAR(hi, 1.0, 1e-6);
}

TEST(PhantomExact, PhaseOnlyRotatesTheMagnitude) {
  phantom_params p = exact(64);
  const auto real = make_phantom(p, 3);
  p.smooth_phase = true;
  const auto phased = make_phantom(p, 3);
  bool some_imaginary = false;
  for (std::size_t i = 0; i < real.size(); ++i) {
    EXPECT_NEAR(abs(phased[i]), real[i].re, 1e-6);
    some_imaginary = some_imaginary || phased[i].im != 0.0f;
  }
  EXPECT_TRUE(some_imaginary);
}

TEST(PhantomShape, NonSquareImagesShowTheWholeHead) {
  phantom_params p = exact(1);
  p.shape = {64, 96};  // unit square spans columns 16..79
  const auto wide = make_phantom(p, 0);
  double outer = 0;
  for (std::size_t r = 0; r < 64; ++r)
    for (std::size_t c = 0; c < 96; ++c)
      if (c < 16 || c >= 80) outer += wide[r * 96 + c].re;
  EXPECT_EQ(outer, 0.0);
  EXPECT_NEAR(wide[32 * 96 + 48].re, 0.2, 1e-6);  // pixel just right/below centre
  EXPECT_NEAR(wide[3 * 96 + 48].re, 1.0, 1e-6);   // skull at y = 0.89
  p.shape = {96, 64};
  const auto tall = make_phantom(p, 0);
  EXPECT_NEAR(tall[(16 + 3) * 64 + 32].re, 1.0, 1e-6);
  for (std::size_t c = 0; c < 64; ++c) EXPECT_EQ(tall[c].re + tall[95 * 64 + c].re, 0.0f);
}

TEST(PhantomFamily, DeterministicAndIndexDependent) {
  phantom_params p;
  p.shape = {48, 40};
  p.seed = 17;
  const auto a = make_phantom(p, 5);
  EXPECT_TRUE(same_bits(a, make_phantom(p, 5)));
  EXPECT_FALSE(same_bits(a, make_phantom(p, 6)));
  EXPECT_FALSE(same_bits(a, make_phantom(p, 5 + (std::uint64_t{1} << 32))));  // high bits count
  p.seed = 18;
  EXPECT_FALSE(same_bits(a, make_phantom(p, 5)));
}

TEST(PhantomFamily, SlicesEqualSingleImages) {
  phantom_params p;
  p.shape = {32, 24};
  p.seed = 3;
  const auto family = make_phantom_family(p, 10, 5);
  ASSERT_EQ(family.size(), 5u * 32 * 24);
  for (std::size_t k = 0; k < 5; ++k) {
    const std::vector<cfloat> slice(family.begin() + static_cast<std::ptrdiff_t>(k * 32 * 24),
                                    family.begin() + static_cast<std::ptrdiff_t>((k + 1) * 32 * 24));
    EXPECT_TRUE(same_bits(slice, make_phantom(p, 10 + k))) << "member " << k;
  }
  EXPECT_TRUE(make_phantom_family(p, 0, 0).empty());
}

TEST(PhantomFamily, FiniteBoundedAndSmoothPhase) {
  phantom_params p;
  p.shape = {64, 64};
  const auto family = make_phantom_family(p, 0, 64);
  std::size_t nonreal = 0;
  for (const cfloat& v : family) {
    ASSERT_TRUE(is_finite(v));
    const double m = abs(v);
    ASSERT_LE(m, 1.5);
    if (m > 0) {
      ASSERT_LE(std::abs(std::arg(std::complex<double>(v.re, v.im))), pi / 2);
      nonreal += v.im != 0.0f;
    }
  }
  EXPECT_GT(nonreal, family.size() / 10);
}

TEST(PhantomFamily, MomentsVaryInSpace) {
  // Per-pixel mean and variance E|z - mean|² over 64 members (real images, so the
  // spread is the geometric and intensity perturbation).
  phantom_params p;
  p.shape = {64, 64};
  p.seed = 9;
  p.smooth_phase = false;
  const std::size_t M = 64, P = 64 * 64;
  const auto family = make_phantom_family(p, 0, M);
  std::vector<double> mean(P, 0.0), var(P, 0.0);
  for (std::size_t k = 0; k < M; ++k)
    for (std::size_t i = 0; i < P; ++i) mean[i] += family[k * P + i].re / static_cast<double>(M);
  for (std::size_t k = 0; k < M; ++k)
    for (std::size_t i = 0; i < P; ++i) var[i] += std::pow(family[k * P + i].re - mean[i], 2) / (M - 1.0);
  auto pixel = [](double x, double y) {
    return static_cast<std::size_t>(std::floor((1 - y) * 32)) * 64 + static_cast<std::size_t>(std::floor((x + 1) * 32));
  };
  // Brain (0.2 ± 25 %), ellipse 5 (0.3 ± 25 %), skull (1 ± 25 %, and its edge moves
  // across the probe): a level uniform on t(1 ± 0.25) has variance (0.25 t)²/3; the
  // sample variance of 64 draws falls below a quarter of that with negligible odds.
  EXPECT_GT(var[pixel(0.0, -0.45)], 0.25 * std::pow(0.25 * 0.2, 2) / 3);
  EXPECT_GT(var[pixel(0.0, 0.35)], 0.25 * std::pow(0.25 * 0.3, 2) / 3);
  EXPECT_GT(var[pixel(0.0, 0.89)], 0.25 * std::pow(0.25 * 1.0, 2) / 3);
  EXPECT_NEAR(mean[pixel(0.0, -0.45)], 0.2, 0.05);
  EXPECT_NEAR(mean[pixel(0.0, 0.35)], 0.3, 0.05);
  // Far outside the head nothing ever lands: exactly zero.
  for (const auto& [x, y] : {std::pair{-0.97, 0.97}, {0.97, -0.97}, {0.97, 0.0}, {-0.97, 0.0}}) {
    EXPECT_EQ(mean[pixel(x, y)], 0.0);
    EXPECT_EQ(var[pixel(x, y)], 0.0);
  }
  // Inside the nominal head most pixels vary (the ventricle cores stay at level 0).
  std::size_t head = 0, varying = 0;
  for (std::size_t r = 0; r < 64; ++r)
    for (std::size_t c = 0; c < 64; ++c) {
      const double x = (static_cast<double>(c) + 0.5) / 32 - 1, y = 1 - (static_cast<double>(r) + 0.5) / 32;
      if (std::pow(x / 0.69, 2) + std::pow(y / 0.92, 2) > 1) continue;
      ++head;
      varying += var[r * 64 + c] > 1e-8;
    }
  EXPECT_GT(varying, head * 97 / 100);  // measured 2029 of 2044
}

TEST(PhantomParams, RejectsBadInput) {
  phantom_params p;
  p.shape = {0, 8};
  EXPECT_THROW(make_phantom(p, 0), bad_input);
  p.shape = {8, 8};
  for (double bad : {-0.1, 4.5, std::nan(""), HUGE_VAL}) {
    p.perturbation = bad;
    EXPECT_THROW(make_phantom(p, 0), bad_input) << bad;
    EXPECT_THROW(make_phantom_family(p, 0, 2), bad_input) << bad;
  }
  p.perturbation = 4.0;
  EXPECT_NO_THROW(make_phantom(p, 0));
}

}  // namespace
}  // namespace twofold
