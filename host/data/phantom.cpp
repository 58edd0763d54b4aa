#include <twofold/core/error.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/data/phantom.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

namespace twofold {
namespace {

constexpr double pi = 3.141592653589793238462643383279502884;

struct ellipse {
  double amplitude;  // added inside the ellipse
  double a, b;       // semi-axes along the ellipse's own x and y, normalised units
  double x0, y0;     // centre
  double theta;      // counter-clockwise rotation, radians
};

// Toft's modified Shepp–Logan phantom (MATLAB `phantom`, scikit-image):
// amplitude, a, b, x0, y0, angle in degrees.
constexpr std::array<std::array<double, 6>, 10> shepp_logan_table{{
    {1.0, 0.69, 0.92, 0.0, 0.0, 0.0},
    {-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0},
    {-0.2, 0.1100, 0.3100, 0.22, 0.0, -18.0},
    {-0.2, 0.1600, 0.4100, -0.22, 0.0, 18.0},
    {0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0},
    {0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0},
    {0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0},
    {0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0},
    {0.1, 0.0230, 0.0230, 0.0, -0.606, 0.0},
    {0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0},
}};

// The tissue level inside each ellipse (skull 1, brain 0.2, ventricles 0, small
// structures 0.3) and the ellipse it sits in (-1: none). Intensities are perturbed
// as tissue levels, so that a brighter skull does not darken the brain.
constexpr std::array<double, 10> tissue_level{1.0, 0.2, 0.0, 0.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3};
constexpr std::array<int, 10> container{-1, 0, 1, 1, 1, 1, 1, 1, 1, 1};

// Fixed draw numbers, so that no parameter shifts another's draws: ellipse k uses
// 8k + 0..4 for its geometry (ellipse 0's draws move the whole head, ellipse 1's are
// unused) and 8k + 5 for its tissue level; the lesion count 80, lesion j
// 88 + 8j + 0..6, the phase 120..126.
constexpr std::uint64_t draw_lesion_count = 80;
constexpr std::uint64_t draw_lesions = 88;
constexpr std::uint64_t draw_phase = 120;
constexpr std::size_t max_lesions = 3;

// One uniform (0, 1) draw of member `index` (counter layout in phantom.hpp).
double draw(std::uint64_t seed, std::uint64_t index, std::uint64_t d) {
  const philox_counter ctr{static_cast<std::uint32_t>(d / 4), static_cast<std::uint32_t>(index),
                           static_cast<std::uint32_t>(index >> 32), static_cast<std::uint32_t>(rng_purpose::phantom)};
  const philox_counter r = philox4x32_10(ctr, make_key(seed));
  const std::uint32_t w[4] = {r.c0, r.c1, r.c2, r.c3};
  return uniform_open01(w[d % 4]);
}

// Uniform on (-1, 1).
double symmetric(std::uint64_t seed, std::uint64_t index, std::uint64_t d) { return 2.0 * draw(seed, index, d) - 1.0; }

struct phantom_description {
  std::array<ellipse, 10 + max_lesions> ellipses{};
  std::size_t count = 0;
  std::array<double, 6> phase{};  // coefficients of 1, x, y, x², xy, y²
};

// Perturbs the ten Shepp–Logan ellipses of `out` with strength s > 0.
void perturb_ellipses(phantom_description& out, std::uint64_t seed, std::uint64_t index, double s) {
  // Intensities: the tissue level inside ellipse k changes by δ_k, so its amplitude
  // (level minus the level of the ellipse containing it) changes by δ_k - δ_container.
  std::array<double, 10> level_change{};
  for (std::size_t k = 0; k < 10; ++k) level_change[k] = 0.25 * s * tissue_level[k] * symmetric(seed, index, 8 * k + 5);
  for (std::size_t k = 0; k < 10; ++k)
    out.ellipses[k].amplitude +=
        level_change[k] - (container[k] >= 0 ? level_change[static_cast<std::size_t>(container[k])] : 0.0);

  // Geometry. The head (skull ellipse 0 and brain ellipse 1) moves, scales and turns
  // as one rigid-plus-stretch transform T — drawn in ellipse 0's slots — so the thin
  // skull ring (0.03–0.06 thick) stays intact. Inner structures follow T and then
  // get their own jitter.
  const double head_dx = 0.04 * s * symmetric(seed, index, 0), head_dy = 0.04 * s * symmetric(seed, index, 1);
  const double head_sa = 1.0 + 0.10 * s * symmetric(seed, index, 2);
  const double head_sb = 1.0 + 0.10 * s * symmetric(seed, index, 3);
  const double head_turn = (10.0 * pi / 180.0) * s * symmetric(seed, index, 4);
  const double ct = std::cos(head_turn), st = std::sin(head_turn);
  for (std::size_t k = 0; k < 10; ++k) {
    ellipse& e = out.ellipses[k];
    // T about the nominal head centre (the origin; ellipse 0 is axis-aligned).
    const double u = head_sa * e.x0, v = head_sb * e.y0;
    e.x0 = head_dx + ct * u - st * v;
    e.y0 = head_dy + st * u + ct * v;
    e.theta += head_turn;
    if (k < 2) {
      e.a *= head_sa;
      e.b *= head_sb;
      continue;
    }
    const std::uint64_t d = 8 * k;
    e.x0 += 0.04 * s * symmetric(seed, index, d + 0);
    e.y0 += 0.04 * s * symmetric(seed, index, d + 1);
    e.a *= 1.0 + 0.10 * s * symmetric(seed, index, d + 2);
    e.b *= 1.0 + 0.10 * s * symmetric(seed, index, d + 3);
    e.theta += (10.0 * pi / 180.0) * s * symmetric(seed, index, d + 4);
  }
}

// Appends 0–3 lesions: small ellipses centred within 70 % of the (perturbed) brain
// ellipse, so that they stay inside it; brighter or darker than their surroundings.
void add_lesions(phantom_description& out, std::uint64_t seed, std::uint64_t index, double s) {
  const ellipse& brain = out.ellipses[1];
  const auto lesions = std::min(max_lesions, static_cast<std::size_t>(4.0 * draw(seed, index, draw_lesion_count)));
  for (std::size_t j = 0; j < lesions; ++j) {
    const std::uint64_t d = draw_lesions + 8 * j;
    const double r = 0.7 * std::sqrt(draw(seed, index, d + 0));
    const double alpha = 2.0 * pi * draw(seed, index, d + 1);
    const double u = r * brain.a * std::cos(alpha), v = r * brain.b * std::sin(alpha);
    const double c = std::cos(brain.theta), sn = std::sin(brain.theta);
    ellipse e{};
    e.x0 = brain.x0 + u * c - v * sn;
    e.y0 = brain.y0 + u * sn + v * c;
    e.a = 0.02 + 0.04 * draw(seed, index, d + 2);
    e.b = 0.02 + 0.04 * draw(seed, index, d + 3);
    e.theta = pi * draw(seed, index, d + 4);
    const double sign = draw(seed, index, d + 6) < 0.5 ? -1.0 : 1.0;
    e.amplitude = sign * s * (0.05 + 0.10 * draw(seed, index, d + 5));
    out.ellipses[out.count++] = e;
  }
}

phantom_description describe(const phantom_params& p, std::uint64_t index) {
  phantom_description out;
  for (const auto& row : shepp_logan_table)
    out.ellipses[out.count++] = {row[0], row[1], row[2], row[3], row[4], row[5] * pi / 180.0};
  const std::uint64_t seed = p.seed;
  if (p.perturbation > 0) {
    perturb_ellipses(out, seed, index, p.perturbation);
    add_lesions(out, seed, index, p.perturbation);
  }
  if (p.smooth_phase) {
    // φ = (π/4)·g·Σ c_i m_i / Σ|c_i| with |m_i| ≤ 1 on [-1, 1]², so |φ| ≤ π/4 there.
    double l1 = 0;
    for (std::size_t i = 0; i < 6; ++i) {
      out.phase[i] = symmetric(seed, index, draw_phase + 1 + i);
      l1 += std::abs(out.phase[i]);
    }
    const double g = (pi / 4.0) * draw(seed, index, draw_phase) / l1;
    for (double& c : out.phase) c *= g;
  }
  return out;
}

// Precomputed inside test of one ellipse, with its axis-aligned bounding box.
struct ellipse_test {
  double amplitude = 0, x0 = 0, y0 = 0, c = 1, s = 0, inv_a2 = 0, inv_b2 = 0, half_w = -1, half_h = -1;

