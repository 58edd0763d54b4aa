#include "commands.hpp"

#include <twofold/twofold.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

namespace twofold::cli {

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

CLI::Validator count_in(std::uint64_t lo, std::uint64_t hi) {
  const std::string range = "a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits) return "must be " + range + " (got '" + text + "')";
        errno = 0;
        const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE || v < lo || v > hi) return "must be " + range + " (got " + text + ")";
        return {};
      },
      range);
}

CLI::Validator number_in(double lo, double hi, bool lo_open, bool hi_open) {
  const std::string range = std::string("a finite number in ") + (lo_open ? "(" : "[") + number_text(lo) + ", " +
                            number_text(hi) + (hi_open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        const bool parsed = !text.empty() && end != nullptr && *end == 0 && errno != ERANGE;
        const bool inside = parsed && std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
        if (!inside) return "must be " + range + " (got '" + text + "')";
        return {};
      },
      range);
}

CLI::Validator sigma_range() {
  // σ² and 1/σ² must be normal float32 numbers: the sampler works in float.
  return number_in(1e-18, 1e18, false, false)
      .description("noise std in [1e-18, 1e18] (sigma^2 and 1/sigma^2 must be normal float32 numbers)");
}

void add_common_options(CLI::App& app, common_options& o) {
  sampler_params& p = o.sampling;
  design_params& d = o.runs;
  app.add_option("--backend", o.backend, "auto | cpu | cuda")->capture_default_str();
  app.add_option("--sampler", o.sampler, "langevin | exact | pto | dps | pigdm | ddrm | ddnm | smc")
      ->capture_default_str();
  app.add_option("--design", o.design, "cascade | replicate | sbc (sample only: simulation-based calibration)")
      ->capture_default_str();
  app.add_option("--runs", d.runs, "runs R (>= 2)")->capture_default_str()->check(count_in(2, 1000000));
  app.add_option("--chains", d.chains_per_run, "chains per run K (>= 2)")->capture_default_str()->check(count_in(2, 1000000));
  app.add_option("--schedule", o.schedule, "edm | ve | vp-cosine | vp-linear")->capture_default_str();
  app.add_option("--levels", p.schedule.levels, "noise levels of the schedule")->capture_default_str()->check(count_in(2, 1000000));
  app.add_option("--s-min", p.schedule.s_min, "smallest noise level (data units)")->capture_default_str()->check(number_in(1e-18, 1e18, false, false));
  app.add_option("--s-max", p.schedule.s_max, "largest noise level (data units)")->capture_default_str()->check(number_in(1e-18, 1e18, false, false));
  app.add_option("--inner-steps", p.langevin.inner_steps, "langevin steps per level")->capture_default_str()->check(count_in(1, 10000));
  app.add_option("--step", p.langevin.step, "langevin step epsilon in (0, 1]")->capture_default_str()->check(number_in(0, 1, true, false));
  app.add_option("--gamma", p.langevin.gamma, "langevin annealed-likelihood gamma")->capture_default_str()->check(number_in(0, 1e6, false, false));
  app.add_option("--cg-tolerance", p.cg.tolerance, "pto, pigdm, smc: relative CG residual")->capture_default_str()->check(number_in(0, 1, true, true));
  app.add_option("--dps-zeta", p.dps.zeta, "dps step size zeta (the paper: 0.1 to 1)")->capture_default_str()->check(number_in(0, 100, true, false));
  app.add_option("--pigdm-eta", p.pigdm.eta, "pigdm DDIM eta")->capture_default_str()->check(number_in(0, 1, false, false));
  app.add_option("--pigdm-data-variance", p.pigdm.data_variance, "pigdm data variance v in r^2 = s^2 v/(v + s^2)")
      ->capture_default_str()
      ->check(number_in(1e-18, 1e18, false, false));
  app.add_option("--ddrm-eta", p.ddrm.eta, "ddrm eta")->capture_default_str()->check(number_in(0, 1, false, false));
  app.add_option("--ddrm-eta-b", p.ddrm.eta_b, "ddrm eta_b")->capture_default_str()->check(number_in(0, 1, false, false));
  app.add_option("--ddnm-eta", p.ddnm.eta, "ddnm DDIM eta")->capture_default_str()->check(number_in(0, 1, false, false));
  app.add_option("--smc-ess", p.smc.ess_threshold, "smc: resample when ESS < this fraction of the particles")
      ->capture_default_str()
      ->check(number_in(0, 1, true, false));
  app.add_option("--seed", d.seed, "random seed")->capture_default_str()->check(count_in(0, std::numeric_limits<std::uint64_t>::max()));
  app.add_option("--wave-chains", d.wave_chains, "chains per wave (0: from free memory)")->capture_default_str()->check(count_in(0, 1000000000));
  app.add_option("--out", o.out,
                 "output folder: replaced as a whole when the run succeeds; refused when it holds an input, or is "
                 "not empty and was not written by twofold (unless --force)")
      ->capture_default_str();
  app.add_flag("--force", o.force, "replace a non-empty --out folder that twofold did not write (never one holding an input)");
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
