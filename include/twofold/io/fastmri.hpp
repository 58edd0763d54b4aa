#pragma once
/// \file
/// fastMRI HDF5 files (docs/design.md §3), read and written with the HDF5 C library:
///   `kspace`              complex64 `[slices, coils, H, W]` (multi-coil) or
///                         `[slices, H, W]` (single-coil), stored as the compound
///                         type {r: float32, i: float32} that h5py writes
///                         (float64 members are accepted and narrowed);
///   `mask`                optional, length W, over the phase-encode axis, any
///                         integer/float/bool dtype, values 0 or 1;
///   `reconstruction_rss`  optional float `[slices, h, w]` (fastMRI crops it,
///                         e.g. to 320 × 320, so h, w may differ from H, W).
///
/// Every problem is a `twofold::bad_input` naming `what`, the file and, where
/// one is involved, the dataset (docs/design.md §5). HDF5's own error printing is
/// switched off; its messages never reach the terminal.

#include <twofold/core/types.hpp>
#include <twofold/core/complex.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace twofold::io {

/// What a fastMRI file holds.
struct fastmri_info {
  std::size_t slices = 0;
  std::size_t coils = 0;  ///< 0 for the single-coil layout `[slices, H, W]`
  std::size_t height = 0;
  std::size_t width = 0;
  bool has_mask = false;
  bool has_rss = false;
};

/// One slice of a fastMRI file in twofold's layout.
struct fastmri_slice {
  image_shape shape{};              ///< coils (1 for single-coil), H, W
  std::vector<cfloat> kspace;       ///< C-order `[coils, H, W]`
  std::vector<float> mask;          ///< W values, 0 or 1; empty when the file has none
  std::vector<float> rss;           ///< `[rss_height, rss_width]`; empty when absent
  std::size_t rss_height = 0;
  std::size_t rss_width = 0;
};

/// Opens `path` and describes its `kspace`, `mask` and `reconstruction_rss`.
/// Errors: `bad_input` naming `what` and the file when it is missing, not an
/// HDF5 file or truncated; naming the dataset when `kspace` is absent, not of
/// rank 3 or 4, not the complex compound type, or has a zero extent; when
/// `mask` is not 1-D of length W; when `reconstruction_rss` is not 3-D with
/// one image per slice.
fastmri_info inspect_fastmri(const std::filesystem::path& path, std::string_view what);

/// Reads slice `slice` (0-based): k-space, the mask (if present) as 0/1 floats
/// and the RSS reconstruction (if present). Values are returned as stored; use
/// `require_finite` (array_file.hpp) to reject NaN/Inf. Errors: those of
/// `inspect_fastmri`, plus `bad_input` when `slice` is out of range (the count
/// is named), a mask value is not 0 or 1, or a read fails (truncated file).
fastmri_slice read_fastmri_slice(const std::filesystem::path& path, std::size_t slice, std::string_view what);

/// Contents for `write_fastmri`. Spans are non-owning.
struct fastmri_contents {
  std::size_t slices = 1;
  image_shape shape{};           ///< coils, H, W of each slice
  bool single_coil = false;      ///< write `kspace` as `[slices, H, W]` (requires coils == 1)
  std::span<const cfloat> kspace;  ///< C-order `[slices, coils, H, W]`
  std::span<const float> mask;     ///< W values or empty (no dataset)
  std::span<const float> rss;      ///< `[slices, rss_height, rss_width]` or empty
  std::size_t rss_height = 0;
  std::size_t rss_width = 0;
};

/// Writes a fastMRI-layout file: `kspace` as the {r, i} float32 compound,
/// `mask` as float32 and `reconstruction_rss` as float32, when given. Written
/// to a temporary in the same folder and renamed, so `path` never holds a
/// partial file. Errors: `bad_input` when a span's size disagrees with the
/// shape; `runtime_failure` naming the path when HDF5 cannot write (the
/// temporary is removed).
void write_fastmri(const std::filesystem::path& path, const fastmri_contents& contents);

}  // namespace twofold::io
