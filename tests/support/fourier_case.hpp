#pragma once
// The shared closed-form test problem: single-coil MRI with a line mask and a
// Fourier-basis (stationary) Gaussian prior, whose posterior is diagonal in k-space
// (include/twofold/exact/fourier.hpp). A decaying spectrum by default, or a
// constant one (a white prior, N(μ, vI) in any basis).
#include <twofold/twofold.hpp>
#include <twofold/exact/fourier.hpp>
#include <twofold/sampling/sample.hpp>

#include "tests/support/test_support.hpp"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace twofold::testing {

struct fourier_case {
  context ctx;
  image_shape shape;
  double sigma;
  std::shared_ptr<fourier_mask_operator> op;
  gaussian_prior prior;
  std::vector<cfloat> kspace;

  explicit fourier_case(std::vector<int> lines = {1, 3, 4}, double sigma_y = 0.1, image_shape s = {8, 6},
                        std::optional<float> white_variance = std::nullopt,
                        backend_request backend = backend_request::cpu)
      : ctx(backend), shape(s), sigma(sigma_y), op(std::make_shared<fourier_mask_operator>(ctx, shape, line_mask(shape, lines))),
        prior(ctx, gaussian_basis::fourier, shape, random_image(shape, 3, 0.3f),
              white_variance ? std::vector<float>(shape.pixels(), *white_variance) : decaying_spectrum(shape, 0.5, 2.0)),
        kspace(simulate_kspace(ctx, prior, *op, sigma, 99)) {}

  inverse_problem problem() const { return inverse_problem(ctx, op, kspace, sigma); }
  gaussian_posterior_maps closed_form() const { return fourier_posterior(ctx, prior, *op, kspace, sigma); }

  /// The closed-form ambiguity and estimation with each coefficient variance passed
  /// through f (identity: the closed form; ancestral_variance: the exact sampler's).
  template <class F>
  std::pair<double, double> split(F&& f) const {
    const double s2 = sigma * sigma;
    double a = 0, e = 0;
    for (std::size_t k = 0; k < shape.pixels(); ++k) {
      const double lambda = prior.variance()[k];
      if (op->mask()[k] > 0) e += f(1 / (1 / lambda + 1 / s2));
      else a += f(lambda);
    }
    return {a / double(shape.pixels()), e / double(shape.pixels())};
  }
};

}  // namespace twofold::testing
