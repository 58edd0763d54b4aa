#pragma once
/// \file
/// Batched preconditioned conjugate gradients: one Hermitian positive definite
/// system per chain, all chains advanced together, each with its own α and β.
/// The per-chain scalars are computed on the backend (host/math/cg_scalars.hpp); the
/// host reads the residuals back first after as many iterations as the previous solve
/// on the same workspace needed, then every cg_check_interval iterations, and once at
/// the end: a sampler's solve of every step usually waits for the backend twice.

#include <twofold/core/buffer.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <functional>
#include <string_view>

namespace twofold::detail {

using batch_map = std::function<void(const_chain_view in, chain_view out)>;

/// The iteration's batches and per-chain scalars, grown on first use: a solver that
/// runs every step keeps one, so its solves allocate nothing.
/// Iterations between two reads of the residuals (each a host wait). Converged chains
/// step by α = 0, so the up to cg_check_interval − 1 iterations run after the last chain
/// converged change no result, only cost time.
inline constexpr std::size_t cg_check_interval = 8;

struct cg_workspace {
  buffer<cfloat> r, z, p, ap;
  buffer<cdouble> dots;   ///< three rows of per-chain dot products
  buffer<double> scalars; ///< math::cg_rows rows of per-chain scalars
  std::size_t expected_iterations = 0;  ///< the last solve's: where the next one first checks
  void reserve(const context& ctx, std::size_t chains, std::size_t pixels);
};

struct cg_report {
  std::size_t iterations = 0;
  double worst_relative_residual = 0;
};

/// Solves op(x_c) = b_c for every chain c, starting from x; `precondition` applies
/// an approximation of op⁻¹ (Hermitian positive definite). Throws runtime_failure
/// naming the solve (`what`, with advice for the user), the worst chain and its
/// residual if any chain misses the tolerance after max_iterations.
/// `workspace`: reused scratch (nullptr: allocated for this solve).
cg_report batched_cg(const context& ctx, const batch_map& op, const batch_map& precondition, const_chain_view b,
                     chain_view x, const cg_params& params, std::string_view what,
                     cg_workspace* workspace = nullptr);

}  // namespace twofold::detail
