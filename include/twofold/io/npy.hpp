#pragma once
/// \file
/// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), the array format of
/// docs/design.md §3. Reading accepts C or Fortran order and either byte order and always
/// yields C-order, native (little-endian) bytes; writing produces version 1.0
/// (2.0 when the header needs it), C order, little-endian, atomically.
///
/// Every problem with a file is a `twofold::bad_input` whose message names the
/// input (`what`, e.g. "k-space file"), the path and the problem (docs/design.md §5).

#include <twofold/core/complex.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::io {

/// Element types twofold reads. NumPy spellings: '<f4' '<f8' '<c8' '<c16' '|b1' '|u1'.
enum class dtype { float32, float64, complex64, complex128, boolean, uint8 };

/// Bytes per element (complex types count both parts: complex64 is 8).
std::size_t dtype_size(dtype t) noexcept;

/// Short NumPy-style name ("float32", "complex64", "bool", ...), for messages.
std::string_view dtype_name(dtype t) noexcept;

/// An n-dimensional array as read from disk: C order, native little-endian
/// bytes, `elements() * dtype_size(type) == data.size()`. A 0-d array (empty
/// shape) holds one element. Booleans are stored as bytes 0 or 1.
struct npy_array {
  std::vector<std::size_t> shape;
  dtype type = dtype::float32;
  std::vector<std::byte> data;

  /// Product of `shape` (1 for a 0-d array).
  std::size_t elements() const;
};

/// The magic string every `.npy` file starts with.
inline constexpr std::string_view npy_magic{"\x93NUMPY", 6};

/// Largest header `parse_npy_header` accepts (NumPy itself writes a few hundred bytes).
inline constexpr std::size_t max_npy_header_bytes = std::size_t{1} << 20;

/// What the preamble and header dict of a `.npy` file say.
struct npy_header {
  dtype type = dtype::float32;
  bool big_endian = false;     ///< '>' byte order (always false for one-byte dtypes)
  bool fortran_order = false;  ///< data stored column-major
  std::vector<std::size_t> shape;
  std::string descr;            ///< the dtype as written, e.g. "<c8", for messages
  std::size_t data_offset = 0;  ///< bytes from the start of the file to the data
  std::size_t data_bytes = 0;   ///< bytes of data the shape and dtype need
};

/// Parses the preamble (magic, version, header length) and the header dict from
/// `bytes`, the beginning of a `.npy` file through at least the end of the header
/// (bytes past it are ignored; the data is not looked at). No file I/O: this is
/// what `read_npy` uses and what the fuzz harness drives with arbitrary bytes.
/// Errors: throws `bad_input` "<what>: <problem>" for an empty buffer, a bad magic
/// string, an unsupported version, a truncated preamble or header, a header longer
/// than `max_npy_header_bytes`, an unparsable dict (missing, repeated-type or
/// unknown keys, negative or non-integer shape entries, text after the brace), an
/// unsupported, object or structured dtype (named), and a shape whose byte count
/// overflows size_t. Never throws anything else for any input.
npy_header parse_npy_header(std::span<const std::byte> bytes, std::string_view what);

/// Reads a `.npy` file. `what` names the input in messages.
/// Fortran-order data is transposed to C order; big-endian data is byte-swapped.
/// Throws `bad_input` (message names `what`, the path and the problem) for: a
/// missing or unreadable file, a bad magic string or version, a truncated or
/// unparsable header, an unsupported dtype (named) or object/structured array,
/// and a data size that disagrees with the shape (truncated or trailing bytes).
/// Sizes are checked against the file size before anything is allocated, so a
/// corrupt header cannot cause a huge allocation.
npy_array read_npy(const std::filesystem::path& path, std::string_view what);

/// The array as complex64 in C order. Real dtypes get imaginary part 0; bool and
/// uint8 convert to their numeric value. Throws `bad_input` naming `what` and the
/// first bad flat index when a value is NaN or ±Inf, or a finite float64 value
/// does not fit in float32.
std::vector<cfloat> as_complex64(const npy_array& a, std::string_view what);

/// The array as float32 in C order, from float32/float64/bool/uint8. Throws
/// `bad_input` naming `what` for complex input, and naming the first bad flat
/// index for NaN, ±Inf or a float64 value outside the float32 range.
std::vector<float> as_float32(const npy_array& a, std::string_view what);

/// Write `values` (C order) with the given `shape` as a little-endian `.npy` of
/// dtype float32 / complex64 / float64 / uint8 / complex128 / bool respectively. An empty shape
/// writes a 0-d array (one value). The file is written to a temporary in the
/// same folder and renamed into place, so `path` never holds a partial file.
/// Throws `bad_input` when `values.size()` differs from the shape's product and
/// `runtime_failure` (after removing the temporary) when writing fails.
/// The bytes write_npy puts before the data of an array of `shape` and `type`
/// (preamble and padded header dict; the data starts on a 64-byte boundary), for
/// writers that stream the data after it. bad_input when the byte count overflows.
std::string npy_header_bytes(dtype type, std::span<const std::size_t> shape);

void write_npy(const std::filesystem::path& path, std::span<const float> values,
               std::span<const std::size_t> shape);
void write_npy(const std::filesystem::path& path, std::span<const cfloat> values,
               std::span<const std::size_t> shape);
void write_npy(const std::filesystem::path& path, std::span<const double> values,
               std::span<const std::size_t> shape);
void write_npy(const std::filesystem::path& path, std::span<const std::uint8_t> values,
               std::span<const std::size_t> shape);
void write_npy(const std::filesystem::path& path, std::span<const cdouble> values,
               std::span<const std::size_t> shape);
void write_npy(const std::filesystem::path& path, std::span<const bool> values,
               std::span<const std::size_t> shape);

}  // namespace twofold::io
