#include "host/sampling/nested_accumulator.hpp"

#include <twofold/core/error.hpp>

#include "host/backend/for_each.hpp"

#include <algorithm>
#include <string>

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

nested_accumulator::nested_accumulator(const context& ctx, image_shape shape, std::size_t chains_per_run,
                                       std::size_t first_chain)
    : shape_(shape), per_run_(chains_per_run), next_chain_(first_chain), open_run_(ctx, shape.pixels()), run_means_(ctx, shape.pixels()),
      within_sum_(ctx, shape.pixels()) {
  zero_bytes(ctx, open_run_.data(), open_run_.size() * sizeof(math::welford));
  zero_bytes(ctx, run_means_.data(), run_means_.size() * sizeof(math::welford));
  zero_bytes(ctx, within_sum_.data(), within_sum_.size() * sizeof(double));
  TWOFOLD_ENSURES(first_chain % chains_per_run == 0, "accumulator: a share must start at a run's first chain");
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
  math::welford* log = run_log_ ? run_log_ + (first_chain / per_run_ - log_first_run_) * N : nullptr;
  for_each(ctx, N,
           math::nested_welford_fold{partial.data(), tiles_dev.data(), tiles.size(), open_run_.data(),
                                     run_means_.data(), within_sum_.data(), N, log});
  ctx.synchronize();  // tiles_dev and partial are freed on return
  next_chain_ += chains;
}

void nested_accumulator::log_runs(math::welford* log, std::size_t first_run) {
  run_log_ = log;
  log_first_run_ = first_run;
}

void nested_accumulator::add_closed_runs(const context& ctx, const math::welford* states, std::size_t runs) {
  TWOFOLD_ENSURES(next_chain_ % per_run_ == 0, "accumulator: closed runs may only follow a complete run");
  if (runs == 0) return;
  const std::size_t N = shape_.pixels();
  // One tile per run, closing it: the fold merges it into the empty open run (which
  // returns it unchanged) and closes the run, exactly as when its chains were added.
  const std::vector<math::chain_tile> tiles(runs, math::chain_tile{0, static_cast<std::uint32_t>(per_run_), 1});
  const buffer<math::chain_tile> tiles_dev = to_backend(ctx, std::span<const math::chain_tile>(tiles));
  for_each(ctx, N,
           math::nested_welford_fold{states, tiles_dev.data(), runs, open_run_.data(), run_means_.data(),
                                     within_sum_.data(), N});
  ctx.synchronize();
  next_chain_ += runs * per_run_;
}

std::vector<double> pack(std::span<const math::welford> states) {
  std::vector<double> out(4 * states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    out[4 * i] = states[i].n;
    out[4 * i + 1] = states[i].mean.re;
    out[4 * i + 2] = states[i].mean.im;
    out[4 * i + 3] = states[i].m2;
  }
  return out;
}

std::vector<math::welford> unpack(std::span<const double> numbers) {
  TWOFOLD_EXPECTS(numbers.size() % 4 == 0, "Welford states: " + std::to_string(numbers.size()) +
                                               " numbers are not groups of four");
  std::vector<math::welford> out(numbers.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = {numbers[4 * i], cdouble(numbers[4 * i + 1], numbers[4 * i + 2]), numbers[4 * i + 3]};
  return out;
}

std::vector<double> nested_accumulator::save(const context& ctx) const {
  const std::size_t N = shape_.pixels();
  std::vector<double> state{double(next_chain_)};
  for (const auto* b : {&open_run_, &run_means_}) {
    const auto packed = pack(to_host(ctx, *b));
    state.insert(state.end(), packed.begin(), packed.end());
  }
  const auto within = to_host(ctx, within_sum_);
  state.insert(state.end(), within.begin(), within.end());
  TWOFOLD_ENSURES(state.size() == 1 + 9 * N, "accumulator: saved state has the wrong size");
  return state;
}

void nested_accumulator::restore(const context& ctx, std::span<const double> state) {
  const std::size_t N = shape_.pixels();
  TWOFOLD_EXPECTS(state.size() == 1 + 9 * N, "accumulator state: " + std::to_string(state.size()) +
                                                 " numbers do not describe images of " + std::to_string(N) + " pixels");
  const double next = state[0];
  TWOFOLD_EXPECTS(next >= 0 && next < 9.0e15 && next == double(std::size_t(next)),
                  "accumulator state: the chain position is not a whole number");
  TWOFOLD_EXPECTS(std::size_t(next) % per_run_ % accumulation_tile == 0,
                  "accumulator state: the chain position is not on a tile");
  next_chain_ = std::size_t(next);
  const auto open = unpack(state.subspan(1, 4 * N)), means = unpack(state.subspan(1 + 4 * N, 4 * N));
  detail::copy_bytes(ctx, open_run_.data(), open.data(), N * sizeof(math::welford));
  detail::copy_bytes(ctx, run_means_.data(), means.data(), N * sizeof(math::welford));
  detail::copy_bytes(ctx, within_sum_.data(), state.data() + 1 + 8 * N, N * sizeof(double));
}

math::across_runs nested_accumulator::across_runs() const {
  TWOFOLD_ENSURES(next_chain_ % per_run_ == 0, "accumulator: a run is incomplete");
  return {run_means_.data(), within_sum_.data()};
}

}  // namespace twofold::detail
