// PNG maps: written, decoded again with libpng, and checked pixel by pixel at
// places the layout says hold the map, the colour bar and the text.
#include <twofold/core/error.hpp>
#include <twofold/io/png.hpp>

#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

namespace twofold::io {

// Found by argument-dependent lookup from gtest's printers; internal linkage.
[[maybe_unused]] static std::ostream& operator<<(std::ostream& os, rgb8 c) {
  return os << "(" << int(c.r) << ", " << int(c.g) << ", " << int(c.b) << ")";
}

namespace {
namespace fs = std::filesystem;

struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("twofold-png-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct decoded_png {
  std::size_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
  rgb8 at(std::size_t x, std::size_t y) const {
    const std::uint8_t* p = &pixels[(y * width + x) * channels];
    return channels == 3 ? rgb8{p[0], p[1], p[2]} : rgb8{p[0], p[0], p[0]};
  }
};

decoded_png read_png(const fs::path& p, bool rgb) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  decoded_png out;
  if (png_image_begin_read_from_file(&image, p.c_str()) == 0) {
    ADD_FAILURE() << "libpng cannot read " << p << ": " << image.message;
    return out;
  }
  image.format = rgb ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  out.width = image.width;
  out.height = image.height;
  out.channels = rgb ? 3 : 1;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr) == 0)
    ADD_FAILURE() << "libpng cannot decode " << p << ": " << image.message;
  return out;
}

bool near(rgb8 a, rgb8 b, int tol) {
  return std::abs(a.r - b.r) <= tol && std::abs(a.g - b.g) <= tol && std::abs(a.b - b.b) <= tol;
}

rgb8 from_table(double r, double g, double b) {
  auto q = [](double v) { return static_cast<std::uint8_t>(std::lround(v * 255)); };
  return {q(r), q(g), q(b)};
}

TEST(PngColormap, MatchesMatplotlibTables) {
  // End points and table entries between anchors (matplotlib _cm_listed.py).
  EXPECT_EQ(colormap_rgb(colormap::viridis, 0.f), (rgb8{68, 1, 84}));
  EXPECT_EQ(colormap_rgb(colormap::viridis, 1.f), (rgb8{253, 231, 37}));
  EXPECT_EQ(colormap_rgb(colormap::magma, 0.f), (rgb8{0, 0, 4}));
  EXPECT_EQ(colormap_rgb(colormap::magma, 1.f), (rgb8{252, 253, 191}));
  EXPECT_TRUE(near(colormap_rgb(colormap::viridis, 136.f / 255), from_table(0.120565, 0.596422, 0.543611), 2));
  EXPECT_TRUE(near(colormap_rgb(colormap::viridis, 200.f / 255), from_table(0.440137, 0.811138, 0.340967), 2));
  EXPECT_TRUE(near(colormap_rgb(colormap::magma, 72.f / 255), from_table(0.366012, 0.090314, 0.497960), 2));
  EXPECT_TRUE(near(colormap_rgb(colormap::magma, 217.f / 255), from_table(0.997351, 0.719089, 0.493755), 2));
  EXPECT_EQ(colormap_rgb(colormap::gray, 0.f), (rgb8{0, 0, 0}));
  EXPECT_EQ(colormap_rgb(colormap::gray, 1.f), (rgb8{255, 255, 255}));
  EXPECT_EQ(colormap_rgb(colormap::gray, 2.f), (rgb8{255, 255, 255}));  // clamped
  EXPECT_EQ(colormap_rgb(colormap::magma, std::nanf("")), non_finite_rgb);
}

TEST(PngMap, PixelsMatchTheColormapAtLoAndHi) {
  scratch_dir dir("map");
  const std::size_t H = 4, W = 6;
  std::vector<float> v(H * W);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = -1.f + 0.1f * float(i);
  v[2 * W + 3] = std::numeric_limits<float>::quiet_NaN();
  v[3 * W + 0] = std::numeric_limits<float>::infinity();
  png_map_options o;
  o.title = "Posterior std (a.u.)";
  const auto path = dir.path / "map.png";
  write_png_map(path, v, H, W, o);

  const png_map_layout L = plan_png_map(H, W, o);
  EXPECT_EQ(L.scale, 64u);  // 4 rows -> at least 256 px
  const decoded_png png = read_png(path, true);
  ASSERT_EQ(png.width, L.image_width);
  ASSERT_EQ(png.height, L.image_height);
  auto cell = [&](std::size_t y, std::size_t x) {
    return png.at(L.map_x + x * L.scale + L.scale / 2, L.map_y + y * L.scale + L.scale / 2);
  };
  EXPECT_EQ(cell(0, 0), colormap_rgb(colormap::viridis, 0.f)) << cell(0, 0);  // the minimum: lo
  EXPECT_EQ(cell(3, 5), colormap_rgb(colormap::viridis, 1.f)) << cell(3, 5);  // the maximum: hi
  EXPECT_EQ(cell(2, 3), non_finite_rgb);
  EXPECT_EQ(cell(3, 0), non_finite_rgb);
  EXPECT_EQ(png.at(L.map_x, L.map_y), cell(0, 0));  // block corners belong to the block
  EXPECT_EQ(png.at(L.map_x + L.scale - 1, L.map_y + L.scale - 1), cell(0, 0));

  ASSERT_GT(L.bar_width, 0u);
  const std::size_t bx = L.bar_x + L.bar_width / 2;
  EXPECT_EQ(png.at(bx, L.bar_y), colormap_rgb(colormap::viridis, 1.f));
  EXPECT_EQ(png.at(bx, L.bar_y + L.bar_height - 1), colormap_rgb(colormap::viridis, 0.f));

  auto black_pixels = [&](std::size_t x0, std::size_t y0, std::size_t x1, std::size_t y1) {
    int n = 0;
    for (std::size_t y = y0; y < y1; ++y)
      for (std::size_t x = x0; x < x1; ++x) n += png.at(x, y) == rgb8{0, 0, 0};
    return n;
  };
  EXPECT_GT(black_pixels(L.bar_x + L.bar_width + 2, 0, png.width, png.height), 50);  // tick labels
  EXPECT_GT(black_pixels(0, 0, png.width, L.map_y), 50);                             // title
}

