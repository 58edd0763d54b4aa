#pragma once
/// \file
/// Where an element of a batch of chains sits: its flat index, its chain and its
/// position within the chain. Functors that read per-image arrays (masks, means,
/// variances, each run's data) declare
///   TWOFOLD_HD void at(element e) const;              // or at(element e, cfloat z), normal_pairs.hpp
/// and a member `pixels` (elements per chain), and detail::for_each hands them the
/// chain and position it already knows: the CPU walks each chain's elements in order,
/// with no division per element; the GPU divides once per element (`by_element`).
/// Functors indexed by the flat index alone keep operator()(std::size_t).

#include <twofold/core/hd.hpp>

#include <concepts>
#include <cstddef>

namespace twofold::math {

struct element {
  std::size_t i;      ///< flat index in the batch, chain · pixels + pixel
  std::size_t chain;  ///< the chain, local to the batch
  std::size_t pixel;  ///< the position within the chain
};

template <class F>
concept indexed_by_element = requires(const F& f, element e) {
  f.at(e);
  { f.pixels } -> std::convertible_to<std::size_t>;
};

/// Functors over whole chains (one index per chain) whose work per chain is a short
/// loop nest, e.g. the few-pixel mixture denoiser, declare
///   template <std::size_t W> TWOFOLD_HD void chains(std::size_t first) const;
/// doing chains first … first + W − 1 with loops over the W lanes innermost, each lane
/// computed as its chain alone would be, and a constant `lanes`. The CPU calls
/// chains<lanes> on full tiles (those loops vectorise) and chains<1> on the rest; the
/// GPU runs one thread per chain through operator()(c) = chains<1>(c). The bits do not
/// depend on which chains share a tile.
template <class F>
concept tiled_by_chain = requires(const F& f, std::size_t c) {
  f.template chains<1>(c);
  { F::lanes } -> std::convertible_to<std::size_t>;
};

/// One GPU thread per element: the chain and position from one division, done in the
/// index type the kernel runs with (kernels/for_each.cu: 32 bits when the launch's
/// indices fit, a cheaper division than 64 bits).
template <class F>
struct by_element {
  F f;
  template <class Index>
  TWOFOLD_HD void operator()(Index i) const {
    const Index pixels = static_cast<Index>(f.pixels), chain = i / pixels;
    f.at(element{i, chain, i - chain * pixels});
  }
};

}  // namespace twofold::math
