#pragma once
/// \file
/// Errors. Every failure at the public boundary is a `twofold::error` subtype
/// carrying a message that names the input and the problem (`what()`, for users)
/// and, for internal and device failures, the source location that raised it
/// (`where()`, for developers: the CLI prints it with --debug).
/// The command-line program maps them to exit codes (docs/design.md §5):
///   bad_input -> 2, runtime_failure / device_failure -> 3.

#include <stdexcept>
#include <string>
#include <utility>

namespace twofold {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  error(const std::string& message, std::string where) : std::runtime_error(message), where_(std::move(where)) {}
  /// Process exit code the CLI uses for this error.
  virtual int exit_code() const noexcept { return 3; }
  /// "file:line" of the check that raised it (empty when unknown).
  const std::string& where() const noexcept { return where_; }

 private:
  std::string where_;
};

/// The caller's input is wrong (shape, value, file contents). Exit code 2.
class bad_input : public error {
 public:
  using error::error;
  int exit_code() const noexcept override { return 2; }
};

/// Something failed at run time that the input did not cause (I/O, numerics).
class runtime_failure : public error {
 public:
  using error::error;
};

/// A CUDA, cuFFT or cuBLAS call failed, or the CUDA backend is unavailable.
class device_failure : public error {
 public:
  using error::error;
};

/// A backend allocation failed for lack of memory (device memory on CUDA, host memory
/// on the CPU). sample() and posterior_draws() with automatic wave sizing catch it and
/// retry the wave with half as many chains; elsewhere it is a runtime failure.
class out_of_memory : public runtime_failure {
 public:
  using runtime_failure::runtime_failure;
};

namespace detail {
[[noreturn]] void throw_bad_input(const char* file, int line, const std::string& msg);
[[noreturn]] void throw_runtime_failure(const char* file, int line, const std::string& msg);
[[noreturn]] void throw_device_failure(const char* file, int line, const std::string& msg);
[[noreturn]] void throw_out_of_memory(const char* file, int line, const std::string& msg);
}  // namespace detail

}  // namespace twofold

/// Precondition on caller input: throws twofold::bad_input with `msg`.
#define TWOFOLD_EXPECTS(cond, msg)                                        \
  do {                                                                    \
    if (!(cond)) ::twofold::detail::throw_bad_input(__FILE__, __LINE__, (msg)); \
  } while (0)

/// Internal invariant or run-time failure: throws twofold::runtime_failure.
#define TWOFOLD_ENSURES(cond, msg)                                              \
  do {                                                                          \
    if (!(cond)) ::twofold::detail::throw_runtime_failure(__FILE__, __LINE__, (msg)); \
  } while (0)
