// The text of a BART `.hdr` file (BART's src/misc/io.c: read_cfl_header). No
// file I/O, so that it compiles alone with host/core/error.cpp for the fuzz harness
// (fuzz/cfl_header_fuzz.cpp).
#include "host/io/input_problem.hpp"

#include <twofold/io/cfl.hpp>

#include <algorithm>
#include <limits>
#include <string>

namespace twofold::io {

namespace {

// The next line of `text` from `pos` (without '\n' or '\r'), advancing `pos`.
std::string_view next_line(std::string_view text, std::size_t& pos) {
  const std::size_t end = std::min(text.find('\n', pos), text.size());
  std::string_view line = text.substr(pos, end - pos);
  pos = end < text.size() ? end + 1 : end;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 40)) out += (c >= 32 && c < 127) ? c : '?';
  return s.size() > 40 ? out + "..." : out;
}

}  // namespace

std::vector<std::size_t> parse_cfl_header(std::string_view text, std::string_view what) {
  const detail::input_problem fail(what);
  std::size_t pos = 0;
  bool found = false;
  while (pos < text.size()) {
    const std::string_view line = next_line(text, pos);
    if (line.substr(0, 12) == "# Dimensions") {
      found = true;
      break;
    }
  }
  if (!found) fail("unparsable header: no '# Dimensions' line");
  const std::string_view line = next_line(text, pos);

  std::vector<std::size_t> dims;
  std::size_t i = 0;
  const auto space = [&] { return i < line.size() && (line[i] == ' ' || line[i] == '\t'); };
  while (true) {
    while (space()) ++i;
    if (i == line.size()) break;
    if (line[i] == '-') fail("unparsable header: dimension " + std::to_string(dims.size()) + " is negative");
    if (line[i] < '0' || line[i] > '9')
      fail("unparsable header: dimension " + std::to_string(dims.size()) + " is not an integer (\"" +
           printable(line.substr(i)) + "\")");
    std::size_t v = 0;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
      const auto digit = static_cast<std::size_t>(line[i] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10)
        fail("unparsable header: dimension " + std::to_string(dims.size()) + " is too large");
      v = v * 10 + digit;
    }
    if (i < line.size() && !space())
      fail("unparsable header: dimension " + std::to_string(dims.size()) + " is not an integer (\"" +
           printable(line.substr(i)) + "\")");
    if (v == 0) fail("dimension " + std::to_string(dims.size()) + " is 0; BART dims are at least 1");
    dims.push_back(v);
    if (dims.size() > cfl_max_dims)
      fail("more than " + std::to_string(cfl_max_dims) + " dimensions in the header");
  }
  if (dims.empty()) fail("unparsable header: no dimensions after '# Dimensions'");
  std::size_t bytes = 0;
  if (!detail::checked_product(dims, sizeof(cfloat), bytes))
    fail("dims " + detail::shape_text(dims) + " are too large");
  while (dims.size() > 1 && dims.back() == 1) dims.pop_back();
  return dims;
}

}  // namespace twofold::io
