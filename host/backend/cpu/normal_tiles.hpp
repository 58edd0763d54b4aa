#pragma once
/// \file
/// How the CPU backend draws the normals of element-wise functors (math::draws_normals):
/// a tile of one chain's CN(0, 1) draws at a time, computed by SIMD loops over Philox
/// blocks and Box–Muller transforms, then handed to the functor element by element.
/// The draws are rng.normal(chain, element) bit for bit — the same Philox counters and
/// the same IEEE-rounded float operations as the scalar functions in
/// <twofold/core/philox.hpp>, which the GPU runs one pair per thread — so results do
/// not depend on the backend, the tile or the instruction set.

#include <twofold/core/complex.hpp>
#include <twofold/core/philox.hpp>

#include <cstddef>

namespace twofold::detail {

/// Elements per tile (even, so tiles start on a Philox block).
inline constexpr std::size_t normal_tile = 512;

/// Which code computes the Philox words: the fastest this processor runs (hand-written
/// AVX-512 where available), or the portable loop compilers vectorise (for tests
/// that compare the two).
enum class normal_code { fastest, portable };

/// out[j · count + k] = rng.normal(chain + j, first + k) for j < chains and k < count
/// (`out` holds normal_tile draws; with an odd `count` only those are written):
/// a stretch of one long chain (chains = 1), or whole short chains side by side
/// (first = 0, count = their size), with `first` even and chains · ⌈count/2⌉ ≤
/// normal_tile/2 Philox blocks. Vectorised for the widest instruction set the
/// processor has (AVX-512, AVX2, else SSE2), chosen once at load time.
void fill_normals(const rng_stream& rng, std::size_t chain, std::size_t chains, std::size_t first, std::size_t count,
                  cfloat* out, normal_code code = normal_code::fastest);

}  // namespace twofold::detail
