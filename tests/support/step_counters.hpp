#pragma once
// Allocations and host waits per sampler step, counted by the library
// (detail::allocation_count, detail::host_wait_count) on any backend: the
// difference between one sample() call with 30 noise levels and one with 10, so
// the per-wave setup cancels. Used by tests/samplers/allocation_test.cpp on the CPU
// and tests/gpu/gpu_step_loop_test.cpp on CUDA.
#include <twofold/twofold.hpp>

#include "tests/support/operator_cases.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace twofold::testing {

struct step_counts {
  std::size_t allocations = 0, host_waits = 0;
};

/// Allocations and host waits of one sample() call with `levels` noise levels (one wave).
inline step_counts counts_of_one_sample(const context& ctx, const inverse_problem& problem, const prior& p,
                                        sampler_params sp, std::size_t levels, run_design design) {
  sp.schedule.levels = levels;
  design_params d;
  d.kind = design;
  d.runs = 2;
  d.chains_per_run = 4;
  const std::size_t allocations = detail::allocation_count(), waits = detail::host_wait_count();
  (void)sample(ctx, problem, p, sp, d);
  return {detail::allocation_count() - allocations, detail::host_wait_count() - waits};
}

/// The extra allocations and host waits of 20 more levels; 0 when the steps allocate
/// (or wait for) nothing.
inline step_counts per_twenty_steps(const context& ctx, const inverse_problem& problem, const prior& p,
                                    sampler_kind kind, run_design design = run_design::cascade) {
  sampler_params sp;
  sp.kind = kind;
  sp.langevin.step = 0.05;  // stable on every test operator
  const step_counts few = counts_of_one_sample(ctx, problem, p, sp, 10, design),
                    more = counts_of_one_sample(ctx, problem, p, sp, 30, design);
  return {more.allocations > few.allocations ? more.allocations - few.allocations : 0,
          more.host_waits > few.host_waits ? more.host_waits - few.host_waits : 0};
}

/// per_twenty_steps of Langevin on test operator `c`: a white pixel-basis prior and
/// constant data (the counts do not depend on the values).
inline step_counts per_twenty_langevin_steps(const context& ctx, const operator_case& c, run_design design) {
  const std::shared_ptr<const linear_operator> op = c.make(ctx);
  const image_shape s = op->domain();
  const gaussian_prior prior(ctx, gaussian_basis::pixel, s, std::vector<cfloat>(s.pixels()),
                             std::vector<float>(s.pixels(), 1.0f));
  const inverse_problem problem(ctx, op, std::vector<cfloat>(op->codomain().pixels(), cfloat{0.1f, 0.0f}), 0.1,
                                c.values);
  return per_twenty_steps(ctx, problem, prior, sampler_kind::langevin, design);
}

}  // namespace twofold::testing
