#include "host/backend/cpu/normal_tiles.hpp"

#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12 flags the deliberately undefined vectors inside its own AVX-512 intrinsics
// (_mm512_undefined_epi32) as maybe uninitialised.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// The library is built with -ffp-contract=off (no fused multiply-add, whatever the
// target: the bits must equal the GPU's and the scalar path's), -fno-math-errno (sqrt
// is one instruction) and -fno-trapping-math (the selects of the branch-free
// Box–Muller become blends); none of these changes a result (CMakeLists.txt).

namespace twofold::detail {
namespace {

constexpr std::size_t max_blocks = normal_tile / 2;
using block_words = std::uint32_t[4][max_blocks];

/// The Philox counters of a tile: block k has words 0 and 1 from the arrays (element
/// block and chain), words 2 and 3 shared (step, purpose and sub-stream).
struct tile_counters {
  alignas(64) std::uint32_t block[max_blocks];
  alignas(64) std::uint32_t chain[max_blocks];
  std::uint32_t step, purpose;
};

/// Philox blocks of the tile as compilers vectorise them (any instruction set).
__attribute__((target_clones("avx512f", "avx2", "default")))
void philox_words_portable(const tile_counters& ctr, philox_key key, std::size_t blocks, block_words& words) {
  for (std::size_t k = 0; k < blocks; ++k) {
    const philox_counter r = philox4x32_10({ctr.block[k], ctr.chain[k], ctr.step, ctr.purpose}, key);
    words[0][k] = r.c0;
    words[1][k] = r.c1;
    words[2][k] = r.c2;
    words[3][k] = r.c3;
  }
}

#if defined(__x86_64__)
/// lo and hi 32-bit halves of a·m in each 32-bit lane (m: one 32-bit factor per 64-bit lane).
__attribute__((target("avx512f"), always_inline)) inline void mulhilo_avx512(__m512i a, __m512i m, __m512i& hi,
                                                                            __m512i& lo) {
  constexpr __mmask16 odd = 0xAAAA;
  const __m512i even_products = _mm512_mul_epu32(a, m), odd_products = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  lo = _mm512_mask_mov_epi32(even_products, odd, _mm512_slli_epi64(odd_products, 32));
  hi = _mm512_mask_mov_epi32(_mm512_srli_epi64(even_products, 32), odd, odd_products);
}

/// The same words, 16 blocks per AVX-512 register. Compilers widen each 32 × 32-bit
/// product of philox4x32_10 to a full 64 × 64-bit multiply (three vpmuludq); here it
/// is one vpmuludq for the even and one for the odd lanes, their halves merged by
/// masked moves. Rounds, constants and word order are philox4x32_10's. Computes whole
/// registers: the counters past `blocks` are read (max_blocks is a multiple of 16) and
/// their words are not used.
__attribute__((target("avx512f")))
void philox_words_avx512(const tile_counters& ctr, philox_key key, std::size_t blocks, block_words& words) {
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
  for (std::size_t k = 0; k < blocks; k += 16) {
    __m512i c0 = _mm512_load_si512(&ctr.block[k]), c1 = _mm512_load_si512(&ctr.chain[k]);
    __m512i c2 = _mm512_set1_epi32(static_cast<int>(ctr.step)), c3 = _mm512_set1_epi32(static_cast<int>(ctr.purpose));
    std::uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo_avx512(c0, m0, hi0, lo0);
      mulhilo_avx512(c2, m1, hi1, lo1);
      c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32(static_cast<int>(k0)));
      c1 = lo1;
      c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32(static_cast<int>(k1)));
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    _mm512_store_si512(&words[0][k], c0);
    _mm512_store_si512(&words[1][k], c1);
    _mm512_store_si512(&words[2][k], c2);
    _mm512_store_si512(&words[3][k], c3);
  }
}
#endif

void philox_words(const tile_counters& ctr, philox_key key, std::size_t blocks, block_words& words,
                  normal_code code) {
#if defined(__x86_64__)
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (code == normal_code::fastest && avx512) {
    philox_words_avx512(ctr, key, blocks, words);
    return;
  }
#endif
  philox_words_portable(ctr, key, blocks, words);
}

