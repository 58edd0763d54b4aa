// The .npy header (numpy/lib/format.py, NEP 1): magic "\x93NUMPY", major and
// minor version bytes, a little-endian header length (uint16 for 1.0, uint32 for
// 2.0/3.0), then an ASCII (3.0: UTF-8) Python dict literal with 'descr',
// 'fortran_order' and 'shape'. Kept free of file I/O so that it compiles alone
// with host/core/error.cpp for the fuzz harness (fuzz/npy_header_fuzz.cpp).
#include "host/io/input_problem.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/npy.hpp>

#include <cstring>
#include <limits>
#include <string>

namespace twofold::io {

namespace {

// The header is a Python dict literal with exactly the keys 'descr' (a string),
// 'fortran_order' (True/False) and 'shape' (a tuple of non-negative integers).
struct header_dict {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

class header_parser {
 public:
  header_parser(std::string_view text, const detail::input_problem& fail) : s_(text), fail_(fail) {}

  header_dict parse() {
    header_dict h;
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
  const detail::input_problem& fail_;
};

struct descr_info {
  dtype type;
  bool big_endian;
};

descr_info parse_descr(const std::string& descr, const detail::input_problem& fail) {
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

npy_header parse_npy_header(std::span<const std::byte> bytes, std::string_view what) {
  const detail::input_problem fail(what);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.empty()) fail("the file is empty");
  const std::size_t magic_have = std::min(bytes.size(), npy_magic.size());
  if (std::memcmp(p, npy_magic.data(), magic_have) != 0) fail("not a .npy file (bad magic; expected \\x93NUMPY)");
  if (bytes.size() < 8) fail("truncated header (the file ends inside the magic and version)");
  const int major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0)
    fail("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const int len_bytes = major == 1 ? 2 : 4;
  const std::size_t preamble = 8 + static_cast<std::size_t>(len_bytes);
  if (bytes.size() < preamble) fail("truncated header (the file ends inside the preamble)");
  const std::size_t header_len = little_endian_u32(p + 8, len_bytes);
  if (header_len > max_npy_header_bytes) fail("implausibly large header (" + std::to_string(header_len) + " bytes)");
  if (header_len > bytes.size() - preamble)
    fail("truncated header (header says " + std::to_string(header_len) + " bytes, the file has " +
         std::to_string(bytes.size() - preamble) + " after the preamble)");

  const std::string_view text(reinterpret_cast<const char*>(p + preamble), header_len);
  const header_dict dict = header_parser(text, fail).parse();
  const descr_info d = parse_descr(dict.descr, fail);
  npy_header h;
  h.type = d.type;
  h.big_endian = d.big_endian && dtype_size(d.type) > 1;
  h.fortran_order = dict.fortran_order;
  h.shape = dict.shape;
  h.descr = dict.descr;
  h.data_offset = preamble + header_len;
  if (!detail::checked_product(h.shape, dtype_size(h.type), h.data_bytes))
    fail("shape " + detail::shape_text(h.shape) + " is too large");
  return h;
}

}  // namespace twofold::io
