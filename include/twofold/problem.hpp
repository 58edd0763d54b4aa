#pragma once
/// \file
/// A linear inverse problem y = A x + n, n ~ CN(0, σ_y² I) (SPEC §1.1: complex noise
/// with E|n_i|² = σ_y², i.e. σ_y²/2 per real and imaginary part — BART's convention;
/// deepinv's per-channel σ is σ_y/√2 in these units).

#include <twofold/buffer.hpp>
#include <twofold/context.hpp>
#include <twofold/operator.hpp>

#include <memory>
#include <span>
#include <vector>

namespace twofold {

class inverse_problem {
 public:
  /// `measurements`: one measurement of A's codomain shape. For Cartesian MRI the
  /// full k-space grid: entries where the mask is 0 are ignored (zeroed), so fully
  /// sampled k-space may be passed for retrospective undersampling.
  /// Throws bad_input on size mismatch, non-finite data, σ_y not finite and > 0, or
  /// (for field::real) a measurement with a non-zero imaginary part.
  inverse_problem(const context& ctx, std::shared_ptr<const linear_operator> op,
                  std::span<const cfloat> measurements, double sigma_y, field values = field::complex);

  const linear_operator& op() const { return *op_; }
  std::shared_ptr<const linear_operator> op_ptr() const { return op_; }
  double sigma_y() const { return sigma_y_; }
  field values() const { return field_; }
  bool is_real() const { return field_ == field::real; }
  image_shape shape() const { return op_->domain(); }
  /// y as given, except entries A never reaches (unsampled k-space, unobserved
  /// pixels), which are 0; on the host and on the backend.
  const std::vector<cfloat>& measurements() const { return y_host_; }
  const cfloat* measurements_device() const { return y_.data(); }
  /// m: the number of entries of y that A reaches (the rest are 0 in y).
  std::size_t measured_entries() const { return measured_entries_; }
  /// Aᴴy, one image on the backend (the data term of every likelihood score).
  const cfloat* adjoint_measurements() const { return aty_.data(); }
  /// Aᴴy on the host: the zero-filled reconstruction for Cartesian MRI.
  const std::vector<cfloat>& zero_filled() const { return aty_host_; }

 private:
  std::shared_ptr<const linear_operator> op_;
  double sigma_y_;
  field field_;
  std::size_t measured_entries_ = 0;
  std::vector<cfloat> y_host_, aty_host_;
  buffer<cfloat> y_, aty_;
};

}  // namespace twofold
