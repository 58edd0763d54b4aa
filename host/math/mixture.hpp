#pragma once
/// \file
/// Per-element and per-chain pieces of Gaussian-mixture denoisers
/// (include/twofold/priors/gaussian_mixture.hpp), in the basis where every
/// component covariance is diagonal. Component k's arrays are [N] slices.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/core/run_data.hpp>

#include "host/math/element.hpp"
#include "host/math/exp.hpp"
#include "host/math/gaussian.hpp"

#include <cmath>
#include <cstddef>
#include <type_traits>

namespace twofold::math {

/// out[i] = (z[i] − μ[p]) / √(v[p] + s²): its squared norm per chain is the
/// quadratic form of N(z; μ, diag v + s²I).
struct mixture_scaled_residual {
  cfloat* out;
  const cfloat* z;
  run_data mean;
  const float* variance;
  std::size_t pixels;
  double s2;
  TWOFOLD_HD void at(element e) const {
    const std::size_t p = e.pixel;
    out[e.i] = static_cast<float>(1.0 / std::sqrt(double(variance[p]) + s2)) * (z[e.i] - mean.at(e.chain, p));
  }
};

/// Per chain c: r_k = softmax_k(offset_k − κ q_{k,c}) by log-sum-exp in double,
/// q_{k,c} = quadratic[k·chains + c].re, offset_k = log w_k − κ log det(Σ_k + s²I)
/// (the K offsets of the chain's run). Writes r into responsibility[k·chains + c].
struct mixture_responsibilities {
  double* responsibility;
  const cdouble* quadratic;
  basic_run_data<double> offset;  ///< K values per run
  std::size_t components;
  std::size_t chains;
  double kappa;
  double* log_total = nullptr;  ///< if set: log Σ_k exp(offset_k − κ q_k) per chain (the log density)
  TWOFOLD_HD void operator()(std::size_t c) const {
    double top = -HUGE_VAL;
    for (std::size_t k = 0; k < components; ++k) {
      const double l = offset.at(c, k) - kappa * quadratic[k * chains + c].re;
      responsibility[k * chains + c] = l;
      top = l > top ? l : top;
    }
    double total = 0;
    for (std::size_t k = 0; k < components; ++k) {
      const double e = offset.at(c, k) == -HUGE_VAL ? 0.0 : exp_rn(responsibility[k * chains + c] - top);
      responsibility[k * chains + c] = e;
      total += e;
    }
    for (std::size_t k = 0; k < components; ++k) responsibility[k * chains + c] /= total;
    if (log_total) log_total[c] = top + std::log(total);
  }
};

/// out[i] (+)= r_{k,c} D_k(z)[i], D_k = μ_k + v/(v + s²)(z − μ_k) (v = 0: the atom μ_k):
/// accumulates component k of D (overwrites when `first`).
struct mixture_accumulate {
  cfloat* out;
  const cfloat* z;
  run_data mean;
  const float* variance;
  const double* responsibility;  ///< r_{k,·}: `chains` values
  std::size_t pixels;
  double s2;
  bool first;
  TWOFOLD_HD void at(element e) const {
    const std::size_t i = e.i, p = e.pixel;
    const cfloat term = static_cast<float>(responsibility[e.chain]) *
                        gaussian_denoise(z[i], mean.at(e.chain, p), variance[p], s2);
    out[i] = first ? term : out[i] + term;
  }
};

/// out[i] = D_k(z)[i] − d[i]: component k's deviation from the mixture denoiser.
struct mixture_deviation {
  cfloat* out;
  const cfloat* z;
  const cfloat* d;
  run_data mean;
  const float* variance;
  std::size_t pixels;
  double s2;
  TWOFOLD_HD void at(element e) const {
    const std::size_t i = e.i, p = e.pixel;
    out[i] = gaussian_denoise(z[i], mean.at(e.chain, p), variance[p], s2) - d[i];
  }
};

/// out[i] (+)= r_{k,c} [ v/(v + s²) w[i] + (2κ/s²) Re⟨D_k − D, w⟩_c (D_k − D)[i] ]:
/// component k of Jᵀw (J is symmetric). `deviation` holds D_k − D, `dot` its
/// per-chain inner products with w.
struct mixture_vjp_accumulate {
  cfloat* out;
  const cfloat* w;
  const cfloat* deviation;
  const float* variance;
  const double* responsibility;
  const cdouble* dot;
  std::size_t pixels;
  double s2;
  double outer;  ///< 2κ/s²
  bool first;
  TWOFOLD_HD void at(element e) const {
    const std::size_t i = e.i, p = e.pixel, c = e.chain;
    const double v = variance[p];
    const cfloat term = static_cast<float>(responsibility[c]) *
                        (static_cast<float>(v / (v + s2)) * w[i] + static_cast<float>(outer * dot[c].re) * deviation[i]);
    out[i] = first ? term : out[i] + term;
  }
};

/// The factors of each component and pixel that every chain shares, once per call:
/// the residual scale 1/√(v + s²) and the shrink v/(v + s²) (index k·N + p).
struct mixture_component_factors {
  float* residual_scale;
  double* shrink;
  const float* variances;
  double s2;
  TWOFOLD_HD void operator()(std::size_t j) const {
    residual_scale[j] = static_cast<float>(1.0 / std::sqrt(double(variances[j]) + s2));
    shrink[j] = gaussian_shrink_factor(variances[j], s2);
  }
};

/// The whole pixel-basis mixture denoiser of one chain, for images of a few pixels and
/// few components (gaussian_mixture_prior::denoise): the operations of
/// mixture_scaled_residual and the CPU's batched_dot (the quadratic forms, summed in
/// pixel order in double), mixture_responsibilities and mixture_accumulate, in the same
/// order and with the same factors (mixture_component_factors), so the same bits on
/// the CPU in one pass instead of 3K + 2. One index per chain.
inline constexpr std::size_t small_mixture_pixels = 16, small_mixture_components = 16;
struct small_mixture_denoise {
  static constexpr std::size_t lanes = 32;
  cfloat* out;  ///< may alias z
  const cfloat* z;
  const cfloat* means;          ///< [K, N], shared by every chain
  const float* residual_scale;  ///< [K, N]
  const double* shrink;         ///< [K, N]
  const double* offset;         ///< K values: log w_k − κ log det(Σ_k + s²I)
  std::size_t components;       ///< ≤ small_mixture_components
  std::size_t pixels;           ///< ≤ small_mixture_pixels
  double kappa;
  /// Chains first … first + W − 1 (element.hpp, tiled_by_chain). One pixel (a scalar
  /// mixture) gets the tile with the pixel count a compile-time constant, which lets
  /// the compiler load a tile's chains as one contiguous vector; the bits are the same.
  template <std::size_t W>
  TWOFOLD_HD void chains(std::size_t first) const {
    if (pixels == 1)
      tile<W>(first, std::integral_constant<std::size_t, 1>{});
    else
      tile<W>(first, pixels);
  }
  TWOFOLD_HD void operator()(std::size_t c) const { chains<1>(c); }

