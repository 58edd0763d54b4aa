#pragma once
/// \file
/// The posterior draws of a run on disk (`twofold sample`, docs/design.md §4.8): written
/// wave by wave as the library hands them over (design_params::draw_sink), so a run
/// holds one wave of draws, not R·K images; and read back in bounded pieces for the
/// figures that need every draw (per-pixel quantiles and coverage by pixel tiles,
/// per-draw residuals by chunks of draws). `draws.npy` is [n, H, W] complex64 (its
/// header is written first, for the known n); the BART pair `draws.cfl/.hdr` has dims
/// (H, W, 1, n), each draw stored column-major in its own slot.

#include <twofold/twofold.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace twofold::cli {

/// Reads n draws of one image shape, C order [n, H, W], in pieces.
class draw_source {
 public:
  virtual ~draw_source() = default;
  virtual std::size_t draws() const = 0;
  virtual image_shape shape() const = 0;
  /// Draws [first, first + count) into `out` (count · H · W values).
  virtual void read_draws(std::size_t first, std::size_t count, std::span<cfloat> out) const = 0;
  /// Pixels [first_pixel, first_pixel + count) of every draw into `out`, C order [n, count].
  virtual void read_pixels(std::size_t first_pixel, std::size_t count, std::span<cfloat> out) const = 0;
};

/// Draws held in memory (`twofold demo`, the EEG demo, --prior factor).
class draws_in_memory final : public draw_source {
 public:
  draws_in_memory(std::span<const cfloat> draws, image_shape shape);
  std::size_t draws() const override { return values_.size() / shape_.pixels(); }
  image_shape shape() const override { return shape_; }
  void read_draws(std::size_t first, std::size_t count, std::span<cfloat> out) const override;
  void read_pixels(std::size_t first_pixel, std::size_t count, std::span<cfloat> out) const override;

 private:
  std::span<const cfloat> values_;
  image_shape shape_;
};

/// `name.npy` (and `name.cfl/.hdr`) of n draws, written at any draw's place, in any
/// order (pwrite), and read back. The files have their full size from the start.
class draw_file final : public draw_source {
 public:
  /// Creates `npy` (replacing a file of that name) with the header of [n, H, W]
  /// complex64, and with `cfl` (a base path) `cfl.hdr` and `cfl.cfl`. runtime_failure
  /// naming the file when it cannot be created (a full disk).
  static draw_file create(std::filesystem::path npy, std::optional<std::filesystem::path> cfl, std::size_t n,
                          image_shape shape);
  /// Opens files made by create() with the same n, shape and pair, to continue writing
  /// them (--resume); bad_input naming the file when one is missing or does not hold
  /// that header and size.
  static draw_file reopen(std::filesystem::path npy, std::optional<std::filesystem::path> cfl, std::size_t n,
                          image_shape shape);
  draw_file(draw_file&&) noexcept;
  draw_file& operator=(draw_file&&) noexcept;
  draw_file(const draw_file&) = delete;
  draw_file& operator=(const draw_file&) = delete;
  ~draw_file();

  /// Draws [first, first + draws.size() / (H·W)) (C order) into both files.
  void write(std::size_t first, std::span<const cfloat> draws);

  std::size_t draws() const override { return n_; }
  image_shape shape() const override { return shape_; }
  void read_draws(std::size_t first, std::size_t count, std::span<cfloat> out) const override;
  void read_pixels(std::size_t first_pixel, std::size_t count, std::span<cfloat> out) const override;

  /// Makes the files also appear as `npy` and the `cfl` pair (a base path): hard links
  /// (the staging folder is beside the checkpoint, on its filesystem), else copies.
  /// The files stay open and in place. runtime_failure on failure.
  void publish_as(const std::filesystem::path& npy, const std::optional<std::filesystem::path>& cfl) const;
  /// Closes and deletes the files (never throws).
  void remove() noexcept;

 private:
  draw_file() = default;
  void close() noexcept;

  std::filesystem::path npy_path_;
  std::optional<std::filesystem::path> cfl_base_;
  std::size_t n_ = 0;
  image_shape shape_{};
  std::size_t data_offset_ = 0;
  int npy_fd_ = -1, cfl_fd_ = -1;
};

/// The largest number of bytes a piece read back from a draw_source may take (pixel
/// tiles and chunks of draws, with the sort buffers of the quantiles): 64 MiB.
inline constexpr std::size_t draw_piece_bytes = std::size_t{64} << 20;

/// Per-pixel 5 %/95 % quantile maps of the draws (pixel_quantiles, tile by tile: every
/// pixel's quantiles are those of its own draws, so the tiles give the same numbers).
quantile_maps tiled_pixel_quantiles(const draw_source& draws, field values);

/// coverage() of `truth` by the draws, tile by tile; the same fractions as one call on
/// all draws (each tile's counts are recovered exactly from its fractions and summed).
coverage_curve tiled_coverage(const draw_source& draws, std::span<const cfloat> truth, field values,
                              std::span<const double> nominal);

/// normalised_residuals() of every draw, in chunks of draws.
std::vector<double> chunked_residuals(const context& ctx, const inverse_problem& problem, const draw_source& draws);

/// Every draw in memory (for the figures that cannot be tiled: predictive coverage).
std::vector<cfloat> all_draws(const draw_source& draws);

}  // namespace twofold::cli
