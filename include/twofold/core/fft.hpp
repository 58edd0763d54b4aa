#pragma once
/// \file
/// The centred orthonormal 2-D DFT of docs/design.md §2, batched over chains:
///   forward  X = fftshift(fft2(ifftshift(x), norm="ortho"))
///   inverse  x = fftshift(ifft2(ifftshift(X), norm="ortho"))
/// over the last two axes, DC at index ⌊N/2⌋ (fastMRI, deepinv and BART agree).
/// Any H, W (odd sizes included).

#include <twofold/core/context.hpp>
#include <twofold/core/complex.hpp>
#include <twofold/core/types.hpp>

#include <cstddef>
#include <vector>

namespace twofold {

enum class fft_direction { forward, inverse };

/// In place on every H×W plane of every chain of `x` (each coil of a multi-coil
/// batch; a batch of shape {1, W} transforms rows along W only), memory on ctx's
/// backend, queued on ctx's stream.
/// Cost: two element-wise passes (the centring phases) around the library FFT.
void fft2c(const context& ctx, chain_view x, fft_direction dir);

/// The 1-D centred orthonormal DFT matrix F_n, n×n, row-major, on the host:
/// F[k·n + j] = exp(−2πi (k−c)(j−c)/n) / √n, c = ⌊n/2⌋. The phase is reduced modulo n
/// in integers before the exponential, so entries are exact to rounding for any n.
/// Cost O(n²); the direct slow transform the FFT paths are tested against.
/// Throws bad_input for n = 0.
std::vector<cdouble> centred_dft_matrix(std::size_t n);

}  // namespace twofold
