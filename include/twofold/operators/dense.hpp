#pragma once
/// \file
/// A dense matrix: EEG/MEG lead fields and any small operator (docs/design.md §2).

#include <twofold/operators/linear_operator.hpp>

#include <span>
#include <vector>

namespace twofold {

/// A given as an m×n matrix (C order [m, n], complex64; a real lead field has zero
/// imaginary parts). Images are n-vectors laid out as `domain` (default 1×n);
/// measurements are 1×m. apply/adjoint are one GEMM over all chains (OpenBLAS /
/// cuBLAS). The thin SVD A = U S Vᴴ is computed once (LAPACKE cgesdd, in single
/// precision); singular values s_k ≤ rcond · s_max count as zero, the rank r is the
/// number kept, and P_R = V_r V_rᴴ. Spectral form: V = V_r (r columns), a = s_k,
/// U = U_r; span(V_r)'s complement is the null space.
class dense_operator final : public linear_operator, public spectral_form {
 public:
  /// `rcond` < 0 selects max(m, n) · 2⁻²³ (float round-off). Throws bad_input if the
  /// matrix size is not m · domain.pixels(), an entry is not finite, or A = 0.
  dense_operator(const context& ctx, std::span<const cfloat> matrix, std::size_t rows, image_shape domain,
                 double rcond = -1);

  image_shape domain() const override { return domain_; }
  image_shape codomain() const override { return {1, rows_}; }
  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void range_project(const context& ctx, chain_view x) const override;
  const spectral_form* spectral() const override { return this; }
  std::string name() const override { return "dense"; }

  spectral_basis basis() const override { return spectral_basis::other; }
  image_shape coefficient_shape() const override { return {1, rank()}; }
  const std::vector<float>& singular_values() const override { return singular_; }
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override;
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override;
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override;

  std::size_t rows() const { return rows_; }
  std::size_t columns() const { return domain_.pixels(); }
  std::size_t rank() const { return singular_.size(); }
  /// Whether every entry is real (a real lead field: use field::real problems).
  bool is_real() const { return real_; }

 private:
  image_shape domain_;
  std::size_t rows_;
  bool real_ = true;
  std::vector<float> singular_;
  buffer<cfloat> a_, u_, v_;  // column-major: A (m×n), U_r (m×r), V_r (n×r)
};

}  // namespace twofold
