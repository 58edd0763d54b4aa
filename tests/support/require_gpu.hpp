#pragma once
// GPU tests skip with the reason when no CUDA device is usable; TWOFOLD_REQUIRE_GPU=1
// (scripts/device_check.sh sets it) turns that skip into a failure, so a device run
// cannot pass by skipping.
#include <twofold/twofold.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace twofold::testing {

inline bool gpu_required() {
  const char* v = std::getenv("TWOFOLD_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

}  // namespace twofold::testing

#define TWOFOLD_NEED_GPU()                                                                                 \
  do {                                                                                                     \
    if (!::twofold::cuda_usable()) {                                                                       \
      if (::twofold::testing::gpu_required())                                                              \
        FAIL() << "TWOFOLD_REQUIRE_GPU=1 but " << ::twofold::cuda_unavailable_reason();                    \
      GTEST_SKIP() << "no usable CUDA device: " << ::twofold::cuda_unavailable_reason();                   \
    }                                                                                                      \
  } while (0)
