#pragma once
/// \file
/// Deblurring: circular convolution by FFT (docs/design.md §2).

#include <twofold/operators/spectral_operator.hpp>

#include <span>
#include <vector>

namespace twofold {

/// A x = k ⊛ x, circular convolution with a kernel whose centre is pixel
/// (⌊h/2⌋, ⌊w/2⌋) of its h×w array (h ≤ H, w ≤ W; a smaller kernel is zero-padded
/// around the image centre). With the centred orthonormal DFT F,
/// A = Fᴴ diag(t) F, t = √(HW) · F k (the transfer function).
/// Spectral form: V = Fᴴ, a = |t|, U = Fᴴ diag(t/|t|). Frequencies with
/// |t| ≤ cutoff · max|t| are set to exactly 0, so the null space is well defined
/// (a Gaussian blur otherwise has singular values down to float round-off);
/// P_R = Fᴴ 1[t ≠ 0] F. A Fourier-basis Gaussian prior shares V (exact sampler).
class convolution_operator final : public spectral_operator {
 public:
  /// Throws bad_input for an empty or too large kernel, non-finite entries, or a
  /// kernel whose transfer function vanishes, or a cutoff outside [0, 1).
  convolution_operator(const context& ctx, image_shape shape, std::span<const cfloat> kernel,
                       image_shape kernel_shape, double cutoff = 1e-4);

  void apply(const context& ctx, const_chain_view x, chain_view y) const override;
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override;
  void normal(const context& ctx, const_chain_view x, chain_view out) const override;
  void range_project(const context& ctx, chain_view x) const override;
  void null_project(const context& ctx, chain_view x) const override;
  void analyse(const context& ctx, const_chain_view x, chain_view c) const override;
  void synthesise(const context& ctx, const_chain_view c, chain_view x) const override;
  void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const override;

  /// t on the host (H·W, centred k-space layout), after the cutoff.
  const std::vector<cfloat>& transfer() const { return transfer_host_; }

 private:
  /// x ← Fᴴ diag(w) F x for a real map w.
  void filter(const context& ctx, chain_view x, const float* w) const;

  std::vector<cfloat> transfer_host_;
  buffer<cfloat> transfer_, phase_;
  buffer<float> power_, support_;  // |t|², 1[t ≠ 0]
};

/// A normalised (sum 1) Gaussian kernel exp(−r²/(2 std²)) on a (2·radius+1)² grid;
/// `shape` receives its size. std > 0, radius ≥ 1.
std::vector<cfloat> gaussian_blur_kernel(double std_pixels, std::size_t radius, image_shape& shape);

}  // namespace twofold
