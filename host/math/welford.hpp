#pragma once
/// \file
/// Welford running moments of complex values in double, and Chan et al.'s merge
/// of two partial states. The variance of a complex value is E|x − E x|² (docs/design.md §1.3).

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include <cstddef>
#include <cstdint>

namespace twofold::math {

struct welford {
  double n = 0;
  cdouble mean{};
  double m2 = 0;  ///< Σ |x − mean|²
};

TWOFOLD_HD void welford_push(welford& w, cdouble x) {
  w.n += 1;
  const cdouble d = x - w.mean;
  w.mean += (1.0 / w.n) * d;
  const cdouble d2 = x - w.mean;
  w.m2 += d.re * d2.re + d.im * d2.im;
}

/// Chan, Golub & LeVeque (1979): the state of the concatenated sequences.
TWOFOLD_HD welford welford_merge(const welford& a, const welford& b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  const double n = a.n + b.n;
  const cdouble d = b.mean - a.mean;
  return {n, a.mean + (b.n / n) * d, a.m2 + b.m2 + norm2(d) * (a.n * b.n / n)};
}

/// A run of consecutive chains of one run, reduced sequentially in chain order.
/// Tiles have a fixed size within each run, whatever the wave size, so every
/// merge happens at the same place and results are bit-identical across waves.
struct chain_tile {
  std::uint32_t first;  ///< first chain, local to the wave
  std::uint32_t count;
  std::uint32_t closes_run;  ///< 1 when this tile holds the last chain of its run
};

/// partial[t·N + p] = Welford state of value(c, p) = a[c,p] + beta·b[c,p] over the
/// chains c of tile t (b may be null). One read of the chain state.
struct welford_tile_reduce {
  welford* partial;
  const cfloat* a;
  const cfloat* b;
  float beta;
  const chain_tile* tiles;
  std::size_t pixels;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t t = i / pixels, p = i % pixels;
    welford w;
    for (std::uint32_t k = 0; k < tiles[t].count; ++k) {
      const std::size_t at = (tiles[t].first + k) * pixels + p;
      const cfloat v = b ? a[at] + beta * b[at] : a[at];
      welford_push(w, cdouble(v));
    }
    partial[i] = w;
  }
};

/// Per pixel: folds the wave's tiles, in order, into the open run; when a tile
/// closes its run, the run's mean m_r and variance v_r (unbiased, over its chains)
/// enter the across-run state: a Welford over m_r and the sum of v_r. With a
/// `run_log`, the j-th run closed here also leaves its state (its chains' Welford)
/// at run_log[j·pixels + p]: what a process that sampled a share of the runs hands
/// on, so that folding those states later (tiles of one closed run each) gives the
/// same bits as folding them here.
struct nested_welford_fold {
  const welford* partial;
  const chain_tile* tiles;
  std::size_t tile_count;
  welford* open_run;
  welford* run_means;
  double* within_sum;
  std::size_t pixels;
  welford* run_log = nullptr;
  TWOFOLD_HD void operator()(std::size_t p) const {
    welford run = open_run[p];
    std::size_t closed = 0;
    for (std::size_t t = 0; t < tile_count; ++t) {
      run = welford_merge(run, partial[t * pixels + p]);
      if (tiles[t].closes_run) {
        if (run_log) run_log[closed++ * pixels + p] = run;
        within_sum[p] += run.n > 1 ? run.m2 / (run.n - 1) : 0.0;
        welford_push(run_means[p], run.mean);
        run = welford{};
      }
    }
    open_run[p] = run;
  }
};

}  // namespace twofold::math
