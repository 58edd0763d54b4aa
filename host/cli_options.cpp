#include "host/cli_commands.hpp"

#include <twofold/error.hpp>

#include <string>

namespace twofold::cli {

void add_common_options(CLI::App& app, common_options& o) {
  app.add_option("--backend", o.backend, "auto | cpu | cuda")->capture_default_str();
  app.add_option("--sampler", o.sampler, "langevin | exact | pto | dps | pigdm | ddrm | ddnm | smc")
      ->capture_default_str();
  app.add_option("--design", o.design, "cascade | replicate | sbc (sample only: simulation-based calibration)")
      ->capture_default_str();
  app.add_option("--runs", o.runs, "runs R (>= 2)")->capture_default_str();
  app.add_option("--chains", o.chains, "chains per run K (>= 2)")->capture_default_str();
  app.add_option("--schedule", o.schedule, "edm | ve | vp-cosine | vp-linear")->capture_default_str();
  app.add_option("--levels", o.levels, "noise levels of the schedule")->capture_default_str();
  app.add_option("--s-min", o.s_min, "smallest noise level (data units)")->capture_default_str();
  app.add_option("--s-max", o.s_max, "largest noise level (data units)")->capture_default_str();
  app.add_option("--inner-steps", o.inner_steps, "langevin steps per level")->capture_default_str();
  app.add_option("--step", o.step, "langevin step epsilon in (0, 1]")->capture_default_str();
  app.add_option("--gamma", o.gamma, "langevin annealed-likelihood gamma")->capture_default_str();
  app.add_option("--cg-tolerance", o.cg_tolerance, "pto, pigdm, smc: relative CG residual")->capture_default_str();
  sampler_params& p = o.paper_defaults;
  app.add_option("--dps-zeta", p.dps.zeta, "dps step size zeta")->capture_default_str();
  app.add_option("--pigdm-eta", p.pigdm.eta, "pigdm DDIM eta")->capture_default_str();
  app.add_option("--pigdm-data-variance", p.pigdm.data_variance, "pigdm data variance v in r^2 = s^2 v/(v + s^2)")
      ->capture_default_str();
  app.add_option("--ddrm-eta", p.ddrm.eta, "ddrm eta")->capture_default_str();
  app.add_option("--ddrm-eta-b", p.ddrm.eta_b, "ddrm eta_b")->capture_default_str();
  app.add_option("--ddnm-eta", p.ddnm.eta, "ddnm DDIM eta")->capture_default_str();
  app.add_option("--smc-ess", p.smc.ess_threshold, "smc: resample when ESS < this fraction of the particles")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("--wave-chains", o.wave_chains, "chains per wave (0: from free memory)")->capture_default_str();
  app.add_option("--out", o.out, "output folder")->capture_default_str();
}

sampler_params to_sampler_params(const common_options& o) {
  sampler_params p = o.paper_defaults;
  p.kind = parse_sampler(o.sampler);
  p.schedule.kind = parse_schedule(o.schedule);
  p.schedule.levels = o.levels;
  p.schedule.s_min = o.s_min;
  p.schedule.s_max = o.s_max;
  p.langevin.inner_steps = o.inner_steps;
  p.langevin.step = o.step;
  p.langevin.gamma = o.gamma;
  p.cg.tolerance = o.cg_tolerance;
  noise_levels(p.schedule);  // validates the schedule before any work starts
  return p;
}

design_params to_design_params(const common_options& o) {
  design_params d;
  d.kind = parse_design(o.design);
  d.runs = o.runs;
  d.chains_per_run = o.chains;
  d.seed = o.seed;
  d.wave_chains = o.wave_chains;
  TWOFOLD_EXPECTS(o.runs >= 2, "--runs must be >= 2 (got " + std::to_string(o.runs) + ")");
  TWOFOLD_EXPECTS(o.chains >= 2, "--chains must be >= 2 (got " + std::to_string(o.chains) + ")");
  return d;
}

}  // namespace twofold::cli
