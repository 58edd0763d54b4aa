// Systematic resampling (host/samplers/resampling.hpp) on the CPU backend: segmented prefix
// sums, ancestor counts within ±1 of K·w_k, untouched systems, and the random
// rotation that makes a single output an exact draw ∝ w. The CUDA path is compared
// with this one bit for bit in tests/gpu/gpu_parity_test.cpp.
#include <twofold/core/buffer.hpp>

#include "host/samplers/resampling.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace twofold {
namespace {

TEST(Resampling, SegmentedPrefixSumsRestartAtEverySegment) {
  context ctx(backend_request::cpu);
  detail::resampling_workspace scratch;
  const std::vector<double> in = {1, 2, 3, 4, 5, 6, 7};
  auto d = to_backend(ctx, std::span<const double>(in));
  buffer<double> out(ctx, in.size());
  detail::segmented_inclusive_sum(ctx, d.data(), out.data(), in.size(), 3, scratch);
  EXPECT_EQ(to_host(ctx, out), (std::vector<double>{1, 3, 6, 4, 9, 15, 7}));
}

TEST(Resampling, SystematicCountsAreWithinOneOfExpected) {
  context ctx(backend_request::cpu);
  detail::resampling_workspace scratch;
  const std::size_t K = 16, R = 3;
  std::vector<double> w(R * K);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::pow(uniform(4, i, rng_purpose::test), 3.0);
  const std::vector<std::uint8_t> flags = {1, 0, 1};
  auto wd = to_backend(ctx, std::span<const double>(w));
  auto fd = to_backend(ctx, std::span<const std::uint8_t>(flags));
  buffer<std::uint32_t> anc(ctx, R * K);
  for (std::uint64_t step = 0; step < 50; ++step) {
    detail::systematic_ancestors(ctx, wd.data(), fd.data(), R, K, rng_stream{9, 32, 0}, step, anc.data(), scratch);
    const auto a = to_host(ctx, anc);
    for (std::size_t r = 0; r < R; ++r) {
      double total = 0;
      for (std::size_t k = 0; k < K; ++k) total += w[r * K + k];
      std::vector<int> count(K, 0);
      for (std::size_t j = 0; j < K; ++j) {
        ASSERT_GE(a[r * K + j], r * K);
        ASSERT_LT(a[r * K + j], (r + 1) * K);
        ++count[a[r * K + j] - r * K];
      }
      for (std::size_t k = 0; k < K; ++k) {
        if (!flags[r]) EXPECT_EQ(a[r * K + k], r * K + k);
        else EXPECT_LE(std::abs(count[k] - double(K) * w[r * K + k] / total), 1.0) << "system " << r << " particle " << k;
      }
    }
  }
}

TEST(Resampling, OneOutputAloneIsADrawProportionalToTheWeights) {
  // Output 0 of a system over many steps: frequencies ∝ w within 4.5 binomial SEs.
  context ctx(backend_request::cpu);
  detail::resampling_workspace scratch;
  const std::size_t K = 8, steps = 20000;
  const std::vector<double> w = {8, 1, 1, 4, 0, 2, 0.5, 15.5};
  auto wd = to_backend(ctx, std::span<const double>(w));
  const std::vector<std::uint8_t> flag = {1};
  auto fd = to_backend(ctx, std::span<const std::uint8_t>(flag));
  buffer<std::uint32_t> anc(ctx, K);
  std::vector<double> hits(K, 0);
  for (std::uint64_t step = 0; step < steps; ++step) {
    detail::systematic_ancestors(ctx, wd.data(), fd.data(), 1, K, rng_stream{3, 0, 0}, step, anc.data(), scratch);
    hits[to_host(ctx, anc)[0]] += 1;
  }
  for (std::size_t k = 0; k < K; ++k) {
    const double p = w[k] / 32.0;
    EXPECT_NEAR(hits[k] / double(steps), p, 4.5 * std::sqrt(p * (1 - p) / double(steps)) + 1e-12) << "particle " << k;
  }
}

}  // namespace
}  // namespace twofold
