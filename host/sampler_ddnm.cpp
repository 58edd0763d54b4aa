// Placeholder until the ddnm sampler lands: the factory refuses clearly.
#include <twofold/error.hpp>

#include "host/sampler.hpp"

namespace twofold::detail {

std::unique_ptr<sampler> make_ddnm_sampler(const context&, const inverse_problem&, const prior&, const sampler_params&) {
  TWOFOLD_EXPECTS(false, "sampler 'ddnm' is not available in this build");
}

}  // namespace twofold::detail
