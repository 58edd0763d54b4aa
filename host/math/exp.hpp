#pragma once
/// \file
/// e^x in double from IEEE-rounded products and sums only, no libm call: the same bits
/// in every SIMD lane and scalar tail on the CPU and on the GPU (CUDA's exp and glibc's
/// differ in the last bit, and nvcc would fuse the multiply-adds). Straight-line code
/// with selects, so loops that call it vectorise; glibc's exp is a call per element.
/// The mixture responsibilities (mixture.hpp) use it.

#include <twofold/core/hd.hpp>
#include <twofold/core/philox.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace twofold::math {

namespace detail {
TWOFOLD_HD std::uint64_t bits_of(double x) {
#ifdef __CUDA_ARCH__
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}
TWOFOLD_HD double double_of(std::uint64_t b) {
#ifdef __CUDA_ARCH__
  return __longlong_as_double(static_cast<long long>(b));
#else
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}
}  // namespace detail

/// e^x within 2 ulp of the exact value for x in [−708, 709]; 0 below −708 (glibc
/// would give a value under 3.3e−308 there), +∞ above 709, NaN for NaN.
/// x = k ln 2 + r, |r| ≤ ln 2 / 2 (k rounded to nearest by adding and subtracting
/// 1.5·2⁵², ln 2 split in two so that k·ln2_hi is exact); e^r by its Taylor series to
/// r¹³ (truncation below 5·10⁻¹⁸ relative) in Horner form; 2^k built in the exponent bits.
TWOFOLD_HD double exp_rn(double x) {
  using twofold::detail::add_rn;
  using twofold::detail::mul_rn;
  constexpr double log2e = 1.4426950408889634, round_shift = 0x1.8p52;
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double c = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  const double shifted = add_rn(mul_rn(c, log2e), round_shift);  // k in the low mantissa bits
  const double k = add_rn(shifted, -round_shift);
  const double r = add_rn(add_rn(c, -mul_rn(k, ln2_hi)), -mul_rn(k, ln2_lo));
  double p = 1.6059043836821613e-10;  // 1/13!
  p = add_rn(2.08767569878681e-09, mul_rn(r, p));
  p = add_rn(2.505210838544172e-08, mul_rn(r, p));
  p = add_rn(2.755731922398589e-07, mul_rn(r, p));
  p = add_rn(2.7557319223985893e-06, mul_rn(r, p));
  p = add_rn(2.48015873015873e-05, mul_rn(r, p));
  p = add_rn(0.0001984126984126984, mul_rn(r, p));
  p = add_rn(0.001388888888888889, mul_rn(r, p));
  p = add_rn(0.008333333333333333, mul_rn(r, p));
  p = add_rn(0.041666666666666664, mul_rn(r, p));
  p = add_rn(0.16666666666666666, mul_rn(r, p));
  p = add_rn(0.5, mul_rn(r, p));
  p = add_rn(1.0, mul_rn(r, p));
  p = add_rn(1.0, mul_rn(r, p));
  // The low 12 bits of `shifted` are k's two's complement (|k| ≤ 1022); k + 1023 is the
  // biased exponent of 2^k, in [2, 2046].
  const double scale = detail::double_of((detail::bits_of(shifted) + 1023u) << 52);
  const double e = mul_rn(p, scale);
  return x < -708.0 ? 0.0 : (x > 709.0 ? HUGE_VAL : (x == x ? e : x));
}

}  // namespace twofold::math
