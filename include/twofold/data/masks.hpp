#pragma once
/// \file
/// Cartesian k-space sampling masks (docs/design.md §2). A mask is H·W values, C-order
/// [H, W], each exactly 0 or 1 (1 = sampled), in the centred k-space layout of
/// fft2c: DC at (⌊H/2⌋, ⌊W/2⌋). Line masks sample whole phase-encode lines: a set
/// of columns of the last axis W, replicated on every row (the readout axis H).
///
/// Randomness: line selection draws `twofold::uniform(seed, i, rng_purpose::mask,
/// substream)` (math/philox.hpp) — substream 0, draws i = 0, 1, … for the random
/// pattern; substream 1, draw 0 for the equispaced offset — so a mask is a pure
/// function of its parameters on every machine.
///
/// 2-D masks (make_poisson_disc_mask, make_variable_density_mask) sample single
/// k-space locations for 2-D undersampling (3-D acquisitions with two phase-encode
/// axes). Shared conventions:
///   - distance from the centre is the normalised radius
///       r(h, w) = sqrt(((h − ⌊H/2⌋) / (H/2))² + ((w − ⌊W/2⌋) / (W/2))²),
///     0 at DC and 1 at the middle of each edge (≈ √2 in the corners), so the
///     density is elliptical for non-square shapes, as in SigPy's `mri.poisson`;
///   - exactly n = round(H·W / R) locations are sampled (halves away from zero),
///     including every location of a centred, fully sampled calibration rectangle;
///   - the masks hit the count exactly by a deterministic final step, never by
///     repeating with another seed, so every mask is a pure function of its
///     parameters (Philox purposes poisson_disc_mask and variable_density_mask).

#include <twofold/core/types.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace twofold {

/// How the lines outside the calibration block are chosen.
enum class line_pattern {
  random,      ///< uniformly without replacement
  equispaced,  ///< evenly spaced from a seeded offset
};

/// Parameters of a 1-D line mask over the phase-encode axis.
struct line_mask_params {
  /// Number of phase-encode lines W (the image width). Must be ≥ 1.
  std::size_t width = 0;
  /// Acceleration R ≥ 1 (finite): round(W / R) lines are sampled in total (at least 1).
  double acceleration = 4.0;
  /// Fraction of lines in the fully sampled centred calibration block, in [0, 1].
  /// 0 selects the default 0.32 / R (8 % at 4×, 4 % at 8×, as fastMRI).
  double center_fraction = 0.0;
  line_pattern pattern = line_pattern::random;
  /// Philox key of the line selection.
  std::uint64_t seed = 0;
};

/// W flags (1 = line sampled, else 0). Exactly n = max(1, round(W / R)) lines are
/// sampled: a contiguous calibration block of c = max(1, round(W · center_fraction))
/// lines [⌊W/2⌋ - ⌊c/2⌋, ⌊W/2⌋ - ⌊c/2⌋ + c) around the DC line ⌊W/2⌋ (fastMRI's
/// block for even W), plus n - c lines outside it:
///   random      — chosen uniformly without replacement (partial Fisher–Yates);
///   equispaced  — the W - c outside lines, listed in order with the block cut out,
///                 are sampled every s = (W - c) / (n - c) entries (rounded down)
///                 from a seeded offset in [0, s): fastMRI's EquispacedMaskFractionFunc
///                 spacing, which hits the count exactly (no top-up or trimming).
/// Rounding is to nearest, halves away from zero.
/// Errors: bad_input naming the parameter if width = 0, acceleration is not finite
/// or < 1, center_fraction is not finite or outside [0, 1], or the calibration block
/// (c lines) is larger than the n lines the acceleration allows.
std::vector<std::uint8_t> make_line_mask(const line_mask_params& params);

/// A centred fully sampled rectangle of a 2-D mask: rows [⌊H/2⌋ − ⌊height/2⌋,
/// ⌊H/2⌋ − ⌊height/2⌋ + height) and the same for columns (the line mask's block
/// convention on each axis). 0 × 0 means no calibration region.
struct calibration_region {
  std::size_t height = 0;
  std::size_t width = 0;
  constexpr std::size_t pixels() const { return height * width; }
};

/// The calibration rectangle covering `fraction` of each axis:
/// round(H · fraction) × round(W · fraction), each at least 1 when fraction > 0
/// (0 × 0 when fraction = 0).
/// Errors: bad_input naming `fraction` if it is not finite or outside [0, 1], or
/// naming the shape if it is empty.
calibration_region make_calibration_region(image_shape shape, double fraction);

/// Parameters of a variable-density Poisson-disc mask.
struct poisson_disc_mask_params {
  /// H × W of the k-space grid (coils must be 1). Both ≥ 1.
  image_shape shape{};
  /// Acceleration R ≥ 1 (finite): n = round(H·W / R) locations are sampled.
  double acceleration = 4.0;
  /// Fully sampled centred rectangle; must fit in the shape and hold ≤ n locations.
  calibration_region calibration{};
  /// Philox key of the candidate draws.
  std::uint64_t seed = 0;
};

