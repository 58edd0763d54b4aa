// 2-D k-space masks: variable-density Poisson disc and variable-density Bernoulli
// (conventions in include/twofold/data/masks.hpp).
#include <twofold/core/error.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/core/philox.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace twofold {
namespace {

constexpr std::uint32_t substream_darts = 0;
constexpr std::uint32_t substream_removal = 1;
constexpr std::uint32_t substream_top_up = 2;
constexpr int candidates_per_sample = 30;  // Bridson's k
constexpr int slope_halvings = 40;

// floor(u · m) for u in (0, 1): an index in [0, m).
std::size_t scaled_index(double u, std::size_t m) {
  return std::min(m - 1, static_cast<std::size_t>(u * static_cast<double>(m)));
}

/// The grid, its centre, the normalised radius and the calibration rectangle.
struct grid {
  std::size_t H, W;
  calibration_region calib;

  std::size_t size() const { return H * W; }
  double radius(std::size_t h, std::size_t w) const {
    const double dy = (double(h) - double(H / 2)) / (0.5 * double(H));
    const double dx = (double(w) - double(W / 2)) / (0.5 * double(W));
    return std::sqrt(dy * dy + dx * dx);
  }
  bool in_calibration(std::size_t h, std::size_t w) const {
    const std::size_t h0 = H / 2 - calib.height / 2, w0 = W / 2 - calib.width / 2;
    return h >= h0 && h < h0 + calib.height && w >= w0 && w < w0 + calib.width;
  }
  void add_calibration(std::vector<float>& mask) const {
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t w = 0; w < W; ++w)
        if (in_calibration(h, w)) mask[h * W + w] = 1.0f;
  }
};

/// Validates the shared parameters; returns the grid and n = round(H·W / R).
std::pair<grid, std::size_t> checked_grid(image_shape shape, double acceleration, calibration_region calib,
                                          const char* kind) {
  const std::string k = kind;
  TWOFOLD_EXPECTS(shape.height >= 1 && shape.width >= 1 && shape.coils == 1,
                  k + " mask shape must be H x W with H, W >= 1 and one coil, got " + to_string(shape));
  TWOFOLD_EXPECTS(std::isfinite(acceleration) && acceleration >= 1.0,
                  k + " mask acceleration must be finite and at least 1, got " + std::to_string(acceleration));
  TWOFOLD_EXPECTS((calib.height == 0) == (calib.width == 0),
                  k + " mask calibration region " + std::to_string(calib.height) + "x" + std::to_string(calib.width) +
                      " has one empty side (use 0x0 for none)");
  TWOFOLD_EXPECTS(calib.height <= shape.height && calib.width <= shape.width,
                  k + " mask calibration region " + std::to_string(calib.height) + "x" + std::to_string(calib.width) +
                      " is larger than the shape " + to_string(shape));
  const std::size_t n = static_cast<std::size_t>(std::llround(double(shape.plane()) / acceleration));
  TWOFOLD_EXPECTS(calib.pixels() <= n, k + " mask calibration region " + std::to_string(calib.height) + "x" +
                                           std::to_string(calib.width) + " holds " + std::to_string(calib.pixels()) +
                                           " locations, more than the " + std::to_string(n) +
                                           " that acceleration " + std::to_string(acceleration) + " allows");
  return {grid{shape.height, shape.width, calib}, n};
}

/// Chooses `count` of `candidates` in a seeded random order (partial Fisher–Yates)
/// and sets them to `value` in the mask.
void set_random_subset(std::vector<std::size_t> candidates, std::size_t count, std::vector<float>& mask, float value,
                       std::uint64_t seed, rng_purpose purpose, std::uint32_t substream) {
  for (std::size_t i = 0; i < count; ++i) {
    const double u = uniform(seed, i, purpose, substream);
    std::swap(candidates[i], candidates[i + scaled_index(u, candidates.size() - i)]);
    mask[candidates[i]] = value;
  }
}

/// Bridson's dart throwing with radius ρ = 1 + slope · r (pixels), from DC.
/// Returns the Poisson samples (without the calibration region).
std::vector<float> throw_darts(const grid& g, double slope, std::uint64_t seed) {
  std::vector<float> mask(g.size(), 0.0f);
  std::vector<std::pair<long, long>> points, active;
  const auto rho = [&](long h, long w) { return 1.0 + slope * g.radius(std::size_t(h), std::size_t(w)); };
  const long H = long(g.H), W = long(g.W);
  const auto far_enough = [&](long h, long w, double r) {
    const double r2 = r * r;
    const long reach = long(std::ceil(r));
    if (double(2 * reach + 1) * double(2 * reach + 1) > double(points.size())) {
      for (const auto& [qh, qw] : points)
        if (double((qh - h) * (qh - h) + (qw - w) * (qw - w)) < r2) return false;
      return true;
    }
    for (long qh = std::max(0L, h - reach); qh <= std::min(H - 1, h + reach); ++qh)
      for (long qw = std::max(0L, w - reach); qw <= std::min(W - 1, w + reach); ++qw)
        if (mask[std::size_t(qh * W + qw)] != 0.0f && double((qh - h) * (qh - h) + (qw - w) * (qw - w)) < r2)
          return false;
    return true;
  };
  const auto accept = [&](long h, long w) {
    mask[std::size_t(h * W + w)] = 1.0f;
    points.emplace_back(h, w);
    active.emplace_back(h, w);
  };

  constexpr double two_pi = 6.283185307179586476925286766559;
  std::uint64_t draw = 0;
  const auto next = [&] { return uniform(seed, draw++, rng_purpose::poisson_disc_mask, substream_darts); };
  accept(H / 2, W / 2);
  while (!active.empty()) {
    const std::size_t a = scaled_index(next(), active.size());
    const auto [ph, pw] = active[a];
    const double rp = rho(ph, pw);
    bool placed = false;
    for (int k = 0; k < candidates_per_sample && !placed; ++k) {
      const double dist = rp * (1.0 + next()), angle = two_pi * next();
      const long h = std::lround(double(ph) + dist * std::sin(angle));
      const long w = std::lround(double(pw) + dist * std::cos(angle));
      if (h < 0 || h >= H || w < 0 || w >= W || mask[std::size_t(h * W + w)] != 0.0f) continue;
      if (far_enough(h, w, rho(h, w))) {
        accept(h, w);
        placed = true;
      }
    }
    if (!placed) {
      active[a] = active.back();
      active.pop_back();
    }
  }
  return mask;
}

