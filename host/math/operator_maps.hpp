#pragma once
/// \file
/// Element-wise building blocks of the forward operators (include/twofold/operators/),
/// shared by the CPU and CUDA backends. Batches are C-order [chain, (coil,) H, W].

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include "host/math/element.hpp"

#include <cstddef>

namespace twofold::math {

/// x[i] *= t[pixel] (conj(t) when `conjugate`): a complex transfer function
/// (FFT convolution) or its adjoint.
struct multiply_by_complex_map {
  cfloat* x;
  const cfloat* t;
  std::size_t pixels;
  bool conjugate;
  TWOFOLD_HD void at(element e) const {
    const cfloat w = t[e.pixel];
    x[e.i] = x[e.i] * (conjugate ? conj(w) : w);
  }
};

/// Coil images z[chain, c, p] = S[c, p] · x[chain, p] (multi-coil MRI, A = M F S).
/// Index i runs over chains·coils·plane.
struct coil_expand {
  cfloat* z;
  const cfloat* x;
  const cfloat* maps;
  std::size_t plane;
  std::size_t coils;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t per_chain = coils * plane;
    const std::size_t chain = i / per_chain, within = i % per_chain;
    z[i] = maps[within] * x[chain * plane + within % plane];
  }
};

/// Coil combination x[chain, p] = Σ_c conj(S[c, p]) · z[chain, c, p] (the adjoint of
/// coil_expand). Index i runs over chains·plane.
struct coil_combine {
  cfloat* x;
  const cfloat* z;
  const cfloat* maps;
  std::size_t plane;
  std::size_t coils;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t chain = i / plane, p = i % plane;
    const cfloat* zc = z + chain * coils * plane + p;
    cfloat sum{};
    for (std::size_t c = 0; c < coils; ++c) sum += conj(maps[c * plane + p]) * zc[c * plane];
    x[i] = sum;
  }
};

/// Block sums of an H×W image over f×f blocks, times `scale`: out[chain, h', w'] =
/// scale · Σ_{block} x[chain, f h' + a, f w' + b]. Index i runs over chains·(H/f)·(W/f).
struct block_sum {
  cfloat* out;
  const cfloat* x;
  std::size_t height, width;  // of the fine image
  std::size_t factor;
  float scale;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t w_lo = width / factor, plane_lo = (height / factor) * w_lo;
    const std::size_t chain = i / plane_lo, q = i % plane_lo;
    const std::size_t h0 = (q / w_lo) * factor, w0 = (q % w_lo) * factor;
    const cfloat* xc = x + chain * height * width;
    cfloat sum{};
    for (std::size_t a = 0; a < factor; ++a)
      for (std::size_t b = 0; b < factor; ++b) sum += xc[(h0 + a) * width + w0 + b];
    out[i] = scale * sum;
  }
};

/// block_spread(block_sum(x)) in one pass: every pixel of a block becomes
/// outer · (inner · the block's sum), the same two roundings as the two-pass form.
/// Index i runs over chains·(H/f)·(W/f); each index reads its block before writing
/// it, so `out` may be `x`.
struct block_resum {
  cfloat* out;
  const cfloat* x;
  std::size_t height, width;  // of the fine image
  std::size_t factor;
  float inner, outer;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t w_lo = width / factor, plane_lo = (height / factor) * w_lo;
    const std::size_t chain = i / plane_lo, q = i % plane_lo;
    const std::size_t h0 = (q / w_lo) * factor, w0 = (q % w_lo) * factor, offset = chain * height * width;
    cfloat sum{};
    for (std::size_t a = 0; a < factor; ++a)
      for (std::size_t b = 0; b < factor; ++b) sum += x[offset + (h0 + a) * width + w0 + b];
    const cfloat value = outer * (inner * sum);
    for (std::size_t a = 0; a < factor; ++a)
      for (std::size_t b = 0; b < factor; ++b) out[offset + (h0 + a) * width + w0 + b] = value;
  }
};

/// The adjoint of block_sum: x[chain, h, w] = scale · c[chain, h/f, w/f]. Index i
/// runs over chains·H·W.
struct block_spread {
  cfloat* x;
  const cfloat* c;
  std::size_t height, width;  // of the fine image
  std::size_t factor;
  float scale;
  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t plane = height * width, chain = i / plane, p = i % plane;
    const std::size_t w_lo = width / factor, plane_lo = (height / factor) * w_lo;
    x[i] = scale * c[chain * plane_lo + (p / width / factor) * w_lo + (p % width) / factor];
  }
};

}  // namespace twofold::math
