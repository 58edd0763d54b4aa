#pragma once
/// \file
/// BART's `.cfl/.hdr` pair (docs/design.md §3): `name.hdr` is text, a line `# Dimensions`
/// followed by up to 16 positive integers; `name.cfl` is the raw data, complex64
/// (little-endian float32 real, imaginary pairs) in column-major order, dim 0
/// varying fastest. BART's MRI dims: 0 = readout (twofold's H), 1 = phase
/// encode (W), 2 = second phase encode / slice, 3 = coils.
///
/// Every problem with a file is a `twofold::bad_input` whose message names the
/// input (`what`), the path and the problem (docs/design.md §5). Big-endian hosts are
/// rejected at compile time (a static_assert in host/io/cfl.cpp): BART itself
/// writes the host's native order, which is little-endian on every machine it
/// supports.

#include <twofold/core/types.hpp>
#include <twofold/core/complex.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::io {

/// BART's dimension limit (DIMS in BART's misc/mri.h).
inline constexpr std::size_t cfl_max_dims = 16;

/// A BART array: `dims` as stored in the `.hdr` with trailing singleton dims
/// dropped (at least one entry stays), and `data` in BART's column-major order
/// (`data.size()` is the product of `dims`).
struct cfl_array {
  std::vector<std::size_t> dims;
  std::vector<cfloat> data;
};

/// Parses the text of a `.hdr` file: lines starting with '#' name sections;
/// the line after `# Dimensions` holds 1..16 integers, each ≥ 1. Other sections
/// (BART ≥ 0.9 adds `# Command`, `# Files`) are ignored. Returns the dims with
/// trailing 1s dropped (a 1×1 header gives {1}). No file I/O (fuzzed).
/// Errors: throws `bad_input` "<what>: <problem>" when there is no
/// `# Dimensions` line, its next line is missing or holds no integers, an entry
/// is not an integer, is zero or negative, or too large, there are more than 16,
/// or the element count overflows. Never throws anything else.
std::vector<std::size_t> parse_cfl_header(std::string_view text, std::string_view what);

/// `p` without a trailing ".cfl" or ".hdr" (BART names a pair by its base path).
std::filesystem::path cfl_base_path(const std::filesystem::path& p);

/// Reads `base.hdr` and `base.cfl`; `path` may be the base or either file.
/// Values are returned as stored (use `require_finite` from array_file.hpp to
/// reject NaN/Inf). Errors: `bad_input` naming `what`, the path and the problem
/// for a missing `.hdr` or `.cfl`, an unparsable header (see
/// `parse_cfl_header`), and a `.cfl` whose byte size differs from 8·∏dims (both
/// numbers are named). Sizes are checked before allocating.
cfl_array read_cfl(const std::filesystem::path& path, std::string_view what);

/// Writes `base.cfl` and `base.hdr` (`path` may carry either suffix) with
/// `dims` (1..16 entries, each ≥ 1; written padded with 1s to 16 like BART) and
/// `data` in column-major order. Both files are written to temporaries first and
/// renamed into place only when both are complete; on failure the temporaries
/// are removed. Errors: `bad_input` when dims are empty, too many, zero, or do
/// not match `data.size()`; `runtime_failure` naming the path when writing fails.
void write_cfl(const std::filesystem::path& path, std::span<const cfloat> data, std::span<const std::size_t> dims);

/// The text write_cfl puts in `.hdr` for `dims` (padded with 1s to 16), for writers
/// that stream the `.cfl` data.
std::string cfl_header(std::span<const std::size_t> dims);

/// A 2-D multi-coil image (or k-space) stack in twofold's layout: C-order
/// `[coils, H, W]`.
struct coil_stack {
  image_shape shape{};
  std::vector<cfloat> values;
};

/// Converts BART dims (H, W, 1, coils) to a C-order `[coils, H, W]` stack:
/// element (h, w, 0, c) at BART offset h + H·(w + W·c) goes to (c·H + h)·W + w.
/// A 1-D or 2-D array is one coil. Errors: `bad_input` naming `what` when dim 2
/// (slices) or any dim past 3 is not 1 (twofold takes one 2-D slice).
coil_stack cfl_to_coil_stack(const cfl_array& a, std::string_view what);

/// The inverse of `cfl_to_coil_stack`: dims (H, W, 1, coils), trailing 1s
/// dropped. Errors: `bad_input` when `values.size() != shape.pixels()` or the
/// shape has a zero extent.
cfl_array coil_stack_to_cfl(image_shape shape, std::span<const cfloat> values);

}  // namespace twofold::io
