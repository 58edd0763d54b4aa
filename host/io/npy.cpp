// The .npy format (numpy/lib/format.py, NEP 1): magic "\x93NUMPY", major and
// minor version bytes, a little-endian header length (uint16 for 1.0, uint32 for
// 2.0/3.0), an ASCII (3.0: UTF-8) Python dict literal with 'descr',
// 'fortran_order' and 'shape', then the raw data.
#include "host/io/input_problem.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/io/output_folder.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

static_assert(std::endian::native == std::endian::little, "twofold stores arrays little-endian");

namespace twofold::io {
namespace fs = std::filesystem;

namespace {

// Transposes Fortran-order elements into C order, walking the C-order output
// with an odometer over the multi-index and the matching Fortran offset.
void fortran_to_c(std::vector<std::byte>& data, const std::vector<std::size_t>& shape, std::size_t item) {
  const std::size_t nd = shape.size();
  const std::size_t n = data.size() / item;
  if (nd < 2 || n == 0) return;  // the two orders coincide
  std::vector<std::size_t> fstride(nd), idx(nd, 0);
  fstride[0] = 1;
  for (std::size_t k = 1; k < nd; ++k) fstride[k] = fstride[k - 1] * shape[k - 1];
  std::vector<std::byte> out(data.size());
  std::size_t off = 0;
  for (std::size_t c = 0; c < n; ++c) {
    std::memcpy(out.data() + c * item, data.data() + off * item, item);
    for (std::size_t k = nd; k-- > 0;) {
      off += fstride[k];
      if (++idx[k] < shape[k]) break;
      off -= fstride[k] * shape[k];
      idx[k] = 0;
    }
  }
  data.swap(out);
}

void byteswap_in_place(std::vector<std::byte>& data, std::size_t unit) {
  for (std::size_t i = 0; i + unit <= data.size(); i += unit) std::reverse(data.begin() + long(i), data.begin() + long(i + unit));
}

}  // namespace

std::size_t npy_array::elements() const {
  std::size_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

npy_array read_npy(const fs::path& path, std::string_view what) {
  const detail::input_problem fail(what, path.string());
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) fail(ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "file not found");
  if (fs::is_directory(st)) fail("is a directory, not a .npy file");
  const std::uintmax_t file_size = fs::file_size(path, ec);
  if (ec) fail("cannot determine the file size: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open the file for reading");

  // Every valid header lies within the first 12 + max_npy_header_bytes bytes.
  std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uintmax_t>(file_size, 12 + max_npy_header_bytes)));
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  if (static_cast<std::size_t>(in.gcount()) != head.size()) fail("could not read the header");
  const npy_header h = parse_npy_header(head, std::string(what) + " '" + path.string() + "'");

  npy_array a;
  a.type = h.type;
  a.shape = h.shape;
  const std::size_t item = dtype_size(h.type);
  const std::size_t need = h.data_bytes;
  const std::uintmax_t have = file_size - h.data_offset;
  const std::string layout =
      "shape " + detail::shape_text(a.shape) + " of " + h.descr + " needs " + std::to_string(need) + " bytes";
  if (have < need) fail("truncated data: " + layout + ", the file has " + std::to_string(have) + " after the header");
  if (have > need) fail(std::to_string(have - need) + " trailing bytes after the data (" + layout + ")");

  in.seekg(static_cast<std::streamoff>(h.data_offset));
  a.data.resize(need);
  in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(need));
  if (static_cast<std::size_t>(in.gcount()) != need) fail("could not read the data (file changed or I/O error)");

  if (h.big_endian)
    byteswap_in_place(a.data, h.type == dtype::complex64 || h.type == dtype::complex128 ? item / 2 : item);
  if (h.fortran_order) fortran_to_c(a.data, a.shape, item);
  if (a.type == dtype::boolean)
    for (auto& b : a.data) b = std::byte{b != std::byte{0}};
  return a;
}

// ---- conversions ---------------------------------------------------------------

