#pragma once
/// \file
/// Linear forward operators A: images [chain, H, W] -> measurements [chain, (coil,) H', W'],
/// applied to a whole batch of chains at once (docs/design.md §2). Every operator has apply,
/// adjoint, normal (AᴴA) and the orthogonal projectors onto its row space
/// P_R = A⁺A and null space P_N = I − P_R, and passes a dot-product adjoint test
/// (tests/operators/operator_test.cpp). Operators with a known SVD also expose it as a
/// spectral_form. The concrete operators live in include/twofold/operators/.

#include <twofold/core/buffer.hpp>
#include <twofold/core/context.hpp>
#include <twofold/core/types.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace twofold {

class spectral_form;
namespace detail {
struct operator_scratch;
std::shared_ptr<operator_scratch> make_operator_scratch();
}  // namespace detail

class linear_operator {
 public:
  virtual ~linear_operator() = default;
  /// Shape of one image (the domain).
  virtual image_shape domain() const = 0;
  /// Shape of one chain's measurement (the codomain).
  virtual image_shape codomain() const = 0;
  /// y = A x for every chain. Queued on ctx's stream.
  virtual void apply(const context& ctx, const_chain_view x, chain_view y) const = 0;
  /// x = Aᴴ y for every chain.
  virtual void adjoint(const context& ctx, const_chain_view y, chain_view x) const = 0;
  /// out = AᴴA x for every chain; `out` may alias `x`. Default: adjoint(apply(x)),
  /// through a measurement batch kept by the operator (allocated once, reused).
  virtual void normal(const context& ctx, const_chain_view x, chain_view out) const;
  /// x ← P_R x in place (projector onto the row space of A).
  virtual void range_project(const context& ctx, chain_view x) const = 0;
  /// x ← P_N x = x − P_R x in place. Default: x − P_R x with one image batch kept by
  /// the operator (allocated once, reused).
  virtual void null_project(const context& ctx, chain_view x) const;
  /// The SVD A = U diag(a) Vᴴ as fast transforms, or nullptr when none is known.
  virtual const spectral_form* spectral() const { return nullptr; }
  /// ‖A‖₂, the largest singular value, or a bound at most a few per cent above it
  /// (Langevin's step rule scales with it). Default: the spectral form's largest
  /// singular value; without one, 50 power iterations of AᴴA from a fixed start, plus
  /// 5 % (power iteration approaches ‖A‖ from below).
  virtual double norm_bound(const context& ctx) const;
  /// Short name for messages and summaries ("mri", "dense", ...).
  virtual std::string name() const = 0;

 protected:
  /// Throws bad_input unless `v` is a batch of `expected` (messages name `what`).
  static void expect_batch(const_chain_view v, image_shape expected, const char* what);

  /// A scratch batch of `chains` × `shape` kept by the operator, grown on first use
  /// and reused, so that steps allocate nothing; locked while the lease lives. Derived
  /// operators own slots 0 … 3 (a method must not take a slot that a method it calls
  /// holds).
  struct scratch_lease {
    std::unique_lock<std::mutex> lock;
    chain_view view;
  };
  scratch_lease scratch(const context& ctx, std::size_t slot, std::size_t chains, image_shape shape) const;

 private:
  /// The batches behind scratch() and the default normal() and null_project(),
  /// grown to the largest batch seen: sampler steps allocate nothing. Shared by
  /// copies; each is locked while in use.
  std::shared_ptr<detail::operator_scratch> scratch_ = detail::make_operator_scratch();
};

/// Which unitary basis the right singular vectors V are, so that priors diagonal in
/// the same basis can be recognised (the exact sampler's closed form needs it).
enum class spectral_basis {
  pixel,    ///< V = I: coefficients are pixels (inpainting)
  fourier,  ///< V = Fᴴ, the centred orthonormal DFT: coefficients are k-space (MRI, blur)
  other,    ///< any other orthonormal V (dense SVD, block averages)
};

/// A = U diag(a) Vᴴ with r orthonormal columns in V (r ≤ n) and singular values
/// a_k ≥ 0 (some may be 0). span(V)'s orthogonal complement lies in A's null space,
/// so x = V Vᴴx + (I − V Vᴴ)x splits every image into r coefficients and a part A
/// never sees. Used by the exact sampler and the spectral samplers (docs/design.md §1.5).
class spectral_form {
 public:
  virtual ~spectral_form() = default;
  virtual spectral_basis basis() const = 0;
  /// Shape of one chain's coefficient vector (r = coefficient_shape().pixels()).
  virtual image_shape coefficient_shape() const = 0;
  /// a_k ≥ 0, r values on the host.
  virtual const std::vector<float>& singular_values() const = 0;
  /// c = Vᴴ x for every chain.
  virtual void analyse(const context& ctx, const_chain_view x, chain_view c) const = 0;
  /// x = V c for every chain.
  virtual void synthesise(const context& ctx, const_chain_view c, chain_view x) const = 0;
  /// ỹ = Uᴴ y for every chain (only coefficients with a_k > 0 are meaningful).
  virtual void measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const = 0;
};

}  // namespace twofold
