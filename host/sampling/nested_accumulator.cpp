#include "host/sampling/nested_accumulator.hpp"

#include <twofold/core/error.hpp>

#include "host/backend/for_each.hpp"

#include <algorithm>

namespace twofold::detail {

std::vector<math::chain_tile> tiles_of(std::size_t first, std::size_t count, std::size_t per_run) {
  std::vector<math::chain_tile> tiles;
  std::size_t c = first;
  while (c < first + count) {
    const std::size_t k = c % per_run;
    const std::size_t len = std::min({accumulation_tile - k % accumulation_tile, per_run - k, first + count - c});
    tiles.push_back({static_cast<std::uint32_t>(c - first), static_cast<std::uint32_t>(len),
                     static_cast<std::uint32_t>(k + len == per_run)});
    c += len;
  }
  return tiles;
}

nested_accumulator::nested_accumulator(const context& ctx, image_shape shape, std::size_t chains_per_run)
    : shape_(shape), per_run_(chains_per_run), open_run_(ctx, shape.pixels()), run_means_(ctx, shape.pixels()),
      within_sum_(ctx, shape.pixels()) {
  zero_bytes(ctx, open_run_.data(), open_run_.size() * sizeof(math::welford));
  zero_bytes(ctx, run_means_.data(), run_means_.size() * sizeof(math::welford));
  zero_bytes(ctx, within_sum_.data(), within_sum_.size() * sizeof(double));
}

void nested_accumulator::add(const context& ctx, const cfloat* a, const cfloat* b, float beta, std::size_t first_chain,
                             std::size_t chains) {
  TWOFOLD_ENSURES(first_chain == next_chain_, "accumulator: waves must arrive in chain order");
  TWOFOLD_ENSURES(first_chain % per_run_ % accumulation_tile == 0, "accumulator: wave does not start on a tile");
  const std::size_t N = shape_.pixels();
  const auto tiles = tiles_of(first_chain, chains, per_run_);
  const buffer<math::chain_tile> tiles_dev = to_backend(ctx, std::span<const math::chain_tile>(tiles));
  buffer<math::welford> partial(ctx, tiles.size() * N);
  for_each(ctx, tiles.size() * N, math::welford_tile_reduce{partial.data(), a, b, beta, tiles_dev.data(), N});
  for_each(ctx, N,
           math::nested_welford_fold{partial.data(), tiles_dev.data(), tiles.size(), open_run_.data(),
                                     run_means_.data(), within_sum_.data(), N});
  ctx.synchronize();  // tiles_dev and partial are freed on return
  next_chain_ += chains;
}

nested_accumulator::moments nested_accumulator::finish(const context& ctx) const {
  TWOFOLD_ENSURES(next_chain_ % per_run_ == 0, "accumulator: a run is incomplete");
  const auto means = to_host(ctx, run_means_);
  const auto within = to_host(ctx, within_sum_);
  moments m;
  m.runs = next_chain_ / per_run_;
  const std::size_t N = shape_.pixels();
  m.mean.resize(N);
  m.within.resize(N);
  m.between.resize(N);
  for (std::size_t p = 0; p < N; ++p) {
    m.mean[p] = means[p].mean;
    m.within[p] = within[p] / double(m.runs);
    m.between[p] = m.runs > 1 ? means[p].m2 / double(m.runs - 1) : 0.0;
  }
  return m;
}

}  // namespace twofold::detail
