#pragma once
/// \file
/// Multi-coil Cartesian MRI (docs/design.md §2).

#include <twofold/operators/linear_operator.hpp>
#include <twofold/operators/fourier_mask.hpp>
#include <twofold/sampling/sampler_params.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace twofold {
namespace detail {
struct cg_workspace;
}  // namespace detail

/// A = M F S: S the coil sensitivity maps (C order [coil, H, W]), F the centred
/// orthonormal 2-D DFT of each coil image, M a 0/1 k-space mask shared by all
/// coils. Measurements are [coil, H, W] k-space with zeros where M = 0.
/// AᴴA = Σ_c S_cᴴ Fᴴ M F S_c (with a line mask the DFT pair acts along W only).
///
/// Line masks (whole phase-encode lines, the fastMRI case): the readout DFT F_H is
/// unitary and commutes with M, so image row h is measured alone, by the
/// (C·m) × W matrix A_h = [diag(lines) F_W diag(S_c(h, ·))]_c. Its SVD
/// A_h = U_h diag(s_h) V_hᴴ is computed once (eigen-decomposition of A_hᴴA_h in
/// double, rows in parallel), singular values ≤ max(C·m, W)·2⁻²³·s_max (s_max over
/// all rows) count as zero, and the operator has a spectral form: coefficients
/// [H, r] with r the largest kept rank of a row (rows with fewer are zero-padded),
/// V = blockdiag(V_h), Uᴴ y = diag(1/s) Vᴴ Aᴴ y on the kept coefficients, and
/// P_R = V Vᴴ exactly, by one GEMM per row over all chains. Memory H·W·r complex64
/// values (H·W² while building); above `max_spectral_bytes` (for H·W²) the CG projection below is used instead.
///
/// Other masks have no fast SVD: P_R x is the minimum-norm solution of A z = A x,
/// CG on AᴴA z = AᴴA x from z = 0 (iterates stay in the row space), each chain with
/// its own scalars, stopped when ‖AᴴA(z − x)‖ ≤ tolerance · ‖AᴴA x‖ (default 1e-5,
/// at most 1000 iterations; runtime_failure when a chain misses it).
class multicoil_operator final : public linear_operator, public spectral_form {
 public:
  /// `maps`: C·H·W finite values with Σ_c |S_c|² > 0 somewhere; `mask`: as for
  /// fourier_mask_operator. Throws bad_input naming the input otherwise.
  multicoil_operator(const context& ctx, image_shape shape, std::size_t coils, std::span<const cfloat> maps,
                     std::span<const float> mask, cg_params projection = {1e-5, 1000},
                     std::size_t max_spectral_bytes = std::size_t(1) << 30);

  image_shape domain() const override { return shape_; }
  image_shape codomain() const override { return {shape_.height, shape_.width, coils_}; }
  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  /// The row-wise SVD for line masks (see above), else nullptr.
  const spectral_form* spectral() const override { return rank_ > 0 ? this : nullptr; }
  /// Without the row SVD: √(max over pixels of Σ_c |S_c|²), which bounds ‖A‖ (the mask
  /// and the unitary FFT do not enlarge a vector) and equals it for a full mask.
  double norm_bound(const context& ctx) const override;
  std::string name() const override { return "mri-multicoil"; }

  spectral_basis basis() const override { return spectral_basis::other; }
  image_shape coefficient_shape() const override { return {shape_.height, rank_}; }
  const std::vector<float>& singular_values() const override { return singular_host_; }
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override;
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override;
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override;

  std::size_t coils() const { return coils_; }
  const std::vector<cfloat>& maps() const { return maps_host_; }
  const fourier_mask_operator& mask_operator() const { return mask_; }
  /// Iterations the last range projection took (0 with the row-wise SVD).
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
  std::shared_ptr<detail::cg_workspace> projection_workspace_;  ///< P_R's CG scratch, reused
  // Row-wise SVD (line masks): V_h as W × rank_ column-major blocks, row after row.
  std::size_t rank_ = 0;
  std::vector<float> singular_host_;     // [H, rank_], 0 for padding
  buffer<cfloat> row_bases_;             // H · W · rank_
  buffer<float> inverse_singular_;       // 1/s, 0 where s = 0

  void build_row_svd(const context& ctx, const std::vector<std::uint8_t>& lines, std::size_t max_bytes);
};

}  // namespace twofold
