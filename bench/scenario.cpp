#include "scenario.hpp"

#include "timing.hpp"

#include <twofold/buffer.hpp>
#include <twofold/fft.hpp>
#include <twofold/masks.hpp>
#include <twofold/math/philox.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/phantom.hpp>
#include <twofold/prior.hpp>
#include <twofold/problem.hpp>
#include <twofold/sample.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace twofold::bench {
namespace {

/// fft2c as host/fft.cpp runs it: two centring-phase passes around the library FFT.
void add_fft2c(std::vector<memory_pass>& p, const std::string& direction) {
  p.push_back({"fft2c " + direction + ": centring phase before", 1, 1});
  p.push_back({"fft2c " + direction + ": library FFT (assumed one pass)", 1, 1});
  p.push_back({"fft2c " + direction + ": centring phase after", 1, 1});
}

struct problem_data {
  std::shared_ptr<const fourier_mask_operator> op;
  std::vector<cfloat> kspace;
  std::vector<cfloat> prior_images;
};

/// Phantom 0 of a seeded family is the truth; y = M F x + CN(0, σ_y²) on the mask's
/// lines; phantoms 1 … prior_images estimate the prior.
problem_data make_problem(const context& ctx, const scenario_config& c) {
  const phantom_params family{c.shape, 1, 1.0, true};
  const std::vector<std::uint8_t> lines = make_line_mask({c.shape.width, c.acceleration, 0.0, line_pattern::random, 0});
  const std::vector<float> mask = expand_line_mask(lines, c.shape);

  const std::vector<cfloat> truth = make_phantom(family, 0);
  chain_buffer k(ctx, 1, c.shape);
  detail::copy_bytes(ctx, k.storage.data(), truth.data(), truth.size() * sizeof(cfloat));
  fft2c(ctx, k.view(), fft_direction::forward);
  std::vector<cfloat> kspace = to_host(ctx, k.storage);
  for (std::size_t i = 0; i < kspace.size(); ++i)
    kspace[i] = mask[i] * (kspace[i] + float(c.sigma_y) * complex_normal(1, 0, 0, rng_purpose::measurement_noise, i));

  return {std::make_shared<fourier_mask_operator>(ctx, c.shape, mask), std::move(kspace),
          make_phantom_family(family, 1, c.prior_images)};
}

}  // namespace

std::vector<memory_pass> passes_per_step(sampler_kind kind) {
  std::vector<memory_pass> p;
  if (kind == sampler_kind::langevin) {
    // langevin_sampler::run: denoise, normal (= copy + range_project), langevin_step.
    p.push_back({"denoise: gaussian_shrink d <- D(u, s) (pixel basis)", 1, 1});
    p.push_back({"normal: copy u -> g", 1, 1});
    add_fft2c(p, "forward");
    p.push_back({"normal: multiply_by_map g *= mask", 1, 1});
    add_fft2c(p, "inverse");
    p.push_back({"langevin_step: reads u, d, g; writes u", 3, 1});
  } else if (kind == sampler_kind::exact) {
    // exact_sampler::ancestral: Fourier-basis denoise (copy, fft2c, shrink, fft2c), ancestral_step.
    p.push_back({"denoise: copy u -> d", 1, 1});
    add_fft2c(p, "forward");
    p.push_back({"denoise: gaussian_shrink in k-space, in place", 1, 1});
    add_fft2c(p, "inverse");
    p.push_back({"ancestral_step: reads u, d; writes u", 2, 1});
  }
  return p;
}

std::vector<scenario_config> single_coil_scenarios(size_preset size, std::size_t repeats) {
  const bool gpu = size == size_preset::gpu;
  scenario_config base;
  base.name = "single-coil line mask";
  base.shape = gpu ? image_shape{256, 256} : image_shape{64, 64};
  base.runs = gpu ? 8 : 2;
  base.chains_per_run = gpu ? 512 : 16;  // 4096 or 32 chains
  base.prior_images = gpu ? 64 : 32;
  base.repeats = repeats;

  scenario_config langevin = base;  // 250 × 4 = 1000 or 25 × 4 = 100 steps
  langevin.sampler = sampler_kind::langevin;
  langevin.inner_steps = 4;
  langevin.levels = gpu ? 250 : 25;

  scenario_config exact = base;  // one step per level
  exact.sampler = sampler_kind::exact;
  exact.inner_steps = 1;
  exact.levels = gpu ? 1000 : 100;
  return {langevin, exact};
}

sampler_params sampler_settings(const scenario_config& c) {
  sampler_params p;
  p.kind = c.sampler;
  p.schedule.kind = schedule_kind::edm_karras;
  p.schedule.levels = c.levels;
  p.langevin.inner_steps = c.inner_steps;
  return p;
}

scenario_result run_scenario(const context& ctx, const scenario_config& c, double copy_bytes_per_second) {
  const problem_data data = make_problem(ctx, c);
  const inverse_problem problem(ctx, data.op, data.kspace, c.sigma_y);
  const gaussian_basis basis = c.sampler == sampler_kind::exact ? gaussian_basis::fourier : gaussian_basis::pixel;
  const gaussian_prior prior = estimate_gaussian_prior(ctx, basis, c.shape, data.prior_images);
  const design_params design{run_design::replicate, c.runs, c.chains_per_run, 0, 0};

  sampler_params warm = sampler_settings(c);
  warm.schedule.levels = 2;
  warm.langevin.inner_steps = 1;
  (void)sample(ctx, problem, prior, warm, design);
  ctx.synchronize();

  scenario_result r;
  r.config = c;
  const sampler_params params = sampler_settings(c);
  for (std::size_t i = 0; i < c.repeats; ++i) {
    const stopwatch watch;
    const sample_result s = sample(ctx, problem, prior, params, design);
    ctx.synchronize();
    r.wall_seconds.push_back(watch.seconds());
    r.engine_seconds.push_back(s.report.seconds);
    r.waves = s.report.waves;
    r.wave_chains = s.report.wave_chains;
    if (s.report.chains != c.chains() || s.report.steps_per_chain != c.steps_per_chain())
      throw std::logic_error("benchmark and engine disagree on chains or steps: " + std::to_string(s.report.chains) +
                             " x " + std::to_string(s.report.steps_per_chain) + " run, " + std::to_string(c.chains()) +
                             " x " + std::to_string(c.steps_per_chain()) + " expected");
  }
  r.seconds = median(r.wall_seconds);
  r.chain_steps_per_second = double(c.chains()) * double(c.steps_per_chain()) / r.seconds;
  r.passes = passes_per_step(c.sampler);
  int passes = 0;
  for (const auto& p : r.passes) passes += p.reads + p.writes;
  r.bytes_per_chain_step = double(passes) * double(c.shape.pixels()) * double(sizeof(cfloat));
  r.achieved_bytes_per_second = r.chain_steps_per_second * r.bytes_per_chain_step;
  r.roofline_fraction = r.achieved_bytes_per_second / copy_bytes_per_second;
  return r;
}

}  // namespace twofold::bench
