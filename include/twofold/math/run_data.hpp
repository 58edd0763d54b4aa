#pragma once
/// \file
/// run_data: per-run data read by element-wise kernels over a batch of chains.

#include <twofold/math/complex.hpp>
#include <twofold/math/hd.hpp>

#include <cstddef>

namespace twofold::math {

/// Data with one copy per run of chains (the cascade's anchors x_R, the measurement
/// sets of a batch of problems) or one copy shared by all: entry i of a chain batch
/// (chain i / size, entry i % size) reads the copy of run (first_chain + chain) /
/// chains_per_run, first_chain being the batch's first global chain index.
/// chains_per_run = 0: one shared copy. A default-constructed run_data holds no data.
struct run_data {
  const cfloat* data = nullptr;
  std::size_t size = 0;
  std::size_t first_chain = 0;
  std::size_t chains_per_run = 0;
  TWOFOLD_HD cfloat operator[](std::size_t i) const {
    const std::size_t run = chains_per_run ? (first_chain + i / size) / chains_per_run : 0;
    return data[run * size + i % size];
  }
  TWOFOLD_HD explicit operator bool() const { return data != nullptr; }
};

}  // namespace twofold::math
