#pragma once
/// \file
/// Linear forward operators A: images [chain, H, W] -> measurements, applied to a
/// whole batch of chains at once (SPEC §2). Every operator has apply, adjoint,
/// normal (AᴴA) and the orthogonal projector onto its row space P_R = A⁺A,
/// and passes a dot-product adjoint test (tests/operator_test.cpp).

#include <twofold/buffer.hpp>
#include <twofold/context.hpp>
#include <twofold/core_types.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace twofold {

class linear_operator {
 public:
  virtual ~linear_operator() = default;
  /// Shape of one image (the domain).
  virtual image_shape domain() const = 0;
  /// Shape of one chain's measurement (the range space).
  virtual image_shape codomain() const = 0;
  /// y = A x for every chain. Queued on ctx's stream.
  virtual void apply(const context& ctx, const_chain_view x, chain_view y) const = 0;
  /// x = Aᴴ y for every chain.
  virtual void adjoint(const context& ctx, const_chain_view y, chain_view x) const = 0;
  /// out = AᴴA x for every chain; `out` may alias `x`.
  virtual void normal(const context& ctx, const_chain_view x, chain_view out) const = 0;
  /// x ← P_R x in place (projector onto the row space of A).
  virtual void range_project(const context& ctx, chain_view x) const = 0;
  /// x ← P_N x = x − P_R x in place (projector onto the null space of A).
  virtual void null_project(const context& ctx, chain_view x) const = 0;
};

/// Single-coil Cartesian MRI, A = M F: F the centred orthonormal 2-D DFT
/// (include/twofold/fft.hpp), M a 0/1 k-space mask. Measurements live on the full
/// H×W k-space grid with zeros where M = 0.
/// Spectral form: A = U diag(a) Vᴴ with V = Fᴴ and singular values a = M, so
/// P_R = Fᴴ M F and AᴴA = P_R. Cost: two FFTs and three element-wise passes.
class fourier_mask_operator final : public linear_operator {
 public:
  /// `mask`: H·W entries, each exactly 0 or 1, at least one 1 (bad_input otherwise).
  fourier_mask_operator(const context& ctx, image_shape shape, std::span<const float> mask);

  image_shape domain() const override { return shape_; }
  image_shape codomain() const override { return shape_; }
  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  void null_project(const context& ctx, chain_view x) const override;

  /// The mask on the host (H·W, C order) and on the backend.
  const std::vector<float>& mask() const { return mask_host_; }
  const float* mask_device() const { return mask_.data(); }
  /// Number of sampled k-space locations m.
  std::size_t sampled() const { return sampled_; }
  /// W flags when the mask is made of whole phase-encode lines, else nullopt.
  const std::optional<std::vector<std::uint8_t>>& lines() const { return lines_; }

 private:
  image_shape shape_;
  std::vector<float> mask_host_;
  buffer<float> mask_;
  std::size_t sampled_ = 0;
  std::optional<std::vector<std::uint8_t>> lines_;
};

}  // namespace twofold