/// Box–Muller on the words, then the stream's field: block k's two draws at
/// draws[2k] and draws[2k + 1], which is the order of a chain's elements.
__attribute__((target_clones("avx512f", "avx2", "default")))
void box_muller_words(const rng_stream& rng, std::size_t blocks, const block_words& words, cfloat* draws) {
  alignas(64) float re[2][max_blocks], im[2][max_blocks];
  for (std::size_t k = 0; k < blocks; ++k) {
    const cfloat z0 = box_muller(words[0][k], words[1][k]), z1 = box_muller(words[2][k], words[3][k]);
    re[0][k] = z0.re;
    im[0][k] = z0.im;
    re[1][k] = z1.re;
    im[1][k] = z1.im;
  }
  for (std::size_t k = 0; k < blocks; ++k) {
    draws[2 * k] = rng.field_of({re[0][k], im[0][k]});
    draws[2 * k + 1] = rng.field_of({re[1][k], im[1][k]});
  }
}

/// One draw per block (chains of one element): block k's first draw at draws[k], the
/// Box–Muller transform of the second half not computed.
__attribute__((target_clones("avx512f", "avx2", "default")))
void box_muller_first_words(const rng_stream& rng, std::size_t blocks, const block_words& words, cfloat* draws) {
  alignas(64) float re[max_blocks], im[max_blocks];
  for (std::size_t k = 0; k < blocks; ++k) {
    const cfloat z0 = box_muller(words[0][k], words[1][k]);
    re[k] = z0.re;
    im[k] = z0.im;
  }
  for (std::size_t k = 0; k < blocks; ++k) draws[k] = rng.field_of({re[k], im[k]});
}

}  // namespace

void fill_normals(const rng_stream& rng, std::size_t chain, std::size_t chains, std::size_t first, std::size_t count,
                  cfloat* out, normal_code code) {
  const std::size_t per_chain = (count + 1) / 2, blocks = chains * per_chain;
  alignas(64) tile_counters ctr;
  const philox_counter shared = make_counter(first / 2, rng.first_chain + chain, rng.step, rng.purpose, rng.substream);
  ctr.step = shared.c2;
  ctr.purpose = shared.c3;
  const std::size_t padded = (blocks + 15) / 16 * 16;  // whole AVX-512 registers
  if (chains == 1) {
    for (std::size_t k = 0; k < padded; ++k) {
      ctr.block[k] = shared.c0 + static_cast<std::uint32_t>(k);
      ctr.chain[k] = shared.c1;
    }
  } else if (per_chain == 1) {  // one block per chain: a vector loop
    for (std::size_t k = 0; k < blocks; ++k) {
      ctr.block[k] = shared.c0;
      ctr.chain[k] = shared.c1 + static_cast<std::uint32_t>(k);
    }
    for (std::size_t k = blocks; k < padded; ++k) ctr.block[k] = ctr.chain[k] = 0;
  } else {
    for (std::size_t j = 0, k = 0; j < chains; ++j)
      for (std::size_t b = 0; b < per_chain; ++b, ++k) {
        ctr.block[k] = shared.c0 + static_cast<std::uint32_t>(b);
        ctr.chain[k] = shared.c1 + static_cast<std::uint32_t>(j);
      }
    for (std::size_t k = blocks; k < padded; ++k) ctr.block[k] = ctr.chain[k] = 0;
  }
  alignas(64) block_words words;
  philox_words(ctr, make_key(rng.seed), blocks, words, code);
  if (count % 2 == 0) {  // chain j's elements are draws j·count ... j·count + count − 1
    box_muller_words(rng, blocks, words, out);
    return;
  }
  if (count == 1) {  // one element per chain: only the first half of each block
    box_muller_first_words(rng, blocks, words, out);
    return;
  }
  // An odd chain size: each chain's last block gives one element.
  alignas(64) cfloat draws[normal_tile];
  box_muller_words(rng, blocks, words, draws);
  for (std::size_t j = 0; j < chains; ++j)
    for (std::size_t e = 0; e < count; ++e) out[j * count + e] = draws[2 * j * per_chain + e];
}

}  // namespace twofold::detail
