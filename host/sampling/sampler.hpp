#pragma once
/// \file
/// The sampler interface the run designs drive (host/sampling/sample.cpp). A sampler fills
/// a batch of chains with draws; the global chain index (rng.first_chain + c)
/// fixes every random number a chain uses, so results do not depend on how
/// chains are grouped into waves.

#include <twofold/priors/prior.hpp>
#include <twofold/problem/inverse_problem.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace twofold::detail {

/// Called after every step of a batch with (steps done, steps in total).
using step_observer = std::function<void(std::size_t, std::size_t)>;

class sampler {
 public:
  virtual ~sampler() = default;
  /// Draws x ~ p(x | y) into every chain of `x`, where chain c (global index
  /// rng.first_chain + c) belongs to run (rng.first_chain + c) / chains_per_run and
  /// conditions on that run's measurement set (inverse_problem::sets()).
  virtual void posterior(const context& ctx, chain_view x, const rng_stream& rng, std::size_t chains_per_run,
                         const step_observer& observe) const = 0;
  /// Cascade stage 2: draws x ~ p(x | P_R x = x_R) where chain c (global index
  /// rng.first_chain + c) belongs to run (rng.first_chain + c) / chains_per_run and
  /// x_R of run r is anchors[r·H·W …] (backend memory).
  virtual void conditional(const context& ctx, chain_view x, const rng_stream& rng, const cfloat* anchors,
                           std::size_t chains_per_run, const step_observer& observe) const = 0;
  /// Steps one chain takes per call (for progress and chain-steps/s).
  virtual std::size_t steps() const = 0;
  /// Chains that sample together as one particle system (smc: the K chains of a
  /// run; 1 for samplers whose chains are independent). posterior() is then only
  /// called with whole systems (global chain indices [k·P, (k+1)·P)), and each output
  /// chain alone is still a posterior draw, so the cascade's stage 1 keeps the first
  /// chain of every system (host/sampling/sample.cpp).
  virtual std::size_t particles() const { return 1; }
  /// Backend bytes per chain of the prior's own scratch (make_sampler sets it from
  /// prior_bytes_per_chain; wave sizing counts it).
  std::size_t prior_bytes_per_chain = 0;
};

/// Backend bytes per chain that `prior` keeps as scratch for a batch (the mixture
/// prior's workspace; 0 for priors whose scratch does not grow with the chains).
std::size_t prior_bytes_per_chain(const prior& prior);

/// How many chains of this operator's images one wave holds: half the backend's free
/// memory over the most one chain needs, counting the FFT engine's work area and
/// `prior_bytes` of the prior's scratch per chain (bad_input when not even one fits).
std::size_t chains_that_fit(const context& ctx, const linear_operator& op, std::size_t prior_bytes = 0);

/// Builds the sampler `params.kind` for this problem and prior; throws bad_input
/// when the combination is unsupported (e.g. `exact` without a shared basis).
/// `chains_per_run` is the design's K (the smc sampler's particles per system).
std::unique_ptr<sampler> make_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                      const sampler_params& params, std::size_t chains_per_run);

std::unique_ptr<sampler> make_langevin_sampler(const context&, const inverse_problem&, const prior&,
                                               const sampler_params&);
std::unique_ptr<sampler> make_exact_sampler(const context&, const inverse_problem&, const prior&,
                                            const sampler_params&);
std::unique_ptr<sampler> make_pto_sampler(const context&, const inverse_problem&, const prior&,
                                          const sampler_params&);
std::unique_ptr<sampler> make_dps_sampler(const context&, const inverse_problem&, const prior&, const sampler_params&);
std::unique_ptr<sampler> make_pigdm_sampler(const context&, const inverse_problem&, const prior&,
                                            const sampler_params&);
std::unique_ptr<sampler> make_ddrm_sampler(const context&, const inverse_problem&, const prior&,
                                           const sampler_params&);
std::unique_ptr<sampler> make_ddnm_sampler(const context&, const inverse_problem&, const prior&,
                                           const sampler_params&);
std::unique_ptr<sampler> make_smc_sampler(const context&, const inverse_problem&, const prior&, const sampler_params&,
                                          std::size_t particles);

}  // namespace twofold::detail
