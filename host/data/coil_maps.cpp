#include <twofold/data/coil_maps.hpp>
#include <twofold/core/error.hpp>
#include <twofold/core/philox.hpp>

#include <cmath>
#include <string>

namespace twofold {
namespace {

constexpr double pi = 3.141592653589793238462643383279502884;

}  // namespace

std::vector<cfloat> make_coil_maps(image_shape shape, const coil_map_params& p) {
  TWOFOLD_EXPECTS(shape.height >= 1 && shape.width >= 1 && shape.coils >= 1,
                  "coil maps shape must have coils, H and W >= 1, got " + to_string(shape));
  TWOFOLD_EXPECTS(std::isfinite(p.ring_radius) && p.ring_radius > 0,
                  "coil maps ring_radius must be finite and > 0, got " + std::to_string(p.ring_radius));
  TWOFOLD_EXPECTS(std::isfinite(p.smoothness) && p.smoothness > 0,
                  "coil maps smoothness must be finite and > 0, got " + std::to_string(p.smoothness));
  const std::size_t C = shape.coils, H = shape.height, W = shape.width;
  const double a = p.smoothness;
  std::vector<cfloat> maps(shape.pixels());
  for (std::size_t c = 0; c < C; ++c) {
    const auto draw = [&](std::size_t k) { return uniform(p.seed, 4 * c + k, rng_purpose::coil_maps); };
    const double theta = 2 * pi * (double(c) + 0.5 * (draw(0) - 0.5)) / double(C);
    const double cx = p.ring_radius * std::cos(theta), cy = p.ring_radius * std::sin(theta);
    const double phase0 = 2 * pi * draw(1);
    const double gx = (pi / a) * (draw(2) - 0.5), gy = (pi / a) * (draw(3) - 0.5);
    for (std::size_t h = 0; h < H; ++h) {
      const double y = (double(h) - double(H / 2)) / (0.5 * double(H));
      for (std::size_t w = 0; w < W; ++w) {
        const double x = (double(w) - double(W / 2)) / (0.5 * double(W));
        const double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        const double magnitude = std::pow(1.0 + d2 / (a * a), -1.5);
        const double phase = phase0 + gx * x + gy * y;
        maps[(c * H + h) * W + w] = {float(magnitude * std::cos(phase)), float(magnitude * std::sin(phase))};
      }
    }
  }
  normalise_coil_maps(maps, shape);
  return maps;
}

std::size_t validate_coil_maps(std::span<const cfloat> maps, image_shape shape, std::string_view what) {
  const std::string name = "coil maps '" + std::string(what) + "'";
  TWOFOLD_EXPECTS(shape.height >= 1 && shape.width >= 1 && shape.coils >= 1,
                  name + " have an empty shape " + to_string(shape));
  TWOFOLD_EXPECTS(maps.size() == shape.pixels(), name + " have " + std::to_string(maps.size()) +
                                                     " values, expected coils x H x W = " + to_string(shape) +
                                                     " = " + std::to_string(shape.pixels()));
  const std::size_t N = shape.plane();
  std::size_t blind = 0;
  for (std::size_t p = 0; p < N; ++p) {
    double sum = 0;
    for (std::size_t c = 0; c < shape.coils; ++c) {
      const cfloat v = maps[c * N + p];
      TWOFOLD_EXPECTS(is_finite(v), name + " have a non-finite value at coil " + std::to_string(c) + ", row " +
                                        std::to_string(p / shape.width) + ", column " +
                                        std::to_string(p % shape.width));
      sum += norm2(cdouble(v));
    }
    if (sum == 0) ++blind;
  }
  return blind;
}

void normalise_coil_maps(std::span<cfloat> maps, image_shape shape) {
  (void)validate_coil_maps(maps, shape, "coil maps");
  const std::size_t N = shape.plane();
  for (std::size_t p = 0; p < N; ++p) {
    double sum = 0;
    for (std::size_t c = 0; c < shape.coils; ++c) sum += norm2(cdouble(maps[c * N + p]));
    if (sum == 0) continue;
    const double scale = 1.0 / std::sqrt(sum);
    for (std::size_t c = 0; c < shape.coils; ++c) {
      const cdouble v = cdouble(maps[c * N + p]);
      maps[c * N + p] = {float(scale * v.re), float(scale * v.im)};
    }
  }
}

}  // namespace twofold
