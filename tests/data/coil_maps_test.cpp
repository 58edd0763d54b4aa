// Synthetic coil maps: Σ|S|² = 1, smoothness, seeded determinism, distinct coils;
// validation and normalisation of user maps.
#include <twofold/data/coil_maps.hpp>
#include <twofold/core/error.hpp>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace twofold {
namespace {

using testing::bad_input_message;

double sum_of_squares(const std::vector<cfloat>& maps, image_shape s, std::size_t p) {
  double sum = 0;
  for (std::size_t c = 0; c < s.coils; ++c) sum += norm2(cdouble(maps[c * s.plane() + p]));
  return sum;
}

TEST(CoilMaps, NormalisedToOneEverywhere) {
  for (image_shape s : {image_shape{64, 64, 8}, image_shape{33, 48, 5}, image_shape{16, 16, 1}}) {
    for (double smoothness : {0.3, 1.0, 3.0}) {
      const auto maps = make_coil_maps(s, {4, 1.5, smoothness});
      ASSERT_EQ(maps.size(), s.pixels());
      for (std::size_t p = 0; p < s.plane(); ++p) ASSERT_NEAR(sum_of_squares(maps, s, p), 1.0, 1e-6);
      EXPECT_EQ(validate_coil_maps(maps, s, "synthetic"), 0u);
    }
  }
}

TEST(CoilMaps, SmoothBetweenNeighbouringPixels) {
  // At 64² a pixel is 1/32 of a unit: with a = 1 the magnitude's gradient is at most
  // ≈ 1.3/a and the phase's ≈ 2.2/a per unit, so neighbours differ by < 0.1.
  const image_shape s{64, 64, 8};
  const auto maps = make_coil_maps(s, {2, 1.5, 1.0});
  double largest = 0;
  for (std::size_t c = 0; c < s.coils; ++c)
    for (std::size_t h = 0; h + 1 < s.height; ++h)
      for (std::size_t w = 0; w + 1 < s.width; ++w) {
        const cfloat v = maps[(c * s.height + h) * s.width + w];
        largest = std::max({largest, double(abs(v - maps[(c * s.height + h) * s.width + w + 1])),
                            double(abs(v - maps[(c * s.height + h + 1) * s.width + w]))});
      }
  EXPECT_LT(largest, 0.1);
  EXPECT_GT(largest, 0.0);
}

TEST(CoilMaps, SeededAndCoilsDiffer) {
  const image_shape s{32, 32, 4};
  const auto a = make_coil_maps(s, {9, 1.5, 1.0});
  const auto b = make_coil_maps(s, {9, 1.5, 1.0});
  ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(cfloat)), 0);
  const auto other = make_coil_maps(s, {10, 1.5, 1.0});
  EXPECT_NE(std::memcmp(a.data(), other.data(), a.size() * sizeof(cfloat)), 0);
  // Each coil is brightest on its own side: the pixel of largest magnitude differs.
  std::vector<std::size_t> brightest(s.coils, 0);
  for (std::size_t c = 0; c < s.coils; ++c)
    for (std::size_t p = 0; p < s.plane(); ++p)
      if (norm2(a[c * s.plane() + p]) > norm2(a[c * s.plane() + brightest[c]])) brightest[c] = p;
  for (std::size_t c = 0; c < s.coils; ++c)
    for (std::size_t d = c + 1; d < s.coils; ++d) EXPECT_NE(brightest[c], brightest[d]) << c << " " << d;
}

TEST(CoilMaps, ValidateCountsBlindPixelsAndNormaliseSkipsThem) {
  const image_shape s{4, 5, 2};
  std::vector<cfloat> maps(s.pixels(), cfloat{3.0f, 4.0f});
  maps[7] = maps[s.plane() + 7] = cfloat{};
  maps[8] = cfloat{};  // coil 1 still sees pixel 8
  EXPECT_EQ(validate_coil_maps(maps, s, "user"), 1u);
  normalise_coil_maps(maps, s);
  EXPECT_EQ(maps[7], cfloat{});
  EXPECT_EQ(maps[s.plane() + 7], cfloat{});
  EXPECT_NEAR(abs(maps[s.plane() + 8]), 1.0, 1e-6);
  EXPECT_NEAR(maps[0].re, 3.0 / std::sqrt(50.0), 1e-6);
  EXPECT_NEAR(maps[0].im, 4.0 / std::sqrt(50.0), 1e-6);
  EXPECT_EQ(validate_coil_maps(std::vector<cfloat>(s.pixels()), s, "zero"), s.plane());
}

TEST(CoilMaps, RejectsBadInput) {
  const image_shape s{8, 8, 2};
  EXPECT_NE(bad_input_message([&] { make_coil_maps({8, 8, 0}, {}); }).find("shape"), std::string::npos);
  EXPECT_NE(bad_input_message([&] { make_coil_maps({0, 8, 2}, {}); }).find("shape"), std::string::npos);
  EXPECT_NE(bad_input_message([&] { make_coil_maps(s, {0, 0.0, 1.0}); }).find("ring_radius"), std::string::npos);
  EXPECT_NE(bad_input_message([&] { make_coil_maps(s, {0, NAN, 1.0}); }).find("ring_radius"), std::string::npos);
  EXPECT_NE(bad_input_message([&] { make_coil_maps(s, {0, 1.5, -1.0}); }).find("smoothness"), std::string::npos);
  EXPECT_NE(bad_input_message([&] { make_coil_maps(s, {0, 1.5, INFINITY}); }).find("smoothness"), std::string::npos);

  std::vector<cfloat> maps(s.pixels(), cfloat{1.0f, 0.0f});
  EXPECT_NE(bad_input_message([&] { validate_coil_maps(std::span(maps).first(10), s, "user"); }).find("'user'"),
            std::string::npos);
  maps[s.plane() + 2 * 8 + 3] = cfloat{NAN, 0.0f};
  const std::string message = bad_input_message([&] { validate_coil_maps(maps, s, "user"); });
  EXPECT_NE(message.find("non-finite value at coil 1, row 2, column 3"), std::string::npos) << message;
  EXPECT_NE(bad_input_message([&] { normalise_coil_maps(maps, s); }).find("non-finite"), std::string::npos);
}

}  // namespace
}  // namespace twofold
