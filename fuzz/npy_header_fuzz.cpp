// libFuzzer harness for parse_npy_header: any byte string must either parse or
// throw twofold::bad_input. Any other exception, a crash or a sanitizer report
// is a finding. Built and run by tests/package/fuzz_parsers.sh.
#include <twofold/core/error.hpp>
#include <twofold/io/npy.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto h = twofold::io::parse_npy_header(std::as_bytes(std::span(data, size)), "fuzz");
    if (h.data_offset > size) std::abort();  // the header cannot end past the bytes it came from
  } catch (const twofold::bad_input&) {
  }
  return 0;
}
