// libFuzzer harness for parse_cfl_header: any text must either parse or throw
// twofold::bad_input. Any other exception, a crash or a sanitizer report is a
// finding. Built and run by tests/package/fuzz_parsers.sh.
#include <twofold/core/error.hpp>
#include <twofold/io/cfl.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto dims = twofold::io::parse_cfl_header(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    if (dims.empty() || dims.size() > twofold::io::cfl_max_dims) std::abort();
    for (const auto d : dims)
      if (d == 0) std::abort();
  } catch (const twofold::bad_input&) {
  }
  return 0;
}
