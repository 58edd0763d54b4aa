#pragma once
// The shared test problem where prior and operator do not share a basis: a
// pixel-basis Gaussian prior estimated from 100 phantoms, a random line mask, and its
// exact posterior by the row-wise dense solution (host/exact/dense.cpp).
#include <twofold/data/masks.hpp>
#include <twofold/twofold.hpp>
#include <twofold/data/phantom.hpp>
#include <twofold/exact/dense.hpp>
#include <twofold/sampling/sample.hpp>

#include "tests/support/test_support.hpp"

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace twofold::testing {

struct pixel_prior_case {
  context ctx{backend_request::cpu};
  image_shape shape;
  double sigma;
  std::vector<std::uint8_t> lines;
  std::shared_ptr<fourier_mask_operator> op;
  gaussian_prior prior;
  std::vector<cfloat> kspace;
  gaussian_posterior_maps reference;

  explicit pixel_prior_case(image_shape s = {16, 16}, double sigma_y = 0.02, double acceleration = 4.0)
      : shape(s), sigma(sigma_y), lines(make_line_mask({shape.width, acceleration, 0.0, line_pattern::random, 3})),
        op(std::make_shared<fourier_mask_operator>(ctx, shape, expand_line_mask(lines, shape))),
        prior(estimate_gaussian_prior(ctx, gaussian_basis::pixel, shape,
                                      make_phantom_family({shape, 0, 1.0, true}, 1, 100))),
        kspace(simulate_kspace(ctx, prior, *op, sigma, 4)),
        reference(line_mask_posterior_pixel_prior(shape, prior.mean(), prior.variance(), lines, kspace, sigma)) {}

  inverse_problem problem() const { return inverse_problem(ctx, op, kspace, sigma); }
  double ratio(const std::vector<double>& got, const std::vector<double>& want) const {
    return mean_of(got) / mean_of(want);
  }
  double mean_prior_variance() const {
    double v = 0;
    for (const float x : prior.variance()) v += x;
    return v / double(prior.variance().size());
  }
  /// RMS over pixels of |mean − exact mean| / exact posterior std.
  double mean_error(const uncertainty_maps& m) const {
    double z2 = 0;
    for (std::size_t p = 0; p < shape.pixels(); ++p) z2 += norm2(m.mean[p] - reference.mean[p]) / reference.variance[p];
    return std::sqrt(z2 / double(shape.pixels()));
  }
  double variance_ratio(const uncertainty_maps& m) const { return mean_of(m.total_variance) / mean_of(reference.variance); }
};

}  // namespace twofold::testing
