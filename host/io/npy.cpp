// The .npy format (numpy/lib/format.py, NEP 1): magic "\x93NUMPY", major and
// minor version bytes, a little-endian header length (uint16 for 1.0, uint32 for
// 2.0/3.0), an ASCII (3.0: UTF-8) Python dict literal with 'descr',
// 'fortran_order' and 'shape', then the raw data.
#include <twofold/error.hpp>
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

constexpr std::array<char, 6> npy_magic{'\x93', 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t max_header_bytes = std::size_t{1} << 20;

// `what` 'path': problem
class problem_reporter {
 public:
  problem_reporter(std::string_view what, const fs::path& path)
      : prefix_(std::string(what) + " '" + path.string() + "': ") {}
  [[noreturn]] void operator()(const std::string& problem) const {
    detail::throw_bad_input(__FILE__, __LINE__, prefix_ + problem);
  }

 private:
  std::string prefix_;
};

// The header is a Python dict literal with exactly the keys 'descr' (a string),
// 'fortran_order' (True/False) and 'shape' (a tuple of non-negative integers).
struct npy_header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

class header_parser {
 public:
  header_parser(std::string_view text, const problem_reporter& fail) : s_(text), fail_(fail) {}

  npy_header parse() {
    npy_header h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!accept('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        if (peek() == '[') fail_("structured dtypes are not supported");
        h.descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean_literal();
        seen_order = true;
      } else if (key == "shape") {
        h.shape = shape_tuple();
        seen_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      if (accept('}')) break;
      expect(',');
    }
    skip_space();
    if (pos_ != s_.size()) bad("text after the closing brace");
    if (!seen_descr || !seen_order || !seen_shape) bad("a key of 'descr', 'fortran_order', 'shape' is missing");
    return h;
  }

 private:
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  char peek() {
    skip_space();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!accept(c)) bad(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string at offset " + std::to_string(pos_));
    std::string out;
    for (++pos_; pos_ < s_.size() && s_[pos_] != quote; ++pos_) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_];
    }
    if (pos_ >= s_.size()) bad("unterminated string");
    ++pos_;
    return out;
  }
  bool boolean_literal() {
    skip_space();
    if (s_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (s_.substr(pos_, 5) == "False") return pos_ += 5, false;
    bad("'fortran_order' must be True or False");
  }
  std::vector<std::size_t> shape_tuple() {
    const char open = peek();
    if (open != '(' && open != '[') bad("'shape' must be a tuple of integers");
    const char close = open == '(' ? ')' : ']';
    ++pos_;
    std::vector<std::size_t> shape;
    while (!accept(close)) {
      shape.push_back(integer());
      if (shape.size() > 64) bad("'shape' has more than 64 dimensions");
      if (accept(close)) break;
      expect(',');
    }
    return shape;
  }
  std::size_t integer() {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') bad("'shape' entries must be non-negative integers");
    std::size_t v = 0;
    for (; pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; ++pos_) {
      const auto digit = static_cast<std::size_t>(s_[pos_] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10) bad("a 'shape' entry is too large");
      v = v * 10 + digit;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;  // Python 2 longs
    return v;
  }
  [[noreturn]] void bad(const std::string& problem) const {
    std::string shown;
    for (const char c : s_.substr(0, 96)) shown += (c >= 32 && c < 127) ? c : '?';
    fail_("unparsable header (" + problem + "): \"" + shown + (s_.size() > 96 ? "..." : "") + "\"");
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  const problem_reporter& fail_;
};

struct descr_info {
  dtype type;
  bool big_endian;
};

descr_info parse_descr(const std::string& descr, const problem_reporter& fail) {
  const std::string supported = " (supported: <f4 <f8 <c8 <c16 |b1 |u1, either byte order)";
  if (descr.empty()) fail("empty dtype in the header" + supported);
  const char order = descr[0];
  const bool has_order = order == '<' || order == '>' || order == '|' || order == '=';
  const std::string code = has_order ? descr.substr(1) : descr;
  if (!code.empty() && code[0] == 'O') fail("object arrays are not supported (dtype '" + descr + "')");
  dtype t{};
  if (code == "f4") t = dtype::float32;
  else if (code == "f8") t = dtype::float64;
  else if (code == "c8") t = dtype::complex64;
  else if (code == "c16") t = dtype::complex128;
  else if (code == "b1" || code == "?") t = dtype::boolean;
  else if (code == "u1" || code == "B") t = dtype::uint8;
  else fail("unsupported dtype '" + descr + "'" + supported);
  if (order == '|' && dtype_size(t) != 1) fail("dtype '" + descr + "' has no byte order");
  return {t, order == '>'};
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Product with overflow detection; false when it does not fit in size_t.
bool checked_product(std::span<const std::size_t> shape, std::size_t factor, std::size_t& out) {
  std::size_t p = factor;
  for (const auto d : shape) {
    if (d != 0 && p > std::numeric_limits<std::size_t>::max() / d) return false;
    p *= d;
  }
  out = p;
  return true;
}

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

std::uint32_t little_endian_u32(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::size_t dtype_size(dtype t) noexcept {
  switch (t) {
    case dtype::float32: return 4;
    case dtype::float64: return 8;
    case dtype::complex64: return 8;
    case dtype::complex128: return 16;
    case dtype::boolean: return 1;
    case dtype::uint8: return 1;
  }
  return 1;
}

std::string_view dtype_name(dtype t) noexcept {
  switch (t) {
    case dtype::float32: return "float32";
    case dtype::float64: return "float64";
    case dtype::complex64: return "complex64";
    case dtype::complex128: return "complex128";
    case dtype::boolean: return "bool";
    case dtype::uint8: return "uint8";
  }
  return "?";
}

std::size_t npy_array::elements() const {
  std::size_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

npy_array read_npy(const fs::path& path, std::string_view what) {
  const problem_reporter fail(what, path);
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) fail(ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "file not found");
  if (fs::is_directory(st)) fail("is a directory, not a .npy file");
  const std::uintmax_t file_size = fs::file_size(path, ec);
  if (ec) fail("cannot determine the file size: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open the file for reading");

  std::array<unsigned char, 12> pre{};
  const std::size_t pre_have = static_cast<std::size_t>(std::min<std::uintmax_t>(file_size, pre.size()));
  in.read(reinterpret_cast<char*>(pre.data()), static_cast<std::streamsize>(pre_have));
  if (file_size == 0) fail("the file is empty");
  const std::size_t magic_have = std::min(pre_have, npy_magic.size());
  if (std::memcmp(pre.data(), npy_magic.data(), magic_have) != 0)
    fail("not a .npy file (bad magic; expected \\x93NUMPY)");
  if (pre_have < 8) fail("truncated header (the file ends inside the magic and version)");
  const int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    fail("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const int len_bytes = major == 1 ? 2 : 4;
  const std::size_t preamble = 8 + static_cast<std::size_t>(len_bytes);
  if (pre_have < preamble) fail("truncated header (the file ends inside the preamble)");
  const std::size_t header_len = little_endian_u32(pre.data() + 8, len_bytes);
  if (header_len > file_size - preamble)
    fail("truncated header (header says " + std::to_string(header_len) + " bytes, the file has " +
         std::to_string(file_size - preamble) + " after the preamble)");
  if (header_len > max_header_bytes) fail("implausibly large header (" + std::to_string(header_len) + " bytes)");

  std::string text(header_len, '\0');
  in.seekg(static_cast<std::streamoff>(preamble));
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  if (static_cast<std::size_t>(in.gcount()) != header_len) fail("could not read the header");
  const npy_header h = header_parser(text, fail).parse();

  const descr_info d = parse_descr(h.descr, fail);
  npy_array a;
  a.type = d.type;
  a.shape = h.shape;
  const std::size_t item = dtype_size(d.type);
  std::size_t need = 0;
  if (!checked_product(a.shape, item, need)) fail("shape " + shape_text(a.shape) + " is too large");
  const std::uintmax_t have = file_size - preamble - header_len;
  const std::string layout = "shape " + shape_text(a.shape) + " of " + h.descr + " needs " + std::to_string(need) + " bytes";
  if (have < need) fail("truncated data: " + layout + ", the file has " + std::to_string(have) + " after the header");
  if (have > need) fail(std::to_string(have - need) + " trailing bytes after the data (" + layout + ")");

  a.data.resize(need);
  in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(need));
  if (static_cast<std::size_t>(in.gcount()) != need) fail("could not read the data (file changed or I/O error)");

  if (d.big_endian && item > 1)
    byteswap_in_place(a.data, d.type == dtype::complex64 || d.type == dtype::complex128 ? item / 2 : item);
  if (h.fortran_order) fortran_to_c(a.data, a.shape, item);
  if (a.type == dtype::boolean)
    for (auto& b : a.data) b = std::byte{b != std::byte{0}};
  return a;
}

// ---- conversions ---------------------------------------------------------------

namespace {

[[noreturn]] void bad_value(std::string_view what, const npy_array& a, std::size_t i, double v) {
  std::string index;
  std::size_t rest = i;
  for (std::size_t k = a.shape.size(); k-- > 0;) {
    index = std::to_string(rest % a.shape[k]) + (index.empty() ? "" : ", ") + index;
    rest /= a.shape[k];
  }
  const std::string value = std::isnan(v) ? "NaN" : std::isinf(v) ? (v > 0 ? "+Inf" : "-Inf")
                                                                  : std::to_string(v) + " (outside the float32 range)";
  detail::throw_bad_input(__FILE__, __LINE__,
                          std::string(what) + ": value " + value + " at flat index " + std::to_string(i) + " (index [" +
                              index + "] of shape " + shape_text(a.shape) + "); inputs must be finite");
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
  TWOFOLD_EXPECTS(checked_product(a.shape, dtype_size(a.type), need) && need == a.data.size(),
                  std::string(what) + ": array holds " + std::to_string(a.data.size()) + " bytes but shape " +
                      shape_text(a.shape) + " of " + std::string(dtype_name(a.type)) + " needs " + std::to_string(need));
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

void write_npy_bytes(const fs::path& path, std::string_view descr, std::span<const std::byte> bytes,
                     std::size_t count, std::span<const std::size_t> shape) {
  std::size_t n = 0;
  TWOFOLD_EXPECTS(checked_product(shape, 1, n) && n == count,
                  "write_npy '" + path.string() + "': " + std::to_string(count) + " values do not fill shape " +
                      shape_text({shape.begin(), shape.end()}));
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " +
                     shape_text({shape.begin(), shape.end()}) + ", }";
  // Pad with spaces and a final newline so the data starts on a 64-byte boundary.
  auto padded_total = [&](std::size_t preamble) { return (preamble + dict.size() + 1 + 63) / 64 * 64; };
  const std::size_t preamble = padded_total(10) - 10 <= 65535 ? 10 : 12;  // version 1.0 when it fits
  const std::size_t total = padded_total(preamble);
  dict.append(total - preamble - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string head(npy_magic.begin(), npy_magic.end());
  head.push_back(preamble == 10 ? '\x01' : '\x02');
  head.push_back('\x00');
  const std::size_t len = dict.size();
  for (std::size_t i = 0; i < preamble - 8; ++i) head.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  head += dict;
  const std::array<std::span<const std::byte>, 2> parts{std::as_bytes(std::span(head)), bytes};
  write_file_atomically(path, parts);
}

}  // namespace

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

}  // namespace twofold::io
