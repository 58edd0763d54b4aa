#pragma once
/// \file
/// The exact posterior of an inverse problem under a prior with a closed form, by
/// whichever exact method applies (docs/design.md §1.4). This is what
/// `twofold sample --reference` and the demo compare a sampler's maps with.

#include <twofold/core/complex.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>

#include <cstddef>
#include <vector>

namespace twofold {

class inverse_problem;
class prior;

/// Exact posterior maps of a Gaussian prior; every vector has shape.pixels() entries.
struct gaussian_posterior_maps {
  image_shape shape{};
  std::vector<cdouble> mean;           ///< μ_post
  std::vector<double> variance;        ///< diag Σ_post = ambiguity + estimation
  std::vector<double> ambiguity;       ///< diag Cov(x | P_R x): intrinsic ambiguity
  std::vector<double> estimation;      ///< variance − ambiguity: estimation uncertainty
  std::vector<double> range_variance;  ///< diag(P_R Σ_post P_R)
  std::vector<double> null_variance;   ///< diag(P_N Σ_post P_N)
};

/// The exact posterior maps of `problem` (one measurement set) under `prior`:
///  - Gaussian prior, single-coil Cartesian mask: closed forms — per k-space
///    coefficient for a Fourier-basis prior (fourier_posterior), row by row for a
///    pixel-basis prior and a line mask (line_mask_posterior_pixel_prior);
///  - Gaussian pixel-basis prior, any other operator up to dense_reference_max_pixels
///    pixels: dense linear algebra on the operator's probed matrix (dense_posterior);
///  - Gaussian mixture (or empirical) prior: the exact mixture posterior
///    (exact_mixture_posterior); only `mean` and `variance` are filled.
/// Every other map has shape.pixels() entries. Throws bad_input when the prior has no
/// closed form, the problem has several measurement sets, or no exact method applies
/// (the message says which limit was passed).
gaussian_posterior_maps exact_posterior(const context& ctx, const inverse_problem& problem, const prior& prior);

}  // namespace twofold
