#pragma once
// The operators every operator test runs on (odd and even sizes, each kind of mask,
// real and complex, full-rank and rank-deficient): shared by tests/operators/operator_test.cpp
// and the CPU/GPU parity test.
#include <twofold/data/coil_maps.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/twofold.hpp>
#include <twofold/problem/inverse_problem.hpp>

#include "tests/support/test_support.hpp"

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace twofold::testing {

struct operator_case {
  std::string label;
  std::function<std::unique_ptr<linear_operator>(const context&)> make;
  field values = field::complex;  ///< the field of the posterior test's problem
};

inline std::ostream& operator<<(std::ostream& os, const operator_case& c) { return os << c.label; }

inline std::vector<operator_case> operator_cases() {
  std::vector<operator_case> c;
  c.push_back({"mri_line_6x7", [](const context& ctx) {
                 const image_shape s{6, 7};
                 return std::make_unique<fourier_mask_operator>(ctx, s, testing::line_mask(s, {0, 3, 4}));
               }});
  c.push_back({"mri_2d_5x6", [](const context& ctx) {
                 const image_shape s{5, 6};
                 return std::make_unique<fourier_mask_operator>(ctx, s, random_mask(s, 0.4, 1));
               }});
  c.push_back({"inpaint_5x7", [](const context& ctx) {
                 const image_shape s{5, 7};
                 return std::make_unique<inpainting_operator>(ctx, s, random_mask(s, 0.6, 2));
               }});
  c.push_back({"superres_6x9_by3", [](const context&) {
                 return std::make_unique<superres_operator>(image_shape{6, 9}, 3);
               }});
  c.push_back({"blur_gaussian_7x8", [](const context& ctx) {
                 image_shape ks;
                 const auto k = gaussian_blur_kernel(1.0, 2, ks);
                 return std::make_unique<convolution_operator>(ctx, image_shape{7, 8}, k, ks);
               }});
  c.push_back({"blur_box_6x6", [](const context& ctx) {
                 // A 2×2 box has exact zeros in its transfer function (a real null space).
                 const std::vector<cfloat> k(4, cfloat{0.25f, 0.0f});
                 return std::make_unique<convolution_operator>(ctx, image_shape{6, 6}, k, image_shape{2, 2});
               }});
  c.push_back({"dense_complex_9x(3x5)", [](const context& ctx) {
                 return std::make_unique<dense_operator>(ctx, random_matrix(9, 15, false, 3), 9, image_shape{3, 5});
               }});
  c.push_back({"dense_real_wide_6x13", [](const context& ctx) {
                 return std::make_unique<dense_operator>(ctx, random_matrix(6, 13, true, 4), 6, image_shape{1, 13});
               },
               field::real});
  c.push_back({"dense_tall_20x8", [](const context& ctx) {
                 return std::make_unique<dense_operator>(ctx, random_matrix(20, 8, false, 5), 20, image_shape{1, 8});
               }});
  c.push_back({"dense_rank3_10x12", [](const context& ctx) {
                 return std::make_unique<dense_operator>(ctx, low_rank_matrix(10, 12, 3, 6), 10, image_shape{1, 12});
               }});
  c.push_back({"mri_multicoil_3x6x7_lines", [](const context& ctx) {
                 const image_shape s{6, 7};
                 return std::make_unique<multicoil_operator>(ctx, s, 3, smooth_maps(s, 3, 7),
                                                             testing::line_mask(s, {1, 3, 4}));
               }});
  c.push_back({"mri_multicoil_3x6x7_lines_cg", [](const context& ctx) {
                 // The same line-mask operator with the CG projection instead of the row SVD.
                 const image_shape s{6, 7};
                 return std::make_unique<multicoil_operator>(ctx, s, 3, smooth_maps(s, 3, 7),
                                                             testing::line_mask(s, {1, 3, 4}), cg_params{1e-5, 1000}, 0);
               }});
  c.push_back({"mri_multicoil_2x5x5_2d", [](const context& ctx) {
                 const image_shape s{5, 5};
                 return std::make_unique<multicoil_operator>(ctx, s, 2, smooth_maps(s, 2, 8), random_mask(s, 0.3, 9));
               }});
  c.push_back({"mri_multicoil_4x8x9_poisson_disc", [](const context& ctx) {
                 // The library's synthetic maps (Σ|S|² = 1) and a 2-D Poisson-disc mask.
                 const image_shape s{8, 9};
                 poisson_disc_mask_params mp;
                 mp.shape = s;
                 mp.acceleration = 3;
                 mp.calibration = {2, 2};
                 mp.seed = 10;
                 return std::make_unique<multicoil_operator>(ctx, s, 4, make_coil_maps({8, 9, 4}, {11}),
                                                             make_poisson_disc_mask(mp));
               }});
  c.push_back({"mri_variable_density_7x8", [](const context& ctx) {
                 const image_shape s{7, 8};
                 variable_density_mask_params mp;
                 mp.shape = s;
                 mp.acceleration = 2.5;
                 mp.calibration = {1, 2};
                 mp.seed = 12;
                 return std::make_unique<fourier_mask_operator>(ctx, s, make_variable_density_mask(mp));
               }});
  return c;
}

}  // namespace twofold::testing
