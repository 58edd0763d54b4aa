#pragma once
/// \file
/// The per-pixel uncertainty maps of docs/design.md §1.6 from the across-run state of
/// three nested accumulators (x, P_R x, P_N x), as one element-wise functor, so that
/// the maps are formed on the backend (and stay there when the caller asks).

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include "host/math/welford.hpp"

#include <cstddef>

namespace twofold::math {

/// One accumulator's state after its last run: per pixel, the Welford over the run
/// means m_r and the sum over runs of the within-run variances v_r.
struct across_runs {
  const welford* run_means;
  const double* within_sum;
};

/// Pixel p of every map, over `runs` runs of `chains_per_run` chains. `ambiguity`
/// null: the replicate design (no ambiguity, estimation or clipped estimation; the
/// total is the mean within-run variance); otherwise the cascade (total = â + ê).
struct uncertainty_map_pixel {
  across_runs x, range, null;
  double runs, chains_per_run;
  cdouble* mean;
  double* total_variance;
  double* between_run_variance;
  double* range_variance;
  double* null_variance;
  double* ambiguity;
  double* estimation;
  double* estimation_clipped;

  TWOFOLD_HD double within(const across_runs& a, std::size_t p) const { return a.within_sum[p] / runs; }
  TWOFOLD_HD double between(const across_runs& a, std::size_t p) const {
    return runs > 1 ? a.run_means[p].m2 / (runs - 1) : 0.0;
  }
  TWOFOLD_HD double total(const across_runs& a, std::size_t p) const {
    const double w = within(a, p);
    return ambiguity ? w + between(a, p) - w / chains_per_run : w;
  }
  TWOFOLD_HD void operator()(std::size_t p) const {
    mean[p] = x.run_means[p].mean;
    between_run_variance[p] = between(x, p);
    total_variance[p] = total(x, p);
    range_variance[p] = total(range, p);
    null_variance[p] = total(null, p);
    if (ambiguity) {
      const double w = within(x, p), e = between(x, p) - w / chains_per_run;
      ambiguity[p] = w;
      estimation[p] = e;
      estimation_clipped[p] = e > 0 ? e : 0.0;
    }
  }
};

}  // namespace twofold::math
