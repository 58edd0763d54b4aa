#include <twofold/core/error.hpp>
#include <twofold/io/output_folder.hpp>
#include <twofold/io/png.hpp>

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace twofold::io {
namespace fs = std::filesystem;

namespace {

// ---- colormaps -------------------------------------------------------------------
// Entries 0, 16, 32, ..., 240 and 255 of matplotlib's 256-entry viridis and magma
// tables (van der Walt & Smith, 2015), interpolated linearly in between.
struct anchor {
  float r, g, b;
};
constexpr std::array<int, 17> anchor_index{0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 255};

constexpr std::array<anchor, 17> viridis_anchors{{
    {0.267004f, 0.004874f, 0.329415f}, {0.282327f, 0.094955f, 0.417331f}, {0.278826f, 0.175490f, 0.483397f},
    {0.258965f, 0.251537f, 0.524736f}, {0.229739f, 0.322361f, 0.545706f}, {0.199430f, 0.387607f, 0.554642f},
    {0.172719f, 0.448791f, 0.557885f}, {0.149039f, 0.508051f, 0.557250f}, {0.127568f, 0.566949f, 0.550556f},
    {0.120638f, 0.625828f, 0.533488f}, {0.157851f, 0.683765f, 0.501686f}, {0.246070f, 0.738910f, 0.452024f},
    {0.369214f, 0.788888f, 0.382914f}, {0.515992f, 0.831158f, 0.294279f}, {0.678489f, 0.863742f, 0.189503f},
    {0.845561f, 0.887322f, 0.099702f}, {0.993248f, 0.906157f, 0.143936f},
}};

constexpr std::array<anchor, 17> magma_anchors{{
    {0.001462f, 0.000466f, 0.013866f}, {0.039608f, 0.031090f, 0.133515f}, {0.113094f, 0.065492f, 0.276784f},
    {0.211718f, 0.061992f, 0.418647f}, {0.316654f, 0.071690f, 0.485380f}, {0.414709f, 0.110431f, 0.504662f},
    {0.512831f, 0.148179f, 0.507648f}, {0.613617f, 0.181811f, 0.498536f}, {0.716387f, 0.214982f, 0.475290f},
    {0.816914f, 0.255895f, 0.436461f}, {0.904281f, 0.319610f, 0.388137f}, {0.960949f, 0.418323f, 0.359630f},
    {0.986700f, 0.535582f, 0.382210f}, {0.996096f, 0.653659f, 0.446213f}, {0.996898f, 0.769591f, 0.534892f},
    {0.992440f, 0.884330f, 0.640099f}, {0.987053f, 0.991438f, 0.749504f},
}};

std::uint8_t to_byte(float v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.f, 1.f) * 255.f)); }

rgb8 interpolate(const std::array<anchor, 17>& a, float t) {
  const float x = t * 255.f;
  std::size_t k = 0;
  while (k + 2 < anchor_index.size() && x >= static_cast<float>(anchor_index[k + 1])) ++k;
  const auto x0 = static_cast<float>(anchor_index[k]), x1 = static_cast<float>(anchor_index[k + 1]);
  const float f = std::clamp((x - x0) / (x1 - x0), 0.f, 1.f);
  return {to_byte(a[k].r + f * (a[k + 1].r - a[k].r)), to_byte(a[k].g + f * (a[k + 1].g - a[k].g)),
          to_byte(a[k].b + f * (a[k + 1].b - a[k].b))};
}

// ---- a 5×7 bitmap font -----------------------------------------------------------
// Seven rows per glyph, top first; bit 4 is the leftmost column.
struct glyph {
  char c;
  std::array<std::uint8_t, 7> rows;
};
constexpr glyph font[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},                {'-', {0, 0, 0, 0x0E, 0, 0, 0}},
    {'+', {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},       {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'/', {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},       {'_', {0, 0, 0, 0, 0, 0, 0x1F}},
    {',', {0, 0, 0, 0, 0x0C, 0x04, 0x08}},             {'=', {0, 0, 0x1F, 0, 0x1F, 0, 0}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}}, {'\'', {0x04, 0x04, 0x08, 0, 0, 0, 0}},
    {'[', {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E}}, {']', {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E}},
    {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}}, {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
    {'*', {0, 0x04, 0x15, 0x0E, 0x15, 0x04, 0}},       {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04}},    {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04}},
    {'|', {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
};

const std::array<std::uint8_t, 7>& glyph_rows(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const auto& g : font)
    if (g.c == c) return g.rows;
  return glyph_rows('?');
}

