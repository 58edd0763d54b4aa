#pragma once
// The Gaussian denoiser in the centred Fourier basis, shared by gaussian_prior and the
// one-component gaussian_mixture_prior. With F_c = fftshift ∘ F ∘ ifftshift and
// w = v/(v + s²) per centred coefficient, F_cᴴ diag(w) F_c is circulant and equals
// Fᴴ diag(w_raw) F/N (w_raw: w in raw order), and likewise F_cᴴ[(1 − w) ⊙ μ̃] =
// Fᴴ[(1 − w_raw) ⊙ μ_raw] with μ_raw = F m/N the raw spectrum of the mean image m, so
//   D(z) = F_cᴴ[μ̃ + w ⊙ (F_c z − μ̃)] = Fᴴ[(w_raw/N) ⊙ F z + (1 − w_raw) ⊙ μ_raw]:
// the plain DFT pair around one pass (no centring passes, no copy), with the shrink map
// and mean term computed once per call for the whole batch. Three passes over the batch.
#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>

#include <mutex>

namespace twofold::detail {

/// The per-call images, raw order: the shrink map w_raw/N and the mean term
/// (1 − w_raw) ⊙ μ_raw; and μ_raw, computed on first use (the mean does not change).
/// Grown on first use, kept by the caller.
struct fourier_denoiser_images {
  buffer<float> shrink_map;
  buffer<cfloat> mean_term;
  buffer<cfloat> raw_mean;
};

/// The per-call images of a prior, locked while in use.
struct denoiser_scratch {
  std::mutex lock;
  fourier_denoiser_images images;
};

/// out = D(z, s) for CN(μ, diag v) with μ̃ (`mean_kspace`) and v given per centred
/// k-space coefficient of z.shape; `out` may alias `z`.
void fourier_gaussian_denoise(const context& ctx, const_chain_view z, chain_view out, const cfloat* mean_kspace,
                              const float* variance, double s, fourier_denoiser_images& images);

}  // namespace twofold::detail
