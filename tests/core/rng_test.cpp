// Philox4x32-10 against the Random123 known-answer vectors (tests/kat_vectors of
// github.com/DEShawResearch/random123), and the normals built on it.
#include <twofold/core/buffer.hpp>
#include <twofold/core/philox.hpp>

#include "host/backend/cpu/normal_tiles.hpp"
#include "host/backend/for_each.hpp"
#include "host/math/elementwise.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace twofold {
namespace {

std::size_t k_index(std::uint32_t a) { return std::size_t(a) * 2654435761u; }

TEST(Philox, KnownAnswerVectors) {
  struct kat {
    philox_counter ctr;
    philox_key key;
    philox_counter expected;
  };
  const kat vectors[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const kat& v : vectors) {
    const philox_counter r = philox4x32_10(v.ctr, v.key);
    EXPECT_EQ(r.c0, v.expected.c0);
    EXPECT_EQ(r.c1, v.expected.c1);
    EXPECT_EQ(r.c2, v.expected.c2);
    EXPECT_EQ(r.c3, v.expected.c3);
  }
}

TEST(Philox, ComplexNormalMoments) {
  // n draws of CN(0,1): E z = 0, E|z|² = 1, E Re² = E Im² = 1/2, E Re·Im = 0.
  // Tolerances are 5 Monte Carlo standard errors.
  const int n = 200000;
  double sr = 0, si = 0, s2 = 0, srr = 0, sri = 0, s4 = 0;
  for (int e = 0; e < n; ++e) {
    const cfloat z = complex_normal(42, 7, 3, rng_purpose::test, static_cast<std::uint64_t>(e));
    sr += z.re;
    si += z.im;
    s2 += norm2(z);
    srr += double(z.re) * z.re;
    sri += double(z.re) * z.im;
    s4 += double(norm2(z)) * norm2(z);
  }
  const double se_mean = std::sqrt(0.5 / n);
  EXPECT_NEAR(sr / n, 0.0, 5 * se_mean);
  EXPECT_NEAR(si / n, 0.0, 5 * se_mean);
  EXPECT_NEAR(s2 / n, 1.0, 5 * std::sqrt(1.0 / n));       // Var|z|² = 1 for CN(0,1)
  EXPECT_NEAR(srr / n, 0.5, 5 * std::sqrt(0.5 / n));      // Var Re² = 2·(1/2)²
  EXPECT_NEAR(sri / n, 0.0, 5 * std::sqrt(0.25 / n));     // Var Re·Im = 1/4
  EXPECT_NEAR(s4 / n, 2.0, 5 * std::sqrt(20.0 / n));      // E|z|⁴ = 2, Var = 24 − 4
}

TEST(Philox, DrawsArePureFunctionsOfTheirCoordinates) {
  const cfloat a = complex_normal(1, 2, 3, rng_purpose::diffusion_noise, 5);
  EXPECT_EQ(a, complex_normal(1, 2, 3, rng_purpose::diffusion_noise, 5));
  EXPECT_FALSE(a == complex_normal(1, 2, 3, rng_purpose::diffusion_noise, 4));
  EXPECT_FALSE(a == complex_normal(1, 3, 3, rng_purpose::diffusion_noise, 5));
  EXPECT_FALSE(a == complex_normal(1, 2, 4, rng_purpose::diffusion_noise, 5));
  EXPECT_FALSE(a == complex_normal(1, 2, 3, rng_purpose::initial_state, 5));
  EXPECT_FALSE(a == complex_normal(2, 2, 3, rng_purpose::diffusion_noise, 5));
}

TEST(Philox, BoxMullerMatchesTheDoublePrecisionFormula) {
  // The float Box–Muller (polynomial log and sincos, IEEE-rounded operations only)
  // against z = √(−ln u₁) e^{2πi u₂} in double, over words spread across 32 bits and
  // the extremes: within 4 float ulps of |z| (relative 2.4e-7) plus 2e-7 absolute.
  const auto reference = [](std::uint32_t a, std::uint32_t b) {
    const double u1 = (double(a) + 0.5) * 0x1p-32, u2 = (double(b) + 0.5) * 0x1p-32;
    const double r = std::sqrt(-std::log(u1)), t = 6.283185307179586476925286766559 * u2;
    return std::pair{r * std::cos(t), r * std::sin(t)};
  };
  double worst = 0;
  std::vector<std::uint32_t> words{0u, 1u, 2u, 0x7FFFFFFFu, 0x80000000u, 0xBFFFFFFFu, 0xC0000000u, 0xFFFFFFFEu,
                                   0xFFFFFFFFu, 0x3FFFFFFFu, 0x40000000u, 0xEFFFFFFFu, 0xF0000000u, 0xFF000000u};
  for (std::uint32_t k = 0; k < 20000; ++k) words.push_back(philox4x32_10({k, 1, 2, 3}, {5, 6}).c0);
  for (const std::uint32_t a : words)
    for (const std::uint32_t b : {words[k_index(a) % words.size()], a ^ 0x9E3779B9u}) {
      const cfloat z = box_muller(a, b);
      const auto [re, im] = reference(a, b);
      const double tolerance = 2.4e-7 * std::hypot(re, im) + 2e-7;
      ASSERT_NEAR(z.re, re, tolerance) << a << " " << b;
      ASSERT_NEAR(z.im, im, tolerance) << a << " " << b;
      worst = std::max({worst, std::abs(z.re - re), std::abs(z.im - im)});
    }
  RecordProperty("worst_abs_error", std::to_string(worst));
}

TEST(Philox, PairDrawsAreTheElementwiseDraws) {
  // normal_pair and normal_first (two elements per Philox block) give rng.normal's
  // values bit for bit, complex and real.
  for (const bool real : {false, true}) {
    const rng_stream rng{42, 7, 3, rng_purpose::diffusion_noise, 2, real};
    for (std::size_t chain = 0; chain < 5; ++chain)
      for (std::size_t e = 0; e < 64; e += 2) {
        cfloat z0, z1;
        rng.normal_pair(chain, e, z0, z1);
        EXPECT_EQ(z0, rng.normal(chain, e)) << chain << " " << e;
        EXPECT_EQ(z1, rng.normal(chain, e + 1)) << chain << " " << e;
        EXPECT_EQ(rng.normal_first(chain, e), rng.normal(chain, e)) << chain << " " << e;
      }
  }
}

TEST(Philox, ElementwiseLoopsDrawEveryElementOnce) {
  // for_each runs functors that draw normals in pairs per index (GPU) or in SIMD tiles
  // of detail::normal_tile elements of a chain (CPU): every element gets rng.normal's
  // value bit for bit — odd chain sizes, chains of one tile, of a tile and a bit, of
  // many tiles, serial and parallel loops, complex and real streams.
  const context ctx(backend_request::cpu);
  const std::size_t tile = detail::normal_tile;
  for (const bool real : {false, true})
    for (const std::size_t pixels : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{64}, tile / 2 + 1,
                                     tile - 1, tile, tile + 1, 8 * tile + 3}) {
      const std::size_t chains = pixels > tile ? 5 : pixels < 8 ? 40000 : 3, n = chains * pixels;
      buffer<cfloat> x(ctx, n);
      const rng_stream rng{9, 4, 1, rng_purpose::initial_state, 3, real};
      detail::for_each(ctx, n, math::scaled_normal{x.data(), {}, pixels, 0.5f, rng});
      const auto got = to_host(ctx, x);
      for (std::size_t c = 0; c < chains; ++c)
        for (std::size_t p = 0; p < pixels; ++p)
          ASSERT_EQ(got[c * pixels + p], 0.5f * rng.normal(c, p)) << real << " " << pixels << " " << c << " " << p;
    }
}