namespace {

[[noreturn]] void bad_value(std::string_view what, const npy_array& a, std::size_t i, double v) {
  detail::throw_non_finite(what, a.shape, i, v);
}

template <class T>
T load(const npy_array& a, std::size_t i) {
  T v;
  std::memcpy(&v, a.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

// Narrows one component to float, rejecting non-finite or out-of-range values.
float narrow(double v, std::string_view what, const npy_array& a, std::size_t i) {
  const auto f = static_cast<float>(v);
  if (!std::isfinite(f)) bad_value(what, a, i, v);
  return f;
}

void check_consistent(const npy_array& a, std::string_view what) {
  std::size_t need = 0;
  TWOFOLD_EXPECTS(detail::checked_product(a.shape, dtype_size(a.type), need) && need == a.data.size(),
                  std::string(what) + ": array holds " + std::to_string(a.data.size()) + " bytes but shape " +
                      detail::shape_text(a.shape) + " of " + std::string(dtype_name(a.type)) + " needs " + std::to_string(need));
}

}  // namespace

std::vector<cfloat> as_complex64(const npy_array& a, std::string_view what) {
  check_consistent(a, what);
  const std::size_t n = a.elements();
  std::vector<cfloat> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (a.type) {
      case dtype::float32: out[i] = {narrow(load<float>(a, i), what, a, i), 0.f}; break;
      case dtype::float64: out[i] = {narrow(load<double>(a, i), what, a, i), 0.f}; break;
      case dtype::complex64:
        out[i] = {narrow(load<float>(a, 2 * i), what, a, i), narrow(load<float>(a, 2 * i + 1), what, a, i)};
        break;
      case dtype::complex128:
        out[i] = {narrow(load<double>(a, 2 * i), what, a, i), narrow(load<double>(a, 2 * i + 1), what, a, i)};
        break;
      case dtype::boolean:
      case dtype::uint8: out[i] = {static_cast<float>(std::to_integer<unsigned>(a.data[i])), 0.f}; break;
    }
  }
  return out;
}

std::vector<float> as_float32(const npy_array& a, std::string_view what) {
  check_consistent(a, what);
  TWOFOLD_EXPECTS(a.type != dtype::complex64 && a.type != dtype::complex128,
                  std::string(what) + ": is " + std::string(dtype_name(a.type)) + " but a real array is required");
  const std::size_t n = a.elements();
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (a.type) {
      case dtype::float32: out[i] = narrow(load<float>(a, i), what, a, i); break;
      case dtype::float64: out[i] = narrow(load<double>(a, i), what, a, i); break;
      case dtype::boolean:
      case dtype::uint8: out[i] = static_cast<float>(std::to_integer<unsigned>(a.data[i])); break;
      case dtype::complex64:
      case dtype::complex128: break;  // rejected above
    }
  }
  return out;
}

// ---- writers ---------------------------------------------------------------------

namespace {

std::string header_bytes(std::string_view descr, std::span<const std::size_t> shape) {
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " +
                     detail::shape_text(shape) + ", }";
  // Pad with spaces and a final newline so the data starts on a 64-byte boundary.
  auto padded_total = [&](std::size_t preamble) { return (preamble + dict.size() + 1 + 63) / 64 * 64; };
  const std::size_t preamble = padded_total(10) - 10 <= 65535 ? 10 : 12;  // version 1.0 when it fits
  const std::size_t total = padded_total(preamble);
  dict.append(total - preamble - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string head(npy_magic);
  head.push_back(preamble == 10 ? '\x01' : '\x02');
  head.push_back('\x00');
  const std::size_t len = dict.size();
  for (std::size_t i = 0; i < preamble - 8; ++i) head.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  head += dict;
  return head;
}

void write_npy_bytes(const fs::path& path, std::string_view descr, std::span<const std::byte> bytes,
                     std::size_t count, std::span<const std::size_t> shape) {
  std::size_t n = 0;
  TWOFOLD_EXPECTS(detail::checked_product(shape, 1, n) && n == count,
                  "write_npy '" + path.string() + "': " + std::to_string(count) + " values do not fill shape " +
                      detail::shape_text(shape));
  const std::string head = header_bytes(descr, shape);
  const std::array<std::span<const std::byte>, 2> parts{std::as_bytes(std::span(head)), bytes};
  write_file_atomically(path, parts);
}

}  // namespace

std::string npy_header_bytes(dtype type, std::span<const std::size_t> shape) {
  std::size_t n = 0;
  TWOFOLD_EXPECTS(detail::checked_product(shape, dtype_size(type), n),
                  "npy_header_bytes: shape " + detail::shape_text(shape) + " overflows");
  switch (type) {
    case dtype::float32: return header_bytes("<f4", shape);
    case dtype::float64: return header_bytes("<f8", shape);
    case dtype::complex64: return header_bytes("<c8", shape);
    case dtype::complex128: return header_bytes("<c16", shape);
    case dtype::boolean: return header_bytes("|b1", shape);
    case dtype::uint8: return header_bytes("|u1", shape);
  }
  return {};
}

void write_npy(const fs::path& path, std::span<const float> v, std::span<const std::size_t> shape) {
  write_npy_bytes(path, "<f4", std::as_bytes(v), v.size(), shape);
}
void write_npy(const fs::path& path, std::span<const cfloat> v, std::span<const std::size_t> shape) {
  static_assert(sizeof(cfloat) == 8);
  write_npy_bytes(path, "<c8", std::as_bytes(v), v.size(), shape);
}
void write_npy(const fs::path& path, std::span<const double> v, std::span<const std::size_t> shape) {
  write_npy_bytes(path, "<f8", std::as_bytes(v), v.size(), shape);
}
void write_npy(const fs::path& path, std::span<const std::uint8_t> v, std::span<const std::size_t> shape) {
  write_npy_bytes(path, "|u1", std::as_bytes(v), v.size(), shape);
}
void write_npy(const fs::path& path, std::span<const cdouble> v, std::span<const std::size_t> shape) {
  static_assert(sizeof(cdouble) == 16);
  write_npy_bytes(path, "<c16", std::as_bytes(v), v.size(), shape);
}
void write_npy(const fs::path& path, std::span<const bool> v, std::span<const std::size_t> shape) {
  static_assert(sizeof(bool) == 1);
  std::vector<std::byte> bytes(v.size());  // NumPy's bool is one byte, 0 or 1
  std::transform(v.begin(), v.end(), bytes.begin(), [](bool b) { return std::byte{b}; });
  write_npy_bytes(path, "|b1", bytes, v.size(), shape);
}

}  // namespace twofold::io
