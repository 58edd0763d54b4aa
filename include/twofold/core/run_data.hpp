#pragma once
/// \file
/// run_data: per-run data read by element-wise kernels over a batch of chains.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include <cstddef>

namespace twofold::math {

/// Data with one copy per run of chains (the cascade's anchors x_R, the measurement
/// sets of a batch of problems, per-set mixture weights) or one copy shared by all:
/// entry e of chain c reads the copy of run (first_chain + c) / chains_per_run,
/// first_chain being the batch's first global chain index; operator[] reads element
/// i of a chain batch (chain i / size, entry i % size). chains_per_run = 0: one
/// shared copy. A default-constructed one holds no data.
template <class T>
struct basic_run_data {
  const T* data = nullptr;
  std::size_t size = 0;
  std::size_t first_chain = 0;
  std::size_t chains_per_run = 0;
  /// The shared copy divides by the largest size_t (quotient 0) rather than branching:
  /// the division is then unconditional and leaves a CPU element loop over one chain.
  TWOFOLD_HD std::size_t run(std::size_t chain) const {
    return (first_chain + chain) / (chains_per_run ? chains_per_run : ~std::size_t{0});
  }
  TWOFOLD_HD T at(std::size_t chain, std::size_t entry) const { return data[run(chain) * size + entry]; }
  TWOFOLD_HD T operator[](std::size_t i) const { return at(i / size, i % size); }
  TWOFOLD_HD explicit operator bool() const { return data != nullptr; }
};

using run_data = basic_run_data<cfloat>;

}  // namespace twofold::math
