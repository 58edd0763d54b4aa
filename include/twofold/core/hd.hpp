#pragma once
/// \file
/// TWOFOLD_HD marks the one copy of per-element math shared by both backends:
/// `__host__ __device__` under nvcc, plain `inline` under a host compiler.

#if defined(__CUDACC__)
#define TWOFOLD_HD __host__ __device__ inline
#define TWOFOLD_HD_CONSTEXPR __host__ __device__ constexpr
#else
#define TWOFOLD_HD inline
#define TWOFOLD_HD_CONSTEXPR constexpr
#endif
