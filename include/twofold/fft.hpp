#pragma once
/// \file
/// The centred orthonormal 2-D DFT of SPEC §2, batched over chains:
///   forward  X = fftshift(fft2(ifftshift(x), norm="ortho"))
///   inverse  x = fftshift(ifft2(ifftshift(X), norm="ortho"))
/// over the last two axes, DC at index ⌊N/2⌋ (fastMRI, deepinv and BART agree).
/// Any H, W (odd sizes included).

#include <twofold/context.hpp>
#include <twofold/core_types.hpp>

namespace twofold {

enum class fft_direction { forward, inverse };

/// In place on every H×W plane of every chain of `x` (each coil of a multi-coil
/// batch; a batch of shape {1, W} transforms rows along W only), memory on ctx's
/// backend, queued on ctx's stream.
/// Cost: two element-wise passes (the centring phases) around the library FFT.
void fft2c(const context& ctx, chain_view x, fft_direction dir);

}  // namespace twofold
