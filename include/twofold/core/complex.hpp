#pragma once
/// \file
/// A minimal host/device complex number, layout-compatible with
/// `std::complex<T>`, `cufftComplex` and `fftwf_complex` (two packed T).

#include <twofold/core/hd.hpp>

#include <cmath>

namespace twofold {

/// Aligned to its whole size (8 bytes for cfloat, 16 for cdouble), so that the
/// compilers load and store a value in one instruction (a pair of floats would
/// otherwise be 4-byte aligned and moved as two scalars).
template <class T>
struct alignas(2 * sizeof(T)) complex {
  T re{};
  T im{};

  constexpr complex() = default;  // defaulted: host and device alike for nvcc
  TWOFOLD_HD_CONSTEXPR complex(T r, T i = T{}) : re(r), im(i) {}
  template <class U>
  TWOFOLD_HD_CONSTEXPR explicit complex(complex<U> z) : re(static_cast<T>(z.re)), im(static_cast<T>(z.im)) {}

  TWOFOLD_HD complex& operator+=(complex b) { re += b.re; im += b.im; return *this; }
  TWOFOLD_HD complex& operator-=(complex b) { re -= b.re; im -= b.im; return *this; }
  TWOFOLD_HD complex& operator*=(T s) { re *= s; im *= s; return *this; }
};

using cfloat = complex<float>;
using cdouble = complex<double>;

template <class T> TWOFOLD_HD complex<T> operator+(complex<T> a, complex<T> b) { return {a.re + b.re, a.im + b.im}; }
template <class T> TWOFOLD_HD complex<T> operator-(complex<T> a, complex<T> b) { return {a.re - b.re, a.im - b.im}; }
template <class T> TWOFOLD_HD complex<T> operator-(complex<T> a) { return {-a.re, -a.im}; }
template <class T> TWOFOLD_HD complex<T> operator*(complex<T> a, complex<T> b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
template <class T> TWOFOLD_HD complex<T> operator*(T s, complex<T> a) { return {s * a.re, s * a.im}; }
template <class T> TWOFOLD_HD complex<T> operator*(complex<T> a, T s) { return {s * a.re, s * a.im}; }
template <class T> TWOFOLD_HD complex<T> conj(complex<T> a) { return {a.re, -a.im}; }
/// |a|², the quantity every variance in twofold is built from (docs/design.md §1.3).
template <class T> TWOFOLD_HD T norm2(complex<T> a) { return a.re * a.re + a.im * a.im; }
template <class T> TWOFOLD_HD T abs(complex<T> a) { return std::sqrt(norm2(a)); }
template <class T> TWOFOLD_HD bool operator==(complex<T> a, complex<T> b) { return a.re == b.re && a.im == b.im; }
template <class T> TWOFOLD_HD bool is_finite(complex<T> a) { return std::isfinite(a.re) && std::isfinite(a.im); }

}  // namespace twofold
