#pragma once
/// \file
/// A linear inverse problem y = A x + n, n ~ CN(0, σ_y² I) (docs/design.md §1.1: complex noise
/// with E|n_i|² = σ_y², i.e. σ_y²/2 per real and imaginary part — BART's convention;
/// deepinv's per-channel σ is σ_y/√2 in these units).

#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/run_data.hpp>
#include <twofold/operators/linear_operator.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace twofold {

/// How the chains of a batch map to runs: global chain g = first_chain + c belongs
/// to run g / chains_per_run (which uses measurement set `run` of a problem with
/// several sets).
struct run_layout {
  std::size_t first_chain = 0;
  std::size_t chains_per_run = 1;
};

/// One or several measurement sets y_1 … y_S of the same A and σ_y: a batch of
/// problems whose runs sample side by side (simulation-based calibration runs its
/// replicates so). Run r of a design uses set r; with one set every run shares it.
class inverse_problem {
 public:
  /// `measurements`: one measurement of A's codomain shape. For Cartesian MRI the
  /// full k-space grid: entries where the mask is 0 are ignored (zeroed), so fully
  /// sampled k-space may be passed for retrospective undersampling.
  /// Throws bad_input on size mismatch, non-finite data, σ_y not finite and > 0, or
  /// (for field::real) a measurement with a non-zero imaginary part.
  /// `sets` > 1: `measurements` holds that many measurements, C order [sets, codomain].
  inverse_problem(const context& ctx, std::shared_ptr<const linear_operator> op,
                  std::span<const cfloat> measurements, double sigma_y, field values = field::complex,
                  std::size_t sets = 1);

  /// Set r as a problem of its own (copies; no new probe of A).
  inverse_problem measurement_set(const context& ctx, std::size_t r) const;

  const linear_operator& op() const { return *op_; }
  std::shared_ptr<const linear_operator> op_ptr() const { return op_; }
  double sigma_y() const { return sigma_y_; }
  field values() const { return field_; }
  bool is_real() const { return field_ == field::real; }
  image_shape shape() const { return op_->domain(); }
  /// S, the number of measurement sets.
  std::size_t sets() const { return sets_; }
  /// y (all sets, [S, codomain]) as given, except entries A never reaches (unsampled k-space, unobserved
  /// pixels), which are 0; on the host and on the backend.
  const std::vector<cfloat>& measurements() const { return y_host_; }
  const cfloat* measurements_device() const { return y_.data(); }
  /// m: the number of entries of one y that A reaches (the rest are 0 in y).
  std::size_t measured_entries() const { return measured_entries_; }
  /// Per entry of one y: 1 where A reaches it (a measurement), 0 elsewhere.
  const std::vector<std::uint8_t>& measured_mask() const { return measured_; }
  /// Aᴴy of every set, [S, H, W] on the backend (the data term of likelihood scores).
  const cfloat* adjoint_measurements() const { return aty_.data(); }
  /// Aᴴy on the host ([S, H, W]): the zero-filled reconstruction for Cartesian MRI.
  const std::vector<cfloat>& zero_filled() const { return aty_host_; }
  /// y and Aᴴy of each chain's run, for element-wise kernels over a chain batch laid
  /// out as `runs` (backend memory; shared by every chain when S = 1).
  math::run_data measurements_for(run_layout runs) const { return per_set(y_.data(), op_->codomain().pixels(), runs); }
  math::run_data adjoint_measurements_for(run_layout runs) const { return per_set(aty_.data(), shape().pixels(), runs); }
  /// Any data with one copy of `size` values per measurement set (e.g. Uᴴy/a of every
  /// set), read per chain as above.
  math::run_data per_set(const cfloat* data, std::size_t size, run_layout runs) const {
    return {data, size, runs.first_chain, sets_ == 1 ? 0 : runs.chains_per_run};
  }
  /// Throws bad_input unless the design's `runs` can use these sets (S = 1 or S = runs).
  void check_sets(std::size_t runs) const;

 private:
  inverse_problem() = default;

  std::shared_ptr<const linear_operator> op_;
  double sigma_y_ = 0;
  field field_ = field::complex;
  std::size_t sets_ = 1;
  std::size_t measured_entries_ = 0;
  std::vector<std::uint8_t> measured_;
  std::vector<cfloat> y_host_, aty_host_;
  buffer<cfloat> y_, aty_;
};

}  // namespace twofold
