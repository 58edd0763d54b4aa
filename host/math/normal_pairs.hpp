#pragma once
/// \file
/// Element-wise functors that draw one CN(0, 1) per element declare
///   TWOFOLD_HD void at(element e, cfloat z) const;   // element e with its draw z
/// and members `pixels` (elements per chain) and `rng` (the stream). On the GPU,
/// detail::for_each runs them through `normal_pairs`: one thread per pair of elements
/// (2j, 2j + 1) of a chain, so every Philox block and its two Box–Muller transforms
/// are computed once. The CPU draws a tile of a chain at a time instead
/// (host/backend/cpu/normal_tiles.hpp). Either way z is rng.normal(chain, pixel) bit
/// for bit.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include "host/math/element.hpp"

#include <cstddef>

namespace twofold::math {

template <class F>
concept draws_normals = requires(const F& f, element e, std::size_t i, cfloat z) {
  f.at(e, z);
  f.rng.normal_pair(i, i, z, z);
  f.rng.normal_first(i, i);
  { f.pixels } -> std::convertible_to<std::size_t>;
};

/// Index q covers elements 2j and 2j + 1 of chain c, q = c·⌈pixels/2⌉ + j; the second
/// is skipped past the end of an odd-sized chain.
template <class F>
struct normal_pairs {
  F f;
  /// Indices for `n` elements (a whole number of chains).
  static constexpr std::size_t count(std::size_t n, std::size_t pixels) { return n / pixels * ((pixels + 1) / 2); }
  /// `Index`: std::size_t, or 32 bits where kernels/for_each.cu finds the elements fit.
  template <class Index>
  TWOFOLD_HD void operator()(Index q) const {
    const Index pixels = static_cast<Index>(f.pixels);
    const Index half = (pixels + 1) / 2, c = q / half, e = 2 * (q - c * half);
    const Index i = c * pixels + e;
    if (e + 1 < pixels) {
      cfloat z0, z1;
      f.rng.normal_pair(c, e, z0, z1);
      f.at(element{i, c, e}, z0);
      f.at(element{i + 1, c, e + 1}, z1);
    } else {
      f.at(element{i, c, e}, f.rng.normal_first(c, e));
    }
  }
};

}  // namespace twofold::math
