#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/operator_maps.hpp"
#include <twofold/operators/convolution.hpp>

#include "host/backend/for_each.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {

convolution_operator::convolution_operator(const context& ctx, image_shape shape, std::span<const cfloat> kernel,
                                           image_shape kernel_shape, double cutoff)
    : spectral_operator("blur", spectral_basis::fourier, shape) {
  TWOFOLD_EXPECTS(shape.pixels() > 0 && shape.coils == 1, "blur image shape must be a non-empty H x W");
  TWOFOLD_EXPECTS(kernel_shape.pixels() > 0 && kernel_shape.coils == 1 && kernel_shape.height <= shape.height &&
                      kernel_shape.width <= shape.width,
                  "blur kernel shape " + to_string(kernel_shape) + " must be non-empty and fit in the image " +
                      to_string(shape));
  TWOFOLD_EXPECTS(kernel.size() == kernel_shape.pixels(), "blur kernel has " + std::to_string(kernel.size()) +
                                                              " values, its shape " + to_string(kernel_shape) +
                                                              " needs " + std::to_string(kernel_shape.pixels()));
  TWOFOLD_EXPECTS(std::isfinite(cutoff) && cutoff >= 0 && cutoff < 1, "blur cutoff must be in [0, 1)");
  const std::size_t H = shape.height, W = shape.width, N = shape.pixels();
  std::vector<cfloat> padded(N);
  for (std::size_t i = 0; i < kernel.size(); ++i) {
    TWOFOLD_EXPECTS(is_finite(kernel[i]), "blur kernel has a non-finite value at flat index " + std::to_string(i));
    const std::size_t r = i / kernel_shape.width, c = i % kernel_shape.width;
    padded[(r + H / 2 - kernel_shape.height / 2) * W + (c + W / 2 - kernel_shape.width / 2)] = kernel[i];
  }
  // t = √N F k: the centred DFT diagonalises circular convolution with a centred kernel.
  chain_buffer k(ctx, 1, shape);
  detail::copy_bytes(ctx, k.storage.data(), padded.data(), N * sizeof(cfloat));
  fft2c(ctx, k.view(), fft_direction::forward);
  transfer_host_ = to_host(ctx, k.storage);
  const float root_n = static_cast<float>(std::sqrt(double(N)));
  float largest = 0;
  for (auto& t : transfer_host_) {
    t = root_n * t;
    largest = std::max(largest, abs(t));
  }
  TWOFOLD_EXPECTS(largest > 0, "blur kernel is zero (its transfer function vanishes)");
  std::vector<cfloat> phase(N);
  std::vector<float> power(N), support(N);
  singular_values_.resize(N);
  for (std::size_t i = 0; i < N; ++i) {
    const float a = abs(transfer_host_[i]);
    if (a <= cutoff * largest) transfer_host_[i] = {};
    const bool kept = transfer_host_[i].re != 0 || transfer_host_[i].im != 0;
    singular_values_[i] = kept ? a : 0.0f;
    phase[i] = kept ? (1.0f / a) * transfer_host_[i] : cfloat{1.0f, 0.0f};
    power[i] = singular_values_[i] * singular_values_[i];
    support[i] = kept ? 1.0f : 0.0f;
  }
  transfer_ = to_backend(ctx, std::span<const cfloat>(transfer_host_));
  phase_ = to_backend(ctx, std::span<const cfloat>(phase));
  power_ = to_backend(ctx, std::span<const float>(power));
  support_ = to_backend(ctx, std::span<const float>(support));
}

void convolution_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(y, shape_, "measurement batch");
  detail::copy_if_distinct(ctx, x, y);
  fft2c(ctx, y, fft_direction::forward);
  detail::for_each(ctx, y.size(), math::multiply_by_complex_map{y.data, transfer_.data(), shape_.pixels(), false});
  fft2c(ctx, y, fft_direction::inverse);
}

void convolution_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  expect_batch(y, shape_, "measurement batch");
  expect_batch(x, shape_, "image batch");
  detail::copy_if_distinct(ctx, y, x);
  fft2c(ctx, x, fft_direction::forward);
  detail::for_each(ctx, x.size(), math::multiply_by_complex_map{x.data, transfer_.data(), shape_.pixels(), true});
  fft2c(ctx, x, fft_direction::inverse);
}

void convolution_operator::filter(const context& ctx, chain_view x, const float* w) const {
  expect_batch(x, shape_, "image batch");
  fft2c(ctx, x, fft_direction::forward);
  detail::for_each(ctx, x.size(), math::multiply_by_map{x.data, w, shape_.pixels()});
  fft2c(ctx, x, fft_direction::inverse);
}

void convolution_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  detail::copy_if_distinct(ctx, x, out);
  filter(ctx, out, power_.data());
}

void convolution_operator::range_project(const context& ctx, chain_view x) const { filter(ctx, x, support_.data()); }

void convolution_operator::null_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  fft2c(ctx, x, fft_direction::forward);
  detail::for_each(ctx, x.size(), math::multiply_by_complement{x.data, support_.data(), shape_.pixels()});
  fft2c(ctx, x, fft_direction::inverse);
}

void convolution_operator::analyse(const context& ctx, const_chain_view x, chain_view c) const {
  expect_batch(x, shape_, "image batch");
  detail::copy_if_distinct(ctx, x, c);
  fft2c(ctx, c, fft_direction::forward);
}

void convolution_operator::synthesise(const context& ctx, const_chain_view c, chain_view x) const {
  expect_batch(c, shape_, "coefficient batch");
  detail::copy_if_distinct(ctx, c, x);
  fft2c(ctx, x, fft_direction::inverse);
}

void convolution_operator::measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const {
  expect_batch(y, shape_, "measurement batch");
  detail::copy_if_distinct(ctx, y, c);
  fft2c(ctx, c, fft_direction::forward);  // Uᴴ y = diag(conj(t/|t|)) F y
  detail::for_each(ctx, c.size(), math::multiply_by_complex_map{c.data, phase_.data(), shape_.pixels(), true});
}

std::vector<cfloat> gaussian_blur_kernel(double std_pixels, std::size_t radius, image_shape& shape) {
  TWOFOLD_EXPECTS(std::isfinite(std_pixels) && std_pixels > 0, "blur standard deviation must be finite and > 0");
  TWOFOLD_EXPECTS(radius >= 1 && radius <= 1024, "blur kernel radius must be in [1, 1024]");
  const std::size_t n = 2 * radius + 1;
  shape = {n, n};
  std::vector<double> k(n * n);
  double sum = 0;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < n; ++c) {
      const double dr = double(r) - double(radius), dc = double(c) - double(radius);
      sum += k[r * n + c] = std::exp(-(dr * dr + dc * dc) / (2 * std_pixels * std_pixels));
    }
  std::vector<cfloat> out(n * n);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {static_cast<float>(k[i] / sum), 0.0f};
  return out;
}

}  // namespace twofold
