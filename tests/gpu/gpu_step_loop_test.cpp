// The CUDA step loop allocates nothing and waits for the device no more than the CPU's:
// the library counts its backend allocations and host waits (to_host reads,
// synchronisations) on both backends alike, so the counts per step must be the CPU's —
// zero allocations for every sampler and operator, zero waits on the spectral path,
// one per step for smc, and on the CG paths the waits of its residual checks, about
// two per solve (host/sampling/conjugate_gradient.cpp). The CPU side of the same
// counts is tests/samplers/allocation_test.cpp. Each count is printed, so the device
// check's log (scripts/device_check.sh) reports them.
#include <twofold/twofold.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/operator_cases.hpp"
#include "tests/support/require_gpu.hpp"
#include "tests/support/step_counters.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <optional>

namespace twofold {
namespace {

using namespace twofold::testing;

TEST(GpuStepLoop, SamplersAllocateAndWaitPerStepAsOnTheCpu) {
  TWOFOLD_NEED_GPU();
  const fourier_case on_cpu, on_cuda({1, 3, 4}, 0.1, {8, 6}, std::nullopt, backend_request::cuda);
  const inverse_problem cpu_problem = on_cpu.problem(), cuda_problem = on_cuda.problem();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                          sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm, sampler_kind::smc})
    for (const auto design : {run_design::replicate, run_design::cascade}) {
      const step_counts c = per_twenty_steps(on_cpu.ctx, cpu_problem, on_cpu.prior, kind, design),
                        g = per_twenty_steps(on_cuda.ctx, cuda_problem, on_cuda.prior, kind, design);
      std::cout << "per 20 steps, " << to_string(kind) << " " << to_string(design) << ": cuda " << g.allocations
                << " allocations, " << g.host_waits << " host waits (cpu " << c.allocations << ", " << c.host_waits
                << ")\n";
      EXPECT_EQ(g.allocations, 0u) << to_string(kind) << " " << to_string(design);
      EXPECT_EQ(g.host_waits, c.host_waits) << to_string(kind) << " " << to_string(design);
    }
}

TEST(GpuStepLoop, OperatorsAllocateAndWaitPerStepAsOnTheCpu) {
  // Langevin on every test operator, cascade: stage 2's projections run CG where the
  // operator has no spectral form (multi-coil, dense).
  TWOFOLD_NEED_GPU();
  const context cpu(backend_request::cpu), cuda(backend_request::cuda);
  for (const auto& c : operator_cases()) {
    const step_counts counts[2] = {per_twenty_langevin_steps(cpu, c, run_design::cascade),
                                   per_twenty_langevin_steps(cuda, c, run_design::cascade)};
    std::cout << "per 20 steps, langevin cascade on " << c.label << ": cuda " << counts[1].allocations
              << " allocations, " << counts[1].host_waits << " host waits (cpu " << counts[0].allocations << ", "
              << counts[0].host_waits << ")\n";
    EXPECT_EQ(counts[1].allocations, 0u) << c.label;
    // CG's iteration counts may differ between the backends by float rounding, and with
    // them where its residual checks fall: a quarter more waits than the CPU's at most.
    EXPECT_LE(counts[1].host_waits, counts[0].host_waits + counts[0].host_waits / 4 + 2) << c.label;
  }
}

}  // namespace
}  // namespace twofold