  static ellipse_test of(const ellipse& e) {
    const double c = std::cos(e.theta), s = std::sin(e.theta), a2 = e.a * e.a, b2 = e.b * e.b;
    return {e.amplitude,
            e.x0,
            e.y0,
            c,
            s,
            1.0 / a2,
            1.0 / b2,
            std::sqrt(a2 * c * c + b2 * s * s),
            std::sqrt(a2 * s * s + b2 * c * c)};
  }
  bool contains(double x, double y) const {
    const double dx = x - x0, dy = y - y0;
    if (std::abs(dx) > half_w || std::abs(dy) > half_h) return false;
    const double u = dx * c + dy * s, v = dy * c - dx * s;
    return u * u * inv_a2 + v * v * inv_b2 <= 1.0;
  }
};

void validate(const phantom_params& p) {
  TWOFOLD_EXPECTS(p.shape.height >= 1 && p.shape.width >= 1, "phantom shape must be at least 1x1, got " +
                                                                 std::to_string(p.shape.height) + "x" +
                                                                 std::to_string(p.shape.width));
  TWOFOLD_EXPECTS(p.shape.pixels() / p.shape.width == p.shape.height, "phantom shape is too large");
  TWOFOLD_EXPECTS(std::isfinite(p.perturbation) && p.perturbation >= 0.0 && p.perturbation <= 4.0,
                  "phantom perturbation must be finite and in [0, 4], got " + std::to_string(p.perturbation));
}

// Renders member `index` into out[0, H·W). Rows run in parallel when asked.
void render(const phantom_params& p, std::uint64_t index, cfloat* out, bool parallel_rows) {
  const phantom_description desc = describe(p, index);
  std::array<ellipse_test, 10 + max_lesions> tests{};
  for (std::size_t k = 0; k < desc.count; ++k) tests[k] = ellipse_test::of(desc.ellipses[k]);

  const std::size_t H = p.shape.height, W = p.shape.width;
  const double h = 2.0 / static_cast<double>(std::min(H, W));
  constexpr int sub = 3;  // sub-samples per pixel side, at offsets -h/3, 0, +h/3
  const auto rows = static_cast<std::ptrdiff_t>(H);
#pragma omp parallel for schedule(static) if (parallel_rows)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const double yc = (0.5 * static_cast<double>(H) - static_cast<double>(r) - 0.5) * h;
    for (std::size_t col = 0; col < W; ++col) {
      const double xc = (static_cast<double>(col) + 0.5 - 0.5 * static_cast<double>(W)) * h;
      double sum = 0;
      for (int sy = 0; sy < sub; ++sy) {
        for (int sx = 0; sx < sub; ++sx) {
          const double x = xc + (sx - 1) * h / sub, y = yc + (sy - 1) * h / sub;
          double value = 0;
          for (std::size_t k = 0; k < desc.count; ++k)
            if (tests[k].contains(x, y)) value += tests[k].amplitude;
          sum += std::max(value, 0.0);
        }
      }
      const double magnitude = sum / (sub * sub);
      const auto& c = desc.phase;
      const double phi = c[0] + c[1] * xc + c[2] * yc + c[3] * xc * xc + c[4] * xc * yc + c[5] * yc * yc;
      out[static_cast<std::size_t>(r) * W + col] =
          p.smooth_phase
              ? cfloat{static_cast<float>(magnitude * std::cos(phi)), static_cast<float>(magnitude * std::sin(phi))}
              : cfloat{static_cast<float>(magnitude), 0.0f};
    }
  }
}

}  // namespace

std::vector<cfloat> make_phantom(const phantom_params& params, std::uint64_t index) {
  validate(params);
  std::vector<cfloat> image(params.shape.pixels());
  render(params, index, image.data(), true);
  return image;
}

std::vector<cfloat> make_phantom_family(const phantom_params& params, std::uint64_t first, std::size_t count) {
  validate(params);
  const std::size_t pixels = params.shape.pixels();
  TWOFOLD_EXPECTS(count == 0 || pixels <= std::numeric_limits<std::size_t>::max() / count,
                  "phantom family of " + std::to_string(count) + " images is too large");
  std::vector<cfloat> images(count * pixels);
  const auto members = static_cast<std::ptrdiff_t>(count);
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t k = 0; k < members; ++k)
    render(params, first + static_cast<std::uint64_t>(k), images.data() + static_cast<std::size_t>(k) * pixels, false);
  return images;
}

}  // namespace twofold
