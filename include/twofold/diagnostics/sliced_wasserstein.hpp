#pragma once
/// \file
/// Distances between sets of posterior draws, for validating samplers against
/// exact draws (twofold validate, docs/validation.md).

#include <twofold/core/types.hpp>
#include <twofold/core/complex.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace twofold {

/// Sliced 2-Wasserstein distance between two equally sized sets of draws
/// ([n, dim] C order each; complex draws count as 2·dim real coordinates unless
/// `values` is real). Every coordinate is first divided by `scale[i]` (e.g. the
/// exact posterior std, making the distance unit-free; pass {} for none). Then
///   SW₂ = ( mean over `directions` random unit vectors θ of W₂²(θᵀa, θᵀb) )^{1/2},
/// each 1-D W₂² from sorted projections. Directions come from Philox with `seed`.
/// Two independent sets of n exact draws give SW₂ of order √(1/n) — the noise
/// floor any sampler is compared against. Throws bad_input on mismatched sizes.
double sliced_wasserstein(std::span<const cfloat> a, std::span<const cfloat> b, std::size_t dim, field values,
                          std::span<const double> scale, std::size_t directions = 256, std::uint64_t seed = 0);

}  // namespace twofold
