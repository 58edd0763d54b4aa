#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/operators/fourier_mask.hpp>

#include "host/backend/for_each.hpp"

#include <string>

namespace twofold {

fourier_mask_operator::fourier_mask_operator(const context& ctx, image_shape shape, std::span<const float> mask)
    : spectral_operator("mri", spectral_basis::fourier, shape) {
  singular_values_.assign(mask.begin(), mask.end());
  TWOFOLD_EXPECTS(shape.pixels() > 0 && shape.coils == 1, "MRI image shape must be a non-empty H x W");
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
    line_mask_ = to_backend(ctx, std::span<const float>(singular_values_.data(), shape.width));
  }
  mask_ = to_backend(ctx, std::span<const float>(singular_values_));
}

void fourier_mask_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(y, shape_, "k-space batch");
  detail::copy_if_distinct(ctx, x, y);
  fft2c(ctx, y, fft_direction::forward);
  detail::for_each(ctx, y.size(), math::multiply_by_map{y.data, mask_.data(), shape_.pixels()});
}

void fourier_mask_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  expect_batch(y, shape_, "k-space batch");
  expect_batch(x, shape_, "image batch");
  detail::copy_if_distinct(ctx, y, x);
  detail::for_each(ctx, x.size(), math::multiply_by_map{x.data, mask_.data(), shape_.pixels()});
  fft2c(ctx, x, fft_direction::inverse);
}

void fourier_mask_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  expect_batch(x, shape_, "image batch");
  detail::copy_if_distinct(ctx, x, out);
  project(ctx, out, true);  // M² = M, so AᴴA = Fᴴ M F = P_R
}

void fourier_mask_operator::range_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  project(ctx, x, true);
}

void fourier_mask_operator::null_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  project(ctx, x, false);
}

void fourier_mask_operator::project(const context& ctx, chain_view x, bool keep) const {
  // With a line mask, F = F_H ⊗ F_W and M = 1 ⊗ M_W, so Fᴴ M F = 1 ⊗ F_Wᴴ M_W F_W:
  // transform every row (a batch of chains·H images of shape 1×W).
  const bool rows = lines_.has_value();
  const chain_view v = rows ? chain_view{x.data, x.chains * shape_.height, image_shape{1, shape_.width}} : x;
  const float* weights = rows ? line_mask_.data() : mask_.data();
  fft2c(ctx, v, fft_direction::forward);
  if (keep) detail::for_each(ctx, v.size(), math::multiply_by_map{v.data, weights, v.shape.pixels()});
  else detail::for_each(ctx, v.size(), math::multiply_by_complement{v.data, weights, v.shape.pixels()});
  fft2c(ctx, v, fft_direction::inverse);
}

void fourier_mask_operator::analyse(const context& ctx, const_chain_view x, chain_view c) const {
  expect_batch(x, shape_, "image batch");
  detail::copy_if_distinct(ctx, x, c);
  fft2c(ctx, c, fft_direction::forward);
}

void fourier_mask_operator::synthesise(const context& ctx, const_chain_view c, chain_view x) const {
  expect_batch(c, shape_, "coefficient batch");
  detail::copy_if_distinct(ctx, c, x);
  fft2c(ctx, x, fft_direction::inverse);
}

void fourier_mask_operator::measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const {
  expect_batch(y, shape_, "k-space batch");
  detail::copy_if_distinct(ctx, y, c);  // U = I
}

}  // namespace twofold
