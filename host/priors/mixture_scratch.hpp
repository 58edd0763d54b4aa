#pragma once
/// \file
/// What the mixture prior's workspace (host/priors/gaussian_mixture.cpp) takes per chain,
/// for wave sizing (host/sampling/sample.cpp).

#include <cstddef>

namespace twofold::detail {

/// Backend bytes per chain of the mixture prior's workspace at its largest (with the
/// vjp's batches) for images of `pixels` pixels and `components` components.
std::size_t mixture_scratch_bytes_per_chain(std::size_t pixels, std::size_t components);

}  // namespace twofold::detail
