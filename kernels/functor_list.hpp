#pragma once
/// \file
/// Every element-wise functor the host code dispatches through
/// detail::for_each. kernels/for_each.cu instantiates the CUDA launcher for each
/// entry; a functor missing here is a link error in CUDA builds, never a silent
/// CPU fallback.

#include <twofold/math/fft_phase.hpp>

#define TWOFOLD_FOR_EACH_FUNCTOR(X) \
  X(::twofold::math::centred_fft_phase)
