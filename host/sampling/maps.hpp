#pragma once
/// \file
/// The uncertainty maps of a design (docs/design.md §1.6): x, P_R x and P_N x of every
/// chain into three nested accumulators, and the maps formed from them on the backend
/// (math::uncertainty_map_pixel), left there or copied to the host.

#include <twofold/operators/linear_operator.hpp>
#include <twofold/sampling/sample.hpp>

#include "host/sampling/nested_accumulator.hpp"

#include <cstddef>
#include <vector>

namespace twofold::detail {

/// x, P_R x and P_N x of every chain into three nested accumulators.
struct projected_accumulators {
  detail::nested_accumulator x, range, null;
  projected_accumulators(const context& ctx, image_shape s, std::size_t per_run, std::size_t first_chain = 0)
      : x(ctx, s, per_run, first_chain), range(ctx, s, per_run, first_chain), null(ctx, s, per_run, first_chain) {}

  void add(const context& ctx, const linear_operator& op, const_chain_view v, std::size_t first) {
    chain_buffer p(ctx, v.chains, v.shape);
    detail::copy_bytes(ctx, p.storage.data(), v.data, v.size() * sizeof(cfloat));
    op.range_project(ctx, p.view());
    x.add(ctx, v.data, nullptr, 0.0f, first, v.chains);
    range.add(ctx, p.view().data, nullptr, 0.0f, first, v.chains);
    null.add(ctx, v.data, p.view().data, -1.0f, first, v.chains);
  }
};

/// The maps from the accumulators, formed on the backend.
backend_uncertainty_maps backend_maps_of(const context& ctx, image_shape shape, run_design kind, std::size_t K,
                                         const projected_accumulators& acc);

/// The result of a design: its maps where design.maps_on_backend asks for them.
sample_result result_of(const context& ctx, image_shape shape, const design_params& design,
                        const projected_accumulators& acc, sample_report report, std::vector<cfloat> draws);

}  // namespace twofold::detail
