#pragma once
/// \file
/// PNG images of maps, for humans (docs/design.md §3: "PNG images of every map"). A map is
/// drawn with a colormap, a colour bar with its numeric range and an optional
/// title, in a small built-in 5×7 bitmap font. Files are written atomically.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace twofold::io {

/// gray: black → white. viridis, magma: matplotlib's perceptually uniform maps,
/// interpolated linearly between 17 anchors of the published 256-entry tables
/// (within about 2/255 of the table everywhere).
enum class colormap { gray, viridis, magma };

/// An 8-bit sRGB colour.
struct rgb8 {
  std::uint8_t r = 0, g = 0, b = 0;
  friend constexpr bool operator==(rgb8, rgb8) = default;
};

/// Colour of non-finite map values (NaN, ±Inf): magenta, which none of the maps use.
inline constexpr rgb8 non_finite_rgb{255, 0, 255};

/// The colour `map` gives to `t` in [0, 1] (clamped; NaN gives non_finite_rgb).
rgb8 colormap_rgb(colormap map, float t) noexcept;

struct png_map_options {
  colormap map = colormap::viridis;
  /// Values mapped to the two ends of the colormap (clamped beyond). Default:
  /// minimum / maximum of the finite values (0 and 1 when there are none).
  std::optional<float> lo, hi;
  /// Draw a colour bar to the right, labelled with lo, mid and hi.
  bool colorbar = true;
  /// Drawn above the map. The font has digits, letters (lower case is drawn as
  /// capitals), space and . - + : ( ) / _ , = % ' [ ] < > * # ? ! |; other
  /// characters are drawn as '?'.
  std::string title;
  /// Each map pixel becomes a scale×scale block. 0: automatic, so that the map is
  /// at least about 256 px tall (and not wider than about 2048 px).
  int scale = 0;
};

/// Where write_png_map puts things, in PNG pixels from the top-left corner.
/// Depends only on the map size and the options (not on the values).
struct png_map_layout {
  std::size_t image_width = 0, image_height = 0;  ///< the whole PNG
  std::size_t scale = 1;                          ///< PNG pixels per map pixel, each axis
  std::size_t map_x = 0, map_y = 0;               ///< top-left of map pixel (0, 0)
  std::size_t bar_x = 0, bar_y = 0;               ///< top-left of the colour bar
  std::size_t bar_width = 0, bar_height = 0;      ///< 0 when there is no colour bar
  std::size_t text_scale = 1;                     ///< font pixels are text_scale² PNG pixels
};

/// The layout write_png_map uses. Throws `bad_input` for a zero size, scale < 0,
/// or an image over 2^27 pixels.
png_map_layout plan_png_map(std::size_t height, std::size_t width, const png_map_options& options = {});

/// Writes `values` (`height`×`width`, C order, row 0 at the top) as an RGB PNG.
/// Layout: margin, title line (if any), the map, and to its right the colour bar
/// (top = hi) with tick labels; white background, black text. Values below lo /
/// above hi take the end colours; non-finite values are drawn in non_finite_rgb.
/// Throws `bad_input` when `values.size() != height*width`, a size is 0, lo/hi
/// are non-finite or lo > hi, scale < 0, or the image would exceed 2^27 pixels;
/// `runtime_failure` when encoding or writing fails (nothing is left at `path`).
void write_png_map(const std::filesystem::path& path, std::span<const float> values,
                   std::size_t height, std::size_t width, const png_map_options& options = {});

/// Writes an 8-bit grayscale PNG of `pixels` (`height`×`width`, C order, row 0
/// at the top), one image pixel per value, no decoration (masks, phantoms).
/// Throws `bad_input` on a size mismatch or a zero size, `runtime_failure` when
/// writing fails. Atomic like write_png_map.
void write_png_gray8(const std::filesystem::path& path, std::span<const std::uint8_t> pixels,
                     std::size_t height, std::size_t width);

}  // namespace twofold::io
