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

/// Philox blocks base + k, k < blocks, as compilers vectorise it (any instruction set).
__attribute__((target_clones("avx512f", "avx2", "default")))
void philox_words_portable(philox_counter base, philox_key key, std::size_t blocks, block_words& words) {
  for (std::size_t k = 0; k < blocks; ++k) {
    const philox_counter r =
        philox4x32_10({base.c0 + static_cast<std::uint32_t>(k), base.c1, base.c2, base.c3}, key);
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
/// masked moves. Rounds, constants and word order are philox4x32_10's.
__attribute__((target("avx512f")))
void philox_words_avx512(philox_counter base, philox_key key, std::size_t blocks, block_words& words) {
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (std::size_t k = 0; k < blocks; k += 16) {
    __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(base.c0 + static_cast<std::uint32_t>(k))), lane);
    __m512i c1 = _mm512_set1_epi32(static_cast<int>(base.c1)), c2 = _mm512_set1_epi32(static_cast<int>(base.c2)),
            c3 = _mm512_set1_epi32(static_cast<int>(base.c3));
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

void philox_words(philox_counter base, philox_key key, std::size_t blocks, block_words& words, normal_code code) {
#if defined(__x86_64__)
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (code == normal_code::fastest && avx512) {
    philox_words_avx512(base, key, blocks, words);  // max_blocks is a multiple of 16
    return;
  }
#endif
  philox_words_portable(base, key, blocks, words);
}

/// Box–Muller on the words, then the stream's field, into `out`.
__attribute__((target_clones("avx512f", "avx2", "default")))
void box_muller_words(const rng_stream& rng, std::size_t blocks, const block_words& words, cfloat* out) {
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

}  // namespace

void fill_normals(const rng_stream& rng, std::size_t chain, std::size_t first, std::size_t count, cfloat* out,
                  normal_code code) {
  const std::size_t blocks = (count + 1) / 2;
  alignas(64) block_words words;
  philox_words(make_counter(first / 2, rng.first_chain + chain, rng.step, rng.purpose, rng.substream),
               make_key(rng.seed), blocks, words, code);
  box_muller_words(rng, blocks, words, out);
}

}  // namespace twofold::detail
