#include <twofold/core/error.hpp>

#include <string>

namespace twofold::detail {

// Bad input is the user's to fix: the message names the input; no source location.
void throw_bad_input(const char*, int, const std::string& msg) { throw bad_input(msg); }

void throw_runtime_failure(const char* file, int line, const std::string& msg) {
  throw runtime_failure(msg, std::string(file) + ":" + std::to_string(line));
}

void throw_device_failure(const char* file, int line, const std::string& msg) {
  throw device_failure(msg, std::string(file) + ":" + std::to_string(line));
}

void throw_out_of_memory(const char* file, int line, const std::string& msg) {
  throw out_of_memory(msg, std::string(file) + ":" + std::to_string(line));
}

}  // namespace twofold::detail
