#pragma once
/// \file
/// External denoisers (docs/design.md §1.3): any batched D(z, s) — a learned network, a
/// Python callable through a binding — plugs into every sampler as a prior.
/// Subclassing `prior` is the direct way; `callback_prior` adapts plain callables:
///
///   twofold::callback_prior net(shape, "unet",
///       [&](const twofold::context& ctx, twofold::const_chain_view z, double s, twofold::chain_view out) {
///         run_network(ctx.stream(), z.data, z.chains, s, out.data);   // backend memory, whole batch
///       });
///
/// Contract of the callbacks: z and out are `chains` images of `shape` in the
/// context's backend memory (device memory on CUDA, queued on ctx.stream()); the
/// whole batch comes in one call; out may alias z for `denoise`; results must be
/// finite (the engine stops with runtime_failure naming the chains otherwise).
/// The VJP callback (optional; DPS, ΠGDM and SMC need it) computes out = Jᵀw as
/// documented at prior::vjp.

#include <twofold/priors/prior.hpp>

#include <functional>
#include <string>

namespace twofold {

class callback_prior final : public prior {
 public:
  using denoise_function = std::function<void(const context&, const_chain_view z, double s, chain_view out)>;
  using vjp_function =
      std::function<void(const context&, const_chain_view z, double s, const_chain_view w, chain_view out)>;

  /// Throws bad_input for an empty shape or an empty denoise callback.
  callback_prior(image_shape shape, std::string name, denoise_function denoise, vjp_function vjp = {});

  image_shape shape() const override { return shape_; }
  std::string name() const override { return name_; }
  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override;
  bool has_vjp() const override { return static_cast<bool>(vjp_); }
  void vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const override;

 private:
  image_shape shape_;
  std::string name_;
  denoise_function denoise_;
  vjp_function vjp_;
};

}  // namespace twofold
