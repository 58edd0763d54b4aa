#pragma once
/// \file
/// Inpainting: observe a subset of pixels (docs/design.md §2).

#include <twofold/operators/spectral_operator.hpp>

#include <span>
#include <vector>

namespace twofold {

/// A = M with M a 0/1 pixel mask (1 = observed). Measurements live on the full
/// H×W grid with zeros at missing pixels. Spectral form: V = I, a = M, U = I, so
/// P_R = M; a pixel-basis Gaussian prior shares the basis (exact sampler).
class inpainting_operator final : public spectral_operator {
 public:
  /// `mask`: H·W entries, each exactly 0 or 1, at least one 1 (bad_input otherwise).
  inpainting_operator(const context& ctx, image_shape shape, std::span<const float> mask);

  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  void null_project(const context& ctx, chain_view x) const override;
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override;
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override;
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override;

  const std::vector<float>& mask() const { return singular_values_; }

 private:
  buffer<float> mask_;
};

}  // namespace twofold