std::size_t union_count(const grid& g, const std::vector<float>& darts) {
  std::size_t count = g.calib.pixels();
  for (std::size_t i = 0; i < g.size(); ++i)
    if (darts[i] != 0.0f && !g.in_calibration(i / g.W, i % g.W)) ++count;
  return count;
}

}  // namespace

calibration_region make_calibration_region(image_shape shape, double fraction) {
  TWOFOLD_EXPECTS(shape.height >= 1 && shape.width >= 1,
                  "calibration region needs a non-empty shape, got " + to_string(shape));
  TWOFOLD_EXPECTS(std::isfinite(fraction) && fraction >= 0.0 && fraction <= 1.0,
                  "calibration region fraction must be in [0, 1], got " + std::to_string(fraction));
  if (fraction == 0.0) return {};
  const auto side = [&](std::size_t n) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(double(n) * fraction)));
  };
  return {side(shape.height), side(shape.width)};
}

std::vector<float> make_poisson_disc_mask(const poisson_disc_mask_params& p) {
  const auto [g, n] = checked_grid(p.shape, p.acceleration, p.calibration, "poisson-disc");

  std::vector<float> best = throw_darts(g, 0.0, p.seed);
  std::size_t best_count = union_count(g, best);
  if (best_count < n) {  // ρ = 1 everywhere and still too few: top up
    g.add_calibration(best);
    std::vector<std::size_t> empty;
    for (std::size_t i = 0; i < g.size(); ++i)
      if (best[i] == 0.0f) empty.push_back(i);
    set_random_subset(std::move(empty), n - best_count, best, 1.0f, p.seed, rng_purpose::poisson_disc_mask,
                      substream_top_up);
    return best;
  }
  double lo = 0.0, hi = double(std::max(g.H, g.W));
  for (int i = 0; i < slope_halvings && best_count != n; ++i) {
    const double mid = 0.5 * (lo + hi);
    std::vector<float> trial = throw_darts(g, mid, p.seed);
    const std::size_t count = union_count(g, trial);
    if (count >= n) {
      lo = mid;
      if (count < best_count) {
        best = std::move(trial);
        best_count = count;
      }
    } else {
      hi = mid;
    }
  }
  // Remove the excess among the Poisson samples outside the calibration region.
  std::vector<std::size_t> removable;
  for (std::size_t i = 0; i < g.size(); ++i)
    if (best[i] != 0.0f && !g.in_calibration(i / g.W, i % g.W)) removable.push_back(i);
  set_random_subset(std::move(removable), best_count - n, best, 0.0f, p.seed, rng_purpose::poisson_disc_mask,
                    substream_removal);
  g.add_calibration(best);
  return best;
}

std::vector<float> make_variable_density_mask(const variable_density_mask_params& p) {
  const auto [g, n] = checked_grid(p.shape, p.acceleration, p.calibration, "variable-density");
  TWOFOLD_EXPECTS(std::isfinite(p.power) && p.power >= 0.0,
                  "variable-density mask power must be finite and >= 0, got " + std::to_string(p.power));

  std::vector<float> mask(g.size(), 0.0f);
  g.add_calibration(mask);
  const std::size_t wanted = n - g.calib.pixels();
  if (wanted == 0) return mask;

  double r_max = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) r_max = std::max(r_max, g.radius(i / g.W, i % g.W));
  std::vector<std::size_t> outside;
  std::vector<double> density;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g.in_calibration(i / g.W, i % g.W)) continue;
    outside.push_back(i);
    const double r = r_max > 0.0 ? g.radius(i / g.W, i % g.W) / r_max : 0.0;
    density.push_back(p.power == 0.0 ? 1.0 : std::pow(std::max(0.0, 1.0 - r), p.power));
  }
  // c with Σ min(1, c·d_i) = wanted (the sum grows with c; bracket, then bisect).
  const auto expected = [&](double c) {
    double s = 0.0;
    for (const double d : density) s += std::min(1.0, c * d);
    return s;
  };
  double lo = 0.0, hi = 1.0;
  while (expected(hi) < double(wanted) && hi < 1e300) hi *= 2.0;
  for (int i = 0; i < 200 && lo < hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    (expected(mid) < double(wanted) ? lo : hi) = mid;
  }
  // Order sampling: the `wanted` smallest u_i / π_i (the Bernoulli sample is u_i / π_i < 1).
  std::vector<std::pair<double, std::size_t>> keys(outside.size());
  for (std::size_t k = 0; k < outside.size(); ++k) {
    const double pi = std::min(1.0, hi * density[k]);
    const double u = uniform(p.seed, outside[k], rng_purpose::variable_density_mask, 0);
    keys[k] = {pi > 0.0 ? u / pi : std::numeric_limits<double>::infinity(), outside[k]};
  }
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(wanted - 1), keys.end());
  for (std::size_t k = 0; k < wanted; ++k) mask[keys[k].second] = 1.0f;
  return mask;
}

}  // namespace twofold
