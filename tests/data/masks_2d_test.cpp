// 2-D masks: exact counts, the fully sampled calibration rectangle, seeded
// determinism, the Poisson-disc distance property, density falling with the radius,
// and bad parameters.
#include <twofold/core/error.hpp>
#include <twofold/data/masks.hpp>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace twofold {
namespace {

std::size_t count(const std::vector<float>& mask) {
  return static_cast<std::size_t>(std::accumulate(mask.begin(), mask.end(), 0.0));
}

using testing::bad_input_message;

double radius(image_shape s, std::size_t h, std::size_t w) {
  const double dy = (double(h) - double(s.height / 2)) / (0.5 * double(s.height));
  const double dx = (double(w) - double(s.width / 2)) / (0.5 * double(s.width));
  return std::sqrt(dy * dy + dx * dx);
}

bool in_calibration(image_shape s, calibration_region c, std::size_t h, std::size_t w) {
  const std::size_t h0 = s.height / 2 - c.height / 2, w0 = s.width / 2 - c.width / 2;
  return h >= h0 && h < h0 + c.height && w >= w0 && w < w0 + c.width;
}

poisson_disc_mask_params poisson(image_shape s, double R, calibration_region c, std::uint64_t seed = 0) {
  return {s, R, c, seed};
}

variable_density_mask_params bernoulli(image_shape s, double R, calibration_region c, double power = 2.0,
                                       std::uint64_t seed = 0) {
  return {s, R, c, power, seed};
}

/// Checks count, 0/1 values and the calibration rectangle.
void expect_valid(const std::vector<float>& mask, image_shape s, double R, calibration_region c) {
  ASSERT_EQ(mask.size(), s.plane());
  EXPECT_EQ(count(mask), static_cast<std::size_t>(std::llround(double(s.plane()) / R)))
      << to_string(s) << " R=" << R;
  for (std::size_t h = 0; h < s.height; ++h)
    for (std::size_t w = 0; w < s.width; ++w) {
      const float v = mask[h * s.width + w];
      EXPECT_TRUE(v == 0.0f || v == 1.0f);
      if (in_calibration(s, c, h, w)) {
        EXPECT_EQ(v, 1.0f) << "calibration (" << h << ", " << w << ")";
      }
    }
}

/// Sample fraction in radius bins [0.2, 0.4), [0.4, 0.6), [0.6, 0.8), [0.8, 1.0)
/// over several seeds, outside the calibration region.
std::vector<double> radial_profile(image_shape s, calibration_region c, const auto& make) {
  std::vector<double> hits(4, 0.0), total(4, 0.0);
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    const std::vector<float> mask = make(seed);
    for (std::size_t h = 0; h < s.height; ++h)
      for (std::size_t w = 0; w < s.width; ++w) {
        const double r = radius(s, h, w);
        if (in_calibration(s, c, h, w) || r < 0.2 || r >= 1.0) continue;
        const auto bin = static_cast<std::size_t>((r - 0.2) / 0.2);
        hits[bin] += mask[h * s.width + w];
        total[bin] += 1.0;
      }
  }
  for (std::size_t b = 0; b < 4; ++b) hits[b] /= total[b];
  return hits;
}

TEST(Mask2D, CalibrationRegionFromFraction) {
  EXPECT_EQ(make_calibration_region({64, 48}, 0.08).height, 5u);  // round(5.12)
  EXPECT_EQ(make_calibration_region({64, 48}, 0.08).width, 4u);   // round(3.84)
  EXPECT_EQ(make_calibration_region({64, 48}, 0.0).pixels(), 0u);
  EXPECT_EQ(make_calibration_region({7, 9}, 0.01).pixels(), 1u);  // at least 1 × 1
  EXPECT_EQ(make_calibration_region({7, 9}, 1.0).pixels(), 63u);
  EXPECT_NE(bad_input_message([] { make_calibration_region({8, 8}, 1.5); }).find("fraction"), std::string::npos);
  EXPECT_NE(bad_input_message([] { make_calibration_region({8, 8}, NAN); }).find("fraction"), std::string::npos);
  EXPECT_NE(bad_input_message([] { make_calibration_region({0, 8}, 0.1); }).find("shape"), std::string::npos);
}

