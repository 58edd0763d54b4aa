#pragma once
/// \file
/// Per-particle math of the SMC sampler (host/samplers/smc.cpp): log-weights,
/// systematic resampling and the gather of resampled particles. A particle system
/// is `particles` consecutive chains of a wave (one run); index c below is a local
/// chain index, c / particles its system. Log-weights and prefix sums are double.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>
#include <twofold/core/philox.hpp>

#include "host/math/element.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace twofold::math {

/// log_weight[c] += quadratic_scale · quadratic[c] + cross_scale · Re cross[c]
/// (either pointer may be null). One pass over the chains.
struct add_log_weight {
  double* log_weight;
  const double* quadratic;
  const cdouble* cross;
  double quadratic_scale;
  double cross_scale;
  TWOFOLD_HD void operator()(std::size_t c) const {
    double v = log_weight[c];
    if (quadratic) v += quadratic_scale * quadratic[c];
    if (cross) v += cross_scale * cross[c].re;
    log_weight[c] = v;
  }
};

/// q[c] = (Re rr[c] − r2 · Re bh[c]) · inv_sigma2 (bh may be null): the quadratic form
/// of the guidance likelihood from its per-chain dot products (host/samplers/likelihood_guidance.hpp).
struct combine_quadratic {
  double* q;
  const cdouble* rr;
  const cdouble* bh;
  double r2;
  double inv_sigma2;
  TWOFOLD_HD void operator()(std::size_t c) const { q[c] = (rr[c].re - (bh ? r2 * bh[c].re : 0.0)) * inv_sigma2; }
};

/// weight[c] = exp(log_weight[c] − shift[c / particles]); shift is the system's
/// largest log-weight, so every weight is in [0, 1] and the largest is 1.
struct particle_weight {
  double* weight;
  const double* log_weight;
  const double* shift;
  std::size_t particles;
  TWOFOLD_HD void operator()(std::size_t c) const { weight[c] = std::exp(log_weight[c] - shift[c / particles]); }
};

/// Systematic resampling, one output per chain. For system r (flag set) with inclusive
/// prefix sums cum of its weights (total W = last entry) and one Philox uniform U′
/// (counter: block 0, chain = first_chain + r·K, step, purpose resampling, substream):
/// t = K U′, shift = ⌊t⌋, U = t − shift (independent, uniform on {0..K−1} and [0, 1)),
/// output j takes stratum k = (j + shift) mod K and ancestor
///   a = min{a : cum[a] > (k + U) W / K}.
/// The strata give the usual systematic counts (K w_a/W ± 1 copies of particle a);
/// the random rotation makes each output alone an exact draw ∝ w (so one output per
/// system is a valid single draw). Systems whose flag is 0 keep their particles.
struct systematic_ancestor {
  std::uint32_t* ancestor;
  const double* cum;
  const std::uint8_t* flag;
  std::size_t particles;
  std::uint64_t seed;
  std::uint64_t first_chain;
  std::uint64_t step;
  std::uint32_t substream;
  TWOFOLD_HD void operator()(std::size_t c) const {
    const std::size_t K = particles, r = c / K, j = c % K, base = r * K;
    if (!flag[r]) {
      ancestor[c] = static_cast<std::uint32_t>(c);
      return;
    }
    const philox_counter bits =
        philox4x32_10(make_counter(0, first_chain + base, step, rng_purpose::resampling, substream), make_key(seed));
    const double t = uniform_open01(bits.c0) * static_cast<double>(K);
    const double shift = std::floor(t);
    const std::size_t k = (j + static_cast<std::size_t>(shift)) % K;
    const double target = (static_cast<double>(k) + (t - shift)) / static_cast<double>(K) * cum[base + K - 1];
    std::size_t lo = 0, hi = K - 1;  // first a with cum[a] > target; K − 1 if rounding leaves none
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (cum[base + mid] > target) hi = mid;
      else lo = mid + 1;
    }
    ancestor[c] = static_cast<std::uint32_t>(base + lo);
  }
};

/// dst[i] = src[ancestor[chain(i)] · pixels + pixel(i)]: copies resampled particles
/// into a second buffer (one read and one write per element).
struct gather_chains {
  cfloat* dst;
  const cfloat* src;
  const std::uint32_t* ancestor;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const { dst[e.i] = src[std::size_t(ancestor[e.chain]) * pixels + e.pixel]; }
};

/// Per chain after resampling: dst_q[c] = src_q[ancestor[c]], and the log-weight of a
/// resampled system restarts at 0.
struct gather_particle_scalars {
  double* dst_q;
  const double* src_q;
  double* log_weight;
  const std::uint32_t* ancestor;
  const std::uint8_t* flag;
  std::size_t particles;
  TWOFOLD_HD void operator()(std::size_t c) const {
    dst_q[c] = src_q[ancestor[c]];
    if (flag[c / particles]) log_weight[c] = 0.0;
  }
};

}  // namespace twofold::math
