#include <twofold/core/error.hpp>
#include "host/math/elementwise.hpp"
#include <twofold/operators/linear_operator.hpp>

#include "host/backend/for_each.hpp"

#include <twofold/core/buffer.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <vector>

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

double linear_operator::norm_bound(const context& ctx) const {
  if (const spectral_form* sf = spectral()) {
    double top = 0;
    for (const float a : sf->singular_values()) top = std::max(top, double(std::abs(a)));
    return top;
  }
  const image_shape shape = domain();
  std::vector<cfloat> start(shape.pixels());
  for (std::size_t i = 0; i < start.size(); ++i) start[i] = {1.0f + 0.01f * float(i % 7), 0.003f * float(i % 5)};
  chain_buffer v = to_backend(ctx, start, 1, shape);
  // v ← AᴴA v / ‖v‖: ‖AᴴA v‖ for a unit v is at most ‖A‖² and tends to it.
  double lambda = 0;
  for (int it = 0; it < 50; ++it) {
    double vv = 0;
    for (const cfloat z : to_host(ctx, v.view())) vv += double(z.re) * z.re + double(z.im) * z.im;
    if (vv == 0) break;  // A v = 0: nothing left to reach
    if (it > 0) lambda = std::sqrt(vv);
    detail::for_each(ctx, v.view().size(), math::scale_by{v.view().data, float(1.0 / std::sqrt(vv))});
    normal(ctx, v.view(), v.view());
  }
  return 1.05 * std::sqrt(lambda);
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
