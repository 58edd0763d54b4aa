#pragma once
/// \file
/// Centring without shifts: with c = ⌊N/2⌋, the centred DFT
///   X[k] = Σ_n x[n] e^{-2πi (k−c)(n−c)/N} / √N
/// factors into e^{+2πi c n/N} (before a plain DFT) and e^{+2πi c k/N} e^{-2πi c²/N} / √N
/// (after it); the inverse conjugates all three. So fftshift/ifftshift become two
/// in-place modulation passes that need no scratch memory and work for odd N.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include <cmath>
#include <cstddef>

namespace twofold::math {

/// (c·n mod N)/N for c = ⌊N/2⌋: the centring phase of index n, in turns.
TWOFOLD_HD double centring_turns(std::size_t n, std::size_t N) {
  return static_cast<double>(((N / 2) * n) % N) / static_cast<double>(N);
}

/// The centred (DC at ⌊N/2⌋) index of raw DFT index j (DC at 0) on an axis of length N.
TWOFOLD_HD std::size_t centred_index(std::size_t j, std::size_t N) { return (j + N / 2) % N; }

/// Whether an axis of length N has centring phases ±1 only (N even, or N = 1).
TWOFOLD_HD bool sign_only(std::size_t N) { return N % 2 == 0 || N == 1; }

/// Multiplies element i of a batch of H×W images by its centring phase.
/// `after` selects the post-DFT factor (with the e^{∓2πi c²/N} constant and `scale`);
/// `sign` is −1 for the inverse transform.
struct centred_fft_phase {
  cfloat* data;
  std::size_t height, width;
  int sign;
  bool after;
  double scale;

  TWOFOLD_HD void operator()(std::size_t i) const {
    const std::size_t p = i % (height * width);
    const std::size_t h = p / width, w = p % width;
    if (sign_only(height) && sign_only(width)) {
      // Axes of even length contribute (−1)^n (c·n/N = n/2 turns) and, after the DFT,
      // the constant (−1)^(N/2) (c²/N = N/4 turns); axes of length 1 contribute nothing.
      std::size_t parity = (height > 1 ? h : 0) + (width > 1 ? w : 0);
      if (after) parity += (height > 1 ? height / 2 : 0) + (width > 1 ? width / 2 : 0);
      const float sgn = static_cast<float>(parity % 2 ? -scale : scale);
      data[i] = sgn * data[i];
      return;
    }
    double turns = centring_turns(h, height) + centring_turns(w, width);
    if (after) turns -= centring_turns(height / 2, height) + centring_turns(width / 2, width);
    turns -= std::floor(turns);
    const double angle = sign * 6.283185307179586476925286766559 * turns;
    const complex<double> phase{scale * std::cos(angle), scale * std::sin(angle)};
    const complex<double> v{data[i].re, data[i].im};
    const complex<double> r = phase * v;
    data[i] = {static_cast<float>(r.re), static_cast<float>(r.im)};
  }
};

}  // namespace twofold::math
