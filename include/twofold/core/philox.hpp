#pragma once
/// \file
/// Philox4x32-10 (Salmon et al., SC'11), the one random number generator of
/// twofold, shared verbatim by the CPU and CUDA backends. Checked against the
/// Random123 known-answer vectors in tests/core/rng_test.cpp.
///
/// Counter layout (every draw is a pure function of these; nothing is stateful):
///   key     = { seed low 32 bits, seed high 32 bits }
///   ctr[0]  = element block   (one block yields 4 normals = 2 complex normals)
///   ctr[1]  = global chain index
///   ctr[2]  = step index
///   ctr[3]  = purpose (rng_purpose) in the low 8 bits, sub-stream above
/// so the bits of (seed, chain, step, purpose, element) never depend on wave
/// size, thread mapping or backend.

#include <twofold/core/complex.hpp>
#include <twofold/core/hd.hpp>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace twofold {

/// What a random draw is used for; part of the Philox counter.
enum class rng_purpose : std::uint32_t {
  initial_state = 1,     ///< x_T of a diffusion chain
  diffusion_noise = 2,   ///< per-step noise of a reverse SDE / Langevin step
  prior_perturbation = 3,  ///< x' ~ prior in perturb-then-optimise
  noise_perturbation = 4,  ///< n' ~ CN(0, σ_y²) in perturb-then-optimise
  measurement_noise = 5,   ///< noise of simulated measurements (demo, tests)
  phantom = 6,             ///< random phantom parameters
  mask = 7,                ///< random line selection of masks
  poisson_disc_mask = 8,   ///< candidate points of 2-D Poisson-disc masks
  variable_density_mask = 9,  ///< Bernoulli draws of 2-D variable-density masks
  coil_maps = 10,          ///< random coil placement of synthetic sensitivity maps
  resampling = 11,         ///< the uniform of systematic resampling, one per particle system and step (smc)
  mixture_component = 14,  ///< the component a mixture draw comes from (one uniform per chain)
  operator_probe = 16,     ///< white probes that estimate an operator's trace
  test = 255,              ///< reserved for tests
};

struct philox_key {
  std::uint32_t k0, k1;
};
struct philox_counter {
  std::uint32_t c0, c1, c2, c3;
};

namespace detail {
TWOFOLD_HD void mulhilo32(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}
}  // namespace detail

/// Ten rounds of Philox4x32 on one counter; returns four independent 32-bit words.
TWOFOLD_HD philox_counter philox4x32_10(philox_counter c, philox_key k) {
  constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    detail::mulhilo32(m0, c.c0, hi0, lo0);
    detail::mulhilo32(m1, c.c2, hi1, lo1);
    c = {hi1 ^ c.c1 ^ k.k0, lo1, hi0 ^ c.c3 ^ k.k1, lo0};
    k.k0 += w0;
    k.k1 += w1;
  }
  return c;
}

