#include <twofold/core/error.hpp>
#include <twofold/data/masks.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/operators/inpainting.hpp>

#include "host/backend/for_each.hpp"

namespace twofold {

inpainting_operator::inpainting_operator(const context& ctx, image_shape shape, std::span<const float> mask)
    : spectral_operator("inpaint", spectral_basis::pixel, shape) {
  singular_values_.assign(mask.begin(), mask.end());
  TWOFOLD_EXPECTS(shape.pixels() > 0 && shape.coils == 1, "inpainting image shape must be a non-empty H x W");
  validate_mask(mask, shape, "pixel mask");
  mask_ = to_backend(ctx, std::span<const float>(singular_values_));
}

void inpainting_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(y, shape_, "measurement batch");
  detail::copy_if_distinct(ctx, x, y);
  detail::for_each(ctx, y.size(), math::multiply_by_map{y.data, mask_.data(), shape_.pixels()});
}

void inpainting_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  apply(ctx, y, x);  // M is real, diagonal and square: Aᴴ = A
}

void inpainting_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  apply(ctx, x, out);  // M² = M
}

void inpainting_operator::range_project(const context& ctx, chain_view x) const { apply(ctx, x, x); }

void inpainting_operator::null_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  detail::for_each(ctx, x.size(), math::multiply_by_complement{x.data, mask_.data(), shape_.pixels()});
}

void inpainting_operator::analyse(const context& ctx, const_chain_view x, chain_view c) const {
  expect_batch(x, shape_, "image batch");
  detail::copy_if_distinct(ctx, x, c);
}

void inpainting_operator::synthesise(const context& ctx, const_chain_view c, chain_view x) const {
  expect_batch(c, shape_, "coefficient batch");
  detail::copy_if_distinct(ctx, c, x);
}

void inpainting_operator::measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const {
  expect_batch(y, shape_, "measurement batch");
  detail::copy_if_distinct(ctx, y, c);
}

}  // namespace twofold
