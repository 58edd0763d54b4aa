#pragma once
/// \file
/// Every built-in forward operator (SPEC §2).

#include <twofold/operators/convolution.hpp>
#include <twofold/operators/dense.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/operators/inpainting.hpp>
#include <twofold/operators/multicoil.hpp>
#include <twofold/operators/superres.hpp>