/// H·W values (C-order [H, W], 0 or 1): a variable-density Poisson-disc pattern.
/// Method: Bridson's dart throwing (SIGGRAPH 2007 sketch) on the integer grid with
/// a radius that grows with the distance from the centre, ρ(r) = 1 + slope · r
/// pixels (SigPy `mri.poisson` and BART `poisson -v` use the same linear law;
/// density ∝ 1/ρ²). Starting from the DC location, a random active sample p tries
/// up to 30 candidates at distance U[ρ(p), 2ρ(p)) and a uniform angle, rounded to the
/// nearest location; a candidate c is accepted if it lies in the grid and every
/// accepted sample q has |c − q| ≥ ρ(c). So any two Poisson samples a, b satisfy
/// |a − b| ≥ min(ρ(a), ρ(b)). The calibration rectangle is added on top (exempt).
/// `slope` is found by bisection on [0, max(H, W)] (40 halvings; every trial uses
/// the same random stream, so the count varies smoothly with the slope), keeping
/// the trial whose union with the calibration region has the fewest locations ≥ n
/// (it stops early on exactly n); the excess Poisson samples are then removed in a
/// seeded random order (removal keeps the distance property). If even slope 0 (ρ = 1: any two grid points qualify)
/// gives fewer than n, the missing locations are added in a seeded random order.
/// Randomness: `uniform(seed, i, poisson_disc_mask, s)` with s = 0 for the dart
/// throwing (i counts draws within one trial), 1 for the removal order, 2 for the
/// top-up order. No corner cropping (SigPy's crop_corner) is done.
/// Cost: up to 41 dart-throwing passes over the grid (≈ 0.15 s at 64² on one core,
/// growing with H·W).
/// Errors: bad_input naming the parameter if the shape is empty or has coils ≠ 1,
/// the acceleration is not finite or < 1, or the calibration region is partly empty
/// (one side 0), larger than the shape, or holds more than n locations.
std::vector<float> make_poisson_disc_mask(const poisson_disc_mask_params& params);

/// Parameters of a variable-density random (Bernoulli) mask.
struct variable_density_mask_params {
  /// H × W of the k-space grid (coils must be 1). Both ≥ 1.
  image_shape shape{};
  /// Acceleration R ≥ 1 (finite): n = round(H·W / R) locations are sampled.
  double acceleration = 4.0;
  /// Fully sampled centred rectangle; must fit in the shape and hold ≤ n locations.
  calibration_region calibration{};
  /// Exponent p ≥ 0 (finite) of the density (1 − r/r_max)^p; 0 is uniform.
  double power = 2.0;
  /// Philox key of the Bernoulli draws.
  std::uint64_t seed = 0;
};

/// H·W values (C-order [H, W], 0 or 1): independent Bernoulli sampling with the
/// polynomial density d(r) = (1 − r/r_max)^p, r_max the largest r on the grid (a
/// corner), so d is 1 at DC and 0 only at the farthest location(s). Outside the
/// calibration region location i is sampled with probability π_i = min(1, c · d_i),
/// c found by bisection so that Σ π_i = n − (calibration locations): the expected
/// count is the target. With u_i = uniform(seed, i, variable_density_mask, 0), the
/// Bernoulli sample is {u_i < π_i}, i.e. {u_i / π_i < 1}; the exact count is enforced
/// by taking the n − (calibration) locations with the smallest u_i / π_i (ties by
/// index; π_i = 0 last), which adds or drops only the locations nearest the
/// threshold (order sampling, so inclusion probabilities stay ≈ π_i).
/// Errors: bad_input naming the parameter as for make_poisson_disc_mask, or if the
/// power is not finite or < 0.
std::vector<float> make_variable_density_mask(const variable_density_mask_params& params);

/// The H·W 0/1 mask (C-order [H, W]) that samples the flagged lines on every row:
/// mask[r·W + w] = (lines[w] != 0).
/// Errors: bad_input if lines.size() != shape.width.
std::vector<float> expand_line_mask(std::span<const std::uint8_t> lines, image_shape shape);

/// The inverse of expand_line_mask: if `mask` (C-order [H, W], values 0/1) is
/// constant along H — it samples whole lines — returns its W flags; otherwise
/// (some column differs between rows, or some value is neither 0 nor 1) nullopt.
/// Lets an operator exploit line structure (AᴴA then acts along W only).
/// Errors: bad_input if mask.size() != H·W or the shape is empty.
std::optional<std::vector<std::uint8_t>> as_line_mask(std::span<const float> mask, image_shape shape);

/// Checks a user-supplied mask; `what` names it in the messages. Returns normally
/// if it is valid.
/// Errors: bad_input if mask.size() != H·W, an entry is not finite or not exactly
/// 0 or 1, or no entry is 1 ("mask '<what>' samples no k-space location").
void validate_mask(std::span<const float> mask, image_shape shape, std::string_view what);

}  // namespace twofold
