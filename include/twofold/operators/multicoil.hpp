#pragma once
/// \file
/// Multi-coil Cartesian MRI (SPEC §2).

#include <twofold/operator.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/sampler_types.hpp>

#include <span>
#include <vector>

namespace twofold {

/// A = M F S: S the coil sensitivity maps (C order [coil, H, W]), F the centred
/// orthonormal 2-D DFT of each coil image, M a 0/1 k-space mask shared by all
/// coils. Measurements are [coil, H, W] k-space with zeros where M = 0.
/// AᴴA = Σ_c S_cᴴ Fᴴ M F S_c (with a line mask the DFT pair acts along W only).
/// There is no fast SVD, so P_R x is the minimum-norm solution of A z = A x: CG on
/// AᴴA z = AᴴA x from z = 0 (iterates stay in the row space), each chain with its
/// own scalars, stopped when ‖AᴴA(z − x)‖ ≤ tolerance · ‖AᴴA x‖ (default 1e-5,
/// at most 1000 iterations; runtime_failure when a chain misses it).
class multicoil_operator final : public linear_operator {
 public:
  /// `maps`: C·H·W finite values with Σ_c |S_c|² > 0 somewhere; `mask`: as for
  /// fourier_mask_operator. Throws bad_input naming the input otherwise.
  multicoil_operator(const context& ctx, image_shape shape, std::size_t coils, std::span<const cfloat> maps,
                     std::span<const float> mask, cg_params projection = {1e-5, 1000});

  image_shape domain() const override { return shape_; }
  image_shape codomain() const override { return {shape_.height, shape_.width, coils_}; }
  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  std::string name() const override { return "mri-multicoil"; }

  std::size_t coils() const { return coils_; }
  const std::vector<cfloat>& maps() const { return maps_host_; }
  const fourier_mask_operator& mask_operator() const { return mask_; }
  /// Iterations the last range projection took (for benchmarks and tests).
  std::size_t last_projection_iterations() const { return last_iterations_; }

 private:
  /// The coil images of every chain as a batch of chains·C single-coil images.
  static chain_view planes(chain_view z, image_shape shape) { return {z.data, z.chains * z.shape.coils, shape}; }

  image_shape shape_;
  std::size_t coils_;
  std::vector<cfloat> maps_host_;
  buffer<cfloat> maps_;
  fourier_mask_operator mask_;
  cg_params projection_;
  mutable std::size_t last_iterations_ = 0;
};

}  // namespace twofold