TEST(PngMap, ExplicitRangeClampsAndScales) {
  scratch_dir dir("range");
  const std::vector<float> v{-5.f, 0.f, 0.5f, 1.f, 9.f, 0.25f};
  png_map_options o;
  o.map = colormap::magma;
  o.lo = 0.f;
  o.hi = 1.f;
  o.scale = 3;
  o.colorbar = false;
  const auto path = dir.path / "range.png";
  write_png_map(path, v, 2, 3, o);
  const png_map_layout L = plan_png_map(2, 3, o);
  EXPECT_EQ(L.bar_width, 0u);
  const decoded_png png = read_png(path, true);
  ASSERT_EQ(png.width, L.image_width);
  ASSERT_EQ(png.height, L.image_height);
  auto cell = [&](std::size_t y, std::size_t x) { return png.at(L.map_x + 3 * x + 1, L.map_y + 3 * y + 1); };
  EXPECT_EQ(cell(0, 0), colormap_rgb(colormap::magma, 0.f));  // below lo
  EXPECT_EQ(cell(0, 1), colormap_rgb(colormap::magma, 0.f));
  EXPECT_EQ(cell(0, 2), colormap_rgb(colormap::magma, 0.5f));
  EXPECT_EQ(cell(1, 0), colormap_rgb(colormap::magma, 1.f));
  EXPECT_EQ(cell(1, 1), colormap_rgb(colormap::magma, 1.f));  // above hi
  EXPECT_EQ(cell(1, 2), colormap_rgb(colormap::magma, 0.25f));
}

TEST(PngMap, ConstantAndAllNonFiniteMapsStillDraw) {
  scratch_dir dir("degenerate");
  const std::vector<float> same(9, 2.f), none(4, std::nanf(""));
  write_png_map(dir.path / "same.png", same, 3, 3, {});
  write_png_map(dir.path / "none.png", none, 2, 2, {});
  const auto L = plan_png_map(2, 2, {});
  const decoded_png png = read_png(dir.path / "none.png", true);
  EXPECT_EQ(png.at(L.map_x + 1, L.map_y + 1), non_finite_rgb);
  EXPECT_EQ(read_png(dir.path / "same.png", true).at(L.map_x + 1, L.map_y + 1), colormap_rgb(colormap::viridis, 0.5f));
}

TEST(PngMap, BadRequestsAreRejectedAndWriteNothing) {
  scratch_dir dir("bad");
  const std::vector<float> v(6, 1.f);
  const auto path = dir.path / "x.png";
  EXPECT_THROW(write_png_map(path, v, 2, 2, {}), bad_input);
  EXPECT_THROW(write_png_map(path, v, 0, 6, {}), bad_input);
  png_map_options o;
  o.lo = 2.f;
  o.hi = 1.f;
  EXPECT_THROW(write_png_map(path, v, 2, 3, o), bad_input);
  o = {};
  o.hi = std::numeric_limits<float>::infinity();
  EXPECT_THROW(write_png_map(path, v, 2, 3, o), bad_input);
  o = {};
  o.scale = -1;
  EXPECT_THROW(write_png_map(path, v, 2, 3, o), bad_input);
  o.scale = 1 << 30;
  EXPECT_THROW(write_png_map(path, v, 2, 3, o), bad_input);
  EXPECT_TRUE(fs::is_empty(dir.path));
  EXPECT_THROW(write_png_map(dir.path / "missing" / "x.png", v, 2, 3, {}), runtime_failure);
  EXPECT_TRUE(fs::is_empty(dir.path));
}

TEST(PngGray8, RoundTripsExactly) {
  scratch_dir dir("gray");
  std::vector<std::uint8_t> px(3 * 5);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 17);
  write_png_gray8(dir.path / "mask.png", px, 3, 5);
  const decoded_png png = read_png(dir.path / "mask.png", false);
  ASSERT_EQ(png.width, 5u);
  ASSERT_EQ(png.height, 3u);
  EXPECT_EQ(png.pixels, px);
  EXPECT_THROW(write_png_gray8(dir.path / "bad.png", px, 4, 5), bad_input);
}

}  // namespace
}  // namespace twofold::io
