#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/operators/linear_operator.hpp>

#include "host/backend/for_each.hpp"

namespace twofold {

void linear_operator::expect_batch(const_chain_view v, image_shape expected, const char* what) {
  TWOFOLD_EXPECTS(v.shape == expected, std::string(what) + " has shape " + to_string(v.shape) + ", the " +
                                           "operator expects " + to_string(expected));
}

void linear_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  chain_buffer y(ctx, x.chains, codomain());
  apply(ctx, x, y.view());
  adjoint(ctx, y.view(), out);
}

void linear_operator::null_project(const context& ctx, chain_view x) const {
  chain_buffer p(ctx, x.chains, x.shape);
  detail::copy_if_distinct(ctx, x, p.view());
  range_project(ctx, p.view());
  detail::for_each(ctx, x.size(), math::axpby{x.data, x.data, p.view().data, -1.0f});
}

}  // namespace twofold
