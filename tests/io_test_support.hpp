#pragma once
// Shared by the file-format tests: a scratch folder removed afterwards, raw
// file writing, and capturing the message of an expected bad_input.
#include <twofold/error.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace twofold::testing {

struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("twofold-io-" + std::to_string(::getpid()) + "-" + name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The message of the bad_input `f` throws; a test failure if it throws
/// something else or nothing.
template <class F>
std::string bad_input_message(F&& f) {
  try {
    f();
  } catch (const bad_input& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected bad_input, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected bad_input, nothing was thrown";
  return {};
}

}  // namespace twofold::testing

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "message: " << (text)
