#pragma once
/// \file
/// Per-element updates of DPS (Chung et al. 2023) in data units u = x/α
/// (host/samplers/dps.cpp): the residual against the one measurement all chains
/// share, and the step along the gradient of the residual norm.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include "host/math/element.hpp"

#include <cmath>
#include <cstddef>

namespace twofold::math {

/// DPS guidance: u[i] −= scale · g[i] / ‖r_c‖ with ‖r_c‖² = squared_norms[c].re
/// (per-chain sums in double, host/backend/reductions.hpp); chains with r = 0 are left alone.
/// With g = Jᵀ Aᴴ r this is u ← u − scale · ∇_u ‖A D(u) − y‖ (complex read as pairs of reals).
struct normalised_descent {
  cfloat* u;
  const cfloat* g;
  const cdouble* squared_norms;
  std::size_t pixels;
  double scale;
  TWOFOLD_HD void at(element e) const {
    const double n2 = squared_norms[e.chain].re;
    if (n2 > 0) u[e.i] -= static_cast<float>(scale / std::sqrt(n2)) * g[e.i];
  }
};

}  // namespace twofold::math
