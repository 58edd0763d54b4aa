#pragma once
/// \file
/// Gaussian-mixture and empirical priors (docs/design.md §1.3):
///   p(x) = Σ_k w_k CN(μ_k, Σ_k)   (N(μ_k, Σ_k) for real images)
/// with every Σ_k diagonal in one shared unitary basis (pixel or centred Fourier).
/// At level s the smoothed density is the same mixture with Σ_k + s²I, so
///   D(z, s) = Σ_k r_k(z) D_k(z),  D_k = μ_k + Σ_k(Σ_k + s²I)⁻¹(z − μ_k),
///   r_k ∝ w_k N(z; μ_k, Σ_k + s²I)
/// with responsibilities from log-sum-exp in double (no underflow for well separated
/// modes or tiny variances). Its Jacobian (real-linear, symmetric) is
///   J w = Σ_k r_k G_k w + (2κ/s²) Σ_k r_k (D_k − D) Re⟨D_k − D, w⟩,  G_k = Σ_k(Σ_k + s²I)⁻¹,
/// κ = 1 for complex and ½ for real images: Cov[x₀ | z] = (s²/2κ) J.
/// Cost per denoiser call: 2 passes per component (3 with the VJP) over the batch,
/// two FFTs per chain for the Fourier basis.

#include <twofold/core/run_data.hpp>
#include <twofold/priors/gaussian.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace twofold {

class gaussian_mixture_prior final : public prior {
 public:
  /// `weights`: K values ≥ 0 summing to 1 (within 1e-6 relative). `means`: [K, H, W]
  /// images. `variances`: [K, H, W] values > 0, per pixel or per centred k-space
  /// coefficient. `values`: field::real needs the pixel basis and real means.
  /// Throws bad_input naming the offending component and index.
  gaussian_mixture_prior(const context& ctx, gaussian_basis basis, image_shape shape, std::span<const double> weights,
                         std::span<const cfloat> means, std::span<const float> variances,
                         field values = field::complex);

  /// The same with variances allowed to be 0 (atoms: empirical priors, posteriors
  /// pinned by noiseless data).
  static gaussian_mixture_prior degenerate(const context& ctx, gaussian_basis basis, image_shape shape,
                                           std::span<const double> weights, std::span<const cfloat> means,
                                           std::span<const float> variances, field values = field::complex);

  image_shape shape() const override { return shape_; }
  gaussian_basis basis() const { return basis_; }
  field values() const { return field_; }
  std::size_t components() const { return weights_.size(); }
  const std::vector<double>& weights() const { return weights_; }
  const std::vector<cfloat>& means() const { return means_host_; }          ///< [K, H, W], image domain
  const std::vector<float>& variances() const { return variances_host_; }  ///< [K, H, W], in the basis

  void denoise(const context& ctx, const_chain_view z, double s, chain_view out) const override;
  bool has_vjp() const override { return true; }
  void vjp(const context& ctx, const_chain_view z, double s, const_chain_view w, chain_view out) const override;
  std::string name() const override { return "gaussian-mixture"; }

  /// u ← a draw from the mixture with Σ_k + s²I per chain (s = 0: a prior draw);
  /// the component of chain c is chosen by one uniform of `rng`'s chain c.
  bool can_draw() const override { return true; }
  void draw(const context& ctx, chain_view u, double s, const rng_stream& rng) const override;
  const gaussian_mixture_prior* mixture_form() const override { return this; }

  /// Responsibilities r_k(z) at level s (s = 0 allowed when every variance is > 0):
  /// [K, chains] row-major on the host. For tests and diagnostics.
  std::vector<double> responsibilities(const context& ctx, const_chain_view z, double s) const;

  /// log p(x) of every chain of `x` (log-sum-exp in double); bad_input when a
  /// variance is 0 (atoms have no density).
  std::vector<double> log_density(const context& ctx, const_chain_view x) const;

 private:
  gaussian_mixture_prior(const context& ctx, gaussian_basis basis, image_shape shape, std::span<const double> weights,
                         std::span<const cfloat> means, std::span<const float> variances, field values,
                         bool allow_zero);
  /// Scratch of denoise, vjp and the responsibilities (defined in the .cpp).
  struct workspace;
  /// Moves z to the basis (ws.basis_input), fills ws.responsibilities [K × chains] on
  /// the backend. With `log_total` (backend, one double per chain): also
  /// log Σ_k w_k N(z; μ_k, Σ_k + s²I) without the π (or 2π) factors.
  void responsibilities_in_basis(const context& ctx, const_chain_view z, double s, workspace& ws,
                                 double* log_total = nullptr) const;
  /// log w_k − κ log det(Σ_k + s²I) per component k (the responsibilities' offsets).
  std::vector<double> component_offsets(double s) const;
  double kappa() const { return field_ == field::real ? 0.5 : 1.0; }
  /// Component k's means in the basis, shared by every chain.
  math::run_data shared(std::size_t k) const { return {means_.data() + k * shape_.pixels(), shape_.pixels()}; }

  gaussian_basis basis_;
  image_shape shape_;
  field field_;
  std::vector<double> weights_;
  std::vector<cfloat> means_host_;
  std::vector<float> variances_host_;
  std::vector<bool> constant_variance_;  ///< per component: all its variances equal (cheap log-determinant)
  buffer<cfloat> means_;                 ///< [K, N] in the basis
  /// Grown to the largest batch seen and reused, so that denoise and vjp allocate
  /// nothing in a sampler's step loop; shared by copies, calls serialised by its lock.
  std::shared_ptr<workspace> workspace_;
  buffer<float> variances_;              ///< [K, N]
};

/// The empirical prior of `count` images (C order [count, H, W]): the uniform
/// mixture of atoms at the images, whose denoiser is the exact MMSE denoiser of the
/// finite data set, D(z, s) = Σ_i softmax_i(−κ‖z − x_i‖²/s²) x_i. count ≥ 1; every
/// image finite; field::real needs real images.
gaussian_mixture_prior make_empirical_prior(const context& ctx, image_shape shape, std::span<const cfloat> images,
                                            field values = field::complex);

}  // namespace twofold
