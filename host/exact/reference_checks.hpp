#pragma once
// Input checks shared by the exact Gaussian references (dense.cpp, line_mask.cpp);
// every message names the argument (see include/twofold/exact/dense.hpp, "Errors").
#include <twofold/core/complex.hpp>
#include <twofold/core/error.hpp>
#include <twofold/core/types.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace twofold::detail {

inline void check_shape(image_shape s, std::size_t max_pixels) {
  TWOFOLD_EXPECTS(s.height > 0 && s.width > 0, "shape: height and width must be positive");
  TWOFOLD_EXPECTS(s.pixels() <= max_pixels,
                  "shape: the dense reference accepts at most " + std::to_string(max_pixels) +
                      " pixels (got " + std::to_string(s.height) + "x" + std::to_string(s.width) +
                      "); use line_mask_posterior_pixel_prior for line masks");
}

inline void check_size(std::size_t got, std::size_t want, const char* name) {
  TWOFOLD_EXPECTS(got == want, std::string(name) + ": expected " + std::to_string(want) + " entries, got " +
                                   std::to_string(got));
}

inline std::vector<double> checked_variance(std::span<const float> v, std::size_t n) {
  check_size(v.size(), n, "prior_variance");
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    TWOFOLD_EXPECTS(std::isfinite(v[i]) && v[i] > 0.0f,
                    "prior_variance: entry " + std::to_string(i) + " must be finite and > 0");
    out[i] = v[i];
  }
  return out;
}

inline void check_mean(std::span<const cfloat> mu, std::size_t n) {
  check_size(mu.size(), n, "prior_mean");
  for (std::size_t i = 0; i < n; ++i)
    TWOFOLD_EXPECTS(is_finite(mu[i]), "prior_mean: entry " + std::to_string(i) + " is not finite");
}

inline void check_sigma(double sigma_y) {
  TWOFOLD_EXPECTS(std::isfinite(sigma_y) && sigma_y > 0.0, "sigma_y: must be finite and > 0");
}

// Indices of the sampled entries of a 0/1 mask (2-D k-space mask or 1-D line flags).
template <class T>
std::vector<std::size_t> sampled_indices(std::span<const T> mask, std::size_t n, const char* name) {
  check_size(mask.size(), n, name);
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < n; ++i) {
    TWOFOLD_EXPECTS(mask[i] == T(0) || mask[i] == T(1),
                    std::string(name) + ": entry " + std::to_string(i) + " must be 0 or 1");
    if (mask[i] == T(1)) idx.push_back(i);
  }
  TWOFOLD_EXPECTS(!idx.empty(), std::string(name) + ": nothing is sampled (at least one entry must be 1)");
  return idx;
}

inline void check_kspace(std::span<const cfloat> y, std::size_t n, const std::vector<std::size_t>& sampled,
                  std::size_t stride, std::size_t rows) {
  check_size(y.size(), n, "kspace");
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k : sampled)
      TWOFOLD_EXPECTS(is_finite(y[r * stride + k]),
                      "kspace: sampled entry " + std::to_string(r * stride + k) + " is not finite");
}

}  // namespace twofold::detail
