#include <twofold/exact/exact_posterior.hpp>

#include <twofold/core/error.hpp>
#include <twofold/exact/dense.hpp>
#include <twofold/exact/fourier.hpp>
#include <twofold/exact/mixture.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/priors/gaussian.hpp>
#include <twofold/priors/gaussian_mixture.hpp>
#include <twofold/problem/inverse_problem.hpp>

#include <string>

namespace twofold {

gaussian_posterior_maps exact_posterior(const context& ctx, const inverse_problem& problem, const prior& prior) {
  TWOFOLD_EXPECTS(problem.sets() == 1, "exact posterior: one measurement set at a time (the problem has " +
                                           std::to_string(problem.sets()) + "; use measurement_set(r))");
  const image_shape s = problem.shape();
  if (const gaussian_mixture_prior* mixture = prior.mixture_form()) {
    const auto post = exact_mixture_posterior(ctx, problem, *mixture);
    gaussian_posterior_maps maps;
    maps.shape = s;
    maps.mean = post.mean();
    maps.variance = post.variance();
    return maps;
  }
  const gaussian_prior* gaussian = prior.gaussian_form();
  TWOFOLD_EXPECTS(gaussian, "exact posterior: prior '" + prior.name() +
                                "' has no closed form (use a Gaussian or Gaussian-mixture prior)");
  const auto& y = problem.measurements();
  const double sigma = problem.sigma_y();
  // The single-coil Cartesian closed forms: the one operator family with its own exact method.
  if (const auto* mri = dynamic_cast<const fourier_mask_operator*>(&problem.op())) {
    if (gaussian->basis() == gaussian_basis::fourier) return fourier_posterior(ctx, *gaussian, *mri, y, sigma);
    if (mri->lines())
      return line_mask_posterior_pixel_prior(s, gaussian->mean(), gaussian->variance(), *mri->lines(), y, sigma);
  }
  TWOFOLD_EXPECTS(gaussian->basis() == gaussian_basis::pixel,
                  "exact posterior for the '" + problem.op().name() + "' operator needs a pixel-basis prior");
  TWOFOLD_EXPECTS(s.pixels() <= dense_reference_max_pixels,
                  "exact posterior for the '" + problem.op().name() + "' operator uses dense linear algebra and " +
                      "needs at most " + std::to_string(dense_reference_max_pixels) + " pixels (the image has " +
                      std::to_string(s.pixels()) + ")");
  return dense_posterior(s, operator_matrix(ctx, problem.op()), problem.op().codomain().pixels(), gaussian->mean(),
                         gaussian->variance(), y, sigma);
}

}  // namespace twofold
