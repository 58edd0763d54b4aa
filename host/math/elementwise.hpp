#pragma once
/// \file
/// Small element-wise functors shared by the operators, priors and samplers.
/// Index i runs over a batch of images; functors with `pixels` are indexed by
/// element (element.hpp), whose position e.pixel reads the per-image arrays (masks,
/// means, variances) that every chain shares. One read and one write of the chain
/// arrays they touch.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/core/run_data.hpp>

#include "host/math/element.hpp"

#include <cstddef>

namespace twofold::math {

/// x[i] *= w[pixel]  (k-space masks, spectral weights).
struct multiply_by_map {
  cfloat* x;
  const float* w;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const { x[e.i] *= w[e.pixel]; }
};

/// x[i] *= (1 − w[pixel])  (complement of a 0/1 mask: the null-space part).
struct multiply_by_complement {
  cfloat* x;
  const float* w;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const { x[e.i] *= 1.0f - w[e.pixel]; }
};

/// out[i] = a[i] + beta · b[i]   (out may alias a or b).
struct axpby {
  cfloat* out;
  const cfloat* a;
  const cfloat* b;
  float beta;
  TWOFOLD_HD void operator()(std::size_t i) const { out[i] = a[i] + beta * b[i]; }
};

/// x[i] = b[i] − x[i]: a residual against each chain's measurements (y − A x).
struct subtract_from {
  cfloat* x;
  run_data b;
  TWOFOLD_HD void operator()(std::size_t i) const { x[i] = b[i] - x[i]; }
};

/// x[i] *= factor.
struct scale_by {
  cfloat* x;
  float factor;
  TWOFOLD_HD void operator()(std::size_t i) const { x[i] *= factor; }
};

/// x[i] += beta · data[i], data of each chain's run: moves chains onto (beta = 1) or
/// off (beta = −1) the affine set P_R x = x_R of their run (cascade stage 2), or
/// shifts each run by its own mean (the exact sampler over measurement sets).
struct add_run_data {
  cfloat* x;
  run_data data;  ///< `pixels` entries per run
  float beta;
  std::size_t pixels;
  TWOFOLD_HD void at(element e) const { x[e.i] += beta * data.at(e.chain, e.pixel); }
};

/// x[i] = mean[i] + scale · ζ: white complex noise around each chain's image (mean,
/// `pixels` entries per run, may be empty: noise around 0).
struct scaled_normal {
  cfloat* x;
  run_data mean;
  std::size_t pixels;
  float scale;
  rng_stream rng;
  TWOFOLD_HD void at(element e, cfloat zeta) const {
    const cfloat z = scale * zeta;
    x[e.i] = mean ? mean.at(e.chain, e.pixel) + z : z;
  }
};

}  // namespace twofold::math
