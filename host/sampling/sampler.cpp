#include "host/sampling/sampler.hpp"

#include <twofold/core/error.hpp>
#include <twofold/priors/gaussian_mixture.hpp>
#include "host/priors/mixture_scratch.hpp"

#include <string>

namespace twofold {

namespace {
constexpr sampler_kind all_samplers[] = {sampler_kind::exact, sampler_kind::langevin, sampler_kind::pto,
                                         sampler_kind::dps,   sampler_kind::pigdm,    sampler_kind::ddrm,
                                         sampler_kind::ddnm,  sampler_kind::smc};
}  // namespace

sampler_kind parse_sampler(std::string_view text) {
  std::string names;
  for (const sampler_kind k : all_samplers) {
    if (text == to_string(k)) return k;
    names += (names.empty() ? "" : ", ") + std::string(to_string(k));
  }
  TWOFOLD_EXPECTS(false, "sampler must be one of " + names + " (got '" + std::string(text) + "')");
}

std::string_view to_string(sampler_kind kind) {
  switch (kind) {
    case sampler_kind::exact: return "exact";
    case sampler_kind::langevin: return "langevin";
    case sampler_kind::pto: return "pto";
    case sampler_kind::dps: return "dps";
    case sampler_kind::pigdm: return "pigdm";
    case sampler_kind::ddrm: return "ddrm";
    case sampler_kind::ddnm: return "ddnm";
    case sampler_kind::smc: return "smc";
  }
  return "?";
}

namespace detail {

std::unique_ptr<sampler> make_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                      const sampler_params& params, std::size_t chains_per_run) {
  TWOFOLD_EXPECTS(prior.shape() == problem.shape(), "prior image shape " + to_string(prior.shape()) +
                                                       " differs from the operator's image shape " +
                                                       to_string(problem.shape()));
  if (const gaussian_prior* gaussian = prior.gaussian_form(); gaussian && problem.is_real()) {
    TWOFOLD_EXPECTS(gaussian->basis() == gaussian_basis::pixel,
                    "a real-valued problem needs a pixel-basis prior (a Fourier-basis prior draws complex images)");
    for (const cfloat m : gaussian->mean())
      TWOFOLD_EXPECTS(m.im == 0.0f, "a real-valued problem needs a real prior mean");
  }
  if (const gaussian_mixture_prior* mixture = prior.mixture_form())
    TWOFOLD_EXPECTS(mixture->values() == problem.values(),
                    std::string("the mixture prior is ") + (mixture->values() == field::real ? "real" : "complex") +
                        "-valued but the problem is " + (problem.is_real() ? "real" : "complex") +
                        "-valued; build the prior with the problem's field");
  std::unique_ptr<sampler> s;
  switch (params.kind) {
    case sampler_kind::exact: s = make_exact_sampler(ctx, problem, prior, params); break;
    case sampler_kind::langevin: s = make_langevin_sampler(ctx, problem, prior, params); break;
    case sampler_kind::pto: s = make_pto_sampler(ctx, problem, prior, params); break;
    case sampler_kind::dps: s = make_dps_sampler(ctx, problem, prior, params); break;
    case sampler_kind::pigdm: s = make_pigdm_sampler(ctx, problem, prior, params); break;
    case sampler_kind::ddrm: s = make_ddrm_sampler(ctx, problem, prior, params); break;
    case sampler_kind::ddnm: s = make_ddnm_sampler(ctx, problem, prior, params); break;
    case sampler_kind::smc: s = make_smc_sampler(ctx, problem, prior, params, chains_per_run); break;
  }
  TWOFOLD_EXPECTS(s != nullptr, "unknown sampler");
  s->prior_bytes_per_chain = prior_bytes_per_chain(prior);
  return s;
}

std::size_t prior_bytes_per_chain(const prior& prior) {
  if (const gaussian_mixture_prior* mixture = prior.mixture_form())
    return mixture_scratch_bytes_per_chain(prior.shape().pixels(), mixture->components());
  return 0;
}

}  // namespace detail
}  // namespace twofold
