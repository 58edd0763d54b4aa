#pragma once
/// \file
/// Super-resolution: block averaging by an integer factor (docs/design.md §2).

#include <twofold/operators/spectral_operator.hpp>

#include <vector>

namespace twofold {

/// A x = the mean of each f×f block: H×W images to (H/f)×(W/f) measurements.
/// Aᴴ y spreads y/f² over each block; AAᴴ = I/f². Spectral form: V = the
/// normalised block indicators (Vᴴx = block sums / f), a = 1/f for every block,
/// U = I, so P_R = f² AᴴA replaces each block by its mean. V is no fast basis a
/// prior can share, so the exact sampler needs a white (isotropic) prior.
class superres_operator final : public spectral_operator {
 public:
  /// f ≥ 1 must divide H and W (bad_input otherwise).
  superres_operator(image_shape shape, std::size_t factor);

  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override;
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override;
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override;

  std::size_t factor() const { return factor_; }

 private:
  /// out = scale · block sums of x.
  void sum_blocks(const context& ctx, const_chain_view x, chain_view out, float scale) const;
  /// x = scale · c spread over blocks.
  void spread_blocks(const context& ctx, const_chain_view c, chain_view x, float scale) const;

  std::size_t factor_;
};

}  // namespace twofold
