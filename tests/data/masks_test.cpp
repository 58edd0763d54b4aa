// Line masks: exact line counts, the centred calibration block, seeded randomness
// (uniform selection checked by a z-test), equispaced spacing; expansion to 2-D and
// back; validation of user masks.
#include <twofold/core/error.hpp>
#include <twofold/data/masks.hpp>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

#include <cmath>
#include <numeric>
#include <set>
#include <string>
#include <vector>

namespace twofold {
namespace {

std::size_t count(const std::vector<std::uint8_t>& lines) {
  return static_cast<std::size_t>(std::accumulate(lines.begin(), lines.end(), 0));
}

line_mask_params params(std::size_t width, double acceleration, line_pattern pattern, std::uint64_t seed = 0) {
  line_mask_params p;
  p.width = width;
  p.acceleration = acceleration;
  p.pattern = pattern;
  p.seed = seed;
  return p;
}

using testing::bad_input_message;

TEST(MaskLines, ExactCountAndCentredBlock) {
  for (std::size_t W : {1, 2, 3, 7, 8, 15, 16, 33, 64, 127, 128, 320, 367, 368}) {
    for (double R : {1.0, 2.0, 3.3, 4.0, 8.0}) {
      const auto n = std::max<long>(1, std::lround(static_cast<double>(W) / R));
      const auto c = std::max<long>(1, std::lround(static_cast<double>(W) * 0.32 / R));
      const std::size_t start = W / 2 - static_cast<std::size_t>(c) / 2;
      for (auto pattern : {line_pattern::random, line_pattern::equispaced}) {
        for (std::uint64_t seed : {0u, 1u, 99u}) {
          const auto lines = make_line_mask(params(W, R, pattern, seed));
          ASSERT_EQ(lines.size(), W);
          EXPECT_EQ(count(lines), static_cast<std::size_t>(n)) << "W=" << W << " R=" << R;
          for (std::size_t w = start; w < start + static_cast<std::size_t>(c); ++w)
            EXPECT_EQ(lines[w], 1) << "calibration line " << w << " W=" << W << " R=" << R;
          EXPECT_EQ(lines[W / 2], 1);
          for (std::uint8_t v : lines) EXPECT_LE(v, 1);
        }
      }
    }
  }
}

TEST(MaskLines, HandWorkedExamples) {
  // W = 320, 4×: 80 lines; block round(25.6) = 26 lines 147..172 (160 - 13).
  auto lines = make_line_mask(params(320, 4.0, line_pattern::random, 5));
  EXPECT_EQ(count(lines), 80u);
  EXPECT_EQ(std::accumulate(lines.begin() + 147, lines.begin() + 173, 0), 26);
  // W = 368, 8×: 46 lines; block round(14.72) = 15 lines 177..191 (184 - 7).
  lines = make_line_mask(params(368, 8.0, line_pattern::equispaced, 5));
  EXPECT_EQ(count(lines), 46u);
  EXPECT_EQ(std::accumulate(lines.begin() + 177, lines.begin() + 192, 0), 15);
  // W = 15, 3.3×: round(4.545) = 5 lines; block of 1 at the DC line 7.
  lines = make_line_mask(params(15, 3.3, line_pattern::random, 5));
  EXPECT_EQ(count(lines), 5u);
  EXPECT_EQ(lines[7], 1);
  // Explicit fraction, even block in odd width: W = 9, c = round(9 · 0.25) = 2 → lines 3, 4.
  line_mask_params p = params(9, 1.5, line_pattern::equispaced);
  p.center_fraction = 0.25;
  lines = make_line_mask(p);
  EXPECT_EQ(count(lines), 6u);
  EXPECT_EQ(lines[3] + lines[4], 2);
  // Acceleration 1 samples everything.
  lines = make_line_mask(params(17, 1.0, line_pattern::random, 3));
  EXPECT_EQ(count(lines), 17u);
}

TEST(MaskLines, RandomMasksDependOnTheSeedOnly) {
  std::set<std::string> seen;  // masks as strings of '0'/'1'

  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto lines = make_line_mask(params(256, 4.0, line_pattern::random, seed));
    EXPECT_EQ(lines, make_line_mask(params(256, 4.0, line_pattern::random, seed)));
    std::string text;
    for (std::uint8_t v : lines) text += static_cast<char>('0' + v);
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(MaskLines, RandomLinesAreUniformOutsideTheBlock) {
  // W = 64, 4×: 16 lines, block round(5.12) = 5 (lines 30..34), 11 of the other 59
  // chosen: each outside line has probability 11/59. Over S seeds its count is
  // Binomial(S, 11/59); every line must lie within 5 standard deviations.
  const std::size_t W = 64, S = 4000;
  std::vector<double> hits(W, 0.0);
  for (std::uint64_t seed = 0; seed < S; ++seed) {
    const auto lines = make_line_mask(params(W, 4.0, line_pattern::random, seed));
    for (std::size_t w = 0; w < W; ++w) hits[w] += lines[w];
  }
  const double prob = 11.0 / 59.0, mean = S * prob, sd = std::sqrt(S * prob * (1 - prob));
  for (std::size_t w = 0; w < W; ++w) {
    if (w >= 30 && w < 35) {
      EXPECT_EQ(hits[w], static_cast<double>(S));
    } else {
      EXPECT_LT(std::abs(hits[w] - mean), 5 * sd) << "line " << w;
    }
  }
}

TEST(MaskLines, EquispacedSpacing) {
  // With the block cut out, the n - c outside lines sit at floor(offset + k·s),
  // s = (W - c)/(n - c), offset ∈ [0, s): consecutive gaps are ⌊s⌋ or ⌈s⌉.
  std::set<std::size_t> first_lines;
  for (std::size_t W : {64, 99, 320, 368}) {
    for (double R : {2.0, 3.3, 4.0, 8.0}) {
      for (std::uint64_t seed = 0; seed < 6; ++seed) {
        const auto lines = make_line_mask(params(W, R, line_pattern::equispaced, seed));
        const auto n = static_cast<std::size_t>(std::lround(static_cast<double>(W) / R));
        const auto c = static_cast<std::size_t>(std::lround(static_cast<double>(W) * 0.32 / R));
        const std::size_t start = W / 2 - c / 2;
        const double s = static_cast<double>(W - c) / static_cast<double>(n - c);
        std::vector<std::size_t> q;  // compressed indices of the outside lines
        for (std::size_t w = 0; w < W; ++w)
          if (lines[w] && (w < start || w >= start + c)) q.push_back(w < start ? w : w - c);
        ASSERT_EQ(q.size(), n - c);
        EXPECT_LT(static_cast<double>(q.front()), s);
        for (std::size_t k = 1; k < q.size(); ++k) {
          const auto gap = static_cast<double>(q[k] - q[k - 1]);
          EXPECT_TRUE(gap == std::floor(s) || gap == std::ceil(s)) << "gap " << gap << " s " << s;
        }
        if (W == 320 && R == 4.0) first_lines.insert(q.front());
      }
    }
  }
  EXPECT_GT(first_lines.size(), 1u);  // the offset depends on the seed
}

TEST(MaskLines, RejectsBadParameters) {
  EXPECT_NE(bad_input_message([] { make_line_mask(params(0, 4.0, line_pattern::random)); }).find("width"),
            std::string::npos);
  for (double R : {0.5, 0.0, -4.0, std::nan(""), HUGE_VAL})
    EXPECT_NE(bad_input_message([R] { make_line_mask(params(64, R, line_pattern::random)); }).find("acceleration"),
              std::string::npos)
        << R;
  for (double f : {-0.1, 1.5, std::nan("")}) {
    line_mask_params p = params(64, 4.0, line_pattern::random);
    p.center_fraction = f;
    EXPECT_NE(bad_input_message([&] { make_line_mask(p); }).find("center_fraction"), std::string::npos) << f;
  }
  line_mask_params p = params(100, 4.0, line_pattern::equispaced);
  p.center_fraction = 0.5;  // 50 calibration lines but only 25 allowed
  EXPECT_NE(bad_input_message([&] { make_line_mask(p); }).find("center_fraction"), std::string::npos);
  p.center_fraction = 0.25;  // exactly fills the budget
  EXPECT_EQ(count(make_line_mask(p)), 25u);
}

TEST(MaskExpand, RoundTripAndRejectionOfNonLineMasks) {
  const image_shape shape{5, 12};
  const auto lines = make_line_mask(params(12, 3.0, line_pattern::random, 4));
  auto mask = expand_line_mask(lines, shape);
  ASSERT_EQ(mask.size(), 60u);
  for (std::size_t r = 0; r < 5; ++r)
    for (std::size_t w = 0; w < 12; ++w) EXPECT_EQ(mask[r * 12 + w], lines[w] ? 1.0f : 0.0f);
  const auto back = as_line_mask(mask, shape);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, lines);

  auto broken = mask;
  broken[3 * 12 + 2] = 1.0f - broken[3 * 12 + 2];  // one row differs
  EXPECT_FALSE(as_line_mask(broken, shape).has_value());
  broken = mask;
  for (std::size_t r = 0; r < 5; ++r) broken[r * 12 + 1] = 0.5f;  // constant but not 0/1
  EXPECT_FALSE(as_line_mask(broken, shape).has_value());

  EXPECT_THROW(expand_line_mask(lines, {5, 11}), bad_input);
  EXPECT_THROW(as_line_mask(mask, {6, 12}), bad_input);
}

TEST(MaskValidate, AcceptsGoodAndNamesTheMaskInErrors) {
  const image_shape shape{4, 6};
  std::vector<float> mask(24, 0.0f);
  mask[7] = 1.0f;
  EXPECT_NO_THROW(validate_mask(mask, shape, "user"));

  EXPECT_NE(bad_input_message([&] { validate_mask(std::span(mask).first(23), shape, "user"); }).find("'user' has 23"),
            std::string::npos);
  for (float bad : {0.5f, -1.0f, 2.0f, std::nanf(""), HUGE_VALF}) {
    auto m = mask;
    m[13] = bad;
    const std::string msg = bad_input_message([&] { validate_mask(m, shape, "user"); });
    EXPECT_NE(msg.find("'user' entry 13 (row 2, column 1)"), std::string::npos) << msg;
  }
  const std::vector<float> empty(24, 0.0f);
  EXPECT_EQ(bad_input_message([&] { validate_mask(empty, shape, "user"); }), "mask 'user' samples no k-space location");
}

}  // namespace
}  // namespace twofold
