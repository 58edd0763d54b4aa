#include <twofold/core/error.hpp>
#include "host/math/operator_maps.hpp"
#include <twofold/operators/superres.hpp>

#include "host/backend/for_each.hpp"

#include <string>

namespace twofold {

superres_operator::superres_operator(image_shape shape, std::size_t factor)
    : spectral_operator("superres", spectral_basis::other, shape), factor_(factor) {
  TWOFOLD_EXPECTS(shape.pixels() > 0 && shape.coils == 1, "super-resolution image shape must be a non-empty H x W");
  TWOFOLD_EXPECTS(factor >= 1, "super-resolution factor must be >= 1");
  TWOFOLD_EXPECTS(shape.height % factor == 0 && shape.width % factor == 0,
                  "super-resolution factor " + std::to_string(factor) + " does not divide the image shape " +
                      to_string(shape));
  codomain_ = {shape.height / factor, shape.width / factor};
  singular_values_.assign(codomain_.pixels(), 1.0f / float(factor));
}

void superres_operator::sum_blocks(const context& ctx, const_chain_view x, chain_view out, float scale) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(out, codomain_, "low-resolution batch");
  detail::for_each(ctx, out.size(), math::block_sum{out.data, x.data, shape_.height, shape_.width, factor_, scale});
}

void superres_operator::spread_blocks(const context& ctx, const_chain_view c, chain_view x, float scale) const {
  expect_batch(c, codomain_, "low-resolution batch");
  expect_batch(x, shape_, "image batch");
  detail::for_each(ctx, x.size(), math::block_spread{x.data, c.data, shape_.height, shape_.width, factor_, scale});
}

void superres_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  sum_blocks(ctx, x, y, 1.0f / float(factor_ * factor_));
}

void superres_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  spread_blocks(ctx, y, x, 1.0f / float(factor_ * factor_));
}

void superres_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(out, shape_, "image batch");
  const float f2 = 1.0f / float(factor_ * factor_);  // adjoint(apply(x)), in one pass
  detail::for_each(ctx, x.chains * codomain_.pixels(),
                   math::block_resum{out.data, x.data, shape_.height, shape_.width, factor_, f2, f2});
}

void superres_operator::range_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  // Every pixel of a block becomes the block mean.
  detail::for_each(ctx, x.chains * codomain_.pixels(),
                   math::block_resum{x.data, x.data, shape_.height, shape_.width, factor_,
                                     1.0f / float(factor_ * factor_), 1.0f});
}

void superres_operator::analyse(const context& ctx, const_chain_view x, chain_view c) const {
  sum_blocks(ctx, x, c, 1.0f / float(factor_));
}

void superres_operator::synthesise(const context& ctx, const_chain_view c, chain_view x) const {
  spread_blocks(ctx, c, x, 1.0f / float(factor_));
}

void superres_operator::measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const {
  expect_batch(y, codomain_, "low-resolution batch");
  detail::copy_if_distinct(ctx, y, c);  // U = I
}

}  // namespace twofold
