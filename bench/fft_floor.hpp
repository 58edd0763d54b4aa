#pragma once
// The FFT floor of an MRI scenario: how many forward + inverse transform pairs per
// second the FFT library alone does over the scenario's batch of images, timed in
// the same run as the scenario. One Langevin chain-step needs one such pair (AᴴA),
// so chain-steps per second over this rate says how close the engine is to the FFT.
#include <twofold/twofold.hpp>

#include <cstddef>
#include <string>

namespace twofold::bench {

struct fft_floor {
  std::string method;             ///< what was timed
  double pairs_per_second = 0;    ///< 2-D forward + inverse pairs of one H×W image per second
  double row_pairs_per_second = 0;  ///< the same with 1-D transforms along W of every row (line masks)
  std::string skipped;            ///< why nothing was timed (empty when measured)
};

/// FFTW single precision on the CPU backend: plans made with FFTW_MEASURE
/// (fftwf_plan_many_dft over each OpenMP thread's share of the batch, in place), the
/// median of `repeats` timed rounds of forward + inverse over the whole batch. Not
/// measured on CUDA (recorded as skipped).
fft_floor measure_fft_floor(const context& ctx, image_shape shape, std::size_t batch, std::size_t repeats);

}  // namespace twofold::bench