constexpr std::size_t glyph_advance = 6;  // 5 columns + 1 of spacing
constexpr std::size_t label_chars = 9;    // "-1.23e-05": the widest "%.3g"

// ---- drawing -----------------------------------------------------------------------
struct canvas {
  std::size_t width, height;
  std::vector<std::uint8_t> rgb;
  canvas(std::size_t w, std::size_t h) : width(w), height(h), rgb(w * h * 3, 255) {}
  void put(std::size_t x, std::size_t y, rgb8 c) {
    if (x >= width || y >= height) return;
    std::uint8_t* p = &rgb[(y * width + x) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void fill(std::size_t x, std::size_t y, std::size_t w, std::size_t h, rgb8 c) {
    for (std::size_t j = y; j < y + h; ++j)
      for (std::size_t i = x; i < x + w; ++i) put(i, j, c);
  }
  // Text whose cell's top-left corner is (x, y); each font pixel is s×s.
  void text(std::size_t x, std::size_t y, std::string_view s, std::size_t scale, rgb8 c) {
    for (const char ch : s) {
      const auto& rows = glyph_rows(ch);
      for (std::size_t r = 0; r < 7; ++r)
        for (std::size_t col = 0; col < 5; ++col)
          if (rows[r] & (0x10u >> col)) fill(x + col * scale, y + r * scale, scale, scale, c);
      x += glyph_advance * scale;
    }
  }
};

constexpr rgb8 black{0, 0, 0};

std::string label(float v) {
  if (v == 0.f) return "0";
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.3g", static_cast<double>(v));
  return buf.data();
}

void encode_and_write(const fs::path& path, const std::uint8_t* pixels, std::size_t width, std::size_t height,
                      bool rgb) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = rgb ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  std::vector<std::byte> encoded(PNG_IMAGE_PNG_SIZE_MAX(image));
  png_alloc_size_t size = encoded.size();
  if (png_image_write_to_memory(&image, encoded.data(), &size, 0, pixels, 0, nullptr) == 0) {
    const std::string why = image.message;
    png_image_free(&image);
    detail::throw_runtime_failure(__FILE__, __LINE__, "cannot encode PNG '" + path.string() + "': " + why);
  }
  encoded.resize(size);
  const std::array<std::span<const std::byte>, 1> parts{encoded};
  write_file_atomically(path, parts);
}

void check_size(std::size_t n, std::size_t height, std::size_t width, const fs::path& path) {
  TWOFOLD_EXPECTS(height > 0 && width > 0 && n % width == 0 && n / width == height,
                  "PNG '" + path.string() + "': " + std::to_string(n) + " values for a " + std::to_string(height) +
                      "x" + std::to_string(width) + " image");
}

constexpr std::size_t max_png_pixels = std::size_t{1} << 27;

}  // namespace

rgb8 colormap_rgb(colormap map, float t) noexcept {
  if (std::isnan(t)) return non_finite_rgb;
  t = std::clamp(t, 0.f, 1.f);
  switch (map) {
    case colormap::gray: {
      const std::uint8_t v = to_byte(t);
      return {v, v, v};
    }
    case colormap::viridis: return interpolate(viridis_anchors, t);
    case colormap::magma: return interpolate(magma_anchors, t);
  }
  return non_finite_rgb;
}

png_map_layout plan_png_map(std::size_t height, std::size_t width, const png_map_options& o) {
  TWOFOLD_EXPECTS(height > 0 && width > 0, "PNG map: the map is empty");
  TWOFOLD_EXPECTS(o.scale >= 0, "PNG map: scale " + std::to_string(o.scale) + " is negative");
  const std::size_t longest = std::max(height, width);
  TWOFOLD_EXPECTS(longest <= max_png_pixels, "PNG map: a side of " + std::to_string(longest) + " pixels is too large");
  png_map_layout L;
  if (o.scale > 0) {
    L.scale = static_cast<std::size_t>(o.scale);
    TWOFOLD_EXPECTS(L.scale <= max_png_pixels / longest, "PNG map: scale " + std::to_string(o.scale) + " is too large");
  } else {
    L.scale = std::max<std::size_t>(1, std::min((256 + height - 1) / height, 2048 / width));
  }
  const std::size_t map_w = width * L.scale, map_h = height * L.scale;
  L.text_scale = std::clamp<std::size_t>(map_h / 192, 1, 3);
  const std::size_t ts = L.text_scale, margin = 8 * ts;
  const std::size_t title_h = o.title.empty() ? 0 : 12 * ts;
  L.map_x = margin;
  L.map_y = margin + title_h;
  std::size_t right = L.map_x + map_w;
  if (o.colorbar) {
    L.bar_x = right + 8 * ts;
    L.bar_y = L.map_y;
    L.bar_width = 12 * ts;
    L.bar_height = map_h;
    right = L.bar_x + L.bar_width + 1 + 3 * ts + 2 * ts + label_chars * glyph_advance * ts;
  }
  right = std::max(right, margin + o.title.size() * glyph_advance * ts);
  L.image_width = right + margin;
  L.image_height = L.map_y + map_h + margin;
  TWOFOLD_EXPECTS(L.image_width <= max_png_pixels / L.image_height,
                  "PNG map: a " + std::to_string(L.image_width) + "x" + std::to_string(L.image_height) +
                      " image is too large");
  return L;
}