 private:
  template <std::size_t W, class PixelCount>
  TWOFOLD_HD void tile(std::size_t first, PixelCount n) const {
    const cfloat* zc = z + first * n;
    double l[small_mixture_components][W];  // log weights, then weights
    for (std::size_t k = 0; k < components; ++k) {
      double q[W];
      for (std::size_t j = 0; j < W; ++j) q[j] = 0;
      for (std::size_t p = 0; p < n; ++p) {
        const cfloat mean = means[k * n + p];
        const float scale = residual_scale[k * n + p];
        for (std::size_t j = 0; j < W; ++j) {
          const float re = scale * (zc[j * n + p].re - mean.re), im = scale * (zc[j * n + p].im - mean.im);
          q[j] += double(re) * re + double(im) * im;
        }
      }
      for (std::size_t j = 0; j < W; ++j) l[k][j] = offset[k] - kappa * q[j];
    }
    double top[W], total[W];
    for (std::size_t j = 0; j < W; ++j) top[j] = -HUGE_VAL, total[j] = 0;
    for (std::size_t k = 0; k < components; ++k)
      for (std::size_t j = 0; j < W; ++j) top[j] = l[k][j] > top[j] ? l[k][j] : top[j];
    for (std::size_t k = 0; k < components; ++k) {
      const bool empty = offset[k] == -HUGE_VAL;
      for (std::size_t j = 0; j < W; ++j) {
        const double e = exp_rn(l[k][j] - top[j]);
        l[k][j] = empty ? 0.0 : e;
        total[j] += l[k][j];
      }
    }
    for (std::size_t p = 0; p < n; ++p) {
      float re[W] = {}, im[W] = {};  // Σ_k r_k D_k, in component order
      for (std::size_t k = 0; k < components; ++k) {
        const cfloat mean = means[k * n + p];
        const double factor = shrink[k * n + p];
        for (std::size_t j = 0; j < W; ++j) {
          const float r = static_cast<float>(l[k][j] / total[j]);
          const float term_re = r * static_cast<float>(mean.re + factor * (double(zc[j * n + p].re) - mean.re));
          const float term_im = r * static_cast<float>(mean.im + factor * (double(zc[j * n + p].im) - mean.im));
          re[j] = k == 0 ? term_re : re[j] + term_re;
          im[j] = k == 0 ? term_im : im[j] + term_im;
        }
      }
      for (std::size_t j = 0; j < W; ++j) out[(first + j) * n + p] = cfloat{re[j], im[j]};
    }
  }
};

/// u[i] = μ_k[p] + √(v_k[p] + s²) ζ with k chosen per chain by one uniform
/// against the cumulative weights (the last component takes the remainder).
/// With only < components, chains whose component is not `only` get 0 (mixtures
/// whose components have different bases draw one component at a time).
struct mixture_draw {
  cfloat* u;
  run_data means;           ///< component 0's N means (of `only` when only < components)
  std::size_t component_stride;  ///< from one component's means to the next's
  const float* variances;   ///< [K, N] ([N] of component `only`)
  basic_run_data<double> cumulative;  ///< K values per run, the last ≥ 1
  std::size_t components;
  std::size_t pixels;
  double s2;
  rng_stream rng;
  std::size_t only;
  /// zeta = rng.normal(chain, pixel), from the backend's normal tiles or pairs.
  TWOFOLD_HD void at(element e, cfloat zeta) const {
    const std::size_t i = e.i, c = e.chain, p = e.pixel;
    std::size_t k = 0;
    if (components > 1) {  // one component (a Gaussian) needs no pick
      const double pick = uniform(rng.seed, rng.first_chain + c, rng_purpose::mixture_component, rng.substream);
      while (k + 1 < components && pick >= cumulative.at(c, k)) ++k;
    }
    if (only < components && k != only) {
      u[i] = cfloat{};
      return;
    }
    const std::size_t slot = only < components ? 0 : k;
    const cfloat mean = means.data[slot * component_stride + means.run(c) * means.size + p];
    u[i] = mean + static_cast<float>(std::sqrt(double(variances[slot * pixels + p]) + s2)) * zeta;
  }
};

}  // namespace twofold::math
