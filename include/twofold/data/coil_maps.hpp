#pragma once
/// \file
/// Synthetic coil sensitivity maps for multi-coil MRI (docs/design.md §2: A = M F S), and the
/// checks and normalisation applied to user-supplied maps. Maps are C·H·W complex64
/// values, C-order [coil, H, W], the layout multicoil_operator takes.
///
/// Normalisation convention: Σ_c |S_c(p)|² = 1 at every pixel p where the sum is
/// non-zero (ESPIRiT/BART's convention inside the object, where the coil-combined
/// image S^H(S x) = x). Synthetic maps have no object support, so they are
/// normalised everywhere.

#include <twofold/core/types.hpp>
#include <twofold/core/complex.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace twofold {

/// Geometry of the synthetic coils. Lengths are in normalised image coordinates:
/// x = (w − ⌊W/2⌋) / (W/2), y = (h − ⌊H/2⌋) / (H/2), so the image spans about
/// [−1, 1]² whatever its size.
struct coil_map_params {
  /// Philox key of the coil placement and phases (rng_purpose::coil_maps).
  std::uint64_t seed = 0;
  /// Distance of the coil centres from the image centre; > 0 and finite. 1.5 puts
  /// the coils outside the inscribed circle of the image, as a head array.
  double ring_radius = 1.5;
  /// Size a of each coil loop: magnitude falloff (1 + d²/a²)^(−3/2), and the phase
  /// gradient components are at most (π/2)/a radians per unit length. > 0 and finite; larger is
  /// smoother.
  double smoothness = 1.0;
};

/// C = shape.coils maps, C-order [coil, H, W], complex64. Coil c sits on the ring at
/// angle θ_c = 2π (c + j_c) / C, j_c = uniform − 0.5 scaled to ±1/4 of the spacing;
/// its raw map is the on-axis field of a circular loop of radius a (Biot–Savart:
/// ∝ (a² + d²)^(−3/2), d the distance to the coil centre), normalised to 1 at d = 0,
/// times a linear phase φ_c + g_c · (x, y) with φ_c uniform in [0, 2π) and each
/// component of g_c uniform in [−π/(2a), π/(2a)]. The maps are then normalised so
/// that Σ_c |S_c|² = 1 at every pixel (normalise_coil_maps). Draws:
/// `uniform(seed, 4c + k, coil_maps)` with k = 0 (jitter), 1 (φ_c), 2, 3 (g_c).
/// Computed in double, rounded once.
/// Errors: bad_input naming the parameter if H, W or coils is 0, or ring_radius or
/// smoothness is not finite and > 0.
std::vector<cfloat> make_coil_maps(image_shape shape, const coil_map_params& params);

/// Checks user-supplied maps of `shape` (shape.coils = C); `what` names them in
/// messages. Returns the number of pixels where Σ_c |S_c|² = 0 (no coil sees them:
/// those pixels are in the null space of A, which is allowed — e.g. background
/// masked by ESPIRiT — but worth reporting). A map that is zero everywhere is
/// reported the same way (the count is H·W); multicoil_operator rejects it.
/// Errors: bad_input if the shape is empty, maps.size() != C·H·W, or a value is not
/// finite (the message names the coil, row and column).
std::size_t validate_coil_maps(std::span<const cfloat> maps, image_shape shape, std::string_view what);

/// Divides every coil's value at pixel p by sqrt(Σ_c |S_c(p)|²) where that sum is
/// > 0 (accumulated in double); pixels with zero sensitivity stay zero.
/// Errors: as validate_coil_maps (with what = "coil maps").
void normalise_coil_maps(std::span<cfloat> maps, image_shape shape);

}  // namespace twofold
