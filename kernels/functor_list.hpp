#pragma once
/// \file
/// Every element-wise functor the host code dispatches through
/// detail::for_each, in the form for_each launches them: functors that draw normals
/// as normal_pairs<F>, functors indexed by element as by_element<F>. kernels/for_each.cu instantiates the CUDA launcher for each
/// entry; a functor missing here is a link error in CUDA builds, never a silent
/// CPU fallback.

#include "host/math/cg_scalars.hpp"
#include "host/math/dps_steps.hpp"
#include "host/math/element.hpp"
#include "host/math/elementwise.hpp"
#include "host/math/fft_phase.hpp"
#include "host/math/gaussian.hpp"
#include "host/math/mixture.hpp"
#include "host/math/normal_pairs.hpp"
#include "host/math/operator_maps.hpp"
#include "host/math/particles.hpp"
#include "host/math/sampler_steps.hpp"
#include "host/math/spectral_steps.hpp"
#include "host/math/uncertainty_maps.hpp"
#include "host/math/welford.hpp"

#define TWOFOLD_FOR_EACH_FUNCTOR(X)                \
  X(::twofold::math::centred_fft_phase)            \
  X(::twofold::math::by_element<::twofold::math::multiply_by_map>) \
  X(::twofold::math::by_element<::twofold::math::multiply_by_complement>) \
  X(::twofold::math::axpby)                        \
  X(::twofold::math::by_element<::twofold::math::multiply_by_complex_map>) \
  X(::twofold::math::coil_expand)                  \
  X(::twofold::math::coil_combine)                 \
  X(::twofold::math::block_sum)                    \
  X(::twofold::math::block_spread)                 \
  X(::twofold::math::block_resum)                  \
  X(::twofold::math::by_element<::twofold::math::add_run_data>) \
  X(::twofold::math::normal_pairs<::twofold::math::scaled_normal>)                \
  X(::twofold::math::by_element<::twofold::math::gaussian_shrink>) \
  X(::twofold::math::raw_order_shrink_map)         \
  X(::twofold::math::by_element<::twofold::math::raw_order_denoise>) \
  X(::twofold::math::normal_pairs<::twofold::math::gaussian_draw>)                \
  X(::twofold::math::by_element<::twofold::math::regularised_covariance>) \
  X(::twofold::math::by_element<::twofold::math::shrink_by_variance>) \
  X(::twofold::math::by_element<::twofold::math::mixture_scaled_residual>) \
  X(::twofold::math::mixture_responsibilities)     \
  X(::twofold::math::mixture_component_factors)    \
  X(::twofold::math::small_mixture_denoise)        \
  X(::twofold::math::by_element<::twofold::math::mixture_accumulate>) \
  X(::twofold::math::by_element<::twofold::math::mixture_deviation>) \
  X(::twofold::math::by_element<::twofold::math::mixture_vjp_accumulate>) \
  X(::twofold::math::normal_pairs<::twofold::math::mixture_draw>) \
  X(::twofold::math::normal_pairs<::twofold::math::langevin_step<::twofold::math::annealed_likelihood>>) \
  X(::twofold::math::normal_pairs<::twofold::math::langevin_step<::twofold::math::no_likelihood>>) \
  X(::twofold::math::normal_pairs<::twofold::math::fused_langevin_step<::twofold::math::annealed_likelihood>>) \
  X(::twofold::math::normal_pairs<::twofold::math::fused_langevin_step<::twofold::math::no_likelihood>>) \
  X(::twofold::math::normal_pairs<::twofold::math::ancestral_step>)               \
  X(::twofold::math::by_element<::twofold::math::cg_advance>) \
  X(::twofold::math::by_element<::twofold::math::cg_direction>) \
  X(::twofold::math::cg_start)                     \
  X(::twofold::math::cg_step_length)               \
  X(::twofold::math::cg_direction_update)          \
  X(::twofold::math::cg_record_true_residual)      \
  X(::twofold::math::by_element<::twofold::math::normalised_descent>) \
  X(::twofold::math::ddim_with_noise)              \
  X(::twofold::math::ddrm_correction)              \
  X(::twofold::math::ddnm_correction)              \
  X(::twofold::math::ddrm_initial_correction)      \
  X(::twofold::math::spectral_likelihood_residual) \
  X(::twofold::math::normal_pairs<::twofold::math::twisted_proposal>)             \
  X(::twofold::math::subtract_from)                \
  X(::twofold::math::scale_by)                     \
  X(::twofold::math::add_log_weight)               \
  X(::twofold::math::combine_quadratic)            \
  X(::twofold::math::particle_weight)              \
  X(::twofold::math::systematic_ancestor)          \
  X(::twofold::math::by_element<::twofold::math::gather_chains>) \
  X(::twofold::math::gather_particle_scalars)      \
  X(::twofold::math::welford_tile_reduce)          \
  X(::twofold::math::nested_welford_fold)          \
  X(::twofold::math::uncertainty_map_pixel)
