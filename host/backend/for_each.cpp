#include "host/backend/for_each.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace twofold::detail {

std::string demangled(const char* name) {
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> readable(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                                             &std::free);
  return status == 0 && readable ? std::string(readable.get()) : std::string(name);
}

}  // namespace twofold::detail