TWOFOLD_HD philox_key make_key(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

/// The counter for one element block of one chain at one step (layout above).
TWOFOLD_HD philox_counter make_counter(std::uint64_t block, std::uint64_t chain, std::uint64_t step,
                                       rng_purpose purpose, std::uint32_t substream = 0) {
  return {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(chain), static_cast<std::uint32_t>(step),
          static_cast<std::uint32_t>(purpose) | (substream << 8)};
}

/// 32 random bits to a uniform double in (0, 1): exact on every backend.
TWOFOLD_HD double uniform_open01(std::uint32_t bits) { return (static_cast<double>(bits) + 0.5) * 0x1p-32; }

namespace detail {

// IEEE products and sums, rounded once each: nvcc would otherwise
// contract a·b + c into a fused multiply-add on the device (the host build never
// does), and the normals below must have the same bits on both backends.
TWOFOLD_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
TWOFOLD_HD float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
TWOFOLD_HD double mul_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
TWOFOLD_HD double add_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

/// −ln u for u = (a + 0.5)·2⁻³², in float. Near 1 (a ≥ 15·2²⁸), from v = 1 − u =
/// (~a + 0.5)·2⁻³² < 1/16 by −ln(1 − v) = v + v²/2 + … + v⁶/6 (truncation below
/// 2⁻²⁴ relative; a float a + 0.5 would lose the bits that make u differ from 1).
/// Otherwise from the binary exponent e and mantissa m of x = a + 0.5 (m folded into
/// [√½, √2)): −ln u = (32 − e) ln 2 − ln m with ln m = 2(s + s³/3 + s⁵/5 + s⁷/7 + s⁹/9),
/// s = (m − 1)/(m + 1), |s| ≤ 0.172 (truncation < 1e-9). Only IEEE-rounded operations.
/// Branch-free: both forms are computed and one is selected, so the CPU backend's
/// compiler turns a loop over draws into SIMD code (host/backend/cpu/normal_tiles.cpp);
/// the selected value has the same bits as a branching version.
TWOFOLD_HD float neg_log_open01(std::uint32_t a) {
  const float v = mul_rn(add_rn(static_cast<float>(~a), 0.5f), 0x1p-32f);
  float near_series = add_rn(1.0f / 5.0f, mul_rn(v, 1.0f / 6.0f));
  near_series = add_rn(0.25f, mul_rn(v, near_series));
  near_series = add_rn(1.0f / 3.0f, mul_rn(v, near_series));
  near_series = add_rn(0.5f, mul_rn(v, near_series));
  near_series = add_rn(1.0f, mul_rn(v, near_series));
  const float near_one = mul_rn(v, near_series);

  const float x = add_rn(static_cast<float>(a), 0.5f);
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const float mantissa = std::bit_cast<float>((bits & 0x007FFFFFu) | 0x3F800000u);
  const bool fold = mantissa > 1.41421356f;
  const float m = fold ? mul_rn(mantissa, 0.5f) : mantissa;
  const int e = static_cast<int>(bits >> 23) - 127 + (fold ? 1 : 0);
  const float s = (m - 1.0f) / (m + 1.0f), s2 = mul_rn(s, s);
  float series = add_rn(1.0f / 7.0f, mul_rn(s2, 1.0f / 9.0f));
  series = add_rn(0.2f, mul_rn(s2, series));
  series = add_rn(1.0f / 3.0f, mul_rn(s2, series));
  series = add_rn(1.0f, mul_rn(s2, series));
  const float ln_m = mul_rn(mul_rn(2.0f, s), series);
  constexpr float ln2 = 0.693147180559945309f;
  const float general = add_rn(mul_rn(static_cast<float>(32 - e), ln2), -ln_m);
  return a >= 0xF0000000u ? near_one : general;
}

/// (cos 2πu, sin 2πu) for u = (b + 0.5)·2⁻³², in float: the quadrant q is the top two
/// bits of b; within it θ = π/4 + φ, |φ| < π/4, with sin φ and cos φ by their Taylor
/// series to φ⁹ and φ¹⁰ (truncation < 2e-9). Only IEEE-rounded operations; the
/// quadrant is applied by selects (odd q swaps the pair, q = 1, 2 negate the cosine,
/// q = 2, 3 the sine), branch-free like neg_log_open01.
TWOFOLD_HD void cos_sin_two_pi(std::uint32_t b, float& c, float& s) {
  const float f = mul_rn(add_rn(static_cast<float>(b & 0x3FFFFFFFu), 0.5f), 0x1p-30f);
  const float phi = mul_rn(add_rn(f, -0.5f), 1.57079632679489662f), p2 = mul_rn(phi, phi);
  float sin_series = add_rn(-1.0f / 5040.0f, mul_rn(p2, 1.0f / 362880.0f));
  sin_series = add_rn(1.0f / 120.0f, mul_rn(p2, sin_series));
  sin_series = add_rn(-1.0f / 6.0f, mul_rn(p2, sin_series));
  const float sin_phi = add_rn(phi, mul_rn(mul_rn(phi, p2), sin_series));
  float cos_series = add_rn(1.0f / 40320.0f, mul_rn(p2, -1.0f / 3628800.0f));
  cos_series = add_rn(-1.0f / 720.0f, mul_rn(p2, cos_series));
  cos_series = add_rn(1.0f / 24.0f, mul_rn(p2, cos_series));
  cos_series = add_rn(-0.5f, mul_rn(p2, cos_series));
  const float cos_phi = add_rn(1.0f, mul_rn(p2, cos_series));
  constexpr float h = 0.707106781186547524f;  // cos π/4 = sin π/4
  const float ct = mul_rn(h, add_rn(cos_phi, -sin_phi)), st = mul_rn(h, add_rn(cos_phi, sin_phi));
  const std::uint32_t q = b >> 30;
  const float first = (q & 1u) ? st : ct, second = (q & 1u) ? ct : st;
  c = ((q + 1u) & 2u) ? -first : first;
  s = (q & 2u) ? -second : second;
}

}  // namespace detail

/// Box–Muller on a pair of words: one circular complex normal CN(0, 1)
/// (E|z|² = 1, variance 1/2 per part), z = √(−ln u₁) (cos 2πu₂, sin 2πu₂), in float
/// with IEEE-rounded operations only, so both backends produce the same bits.
TWOFOLD_HD cfloat box_muller(std::uint32_t a, std::uint32_t b) {
  const float r = std::sqrt(detail::neg_log_open01(a));
  float c, s;
  detail::cos_sin_two_pi(b, c, s);
  return {detail::mul_rn(r, c), detail::mul_rn(r, s)};
}

/// Two circular complex normals CN(0, 1) from one Philox block: words 0–1 give the
/// first, words 2–3 the second. Element e of a chain uses block e/2, slot e%2.
TWOFOLD_HD void complex_normal_pair(philox_counter ctr, philox_key key, cfloat& z0, cfloat& z1) {
  const philox_counter r = philox4x32_10(ctr, key);
  z0 = box_muller(r.c0, r.c1);
  z1 = box_muller(r.c2, r.c3);
}

/// One CN(0, 1) draw for element `e` of `chain` at `step`: a pure function of its
/// arguments (recomputes the pair and keeps one half; kernels that own both halves
/// call complex_normal_pair directly).
TWOFOLD_HD cfloat complex_normal(std::uint64_t seed, std::uint64_t chain, std::uint64_t step, rng_purpose purpose,
                                 std::uint64_t e, std::uint32_t substream = 0) {
  cfloat z0, z1;
  complex_normal_pair(make_counter(e / 2, chain, step, purpose, substream), make_key(seed), z0, z1);
  return (e % 2 == 0) ? z0 : z1;
}

/// One uniform (0,1) double for scalar decisions (mask lines, phantom parameters).
TWOFOLD_HD double uniform(std::uint64_t seed, std::uint64_t index, rng_purpose purpose, std::uint32_t substream = 0) {
  const philox_counter r = philox4x32_10(make_counter(index / 4, 0, 0, purpose, substream), make_key(seed));
  const std::uint32_t w[4] = {r.c0, r.c1, r.c2, r.c3};
  return uniform_open01(w[index % 4]);
}

/// Where a batch of chains draws its normals: element e of local chain c uses
/// counter (e/2, first_chain + c, step, purpose | substream << 8) under key = seed.
/// For a real-valued problem (`real`), every draw is a real N(0, 1) — √2 times the
/// real part of the complex draw — with imaginary part 0, so variances keep their
/// meaning E|x − E x|² in both fields (docs/design.md §1.1).
struct rng_stream {
  std::uint64_t seed = 0;
  std::uint64_t first_chain = 0;
  std::uint64_t step = 0;
  rng_purpose purpose = rng_purpose::diffusion_noise;
  std::uint32_t substream = 0;
  bool real = false;

  TWOFOLD_HD cfloat normal(std::size_t chain, std::size_t element) const {
    return field_of(complex_normal(seed, first_chain + chain, step, purpose, element, substream));
  }
  /// normal(chain, e) and normal(chain, e + 1) for an even e, from one Philox block
  /// (the two halves of the block complex_normal draws them from).
  TWOFOLD_HD void normal_pair(std::size_t chain, std::size_t even_element, cfloat& z0, cfloat& z1) const {
    const philox_counter r = block(chain, even_element);
    z0 = field_of(box_muller(r.c0, r.c1));
    z1 = field_of(box_muller(r.c2, r.c3));
  }
  /// normal(chain, e) alone for an even e: the first half of the block, without the
  /// Box–Muller transform of the second (the last element of an odd-sized chain).
  TWOFOLD_HD cfloat normal_first(std::size_t chain, std::size_t even_element) const {
    const philox_counter r = block(chain, even_element);
    return field_of(box_muller(r.c0, r.c1));
  }
  /// The Philox block of element e of `chain` (block e/2).
  TWOFOLD_HD philox_counter block(std::size_t chain, std::size_t element) const {
    return philox4x32_10(make_counter(element / 2, first_chain + chain, step, purpose, substream), make_key(seed));
  }
  /// A CN(0, 1) draw as this stream's field has it: N(0, 1) = √2 Re z for a real one.
  TWOFOLD_HD cfloat field_of(cfloat z) const { return real ? cfloat{1.41421356237309504880f * z.re, 0.0f} : z; }
  TWOFOLD_HD rng_stream at_step(std::uint64_t s) const { return {seed, first_chain, s, purpose, substream, real}; }
  TWOFOLD_HD rng_stream with(rng_purpose p) const { return {seed, first_chain, step, p, substream, real}; }
};

}  // namespace twofold
