#pragma once
/// \file
/// Batched preconditioned conjugate gradients: one Hermitian positive definite
/// system per chain, all chains advanced together, each with its own α and β
/// (the per-chain scalars travel to the host once per iteration).

#include <twofold/core/buffer.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <functional>
#include <string_view>

namespace twofold::detail {

using batch_map = std::function<void(const_chain_view in, chain_view out)>;

/// The iteration's batches and per-chain scalars, grown on first use: a solver that
/// runs every step keeps one, so its solves allocate nothing.
struct cg_workspace {
  buffer<cfloat> r, z, p, ap;
  buffer<cdouble> dots;
  buffer<double> coefficients;
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
