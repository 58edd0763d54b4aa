#pragma once
/// \file
/// The whole public API of twofold in one include. The layers, from the bottom up:
///   core/        context (backend, stream), buffers, chain views, errors, Philox RNG, FFT
///   operators/   linear forward operators A (Fourier masks, multi-coil, dense, blur, ...)
///   priors/      priors p(x) as batched denoisers (Gaussian, mixture, callback, TorchScript)
///   problem/     the inverse problem y = A x + n and simulating it
///   sampling/    sample(): samplers, schedules, run designs, the ambiguity/estimation maps
///   exact/       exact posteriors (closed form, dense, mixture), the references samplers meet
///   diagnostics/ calibration (coverage, SBC, conformal), distances
///   data/        phantoms, k-space masks, coil maps
///   io/          NumPy, BART cfl, fastMRI HDF5, PNG, staged output folders
/// docs/architecture.md describes how they fit together.

#include <twofold/core/buffer.hpp>
#include <twofold/core/complex.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/core/types.hpp>

#include <twofold/operators/convolution.hpp>
#include <twofold/operators/dense.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/operators/inpainting.hpp>
#include <twofold/operators/linear_operator.hpp>
#include <twofold/operators/multicoil.hpp>
#include <twofold/operators/spectral_operator.hpp>
#include <twofold/operators/superres.hpp>

#include <twofold/priors/callback.hpp>
#include <twofold/priors/gaussian.hpp>
#include <twofold/priors/gaussian_mixture.hpp>
#include <twofold/priors/minimum_norm.hpp>
#include <twofold/priors/prior.hpp>
#include <twofold/priors/torchscript.hpp>

#include <twofold/problem/inverse_problem.hpp>
#include <twofold/problem/noise_whitening.hpp>
#include <twofold/problem/simulate.hpp>

#include <twofold/sampling/sample.hpp>
#include <twofold/sampling/sampler_params.hpp>
#include <twofold/sampling/scale_out.hpp>
#include <twofold/sampling/schedule.hpp>

#include <twofold/exact/dense.hpp>
#include <twofold/exact/exact_posterior.hpp>
#include <twofold/exact/fourier.hpp>
#include <twofold/exact/mixture.hpp>

#include <twofold/diagnostics/coverage.hpp>
#include <twofold/diagnostics/predictive_coverage.hpp>
#include <twofold/diagnostics/rank_statistics.hpp>
#include <twofold/diagnostics/sbc.hpp>
#include <twofold/diagnostics/sliced_wasserstein.hpp>
#include <twofold/diagnostics/validity.hpp>

#include <twofold/data/coil_maps.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/data/phantom.hpp>

#include <twofold/io/array_file.hpp>
#include <twofold/io/cfl.hpp>
#include <twofold/io/fastmri.hpp>
#include <twofold/io/npy.hpp>
#include <twofold/io/output_folder.hpp>
#include <twofold/io/png.hpp>
