// math::exp_rn (host/math/exp.hpp): e^x from IEEE-rounded operations only, the same
// bits in SIMD lanes, scalar code and on the GPU. Checked against glibc's exp, which is
// correctly rounded in practice (< 1 ulp).

#include "host/math/exp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace twofold {
namespace {

double ulps_apart(double a, double b) { return std::abs(a - b) / (std::nextafter(b, HUGE_VAL) - b); }

TEST(Exp, WithinTwoUlpOfLibmOverTheWholeRange) {
  // 2·10⁶ points spread over [−708, 709] plus the neighbourhoods of 0 and of the
  // reduction's breakpoints (k ln 2 ± ln 2 / 2), where the polynomial's argument is largest.
  double worst = 0, worst_x = 0;
  auto check = [&](double x) {
    const double u = ulps_apart(math::exp_rn(x), std::exp(x));
    if (u > worst) worst = u, worst_x = x;
  };
  for (int i = 0; i <= 2'000'000; ++i) check(-708.0 + 1417.0 * i / 2'000'000.0);
  for (int i = -1000; i <= 1000; ++i) check(i * 1e-6), check(i * 1e-300);
  for (int k = -1000; k <= 1000; k += 7)
    for (const double d : {-1e-12, 0.0, 1e-12}) check((k + 0.5) * 0.6931471805599453 + d);
  EXPECT_LE(worst, 2.0) << "at x = " << worst_x;
}

TEST(Exp, EdgesAreExactOrFlagged) {
  EXPECT_EQ(math::exp_rn(0.0), 1.0);
  EXPECT_EQ(math::exp_rn(-0.0), 1.0);
  EXPECT_EQ(math::exp_rn(-708.5), 0.0);
  EXPECT_EQ(math::exp_rn(-HUGE_VAL), 0.0);
  EXPECT_EQ(math::exp_rn(709.5), HUGE_VAL);
  EXPECT_EQ(math::exp_rn(HUGE_VAL), HUGE_VAL);
  EXPECT_TRUE(std::isnan(math::exp_rn(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_GT(math::exp_rn(-708.0), 0.0);
  EXPECT_LT(math::exp_rn(709.0), HUGE_VAL);
}

TEST(Exp, VectorisedLoopsGiveTheScalarBits) {
  // The same function in a loop the compiler vectorises and in one it may not: the
  // contract the mixture tiles rely on.
  std::vector<double> x(1003), vectorised(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = -50.0 + 0.0997 * static_cast<double>(i);
  for (std::size_t i = 0; i < x.size(); ++i) vectorised[i] = math::exp_rn(x[i]);
  for (std::size_t i = 0; i < x.size(); ++i) {
    volatile double xi = x[i];
    ASSERT_EQ(vectorised[i], math::exp_rn(xi)) << "x = " << x[i];
  }
}

}  // namespace
}  // namespace twofold
