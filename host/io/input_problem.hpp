#pragma once
// Shared by the file readers in host/io: the "`what` 'path': problem" message
// form of docs/design.md §5, shape text for messages, overflow-checked element counts and
// the non-finite value message. Depends on <twofold/core/error.hpp> only, so the
// header parsers that include it compile alone (fuzz/).
#include <twofold/core/error.hpp>
#include <twofold/io/array_file.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>

namespace twofold::io::detail {

/// Throws bad_input "<prefix>: <problem>"; the prefix names the input and, for
/// files, the path: `what 'path'`.
class input_problem {
 public:
  explicit input_problem(std::string_view prefix) : prefix_(std::string(prefix) + ": ") {}
  input_problem(std::string_view what, std::string_view path)
      : prefix_(std::string(what) + " '" + std::string(path) + "': ") {}
  [[noreturn]] void operator()(const std::string& problem) const {
    ::twofold::detail::throw_bad_input(__FILE__, __LINE__, prefix_ + problem);
  }

 private:
  std::string prefix_;
};

/// "(2, 3)", "(5,)", "()" — Python's tuple spelling, as NumPy users read it.
using ::twofold::io::shape_text;

/// factor · ∏shape into `out`; false (and `out` untouched) when it overflows size_t.
inline bool checked_product(std::span<const std::size_t> shape, std::size_t factor, std::size_t& out) {
  std::size_t p = factor;
  for (const auto d : shape) {
    if (d != 0 && p > std::numeric_limits<std::size_t>::max() / d) return false;
    p *= d;
  }
  out = p;
  return true;
}

/// Throws bad_input "<what>: value NaN at flat index i (index [a, b] of shape
/// (..)); inputs must be finite". A finite `v` is reported as outside the
/// float32 range (a float64 input that does not narrow).
[[noreturn]] inline void throw_non_finite(std::string_view what, std::span<const std::size_t> shape, std::size_t i,
                                          double v) {
  std::string index;
  std::size_t rest = i;
  for (std::size_t k = shape.size(); k-- > 0;) {
    if (shape[k] == 0) break;
    index = std::to_string(rest % shape[k]) + (index.empty() ? "" : ", ") + index;
    rest /= shape[k];
  }
  const std::string value = std::isnan(v)   ? "NaN"
                            : std::isinf(v) ? (v > 0 ? "+Inf" : "-Inf")
                                            : std::to_string(v) + " (outside the float32 range)";
  ::twofold::detail::throw_bad_input(__FILE__, __LINE__,
                                     std::string(what) + ": value " + value + " at flat index " + std::to_string(i) +
                                         " (index [" + index + "] of shape " + shape_text(shape) +
                                         "); inputs must be finite");
}

}  // namespace twofold::io::detail
