#pragma once
/// \file
/// Cartesian k-space sampling masks (SPEC §2). A mask is H·W values, C-order
/// [H, W], each exactly 0 or 1 (1 = sampled), in the centred k-space layout of
/// fft2c: DC at (⌊H/2⌋, ⌊W/2⌋). Line masks sample whole phase-encode lines: a set
/// of columns of the last axis W, replicated on every row (the readout axis H).
///
/// Randomness: line selection draws `twofold::uniform(seed, i, rng_purpose::mask,
/// substream)` (math/philox.hpp) — substream 0, draws i = 0, 1, … for the random
/// pattern; substream 1, draw 0 for the equispaced offset — so a mask is a pure
/// function of its parameters on every machine.

#include <twofold/core_types.hpp>

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
