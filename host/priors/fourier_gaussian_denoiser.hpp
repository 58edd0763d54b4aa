#pragma once
// The Gaussian denoiser in the centred Fourier basis, shared by gaussian_prior and the
// one-component gaussian_mixture_prior. With F_c = fftshift ∘ F ∘ ifftshift and
// w = v/(v + s²) per centred coefficient, F_cᴴ diag(w) F_c is circulant and equals
// Fᴴ diag(w_raw) F, so
//   D(z) = F_cᴴ[μ̃ + w ⊙ (F_c z − μ̃)] = Fᴴ[w_raw ⊙ F z]/N + F_cᴴ[(1 − w) ⊙ μ̃]:
// the plain DFT pair around one shrink pass (no centring passes, no copy) plus a mean
// image computed once per call for the whole batch. Four passes over the batch.
#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>

#include <mutex>

namespace twofold::detail {

/// The per-call mean image, kept by its prior (locked while in use).
struct denoiser_scratch {
  std::mutex lock;
  buffer<cfloat> mean_image;
};

/// out = D(z, s) for CN(μ, diag v) with μ̃ (`mean_kspace`) and v given per centred
/// k-space coefficient of z.shape; `out` may alias `z`. `mean_image` is scratch of at
/// least one image (grown here).
void fourier_gaussian_denoise(const context& ctx, const_chain_view z, chain_view out, const cfloat* mean_kspace,
                              const float* variance, double s, buffer<cfloat>& mean_image);

}  // namespace twofold::detail
