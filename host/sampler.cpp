#include "host/sampler.hpp"

#include <twofold/error.hpp>

#include <string>

namespace twofold {

sampler_kind parse_sampler(std::string_view text) {
  if (text == "exact") return sampler_kind::exact;
  if (text == "langevin") return sampler_kind::langevin;
  if (text == "pto") return sampler_kind::pto;
  TWOFOLD_EXPECTS(false, "sampler must be one of exact, langevin, pto (got '" + std::string(text) + "')");
}

std::string_view to_string(sampler_kind kind) {
  switch (kind) {
    case sampler_kind::exact: return "exact";
    case sampler_kind::langevin: return "langevin";
    case sampler_kind::pto: return "pto";
  }
  return "?";
}

namespace detail {

std::unique_ptr<sampler> make_sampler(const context& ctx, const inverse_problem& problem, const prior& prior,
                                      const sampler_params& params) {
  TWOFOLD_EXPECTS(prior.shape() == problem.shape(), "prior image shape " + to_string(prior.shape()) +
                                                       " differs from the operator's image shape " +
                                                       to_string(problem.shape()));
  if (const auto* gaussian = dynamic_cast<const gaussian_prior*>(&prior); gaussian && problem.is_real()) {
    TWOFOLD_EXPECTS(gaussian->basis() == gaussian_basis::pixel,
                    "a real-valued problem needs a pixel-basis prior (a Fourier-basis prior draws complex images)");
    for (const cfloat m : gaussian->mean())
      TWOFOLD_EXPECTS(m.im == 0.0f, "a real-valued problem needs a real prior mean");
  }
  switch (params.kind) {
    case sampler_kind::exact: return make_exact_sampler(ctx, problem, prior, params);
    case sampler_kind::langevin: return make_langevin_sampler(ctx, problem, prior, params);
    case sampler_kind::pto: return make_pto_sampler(ctx, problem, prior, params);
  }
  TWOFOLD_EXPECTS(false, "unknown sampler");
}

}  // namespace detail
}  // namespace twofold