TEST(PoissonDiscMask, ExactCountAndCalibration) {
  for (image_shape s : {image_shape{64, 64}, image_shape{48, 80}, image_shape{33, 31}, image_shape{5, 3}}) {
    for (double R : {1.0, 1.5, 3.0, 4.0, 8.0}) {
      for (double f : {0.0, 0.08, 0.15}) {
        const calibration_region c = make_calibration_region(s, f);
        if (c.pixels() > static_cast<std::size_t>(std::llround(double(s.plane()) / R))) continue;
        expect_valid(make_poisson_disc_mask(poisson(s, R, c, 3)), s, R, c);
      }
    }
  }
}

TEST(PoissonDiscMask, SeededDeterminism) {
  const image_shape s{64, 64};
  const calibration_region c{8, 8};
  const auto a = make_poisson_disc_mask(poisson(s, 4.0, c, 7));
  EXPECT_EQ(a, make_poisson_disc_mask(poisson(s, 4.0, c, 7)));
  EXPECT_NE(a, make_poisson_disc_mask(poisson(s, 4.0, c, 8)));
}

TEST(PoissonDiscMask, MinimumDistanceOutsideCalibration) {
  // Any two samples a, b outside the calibration region satisfy |a − b| ≥ 1 + σ·min(r(a), r(b))
  // for the slope σ the bisection chose (not returned). So the largest σ consistent with
  // the mask must be clearly positive, and larger than for a Bernoulli mask of the
  // same count (whose samples can be neighbours anywhere).
  const image_shape s{96, 96};
  const calibration_region c{10, 10};
  const auto mask = make_poisson_disc_mask(poisson(s, 6.0, c, 11));
  std::vector<std::pair<long, long>> pts;
  for (std::size_t h = 0; h < s.height; ++h)
    for (std::size_t w = 0; w < s.width; ++w)
      if (mask[h * s.width + w] != 0.0f && !in_calibration(s, c, h, w)) pts.emplace_back(h, w);
  double slope = 1e300;
  for (std::size_t i = 0; i < pts.size(); ++i)
    for (std::size_t j = i + 1; j < pts.size(); ++j) {
      const double dh = double(pts[i].first - pts[j].first), dw = double(pts[i].second - pts[j].second);
      const double d = std::sqrt(dh * dh + dw * dw);
      const double r = std::min(radius(s, std::size_t(pts[i].first), std::size_t(pts[i].second)),
                                radius(s, std::size_t(pts[j].first), std::size_t(pts[j].second)));
      ASSERT_GE(d, 1.0);
      if (r > 0) slope = std::min(slope, (d - 1.0) / r);
    }
  EXPECT_GT(slope, 0.5);
  const auto random = make_variable_density_mask(bernoulli(s, 6.0, c, 2.0, 11));
  double random_slope = 1e300;
  std::vector<std::pair<long, long>> q;
  for (std::size_t h = 0; h < s.height; ++h)
    for (std::size_t w = 0; w < s.width; ++w)
      if (random[h * s.width + w] != 0.0f && !in_calibration(s, c, h, w)) q.emplace_back(h, w);
  for (std::size_t i = 0; i < q.size(); ++i)
    for (std::size_t j = i + 1; j < q.size(); ++j) {
      const double dh = double(q[i].first - q[j].first), dw = double(q[i].second - q[j].second);
      const double r = std::min(radius(s, std::size_t(q[i].first), std::size_t(q[i].second)),
                                radius(s, std::size_t(q[j].first), std::size_t(q[j].second)));
      if (r > 0) random_slope = std::min(random_slope, (std::sqrt(dh * dh + dw * dw) - 1.0) / r);
    }
  EXPECT_LT(random_slope, slope);
}

TEST(PoissonDiscMask, DensityFallsWithRadius) {
  const image_shape s{80, 80};
  const calibration_region c{8, 8};
  const auto profile = radial_profile(s, c, [&](std::uint64_t seed) {
    return make_poisson_disc_mask(poisson(s, 5.0, c, seed));
  });
  for (std::size_t b = 1; b < profile.size(); ++b)
    EXPECT_LT(profile[b], profile[b - 1]) << "bin " << b << ": " << profile[b] << " vs " << profile[b - 1];
}

