#pragma once
/// \file
/// The prior interface. Every prior exposes a batched denoiser
/// D(z, s) = E[x₀ | x₀ + s ε = z], ε ~ CN(0, I) (N(0, I) for real images), s in
/// data units (docs/design.md §1.2), and optionally the vector-Jacobian product of D (DPS,
/// ΠGDM and the SMC twisting need it). This is also the interface external or
/// learned denoisers implement (include/twofold/priors/callback.hpp adapts plain
/// callbacks to it).

#include <twofold/core/context.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/core/types.hpp>

#include <string>

namespace twofold {

class gaussian_prior;
class gaussian_mixture_prior;

class prior {
 public:
  virtual ~prior() = default;
  virtual image_shape shape() const = 0;
  /// out = D(z, s) for every chain; `out` may alias `z`; s > 0. Queued on ctx's stream.
  virtual void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const = 0;
  /// Whether vjp() is available.
  virtual bool has_vjp() const { return false; }
  /// out = Jᵀ w for every chain, J the Jacobian of D(·, s) at z with complex images
  /// read as pairs of reals (D is real-linear, not complex-linear, in general). Then
  /// for a real loss L(D), ∂L/∂z̄ = Jᵀ ∂L/∂D̄: the Wirtinger gradients the samplers use
  /// pass through unchanged. `out` may alias `w`, not `z`. Default: throws bad_input.
  virtual void vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const;
  /// Short name for messages ("gaussian", "gaussian-mixture", ...).
  virtual std::string name() const = 0;

  /// Whether draw() is available (priors with a closed form can be sampled directly).
  virtual bool can_draw() const { return false; }
  /// u ← draws of p_s = p ∗ CN(0, s² I) (s = 0: the prior itself), one per chain of
  /// `u`, from `rng`. Queued on ctx's stream. Default: throws bad_input.
  virtual void draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const;

  /// The prior's closed form, where it has one: exact posteriors (exact/), the exact
  /// and perturb-then-optimise samplers and SBC's prior quantities read it. Each
  /// returns nullptr unless the prior is (exactly) of that family.
  virtual const gaussian_prior* gaussian_form() const { return nullptr; }
  virtual const gaussian_mixture_prior* mixture_form() const { return nullptr; }
};

}  // namespace twofold
