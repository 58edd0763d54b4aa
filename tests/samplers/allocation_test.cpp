// Sampler steps allocate no backend memory: every buffer a run needs is allocated
// once per wave, so doubling the number of noise levels leaves the number of
// allocations unchanged. On the GPU each allocation and free is a device-wide
// synchronisation; on the CPU a large one is a fresh mapping paid in page faults.
#include <twofold/twofold.hpp>

#include "tests/support/fourier_case.hpp"
#include "tests/support/operator_cases.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace twofold {
namespace {

/// Allocations of one sample() call with `levels` noise levels (one wave).
std::size_t allocations(const context& ctx, const inverse_problem& problem, const prior& p, sampler_params sp,
                        std::size_t levels, run_design design) {
  sp.schedule.levels = levels;
  design_params d;
  d.kind = design;
  d.runs = 2;
  d.chains_per_run = 4;
  const std::size_t before = detail::allocation_count();
  (void)sample(ctx, problem, p, sp, d);
  return detail::allocation_count() - before;
}

/// The extra allocations of 20 more levels; 0 when the steps allocate nothing.
std::size_t per_step_allocations(const context& ctx, const inverse_problem& problem, const prior& p,
                                 sampler_kind kind, run_design design = run_design::cascade) {
  sampler_params sp;
  sp.kind = kind;
  sp.langevin.step = 0.05;  // stable on every test operator
  const std::size_t few = allocations(ctx, problem, p, sp, 10, design),
                    more = allocations(ctx, problem, p, sp, 30, design);
  return more > few ? more - few : 0;
}

TEST(Allocations, NoSamplerAllocatesPerStep) {
  testing::fourier_case fc;
  const auto problem = fc.problem();
  const std::vector<double> w{0.6, 0.4};
  std::vector<cfloat> means(fc.prior.mean());
  for (const cfloat m : fc.prior.mean()) means.push_back(m + cfloat{0.5f, 0.0f});
  std::vector<float> variances(fc.prior.variance());
  variances.insert(variances.end(), fc.prior.variance().begin(), fc.prior.variance().end());
  const gaussian_mixture_prior mixture(fc.ctx, gaussian_basis::fourier, fc.shape, w, means, variances);
  for (const prior* p : {static_cast<const prior*>(&fc.prior), static_cast<const prior*>(&mixture)})
    for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto, sampler_kind::dps,
                            sampler_kind::pigdm, sampler_kind::ddrm, sampler_kind::ddnm, sampler_kind::smc}) {
      if (kind == sampler_kind::pto && p == &mixture) continue;  // pto needs a Gaussian prior
      // Cascade: stage 1 and the stage-2 completions (range/null projections per step).
      EXPECT_EQ(per_step_allocations(fc.ctx, problem, *p, kind, run_design::replicate), 0u)
          << to_string(kind) << " with " << p->name() << ", replicate";
      EXPECT_EQ(per_step_allocations(fc.ctx, problem, *p, kind), 0u) << to_string(kind) << " with " << p->name();
    }
}

/// The extra host waits (to_host reads, synchronisations) of 20 more levels.
std::size_t per_step_host_waits(const context& ctx, const inverse_problem& problem, const prior& p, sampler_kind kind) {
  sampler_params sp;
  sp.kind = kind;
  const auto waits = [&](std::size_t levels) {
    const std::size_t before = detail::host_wait_count();
    (void)allocations(ctx, problem, p, sp, levels, run_design::replicate);
    return detail::host_wait_count() - before;
  };
  const std::size_t few = waits(10), more = waits(30);
  return more > few ? more - few : 0;
}

TEST(HostWaits, StepsOfTheSpectralPathNeverWaitForTheBackend) {
  // On a GPU every wait is a synchronisation of the stream. The samplers' steps on
  // an operator with a spectral form queue their work and read nothing back; smc
  // reads each system's log-weights once per step to decide on resampling.
  testing::fourier_case fc;
  const auto problem = fc.problem();
  for (const auto kind : {sampler_kind::exact, sampler_kind::langevin, sampler_kind::dps, sampler_kind::pigdm,
                          sampler_kind::ddrm, sampler_kind::ddnm})
    EXPECT_EQ(per_step_host_waits(fc.ctx, problem, fc.prior, kind), 0u) << to_string(kind);
  EXPECT_EQ(per_step_host_waits(fc.ctx, problem, fc.prior, sampler_kind::smc), 20u) << "smc: one read per step";
}

TEST(Allocations, NoOperatorAllocatesPerLangevinStep) {
  const context ctx(backend_request::cpu);
  for (const auto& c : testing::operator_cases()) {
    const std::shared_ptr<const linear_operator> op = c.make(ctx);
    const image_shape s = op->domain();
    const gaussian_prior prior(ctx, gaussian_basis::pixel, s, std::vector<cfloat>(s.pixels()),
                               std::vector<float>(s.pixels(), 1.0f));
    const inverse_problem problem(ctx, op, std::vector<cfloat>(op->codomain().pixels(), cfloat{0.1f, 0.0f}), 0.1,
                                  c.values);
    // Replicate: the likelihood step's AᴴA; cascade: stage 2's projections as well
    // (where the operator allows the cascade).
    EXPECT_EQ(per_step_allocations(ctx, problem, prior, sampler_kind::langevin, run_design::replicate), 0u)
        << c.label << " replicate";
    EXPECT_EQ(per_step_allocations(ctx, problem, prior, sampler_kind::langevin), 0u) << c.label << " cascade";
  }
}

}  // namespace
}  // namespace twofold
