#pragma once
/// \file
/// Single-coil Cartesian MRI (docs/design.md §2).

#include <twofold/operators/spectral_operator.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace twofold {

/// A = M F: F the centred orthonormal 2-D DFT (include/twofold/core/fft.hpp), M a 0/1
/// k-space mask. Measurements live on the full H×W k-space grid with zeros where
/// M = 0. Spectral form: V = Fᴴ, a = M, U = I, so P_R = Fᴴ M F and AᴴA = P_R.
/// When M samples whole phase-encode lines, AᴴA and P_R act along W only (the
/// readout DFT cancels): one 1-D DFT pair per row instead of two 2-D DFTs.
class fourier_mask_operator final : public spectral_operator {
 public:
  /// `mask`: H·W entries, each exactly 0 or 1, at least one 1 (bad_input otherwise).
  fourier_mask_operator(const context& ctx, image_shape shape, std::span<const float> mask);

  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  void null_project(const context& ctx, chain_view x) const override;
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override;
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override;
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override;

  /// The mask on the host (H·W, C order) and on the backend.
  const std::vector<float>& mask() const { return singular_values_; }
  const float* mask_device() const { return mask_.data(); }
  /// Number of sampled k-space locations m.
  std::size_t sampled() const { return sampled_; }
  /// W flags when the mask is made of whole phase-encode lines, else nullopt.
  const std::optional<std::vector<std::uint8_t>>& lines() const { return lines_; }

 private:
  /// out ← Fᴴ M F x (keep = true) or Fᴴ (1 − M) F x, along rows for line masks; `out`
  /// may be `x`.
  void project(const context& ctx, const_chain_view x, chain_view out, bool keep) const;

  buffer<float> mask_;
  // Fᴴ M F is circulant, so the centring shifts around it cancel: it is the plain
  // DFT pair with the mask rolled into raw (uncentred) order. These hold that mask
  // and its complement divided by the pair's N (the 2-D mask, or the W line flags).
  buffer<float> keep_raw_, drop_raw_;
  std::size_t sampled_ = 0;
  std::optional<std::vector<std::uint8_t>> lines_;
};

}  // namespace twofold
