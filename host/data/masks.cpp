#include <twofold/core/error.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/core/philox.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace twofold {
namespace {

constexpr std::uint32_t substream_random = 0;
constexpr std::uint32_t substream_equispaced = 1;

std::size_t round_count(double x) { return static_cast<std::size_t>(std::llround(x)); }

std::string shape_text(image_shape shape) { return std::to_string(shape.height) + "x" + std::to_string(shape.width); }

void expect_mask_size(std::size_t size, image_shape shape, std::string_view what) {
  TWOFOLD_EXPECTS(shape.height >= 1 && shape.width >= 1,
                  "mask '" + std::string(what) + "' has empty shape " + shape_text(shape));
  TWOFOLD_EXPECTS(size == shape.pixels(), "mask '" + std::string(what) + "' has " + std::to_string(size) +
                                              " entries, expected " + shape_text(shape) + " = " +
                                              std::to_string(shape.pixels()));
}

// floor(u · m) for u in (0, 1): an index in [0, m).
std::size_t scaled_index(double u, std::size_t m) {
  return std::min(m - 1, static_cast<std::size_t>(u * static_cast<double>(m)));
}

}  // namespace

std::vector<std::uint8_t> make_line_mask(const line_mask_params& p) {
  TWOFOLD_EXPECTS(p.width >= 1, "line mask width must be at least 1");
  TWOFOLD_EXPECTS(std::isfinite(p.acceleration) && p.acceleration >= 1.0,
                  "line mask acceleration must be finite and at least 1, got " + std::to_string(p.acceleration));
  TWOFOLD_EXPECTS(std::isfinite(p.center_fraction) && p.center_fraction >= 0.0 && p.center_fraction <= 1.0,
                  "line mask center_fraction must be in [0, 1], got " + std::to_string(p.center_fraction));

  const std::size_t W = p.width;
  const double fraction = p.center_fraction > 0.0 ? p.center_fraction : 0.32 / p.acceleration;
  const std::size_t total = std::max<std::size_t>(1, round_count(static_cast<double>(W) / p.acceleration));
  const std::size_t center = std::max<std::size_t>(1, round_count(static_cast<double>(W) * fraction));
  TWOFOLD_EXPECTS(center <= total, "line mask center_fraction " + std::to_string(fraction) + " asks for " +
                                       std::to_string(center) + " calibration lines, more than the " +
                                       std::to_string(total) + " lines that acceleration " +
                                       std::to_string(p.acceleration) + " allows for width " + std::to_string(W));

  std::vector<std::uint8_t> lines(W, 0);
  const std::size_t start = W / 2 - center / 2;
  std::fill_n(lines.begin() + static_cast<std::ptrdiff_t>(start), center, std::uint8_t{1});

  // Outside lines are handled in "compressed" indices q ∈ [0, W - c): the block is
  // cut out, so q < start is line q and q ≥ start is line q + c.
  const std::size_t outside = W - center, wanted = total - center;
  if (wanted == 0) return lines;
  auto line_of = [&](std::size_t q) { return q < start ? q : q + center; };

  if (p.pattern == line_pattern::random) {
    std::vector<std::size_t> order(outside);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = 0; i < wanted; ++i) {
      const double u = uniform(p.seed, i, rng_purpose::mask, substream_random);
      std::swap(order[i], order[i + scaled_index(u, outside - i)]);
      lines[line_of(order[i])] = 1;
    }
  } else {
    // wanted ≤ outside, so the spacing is ≥ 1 and the floors are distinct; the last
    // one is < offset + (wanted - 1)·spacing + 1 ≤ outside.
    const double spacing = static_cast<double>(outside) / static_cast<double>(wanted);
    const double offset = spacing * uniform(p.seed, 0, rng_purpose::mask, substream_equispaced);
    for (std::size_t k = 0; k < wanted; ++k) {
      const auto q = static_cast<std::size_t>(std::floor(offset + static_cast<double>(k) * spacing));
      lines[line_of(std::min(q, outside - 1))] = 1;
    }
  }
  return lines;
}

std::vector<float> expand_line_mask(std::span<const std::uint8_t> lines, image_shape shape) {
  TWOFOLD_EXPECTS(lines.size() == shape.width, "line mask has " + std::to_string(lines.size()) +
                                                   " lines, expected the image width " + std::to_string(shape.width));
  std::vector<float> mask(shape.pixels());
  for (std::size_t r = 0; r < shape.height; ++r)
    for (std::size_t w = 0; w < shape.width; ++w) mask[r * shape.width + w] = lines[w] != 0 ? 1.0f : 0.0f;
  return mask;
}

std::optional<std::vector<std::uint8_t>> as_line_mask(std::span<const float> mask, image_shape shape) {
  expect_mask_size(mask.size(), shape, "line");
  const std::size_t W = shape.width;
  std::vector<std::uint8_t> lines(W);
  for (std::size_t w = 0; w < W; ++w) {
    if (mask[w] != 0.0f && mask[w] != 1.0f) return std::nullopt;
    lines[w] = mask[w] == 1.0f ? 1 : 0;
  }
  for (std::size_t r = 1; r < shape.height; ++r)
    if (!std::equal(mask.begin(), mask.begin() + static_cast<std::ptrdiff_t>(W),
                    mask.begin() + static_cast<std::ptrdiff_t>(r * W)))
      return std::nullopt;
  return lines;
}

void validate_mask(std::span<const float> mask, image_shape shape, std::string_view what) {
  expect_mask_size(mask.size(), shape, what);
  // Messages are built only on failure (the macro evaluates them lazily).
  auto where = [&](std::size_t i) {
    return "mask '" + std::string(what) + "' entry " + std::to_string(i) + " (row " + std::to_string(i / shape.width) +
           ", column " + std::to_string(i % shape.width) + ")";
  };
  bool any = false;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    const float v = mask[i];
    TWOFOLD_EXPECTS(std::isfinite(v), where(i) + " is not finite");
    TWOFOLD_EXPECTS(v == 0.0f || v == 1.0f, where(i) + " is " + std::to_string(v) + ", not 0 or 1");
    any = any || v == 1.0f;
  }
  TWOFOLD_EXPECTS(any, "mask '" + std::string(what) + "' samples no k-space location");
}

}  // namespace twofold
