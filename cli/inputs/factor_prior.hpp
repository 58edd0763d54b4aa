#pragma once
/// \file
/// `--prior factor`: a Gaussian prior N(μ, F Fᵀ) given by a covariance factor on dense
/// real problems, sampled by a change of variables around the engine (docs/eeg.md).

#include "inputs/inputs.hpp"

#include <twofold/twofold.hpp>

#include <cstddef>
#include <vector>

namespace twofold::cli {

/// --prior factor: x = μ + F z, z ~ N(0, I_k), so the prior covariance is F Fᵀ (e.g. a
/// spatially smooth prior on an EEG source grid). Dense real problems only.
struct factor_prior {
  std::vector<double> factor;  ///< F, [n, k] row-major
  std::size_t rank = 0;        ///< k
  std::vector<double> mean;    ///< μ (n; --prior-mean, default 0)
  std::vector<double> variance() const;  ///< diag(F Fᵀ)
};

/// Reads --prior-factor (and --prior-mean); bad_input naming the file on a shape that
/// does not match the lead field's columns.
factor_prior read_factor_prior(const problem_inputs& o, const loaded_problem& p);

/// Samples z of y − A μ = (A F) z + n with the N(0, I) prior (the chosen sampler and
/// design), maps x = μ + F z of every kept draw, and accumulates the maps of x with
/// maps_from_draws: the cascade split of x under N(μ, F Fᵀ) (include/twofold/sampling/sample.hpp).
sample_result sample_factor_prior(const context& ctx, const loaded_problem& p, const factor_prior& f, double sigma,
                                  const sampler_params& sp, const design_params& design,
                                  const progress_callback& progress);

/// --design sbc with this prior: SBC of the sampler on z (operator A F, prior N(0, I)),
/// x* = μ + F z* and every draw mapped to x = μ + F z (the library's latent-factor SBC,
/// include/twofold/diagnostics/sbc.hpp). p.y's values are not used.
sbc_result calibrate_factor_prior(const context& ctx, const loaded_problem& p, const factor_prior& f, double sigma,
                                  const sampler_params& sp, const sbc_params& params);

/// The exact posterior of the same problem (dense_posterior_factor_prior).
gaussian_posterior_maps factor_prior_reference(const loaded_problem& p, const factor_prior& f, double sigma);

}  // namespace twofold::cli
