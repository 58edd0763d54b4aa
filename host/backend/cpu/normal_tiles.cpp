#include "host/backend/cpu/normal_tiles.hpp"

#include <cstdint>

// The library is built with -ffp-contract=off (no fused multiply-add, whatever the
// target: the bits must equal the GPU's and the scalar path's), -fno-math-errno (sqrt
// is one instruction) and -fno-trapping-math (the selects of the branch-free
// Box–Muller become blends); none of these changes a result (CMakeLists.txt).

namespace twofold::detail {

__attribute__((target_clones("avx512f", "avx2", "default")))
void fill_normals(const rng_stream& rng, std::size_t chain, std::size_t first, std::size_t count, cfloat* out) {
  constexpr std::size_t max_blocks = normal_tile / 2;
  const std::size_t blocks = (count + 1) / 2;
  const philox_key key = make_key(rng.seed);
  const philox_counter base = make_counter(first / 2, rng.first_chain + chain, rng.step, rng.purpose, rng.substream);

  // Structure of arrays, so that each loop is one SIMD lane per block.
  alignas(64) std::uint32_t words[4][max_blocks];
  for (std::size_t k = 0; k < blocks; ++k) {
    const philox_counter r =
        philox4x32_10({base.c0 + static_cast<std::uint32_t>(k), base.c1, base.c2, base.c3}, key);
    words[0][k] = r.c0;
    words[1][k] = r.c1;
    words[2][k] = r.c2;
    words[3][k] = r.c3;
  }
  alignas(64) float re[2][max_blocks], im[2][max_blocks];
  for (std::size_t k = 0; k < blocks; ++k) {
    const cfloat z0 = box_muller(words[0][k], words[1][k]), z1 = box_muller(words[2][k], words[3][k]);
    re[0][k] = z0.re;
    im[0][k] = z0.im;
    re[1][k] = z1.re;
    im[1][k] = z1.im;
  }
  for (std::size_t k = 0; k < blocks; ++k) {
    out[2 * k] = rng.field_of({re[0][k], im[0][k]});
    out[2 * k + 1] = rng.field_of({re[1][k], im[1][k]});
  }
}

}  // namespace twofold::detail
