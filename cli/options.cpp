#include "commands.hpp"

#include <twofold/twofold.hpp>

#include <string>

namespace twofold::cli {

void add_common_options(CLI::App& app, common_options& o) {
  sampler_params& p = o.sampling;
  design_params& d = o.runs;
  app.add_option("--backend", o.backend, "auto | cpu | cuda")->capture_default_str();
  app.add_option("--sampler", o.sampler, "langevin | exact | pto | dps | pigdm | ddrm | ddnm | smc")
      ->capture_default_str();
  app.add_option("--design", o.design, "cascade | replicate | sbc (sample only: simulation-based calibration)")
      ->capture_default_str();
  app.add_option("--runs", d.runs, "runs R (>= 2)")->capture_default_str();
  app.add_option("--chains", d.chains_per_run, "chains per run K (>= 2)")->capture_default_str();
  app.add_option("--schedule", o.schedule, "edm | ve | vp-cosine | vp-linear")->capture_default_str();
  app.add_option("--levels", p.schedule.levels, "noise levels of the schedule")->capture_default_str();
  app.add_option("--s-min", p.schedule.s_min, "smallest noise level (data units)")->capture_default_str();
  app.add_option("--s-max", p.schedule.s_max, "largest noise level (data units)")->capture_default_str();
  app.add_option("--inner-steps", p.langevin.inner_steps, "langevin steps per level")->capture_default_str();
  app.add_option("--step", p.langevin.step, "langevin step epsilon in (0, 1]")->capture_default_str();
  app.add_option("--gamma", p.langevin.gamma, "langevin annealed-likelihood gamma")->capture_default_str();
  app.add_option("--cg-tolerance", p.cg.tolerance, "pto, pigdm, smc: relative CG residual")->capture_default_str();
  app.add_option("--dps-zeta", p.dps.zeta, "dps step size zeta")->capture_default_str();
  app.add_option("--pigdm-eta", p.pigdm.eta, "pigdm DDIM eta")->capture_default_str();
  app.add_option("--pigdm-data-variance", p.pigdm.data_variance, "pigdm data variance v in r^2 = s^2 v/(v + s^2)")
      ->capture_default_str();
  app.add_option("--ddrm-eta", p.ddrm.eta, "ddrm eta")->capture_default_str();
  app.add_option("--ddrm-eta-b", p.ddrm.eta_b, "ddrm eta_b")->capture_default_str();
  app.add_option("--ddnm-eta", p.ddnm.eta, "ddnm DDIM eta")->capture_default_str();
  app.add_option("--smc-ess", p.smc.ess_threshold, "smc: resample when ESS < this fraction of the particles")
      ->capture_default_str();
  app.add_option("--seed", d.seed, "random seed")->capture_default_str();
  app.add_option("--wave-chains", d.wave_chains, "chains per wave (0: from free memory)")->capture_default_str();
  app.add_option("--out", o.out, "output folder")->capture_default_str();
}

sampler_params to_sampler_params(const common_options& o) {
  sampler_params p = o.sampling;
  p.kind = parse_sampler(o.sampler);
  p.schedule.kind = parse_schedule(o.schedule);
  noise_levels(p.schedule);  // validates the schedule before any work starts
  return p;
}

design_params to_design_params(const common_options& o) {
  design_params d = o.runs;
  d.kind = parse_design(o.design);
  TWOFOLD_EXPECTS(d.runs >= 2, "--runs must be >= 2 (got " + std::to_string(d.runs) + ")");
  TWOFOLD_EXPECTS(d.chains_per_run >= 2, "--chains must be >= 2 (got " + std::to_string(d.chains_per_run) + ")");
  return d;
}

}  // namespace twofold::cli
