#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/fft_phase.hpp"
#include <twofold/operators/fourier_mask.hpp>

#include "host/backend/fft_engine.hpp"
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
  }
  // The projection's weights in raw DFT order (math::centred_index).
  const std::size_t H = lines_ ? 1 : shape.height, W = shape.width;
  const float n = float(H * W);
  std::vector<float> keep(H * W), drop(H * W);
  for (std::size_t h = 0; h < H; ++h)
    for (std::size_t w = 0; w < W; ++w) {
      const float m = mask[math::centred_index(h, H) * W + math::centred_index(w, W)];
      keep[h * W + w] = m / n;
      drop[h * W + w] = (1.0f - m) / n;
    }
  keep_raw_ = to_backend(ctx, std::span<const float>(keep));
  drop_raw_ = to_backend(ctx, std::span<const float>(drop));
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
  expect_batch(out, shape_, "image batch");
  project(ctx, x, out, true);  // M² = M, so AᴴA = Fᴴ M F = P_R
}

void fourier_mask_operator::range_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  project(ctx, x, x, true);
}

void fourier_mask_operator::null_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  project(ctx, x, x, false);
}

void fourier_mask_operator::project(const context& ctx, const_chain_view x, chain_view out, bool keep) const {
  // Three passes over the batch: the forward DFT (x → out), the weights, the inverse
  // DFT. With a line mask, F = F_H ⊗ F_W and M = 1 ⊗ M_W, so Fᴴ M F = 1 ⊗ F_Wᴴ M_W F_W:
  // 1-D transforms of every row (a batch of chains·H rows of shape 1×W).
  const bool rows = lines_.has_value();
  const std::size_t batch = rows ? x.chains * shape_.height : x.chains;
  const image_shape plane = rows ? image_shape{1, shape_.width} : shape_;
  ctx.fft().transform(x.data, out.data, batch, plane, fft_direction::forward);
  detail::for_each(ctx, out.size(),
                   math::multiply_by_map{out.data, (keep ? keep_raw_ : drop_raw_).data(), plane.pixels()});
  ctx.fft().transform(out.data, batch, plane, fft_direction::inverse);
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
