#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/operators/linear_operator.hpp>

#include "host/backend/for_each.hpp"

#include <twofold/core/buffer.hpp>

#include <array>
#include <mutex>

namespace twofold {

void linear_operator::expect_batch(const_chain_view v, image_shape expected, const char* what) {
  TWOFOLD_EXPECTS(v.shape == expected, std::string(what) + " has shape " + to_string(v.shape) + ", the " +
                                           "operator expects " + to_string(expected));
}

namespace detail {

/// One grow-only batch with its lock.
struct scratch_batch {
  std::mutex lock;
  buffer<cfloat> storage;
  chain_view view(const context& ctx, std::size_t chains, image_shape shape) {
    grow_to(ctx, storage, chains * shape.pixels());
    return {storage.data(), chains, shape};
  }
};

/// Slots 0 … 3: derived operators'; 4: the default normal()'s A x; 5: the default
/// null_project()'s P_R x.
struct operator_scratch {
  std::array<scratch_batch, 6> slots;
};

std::shared_ptr<operator_scratch> make_operator_scratch() { return std::make_shared<operator_scratch>(); }

}  // namespace detail

linear_operator::scratch_lease linear_operator::scratch(const context& ctx, std::size_t slot, std::size_t chains,
                                                        image_shape shape) const {
  detail::scratch_batch& s = scratch_->slots.at(slot);
  std::unique_lock hold(s.lock);
  const chain_view view = s.view(ctx, chains, shape);
  return {std::move(hold), view};
}

void linear_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  const auto y = scratch(ctx, 4, x.chains, codomain());
  apply(ctx, x, y.view);
  adjoint(ctx, y.view, out);
}

void linear_operator::null_project(const context& ctx, chain_view x) const {
  const auto p = scratch(ctx, 5, x.chains, x.shape);
  detail::copy_if_distinct(ctx, x, p.view);
  range_project(ctx, p.view);
  detail::for_each(ctx, x.size(), math::axpby{x.data, x.data, p.view.data, -1.0f});
}

}  // namespace twofold
