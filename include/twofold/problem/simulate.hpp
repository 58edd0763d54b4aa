#pragma once
/// \file
/// Simulated measurements y = A x + n: the demo, the benchmark, validation and
/// simulation-based calibration all make their data here.

#include <twofold/core/context.hpp>
#include <twofold/core/philox.hpp>
#include <twofold/core/types.hpp>
#include <twofold/operators/linear_operator.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace twofold {

/// y_c = A x_c + n_c for every chain c of `x`, returned on the host as
/// [x.chains, codomain]. Entry i of chain c adds σ_y · noise.normal(c, i): CN(0, σ_y²)
/// (E|n_i|² = σ_y², docs/design.md §1.1) or, for a real stream (`noise.real`),
/// N(0, σ_y²) on the real part. Throws bad_input when σ_y is negative or not finite
/// or `x` does not have the operator's domain shape. Synchronises ctx's stream.
std::vector<cfloat> simulate_measurements(const context& ctx, const linear_operator& op, const_chain_view x,
                                          double sigma_y, const rng_stream& noise);

/// One image `x` (host, the operator's domain) and the noise stream
/// {seed, chain 0, step 0, rng_purpose::measurement_noise} (real for field::real).
std::vector<cfloat> simulate_measurements(const context& ctx, const linear_operator& op, std::span<const cfloat> x,
                                          double sigma_y, field values = field::complex, std::uint64_t seed = 0);

}  // namespace twofold
