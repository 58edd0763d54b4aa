// linear_operator::norm_bound: ‖A‖₂ from the spectral form, from power iteration
// (operators without one), and the multi-coil maps bound; checked against LAPACK's
// singular values of the operator's matrix.

#include <twofold/data/coil_maps.hpp>
#include <twofold/data/masks.hpp>
#include <twofold/twofold.hpp>

#include <gtest/gtest.h>

#include <lapacke.h>

#include <complex>
#include <memory>
#include <vector>

namespace twofold {
namespace {

/// The largest singular value of an operator's matrix, probed column by column.
double largest_singular_value(const context& ctx, const linear_operator& op) {
  const std::size_t n = op.domain().pixels(), m = op.codomain().pixels();
  std::vector<std::complex<double>> a(m * n);
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<cfloat> e(n);
    e[j] = {1.0f, 0.0f};
    const chain_buffer x = to_backend(ctx, e, 1, op.domain());
    chain_buffer y(ctx, 1, op.codomain());
    op.apply(ctx, x.view(), y.view());
    const auto col = to_host(ctx, y.view());
    for (std::size_t i = 0; i < m; ++i) a[i * n + j] = {col[i].re, col[i].im};
  }
  std::vector<double> s(std::min(m, n));
  const lapack_int info = LAPACKE_zgesdd(LAPACK_ROW_MAJOR, 'N', lapack_int(m), lapack_int(n),
                                         reinterpret_cast<lapack_complex_double*>(a.data()), lapack_int(n), s.data(),
                                         nullptr, lapack_int(m), nullptr, lapack_int(n));
  EXPECT_EQ(info, 0);
  return s.front();
}

/// An operator with no spectral form: the default norm_bound runs power iteration.
class without_spectral_form final : public linear_operator {
 public:
  explicit without_spectral_form(std::shared_ptr<const linear_operator> op) : op_(std::move(op)) {}
  image_shape domain() const override { return op_->domain(); }
  image_shape codomain() const override { return op_->codomain(); }
  void apply(const context& ctx, const_chain_view x, chain_view y) const override { op_->apply(ctx, x, y); }
  void adjoint(const context& ctx, const_chain_view y, chain_view x) const override { op_->adjoint(ctx, y, x); }
  void range_project(const context& ctx, chain_view x) const override { op_->range_project(ctx, x); }
  std::string name() const override { return "wrapped"; }

 private:
  std::shared_ptr<const linear_operator> op_;
};

std::vector<cfloat> random_matrix(std::size_t m, std::size_t n, float scale, std::uint64_t seed) {
  std::vector<cfloat> a(m * n);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = scale * complex_normal(seed, 0, 0, rng_purpose::test, i);
  return a;
}

TEST(NormBound, SpectralFormGivesTheLargestSingularValue) {
  context ctx(backend_request::cpu);
  const dense_operator dense(ctx, random_matrix(7, 12, 3.0f, 1), 7, {3, 4});
  EXPECT_NEAR(dense.norm_bound(ctx), largest_singular_value(ctx, dense), 1e-5 * largest_singular_value(ctx, dense));
  const image_shape shape{8, 8};
  const fourier_mask_operator mri(ctx, shape, expand_line_mask(make_line_mask({8, 2.0, 0.0, line_pattern::random, 1}), shape));
  EXPECT_EQ(mri.norm_bound(ctx), 1.0);
}

TEST(NormBound, PowerIterationIsWithinItsStatedMargin) {
  context ctx(backend_request::cpu);
  const auto dense = std::make_shared<dense_operator>(ctx, random_matrix(9, 16, 2.0f, 2), 9, image_shape{4, 4});
  const without_spectral_form wrapped(dense);
  const double truth = largest_singular_value(ctx, *dense);
  const double bound = wrapped.norm_bound(ctx);
  EXPECT_GE(bound, truth) << "the 5 % margin must cover power iteration's shortfall here";
  EXPECT_LE(bound, 1.05 * truth * (1 + 1e-6));
}

TEST(NormBound, MulticoilMapsBoundTheNorm) {
  context ctx(backend_request::cpu);
  const image_shape shape{8, 8};
  std::vector<cfloat> maps = make_coil_maps({8, 8, 4}, {0, 1.5, 1.0});
  for (auto& s : maps) s = 2.5f * s;  // unnormalised maps: ‖A‖ = 2.5 under a full mask
  std::vector<float> random_mask(shape.pixels());
  for (std::size_t i = 0; i < random_mask.size(); ++i) random_mask[i] = (i * 7919) % 3 == 0 ? 1.0f : 0.0f;
  const multicoil_operator full(ctx, shape, 4, maps, std::vector<float>(shape.pixels(), 1.0f));
  EXPECT_NEAR(full.norm_bound(ctx), largest_singular_value(ctx, full), 1e-4 * 2.5);
  const multicoil_operator sparse(ctx, shape, 4, maps, random_mask);  // a 2-D mask: no row SVD
  ASSERT_EQ(sparse.spectral(), nullptr);
  EXPECT_GE(sparse.norm_bound(ctx), largest_singular_value(ctx, sparse) * (1 - 1e-6));
}

}  // namespace
}  // namespace twofold
