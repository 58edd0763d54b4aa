#include <twofold/error.hpp>
#include <twofold/fft.hpp>
#include <twofold/math/elementwise.hpp>
#include <twofold/math/operator_maps.hpp>
#include <twofold/operators/multicoil.hpp>

#include "host/conjugate_gradient.hpp"
#include "host/for_each.hpp"

#include <string>

namespace twofold {

multicoil_operator::multicoil_operator(const context& ctx, image_shape shape, std::size_t coils,
                                       std::span<const cfloat> maps, std::span<const float> mask,
                                       cg_params projection)
    : shape_(shape), coils_(coils), maps_host_(maps.begin(), maps.end()), mask_(ctx, shape, mask),
      projection_(projection) {
  TWOFOLD_EXPECTS(coils >= 1, "multi-coil MRI needs at least one coil");
  TWOFOLD_EXPECTS(maps.size() == coils * shape.pixels(),
                  "sensitivity maps have " + std::to_string(maps.size()) + " values, expected coils x H x W = " +
                      std::to_string(coils) + "x" + to_string(shape) + " = " + std::to_string(coils * shape.pixels()));
  bool seen = false;
  for (std::size_t i = 0; i < maps.size(); ++i) {
    TWOFOLD_EXPECTS(is_finite(maps[i]), "sensitivity maps have a non-finite value at flat index " + std::to_string(i));
    seen = seen || norm2(maps[i]) > 0;
  }
  TWOFOLD_EXPECTS(seen, "sensitivity maps are zero everywhere");
  TWOFOLD_EXPECTS(projection.tolerance > 0 && projection.tolerance < 1 && projection.max_iterations >= 1,
                  "multi-coil projection tolerance must be in (0, 1) with at least one iteration");
  maps_ = to_backend(ctx, std::span<const cfloat>(maps_host_));
}

void multicoil_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(y, codomain(), "k-space batch");
  detail::for_each(ctx, y.size(), math::coil_expand{y.data, x.data, maps_.data(), shape_.pixels(), coils_});
  mask_.apply(ctx, planes(y, shape_), planes(y, shape_));
}

void multicoil_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  expect_batch(y, codomain(), "k-space batch");
  expect_batch(x, shape_, "image batch");
  chain_buffer z(ctx, y.chains, codomain());
  mask_.adjoint(ctx, const_chain_view{y.data, y.chains * coils_, shape_}, planes(z.view(), shape_));
  detail::for_each(ctx, x.size(), math::coil_combine{x.data, z.view().data, maps_.data(), shape_.pixels(), coils_});
}

void multicoil_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  expect_batch(x, shape_, "image batch");
  chain_buffer z(ctx, x.chains, codomain());
  detail::for_each(ctx, z.view().size(), math::coil_expand{z.view().data, x.data, maps_.data(), shape_.pixels(), coils_});
  mask_.normal(ctx, planes(z.view(), shape_), planes(z.view(), shape_));  // row DFTs for line masks
  detail::for_each(ctx, out.size(), math::coil_combine{out.data, z.view().data, maps_.data(), shape_.pixels(), coils_});
}

void multicoil_operator::range_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  chain_buffer b(ctx, x.chains, shape_);
  normal(ctx, x, b.view());
  detail::zero_bytes(ctx, x.data, x.size() * sizeof(cfloat));
  const detail::batch_map op = [&](const_chain_view in, chain_view out) { normal(ctx, in, out); };
  const detail::batch_map identity = [&](const_chain_view in, chain_view out) { detail::copy_if_distinct(ctx, in, out); };
  last_iterations_ = detail::batched_cg(ctx, op, identity, b.view(), x, projection_,
                                         "multi-coil range projection P_R (the maps leave some directions almost "
                                         "unseen; loosen --projection-tolerance or raise --projection-iterations)")
                          .iterations;
}

}  // namespace twofold