TEST(VariableDensityMask, ExactCountAndCalibration) {
  for (image_shape s : {image_shape{64, 64}, image_shape{48, 80}, image_shape{33, 31}, image_shape{5, 3}}) {
    for (double R : {1.0, 1.5, 3.0, 4.0, 8.0}) {
      for (double f : {0.0, 0.08, 0.15}) {
        for (double power : {0.0, 1.0, 3.0}) {
          const calibration_region c = make_calibration_region(s, f);
          if (c.pixels() > static_cast<std::size_t>(std::llround(double(s.plane()) / R))) continue;
          expect_valid(make_variable_density_mask(bernoulli(s, R, c, power, 3)), s, R, c);
        }
      }
    }
  }
}

TEST(VariableDensityMask, SeededDeterminism) {
  const image_shape s{64, 64};
  const calibration_region c{8, 8};
  const auto a = make_variable_density_mask(bernoulli(s, 4.0, c, 2.0, 7));
  EXPECT_EQ(a, make_variable_density_mask(bernoulli(s, 4.0, c, 2.0, 7)));
  EXPECT_NE(a, make_variable_density_mask(bernoulli(s, 4.0, c, 2.0, 8)));
}

TEST(VariableDensityMask, RadialProfileMonotoneAndMatchesDensity) {
  const image_shape s{96, 96};
  const calibration_region c{8, 8};
  const auto profile = radial_profile(s, c, [&](std::uint64_t seed) {
    return make_variable_density_mask(bernoulli(s, 4.0, c, 2.0, seed));
  });
  for (std::size_t b = 1; b < profile.size(); ++b) EXPECT_LT(profile[b], profile[b - 1]) << "bin " << b;
  // Ratios follow (1 − r/r_max)²: bins at r ≈ 0.3 and 0.9 (r_max = √2) have density
  // ratio ((1 − 0.9/√2)/(1 − 0.3/√2))² ≈ 0.21 if neither is capped at 1.
  EXPECT_NEAR(profile[3] / profile[0], 0.21, 0.05);
  // Power 0 is uniform outside the calibration region.
  const auto flat = radial_profile(s, c, [&](std::uint64_t seed) {
    return make_variable_density_mask(bernoulli(s, 4.0, c, 0.0, seed));
  });
  for (double v : flat) EXPECT_NEAR(v, flat[0], 0.02);
}

TEST(Mask2D, RejectsBadParameters) {
  const image_shape s{32, 32};
  const auto both = [&](auto&& check) {
    check([&](image_shape sh, double R, calibration_region c) { make_poisson_disc_mask(poisson(sh, R, c)); });
    check([&](image_shape sh, double R, calibration_region c) { make_variable_density_mask(bernoulli(sh, R, c)); });
  };
  both([&](auto make) {
    EXPECT_NE(bad_input_message([&] { make(s, 0.5, calibration_region{}); }).find("acceleration"), std::string::npos);
    EXPECT_NE(bad_input_message([&] { make(s, INFINITY, calibration_region{}); }).find("acceleration"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] { make(s, NAN, calibration_region{}); }).find("acceleration"), std::string::npos);
    EXPECT_NE(bad_input_message([&] { make(image_shape{0, 32}, 4.0, calibration_region{}); }).find("shape"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] { make(image_shape{32, 32, 2}, 4.0, calibration_region{}); }).find("shape"),
              std::string::npos);
    // 20 × 20 = 400 > round(1024 / 4) = 256 locations.
    EXPECT_NE(bad_input_message([&] { make(s, 4.0, calibration_region{20, 20}); }).find("calibration"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] { make(s, 1.0, calibration_region{40, 4}); }).find("calibration"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] { make(s, 4.0, calibration_region{4, 0}); }).find("calibration"),
              std::string::npos);
  });
  EXPECT_NE(bad_input_message([&] { make_variable_density_mask(bernoulli(s, 4.0, {}, -1.0)); }).find("power"),
            std::string::npos);
  EXPECT_NE(bad_input_message([&] { make_variable_density_mask(bernoulli(s, 4.0, {}, NAN)); }).find("power"),
            std::string::npos);
}

}  // namespace
}  // namespace twofold
