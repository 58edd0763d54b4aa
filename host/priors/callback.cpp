#include <twofold/core/error.hpp>
#include <twofold/priors/callback.hpp>

namespace twofold {

callback_prior::callback_prior(image_shape shape, std::string name, denoise_function denoise, vjp_function vjp)
    : shape_(shape), name_(std::move(name)), denoise_(std::move(denoise)), vjp_(std::move(vjp)) {
  TWOFOLD_EXPECTS(shape.pixels() > 0, "external denoiser '" + name_ + "': image shape must be non-empty");
  TWOFOLD_EXPECTS(static_cast<bool>(denoise_), "external denoiser '" + name_ + "': the denoise callback is empty");
}

void callback_prior::denoise(const context& ctx, const_chain_view z, double s, chain_view out) const {
  TWOFOLD_EXPECTS(z.shape == shape_ && out.shape == shape_ && z.chains == out.chains,
                  "external denoiser '" + name_ + "': batches must have its image shape " + to_string(shape_));
  denoise_(ctx, z, s, out);
}

void callback_prior::vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const {
  if (!vjp_) prior::vjp(ctx, z, s, w, out);
  TWOFOLD_EXPECTS(z.shape == shape_ && w.shape == shape_ && out.shape == shape_ && z.chains == w.chains &&
                      w.chains == out.chains,
                  "external denoiser '" + name_ + "': vjp batches must have its image shape " + to_string(shape_));
  vjp_(ctx, z, s, w, out);
}

}  // namespace twofold
