#pragma once
/// \file
/// The per-chain scalars of batched conjugate gradients (host/sampling/conjugate_gradient.cpp),
/// computed where the vectors live: one thread (GPU) or loop index (CPU) per chain, the
/// same code on both backends, so an iteration reads nothing back. The scalars of C
/// chains sit in one array of cg_rows × C doubles, row by row.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include <cstddef>

namespace twofold::math {

/// The rows of the CG's scalar array.
enum cg_row : std::size_t {
  cg_rz,          ///< rᴴ z (z = preconditioned r)
  cg_rr,          ///< rᴴ r, the recursively updated residual
  cg_limit,       ///< tolerance² · bᴴ b: chain c is converged while rr ≤ limit
  cg_alpha,       ///< this iteration's step length (0 for a converged chain)
  cg_beta,        ///< this iteration's direction update
  cg_iterations,  ///< iterations chain c needed: 1 + the last iteration it was not converged at
  cg_bb,          ///< bᴴ b
  cg_true_rr,     ///< ‖b − A x‖² recomputed after the last iteration
  cg_rows
};

/// The scalars before the first iteration, from the dot products bᴴb, rᴴz and rᴴr.
struct cg_start {
  double* s;
  const cdouble* bb;
  const cdouble* rz;
  const cdouble* rr;
  std::size_t chains;
  double tolerance;
  TWOFOLD_HD void operator()(std::size_t c) const {
    s[cg_rz * chains + c] = rz[c].re;
    s[cg_rr * chains + c] = rr[c].re;
    s[cg_limit * chains + c] = tolerance * tolerance * bb[c].re;
    s[cg_bb * chains + c] = bb[c].re;
    s[cg_iterations * chains + c] = 0;
  }
};

/// α_c = rz / pᴴAp, or 0 where chain c has converged (or pᴴAp ≤ 0: a breakdown leaves
/// the chain where it is), for iteration `iteration` (from 0).
struct cg_step_length {
  double* s;
  const cdouble* pap;
  std::size_t chains;
  double iteration;
  TWOFOLD_HD void operator()(std::size_t c) const {
    const double rr = s[cg_rr * chains + c];
    const bool converged = rr <= s[cg_limit * chains + c];
    s[cg_alpha * chains + c] = converged || pap[c].re <= 0 ? 0.0 : s[cg_rz * chains + c] / pap[c].re;
    if (!converged) s[cg_iterations * chains + c] = iteration + 1;
  }
};

/// β_c = rz_new / rz (0 when rz ≤ 0), and rz, rr moved on to the new residual's.
struct cg_direction_update {
  double* s;
  const cdouble* rz_new;
  const cdouble* rr_new;
  std::size_t chains;
  TWOFOLD_HD void operator()(std::size_t c) const {
    const double rz = s[cg_rz * chains + c];
    s[cg_beta * chains + c] = rz > 0 ? rz_new[c].re / rz : 0.0;
    s[cg_rz * chains + c] = rz_new[c].re;
    s[cg_rr * chains + c] = rr_new[c].re;
  }
};

/// The recomputed residual's squared norm into its row (read back with the others).
struct cg_record_true_residual {
  double* s;
  const cdouble* rr;
  std::size_t chains;
  TWOFOLD_HD void operator()(std::size_t c) const { s[cg_true_rr * chains + c] = rr[c].re; }
};

}  // namespace twofold::math
