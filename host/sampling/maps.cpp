// The uncertainty maps of a design (host/sampling/maps.hpp) and their public
// conversions: to_host(backend_uncertainty_maps), maps_from_draws.
#include "host/sampling/maps.hpp"

#include <twofold/core/error.hpp>

#include "host/backend/for_each.hpp"
#include "host/math/uncertainty_maps.hpp"

#include <string>
#include <type_traits>

namespace twofold {

namespace detail {

backend_uncertainty_maps backend_maps_of(const context& ctx, image_shape shape, run_design kind, std::size_t K,
                                         const projected_accumulators& acc) {
  const std::size_t N = shape.pixels();
  backend_uncertainty_maps m;
  m.shape = shape;
  m.mean = buffer<cdouble>(ctx, N);
  for (auto* b : {&m.total_variance, &m.between_run_variance, &m.range_variance, &m.null_variance})
    *b = buffer<double>(ctx, N);
  const bool cascade = kind == run_design::cascade;
  if (cascade)
    for (auto* b : {&m.ambiguity, &m.estimation, &m.estimation_clipped}) *b = buffer<double>(ctx, N);
  detail::for_each(ctx, N,
                   math::uncertainty_map_pixel{acc.x.across_runs(), acc.range.across_runs(), acc.null.across_runs(),
                                               double(acc.x.runs()), double(K), m.mean.data(),
                                               m.total_variance.data(), m.between_run_variance.data(),
                                               m.range_variance.data(), m.null_variance.data(),
                                               cascade ? m.ambiguity.data() : nullptr, m.estimation.data(),
                                               m.estimation_clipped.data()});
  return m;
}

sample_result result_of(const context& ctx, image_shape shape, const design_params& design,
                        const projected_accumulators& acc, sample_report report, std::vector<cfloat> draws) {
  auto maps = backend_maps_of(ctx, shape, design.kind, design.chains_per_run, acc);
  sample_result r;
  r.report = std::move(report);
  r.draws = std::move(draws);
  if (design.maps_on_backend) {
    r.maps.shape = shape;
    r.backend_maps = std::move(maps);
  } else {
    r.maps = to_host(ctx, maps);
  }
  return r;
}

}  // namespace detail

uncertainty_maps to_host(const context& ctx, const backend_uncertainty_maps& maps) {
  const auto host = [&ctx](const auto& b) {
    return b.empty() ? std::vector<std::remove_cvref_t<decltype(*b.data())>>{} : to_host(ctx, b);
  };
  uncertainty_maps m;
  m.shape = maps.shape;
  m.mean = host(maps.mean);
  m.total_variance = host(maps.total_variance);
  m.ambiguity = host(maps.ambiguity);
  m.estimation = host(maps.estimation);
  m.estimation_clipped = host(maps.estimation_clipped);
  m.between_run_variance = host(maps.between_run_variance);
  m.range_variance = host(maps.range_variance);
  m.null_variance = host(maps.null_variance);
  return m;
}

uncertainty_maps maps_from_draws(const context& ctx, const linear_operator& op, run_design kind,
                                 std::span<const cfloat> draws, std::size_t runs, std::size_t chains_per_run) {
  const image_shape shape = op.domain();
  const std::size_t N = shape.pixels(), K = chains_per_run;
  TWOFOLD_EXPECTS(runs >= 2 && K >= 2, "maps_from_draws: runs and chains per run must be >= 2");
  TWOFOLD_EXPECTS(draws.size() == runs * K * N, "maps_from_draws: " + std::to_string(draws.size()) +
                                                   " values are not " + std::to_string(runs) + " x " +
                                                   std::to_string(K) + " draws of " + to_string(shape));
  detail::projected_accumulators acc(ctx, shape, K);
  // One run per batch: tiles start at each run's first chain.
  chain_buffer x(ctx, K, shape);
  for (std::size_t r = 0; r < runs; ++r) {
    detail::copy_bytes(ctx, x.storage.data(), draws.data() + r * K * N, K * N * sizeof(cfloat));
    acc.add(ctx, op, x.view(), r * K);
  }
  return to_host(ctx, detail::backend_maps_of(ctx, shape, kind, K, acc));
}

}  // namespace twofold
