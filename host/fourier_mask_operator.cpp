#include <twofold/error.hpp>
#include <twofold/fft.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/operator.hpp>

#include "host/for_each.hpp"

#include <cmath>
#include <string>

namespace twofold {
namespace {

void copy_if_distinct(const context& ctx, const_chain_view from, chain_view to) {
  if (from.data != to.data) detail::copy_bytes(ctx, to.data, from.data, from.size() * sizeof(cfloat));
}

void expect_batch(const_chain_view v, image_shape s, const char* what) {
  TWOFOLD_EXPECTS(v.shape == s, std::string(what) + " has shape " + std::to_string(v.shape.height) + "x" +
                                    std::to_string(v.shape.width) + ", operator expects " +
                                    std::to_string(s.height) + "x" + std::to_string(s.width));
}

}  // namespace

fourier_mask_operator::fourier_mask_operator(const context& ctx, image_shape shape, std::span<const float> mask)
    : shape_(shape), mask_host_(mask.begin(), mask.end()) {
  TWOFOLD_EXPECTS(shape.pixels() > 0, "image shape must be non-empty");
  TWOFOLD_EXPECTS(mask.size() == shape.pixels(), "mask has " + std::to_string(mask.size()) +
                                                     " entries, expected H*W = " + std::to_string(shape.pixels()));
  for (std::size_t i = 0; i < mask.size(); ++i) {
    TWOFOLD_EXPECTS(mask[i] == 0.0f || mask[i] == 1.0f,
                    "mask entries must be 0 or 1 (entry " + std::to_string(i) + " is " + std::to_string(mask[i]) + ")");
    sampled_ += mask[i] == 1.0f;
  }
  TWOFOLD_EXPECTS(sampled_ > 0, "mask samples no k-space location");
  bool whole_lines = true;
  for (std::size_t h = 1; h < shape.height && whole_lines; ++h)
    for (std::size_t w = 0; w < shape.width; ++w)
      if (mask[h * shape.width + w] != mask[w]) {
        whole_lines = false;
        break;
      }
  if (whole_lines) {
    std::vector<std::uint8_t> flags(shape.width);
    for (std::size_t w = 0; w < shape.width; ++w) flags[w] = mask[w] == 1.0f;
    lines_ = std::move(flags);
  }
  mask_ = to_backend(ctx, std::span<const float>(mask_host_));
}

void fourier_mask_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(y, shape_, "k-space batch");
  copy_if_distinct(ctx, x, y);
  fft2c(ctx, y, fft_direction::forward);
  detail::for_each(ctx, y.size(), math::multiply_by_map{y.data, mask_.data(), shape_.pixels()});
}

void fourier_mask_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  expect_batch(y, shape_, "k-space batch");
  expect_batch(x, shape_, "image batch");
  copy_if_distinct(ctx, y, x);
  detail::for_each(ctx, x.size(), math::multiply_by_map{x.data, mask_.data(), shape_.pixels()});
  fft2c(ctx, x, fft_direction::inverse);
}

void fourier_mask_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  copy_if_distinct(ctx, x, out);
  range_project(ctx, out);  // M² = M, so AᴴA = Fᴴ M F = P_R
}

void fourier_mask_operator::range_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  fft2c(ctx, x, fft_direction::forward);
  detail::for_each(ctx, x.size(), math::multiply_by_map{x.data, mask_.data(), shape_.pixels()});
  fft2c(ctx, x, fft_direction::inverse);
}

void fourier_mask_operator::null_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  fft2c(ctx, x, fft_direction::forward);
  detail::for_each(ctx, x.size(), math::multiply_by_complement{x.data, mask_.data(), shape_.pixels()});
  fft2c(ctx, x, fft_direction::inverse);
}

}  // namespace twofold
