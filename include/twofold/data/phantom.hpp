#pragma once
/// \file
/// Built-in MRI-like test images (docs/design.md §3), so that everything runs with no data
/// download: a seeded family of randomly perturbed modified Shepp–Logan phantoms.
///
/// Geometry. The phantom lives on the normalised square [-1, 1]² (x to the right,
/// y up), inscribed in the image with square pixels of side 2 / min(H, W): row 0
/// is the top (y ≈ +1), column index runs along x (the width, the last axis).
/// Pixel (r, c) covers x ∈ [(c - W/2)·h, (c + 1 - W/2)·h], y ∈ [(H/2 - r - 1)·h,
/// (H/2 - r)·h] with h = 2 / min(H, W). A non-square image shows the whole head with
/// extra background along its longer side.
///
/// Intensity. The ten ellipses of Toft's modified Shepp–Logan phantom (as MATLAB
/// `phantom('Modified Shepp-Logan')` and scikit-image), values in [0, 1]: skull
/// 1.0, brain 0.2, ventricles 0.0, small structures 0.3. Edges are anti-aliased by
/// averaging 3×3 sub-samples per pixel.
///
/// Randomness. Every draw comes from the Philox generator (math/philox.hpp) with
///   key = seed, ctr[0] = draw / 4, ctr[1] = member index low 32 bits,
///   ctr[2] = member index high 32 bits, ctr[3] = rng_purpose::phantom,
/// and each random parameter owns a fixed draw number, so an image is a pure
/// function of (params, index), independent of thread count.

#include <twofold/core/types.hpp>
#include <twofold/core/complex.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace twofold {

/// Parameters shared by every member of a phantom family.
struct phantom_params {
  /// Image size in pixels (height = rows, width = columns). Both must be ≥ 1.
  image_shape shape{128, 128};
  /// Family seed (Philox key).
  std::uint64_t seed = 0;
  /// Strength of the random perturbation, in [0, 4]; 0 gives the exact modified
  /// Shepp–Logan magnitude (no lesions). At 1:
  ///  - the head (skull and brain ellipses together, so the thin skull stays a ring)
  ///    moves by up to ±0.04 in x and y (normalised units), stretches each axis by
  ///    up to ±10 % and turns by up to ±10°; the inner ellipses follow it and then
  ///    get their own jitter of the same sizes;
  ///  - the tissue level inside each ellipse (skull 1, brain 0.2, small structures
  ///    0.3) scales by up to ±25 %; the ventricles stay at level 0;
  ///  - 0–3 small "lesion" ellipses (semi-axes 0.02–0.06, contrast ±0.05–0.15) are
  ///    added inside the brain.
  /// All ranges but the lesion sizes and count scale linearly with this value (the
  /// upper limit 4 keeps semi-axes ≥ 60 % of their nominal size). Overlaps that would go negative are clipped to 0.
  double perturbation = 1.0;
  /// Multiply the magnitude by e^{iφ(x, y)}, φ a random polynomial of degree ≤ 2
  /// with |φ| ≤ π/4 on [-1, 1]² (independent of `perturbation`). When false the
  /// image is real and non-negative.
  bool smooth_phase = true;
};

/// Member `index` of the family described by `params`: H·W complex values, C-order
/// [H, W], dimensionless magnitude ≥ 0: ≤ 1 when perturbation = 0, ≤ about
/// 1 + perturbation/4 (the brightest skull) otherwise. A pure function of (params, index).
/// Errors: bad_input if a dimension of params.shape is 0 or params.perturbation is
/// not finite or outside [0, 4].
std::vector<cfloat> make_phantom(const phantom_params& params, std::uint64_t index);

/// Members first, first + 1, …, first + count - 1 stacked C-order [count, H, W];
/// slice k equals make_phantom(params, first + k) bit for bit. Rendered in parallel
/// over members with OpenMP. count = 0 gives an empty vector.
/// Errors: as make_phantom; bad_input if count·H·W overflows std::size_t.
std::vector<cfloat> make_phantom_family(const phantom_params& params, std::uint64_t first, std::size_t count);

}  // namespace twofold
