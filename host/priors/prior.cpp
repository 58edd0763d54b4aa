#include <twofold/priors/prior.hpp>

#include <twofold/core/error.hpp>

namespace twofold {

void prior::vjp(const context&, const_chain_view, double, const_chain_view, chain_view) const {
  TWOFOLD_EXPECTS(false, "prior '" + name() + "' has no vector-Jacobian product (needed by dps, pigdm and smc)");
}

void prior::draw(const context&, chain_view, double, const rng_stream&) const {
  TWOFOLD_EXPECTS(false, "prior '" + name() + "' cannot be sampled directly (simulation-based calibration and "
                         "perturb-then-optimise need a Gaussian or Gaussian-mixture prior)");
}

}  // namespace twofold
