#pragma once
/// \file
/// The base of the operators whose SVD A = U diag(a) Vᴴ is known in closed form with
/// fast transforms for U and V: single-coil Cartesian MRI (V = Fᴴ), FFT blur (V = Fᴴ),
/// inpainting (V = I) and block-average super-resolution (V: block means).

#include <twofold/operators/linear_operator.hpp>

#include <string>
#include <vector>

namespace twofold {

/// Holds what every such operator answers the same way: its shapes (one spectral
/// coefficient per measurement, so coefficient_shape() = codomain()), its singular
/// values a on the host, its basis and its name. Derived operators implement the
/// maps (apply, adjoint, normal, the projections, analyse, synthesise,
/// measurement_coefficients) with their fast transforms.
class spectral_operator : public linear_operator, public spectral_form {
 public:
  image_shape domain() const final { return shape_; }
  image_shape codomain() const final { return codomain_; }
  const spectral_form* spectral() const final { return this; }
  std::string name() const final { return name_; }

  spectral_basis basis() const final { return basis_; }
  image_shape coefficient_shape() const final { return codomain_; }
  const std::vector<float>& singular_values() const final { return singular_values_; }

 protected:
  /// An operator on `shape` images; the codomain is `shape` too until the derived
  /// constructor sets it.
  spectral_operator(std::string name, spectral_basis basis, image_shape shape)
      : shape_(shape), codomain_(shape), name_(std::move(name)), basis_(basis) {}

  image_shape shape_, codomain_;
  std::vector<float> singular_values_;  ///< a, codomain().pixels() values ≥ 0

 private:
  std::string name_;
  spectral_basis basis_;
};

}  // namespace twofold
