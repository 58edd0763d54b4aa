#pragma once
/// \file
/// Gaussian priors with a covariance diagonal in the pixel or the Fourier basis.

#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>
#include <twofold/priors/prior.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace twofold {

namespace detail {
struct denoiser_scratch;
std::shared_ptr<denoiser_scratch> make_denoiser_scratch();
}  // namespace detail

/// The unitary basis in which a Gaussian prior's covariance is diagonal.
enum class gaussian_basis {
  pixel,    ///< per-pixel variances (spatially varying maps)
  fourier,  ///< a stationary prior: variances of centred k-space coefficients (power spectrum)
};

/// CN(μ, Σ) with Σ diagonal in `basis` (docs/design.md §1.3): E|x − μ|² per coefficient is the
/// given variance (half on each of the real and imaginary parts).
/// Denoiser μ + Σ(Σ + s²I)⁻¹(z − μ): one pass (pixel) or two FFTs and one pass (fourier).
class gaussian_prior final : public prior {
 public:
  /// `mean`: the mean image (H·W). `variance`: H·W values > 0, per pixel or per
  /// centred k-space coefficient. Throws bad_input on wrong sizes or values.
  gaussian_prior(const context& ctx, gaussian_basis basis, image_shape shape, std::span<const cfloat> mean,
                 std::span<const float> variance);

  /// A Gaussian whose variances may be 0 (coefficients pinned by conditioning); for
  /// posteriors built inside the engine, not for user input.
  static gaussian_prior degenerate(const context& ctx, gaussian_basis basis, image_shape shape,
                                   std::span<const cfloat> mean, std::span<const float> variance);

  image_shape shape() const override { return shape_; }
  gaussian_basis basis() const { return basis_; }
  const std::vector<cfloat>& mean() const { return mean_host_; }
  const std::vector<float>& variance() const { return variance_host_; }
  /// The mean and variances in the prior's basis on ctx's backend (what the
  /// element-wise kernels read).
  const cfloat* mean_device() const { return mean_.data(); }
  const float* variance_device() const { return variance_.data(); }

  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override;
  /// D is affine with the symmetric Jacobian Σ(Σ + s²I)⁻¹: Jᵀw is one shrink of w.
  bool has_vjp() const override { return true; }
  void vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const override;
  std::string name() const override { return "gaussian"; }
  /// u ← a draw from CN(μ, Σ + s² I) per chain (s = 0: a prior draw).
  bool can_draw() const override { return true; }
  void draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const override;
  const gaussian_prior* gaussian_form() const override { return this; }
  /// out = Σ x, out = Σ⁻¹ x (variances must be > 0 for the inverse). `out` may alias `x`.
  void apply_covariance(const context& ctx, const_chain_view x, chain_view out) const;
  void apply_precision(const context& ctx, const_chain_view x, chain_view out) const;
  /// out = (Σ⁻¹ + shift·I)⁻¹ x, shift ≥ 0 (shift = 0 is Σ x). `out` may alias `x`.
  void apply_regularised_covariance(const context& ctx, const_chain_view x, chain_view out, double shift) const;

 private:
  gaussian_prior(const context& ctx, gaussian_basis basis, image_shape shape, std::span<const cfloat> mean,
                 std::span<const float> variance, bool allow_zero);
  template <class F>
  void in_basis(const context& ctx, const_chain_view x, chain_view out, F&& diagonal_pass) const;

  gaussian_basis basis_;
  image_shape shape_;
  std::vector<cfloat> mean_host_;
  std::vector<float> variance_host_;
  buffer<cfloat> mean_;         // in the prior's basis (k-space mean for fourier)
  buffer<float> variance_;
  buffer<float> precision_;     // 1/variance (0 where the variance is 0)
  /// The Fourier-basis denoiser's raw-order maps, kept (shared by copies, which share the mean).
  std::shared_ptr<detail::denoiser_scratch> scratch_ = detail::make_denoiser_scratch();
};

/// Estimates a Gaussian prior from `count` images (C order [count, H, W]):
/// mean = sample mean, variance = unbiased sample variance per pixel (pixel basis)
/// or per centred k-space coefficient of x − mean (fourier basis), plus
/// `relative_floor` × its largest value so that no variance is 0. count ≥ 2.
gaussian_prior estimate_gaussian_prior(const context& ctx, gaussian_basis basis, image_shape shape,
                                       std::span<const cfloat> images, double relative_floor = 1e-3);

}  // namespace twofold