TEST(Philox, CpuNormalTilesAgreeAcrossCode) {
  // The hand-written AVX-512 Philox (where the processor has it) and the portable loop
  // give rng.normal's draws: stretches of one chain (full, partial, odd) and groups of
  // short chains (odd and even sizes), complex and real.
  struct tile {
    std::size_t chains, first, count;
  };
  const std::size_t T = detail::normal_tile;
  for (const bool real : {false, true}) {
    const rng_stream rng{0xFFFFFFFF00000001ull, 3, 11, rng_purpose::diffusion_noise, 5, real};
    for (const tile t : {tile{1, 2 * T, 1}, tile{1, 2 * T, 17}, tile{1, 0, T}, tile{T / 2, 0, 1}, tile{T / 8, 0, 3},
                         tile{T / 4, 0, 4}, tile{7, 0, 5}}) {
      std::vector<cfloat> fastest(T), portable(T);
      detail::fill_normals(rng, 2, t.chains, t.first, t.count, fastest.data(), detail::normal_code::fastest);
      detail::fill_normals(rng, 2, t.chains, t.first, t.count, portable.data(), detail::normal_code::portable);
      for (std::size_t j = 0; j < t.chains; ++j)
        for (std::size_t k = 0; k < t.count; ++k) {
          const std::size_t at = j * t.count + k;
          ASSERT_EQ(fastest[at], rng.normal(2 + j, t.first + k)) << real << " " << t.chains << " " << t.count << " " << at;
          ASSERT_EQ(portable[at], fastest[at]) << real << " " << t.chains << " " << t.count << " " << at;
        }
    }
  }
}

}  // namespace
}  // namespace twofold
