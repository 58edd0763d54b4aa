#pragma once
/// \file
/// Plain value types shared by the whole API: image shapes and non-owning views
/// of chain batches. Arrays are C-order `[chain, (coil,) H, W]`, complex64 (docs/design.md §2).

#include <twofold/core/complex.hpp>

#include <cstddef>
#include <string>

namespace twofold {

/// The field K of x and y (docs/design.md §1.1). Arrays are complex64 either way; a real
/// problem keeps every imaginary part 0: real measurements, real noise
/// N(0, σ_y² I), real prior draws. Variances mean E|x − E x|² in both fields.
enum class field { complex, real };

/// Height (readout axis) and width (phase-encode axis, the last axis) of an image,
/// and the number of coil planes in front of them (docs/design.md §2 layout `[coil, H, W]`):
/// 1 for images and single-coil data, C for multi-coil k-space.
struct image_shape {
  std::size_t height = 0;
  std::size_t width = 0;
  std::size_t coils = 1;
  constexpr std::size_t plane() const { return height * width; }
  constexpr std::size_t pixels() const { return coils * height * width; }
  friend constexpr bool operator==(image_shape, image_shape) = default;
};

/// "H x W" or "C x H x W" (multi-coil), for messages.
inline std::string to_string(image_shape s) {
  const std::string hw = std::to_string(s.height) + "x" + std::to_string(s.width);
  return s.coils == 1 ? hw : std::to_string(s.coils) + "x" + hw;
}

/// Non-owning view of `chains` images of one shape, contiguous, C-order.
/// Memory lives on the backend of the context that allocated it.
template <class T>
struct chain_view_t {
  T* data = nullptr;
  std::size_t chains = 0;
  image_shape shape{};
  constexpr std::size_t size() const { return chains * shape.pixels(); }
  constexpr T* chain(std::size_t c) const { return data + c * shape.pixels(); }
  constexpr operator chain_view_t<const T>() const { return {data, chains, shape}; }
};

using chain_view = chain_view_t<cfloat>;
using const_chain_view = chain_view_t<const cfloat>;

}  // namespace twofold