void write_png_map(const fs::path& path, std::span<const float> values, std::size_t height, std::size_t width,
                   const png_map_options& o) {
  check_size(values.size(), height, width, path);
  const png_map_layout L = plan_png_map(height, width, o);

  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (const float v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = 0.f, hi = 1.f;  // no finite values
  if (o.lo) lo = *o.lo;
  if (o.hi) hi = *o.hi;
  TWOFOLD_EXPECTS(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
                  "PNG map '" + path.string() + "': colour range [" + label(lo) + ", " + label(hi) +
                      "] must be finite with lo <= hi");
  const float span = hi - lo;
  auto position = [&](float v) { return span > 0.f ? (v - lo) / span : 0.5f; };

  canvas c(L.image_width, L.image_height);
  const std::size_t s = L.scale, ts = L.text_scale;
  for (std::size_t y = 0; y < height; ++y)
    for (std::size_t x = 0; x < width; ++x) {
      const float v = values[y * width + x];
      const rgb8 col = std::isfinite(v) ? colormap_rgb(o.map, position(v)) : non_finite_rgb;
      c.fill(L.map_x + x * s, L.map_y + y * s, s, s, col);
    }
  if (!o.title.empty()) c.text(L.map_x, L.map_y - 12 * ts, o.title, ts, black);
  if (o.colorbar) {
    const std::size_t bh = L.bar_height;
    for (std::size_t r = 0; r < bh; ++r) {
      const float t = bh > 1 ? 1.f - static_cast<float>(r) / static_cast<float>(bh - 1) : 0.5f;
      c.fill(L.bar_x, L.bar_y + r, L.bar_width, 1, colormap_rgb(o.map, t));
    }
    c.fill(L.bar_x - 1, L.bar_y - 1, L.bar_width + 2, 1, black);  // frame
    c.fill(L.bar_x - 1, L.bar_y + bh, L.bar_width + 2, 1, black);
    c.fill(L.bar_x - 1, L.bar_y, 1, bh, black);
    c.fill(L.bar_x + L.bar_width, L.bar_y, 1, bh, black);
    float mid = lo + 0.5f * span;
    if (std::abs(mid) <= 1e-6f * std::max(std::abs(lo), std::abs(hi))) mid = 0.f;  // not "-5.31e-08"
    const std::array<std::pair<std::size_t, float>, 3> ticks{{{0, hi}, {(bh - 1) / 2, mid}, {bh - 1, lo}}};
    const std::size_t tick_x = L.bar_x + L.bar_width + 1;
    for (const auto& [row, value] : ticks) {
      const std::size_t y = L.bar_y + row;
      c.fill(tick_x, y, 3 * ts, std::max<std::size_t>(1, ts / 2), black);
      const std::size_t text_top = y >= 3 * ts ? y - 3 * ts : 0;  // centre the 7-row glyphs on the tick
      c.text(tick_x + 5 * ts, text_top, label(value), ts, black);
    }
  }
  encode_and_write(path, c.rgb.data(), c.width, c.height, true);
}

void write_png_gray8(const fs::path& path, std::span<const std::uint8_t> pixels, std::size_t height,
                     std::size_t width) {
  check_size(pixels.size(), height, width, path);
  TWOFOLD_EXPECTS(width <= max_png_pixels / height, "PNG '" + path.string() + "': image too large");
  encode_and_write(path, pixels.data(), width, height, false);
}

}  // namespace twofold::io
