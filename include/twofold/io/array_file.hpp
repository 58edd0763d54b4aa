#pragma once
/// \file
/// One entry point for array inputs (the CLI's `--kspace`, `--maps`, `--mask`,
/// `--matrix`): the file's extension picks the format — `.npy` (NumPy),
/// `.cfl`/`.hdr` (BART) or `.h5`/`.hdf5` (fastMRI); a path without an extension
/// is a BART base name when `path.cfl` and `path.hdr` exist (BART's own
/// convention) — and the result is a C-order shape and values, checked to be finite.
///
/// Shapes by format:
///   - `.npy`: the array's shape.
///   - BART: dims (H, W, 1, coils) become `[coils, H, W]`, or `[H, W]` for one
///     coil, `[H]` for a 1-D array (see `cfl_to_coil_stack`).
///   - fastMRI: one slice of `options.dataset`: `kspace` gives `[coils, H, W]`
///     (`[H, W]` for single-coil files), `mask` gives `[W]`,
///     `reconstruction_rss` gives `[h, w]`.

#include <twofold/core/complex.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::io {

/// Which part of a multi-array file to read (ignored for `.npy` and BART).
struct array_read_options {
  std::string dataset = "kspace";     ///< fastMRI dataset: kspace, mask or reconstruction_rss
  std::optional<std::size_t> slice;   ///< fastMRI slice; default: the middle one (slices / 2)
};

/// A C-order array of complex64 values.
struct complex_array {
  std::vector<std::size_t> shape;
  std::vector<cfloat> values;
};

/// A C-order array of float32 values.
struct float_array {
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

/// Reads a complex array (real files get imaginary part 0). Errors: `bad_input`
/// naming `what` and the path for an unknown extension (named, with the
/// supported ones), any error of the format's reader, and a NaN/Inf value (the
/// first bad flat and multi-index are named).
complex_array read_complex_array(const std::filesystem::path& path, std::string_view what,
                                 const array_read_options& options = {});

/// The shape `read_complex_array` would return, read from the file's header
/// only (a .npy header, a BART .hdr, the fastMRI dataset's dimensions), so sizes
/// can be checked against each other before any large read. Empty when the
/// shape is only known after reading (unusual BART dims, fastMRI
/// `reconstruction_rss`): the full read then reports the problem. Errors: as
/// the readers' for a missing file or an unparsable header.
std::vector<std::size_t> read_array_shape(const std::filesystem::path& path, std::string_view what,
                                          const array_read_options& options = {});

/// Reads a real array. As `read_complex_array`, and `bad_input` when the file
/// holds complex values (`.npy` complex dtypes, BART files, fastMRI `kspace`).
float_array read_float_array(const std::filesystem::path& path, std::string_view what,
                             const array_read_options& options = {});

/// Throws `bad_input` "<what>: value NaN at flat index i (index [...] of shape
/// (...)); inputs must be finite" for the first non-finite value (either part of
/// a complex value). `shape` is C-order and only used for the message.
/// NumPy's spelling of an array shape, e.g. "(3, 4)" or "(5,)", for messages.
inline std::string shape_text(std::span<const std::size_t> shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

void require_finite(std::span<const cfloat> values, std::span<const std::size_t> shape, std::string_view what);
void require_finite(std::span<const float> values, std::span<const std::size_t> shape, std::string_view what);

}  // namespace twofold::io
