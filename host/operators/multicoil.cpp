#include <twofold/core/error.hpp>
#include <twofold/core/fft.hpp>
#include "host/math/elementwise.hpp"
#include "host/math/operator_maps.hpp"
#include <twofold/operators/multicoil.hpp>


#include "host/backend/blas_engine.hpp"
#include "host/sampling/conjugate_gradient.hpp"
#include "host/backend/for_each.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <complex>
#include <cstdint>
#define lapack_complex_float std::complex<float>  // as lapack.h suggests for C++
#define lapack_complex_double std::complex<double>
#include <lapacke.h>
#include <string>

namespace twofold {

multicoil_operator::multicoil_operator(const context& ctx, image_shape shape, std::size_t coils,
                                       std::span<const cfloat> maps, std::span<const float> mask,
                                       cg_params projection, std::size_t max_spectral_bytes)
    : shape_(shape), coils_(coils), maps_host_(maps.begin(), maps.end()), mask_(ctx, shape, mask),
      projection_(projection) {
  projection_workspace_ = std::make_shared<detail::cg_workspace>();
  TWOFOLD_EXPECTS(coils >= 1, "multi-coil MRI needs at least one coil");
  TWOFOLD_EXPECTS(maps.size() == coils * shape.pixels(),
                  "sensitivity maps have " + std::to_string(maps.size()) + " values, expected coils x H x W = " +
                      std::to_string(coils) + "x" + to_string(shape) + " = " + std::to_string(coils * shape.pixels()));
  bool seen = false;
  for (std::size_t i = 0; i < maps.size(); ++i) {
    TWOFOLD_EXPECTS(is_finite(maps[i]), "sensitivity maps have a non-finite value at flat index " + std::to_string(i));
    seen = seen || norm2(maps[i]) > 0;
  }
  TWOFOLD_EXPECTS(seen, "sensitivity maps are zero everywhere");
  TWOFOLD_EXPECTS(projection.tolerance > 0 && projection.tolerance < 1 && projection.max_iterations >= 1,
                  "multi-coil projection tolerance must be in (0, 1) with at least one iteration");
  maps_ = to_backend(ctx, std::span<const cfloat>(maps_host_));
  if (mask_.lines()) build_row_svd(ctx, *mask_.lines(), max_spectral_bytes);
}

void multicoil_operator::build_row_svd(const context& ctx, const std::vector<std::uint8_t>& lines,
                                       std::size_t max_bytes) {
  using zd = std::complex<double>;
  const std::size_t H = shape_.height, W = shape_.width, C = coils_;
  const std::size_t m = std::size_t(std::count_if(lines.begin(), lines.end(), [](std::uint8_t l) { return l != 0; }));
  if (H * W * W * sizeof(cfloat) > max_bytes) return;  // the eigenvectors of every row, in float
  // P = F_Wᴴ diag(lines) F_W; A_hᴴA_h = Σ_c diag(conj S_c(h, ·)) P diag(S_c(h, ·)).
  const auto f = centred_dft_matrix(W);
  std::vector<zd> p(W * W);
  for (std::size_t k = 0; k < W; ++k) {
    if (!lines[k]) continue;
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t v = 0; v < W; ++v)
        p[w * W + v] += std::conj(zd(f[k * W + w].re, f[k * W + w].im)) * zd(f[k * W + v].re, f[k * W + v].im);
  }
  // Workspaces are ours and padded: OpenBLAS 0.3.21's AVX-512 zgemv_n (inside the
  // tridiagonalisation) reads a little past the end of a vector, which segfaulted
  // when a tightly sized LAPACKE buffer ended at the top of the heap.
  constexpr std::size_t pad = 64;
  const lapack_int n = lapack_int(W);
  zd work_size = 0;
  double rwork_size = 0;
  lapack_int iwork_size = 0;
  {
    std::vector<zd> probe(W * W + pad);
    std::vector<double> values(W + pad);
    LAPACKE_zheevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, probe.data(), n, values.data(), &work_size, -1, &rwork_size,
                        -1, &iwork_size, -1);
  }
  std::vector<double> lambda(H * W);
  std::vector<std::complex<float>> vectors(H * W * W);  // per row: eigenvectors as columns, column-major
  std::int64_t failed = -1;
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t hh = 0; hh < std::int64_t(H); ++hh) {
    const std::size_t h = std::size_t(hh);
    std::vector<zd> gram(W * W + pad), work(std::size_t(work_size.real()) + pad);
    std::vector<double> values(W + pad), rwork(std::size_t(rwork_size) + pad);
    std::vector<lapack_int> iwork(std::size_t(iwork_size) + pad);
    zd* g = gram.data();
    for (std::size_t v = 0; v < W; ++v)
      for (std::size_t w = 0; w < W; ++w) {
        zd coil_sum = 0;
        for (std::size_t c = 0; c < C; ++c) {
          const cfloat a = maps_host_[(c * H + h) * W + w], b = maps_host_[(c * H + h) * W + v];
          coil_sum += std::conj(zd(a.re, a.im)) * zd(b.re, b.im);
        }
        g[w + v * W] = p[w * W + v] * coil_sum;
      }
    if (LAPACKE_zheevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, g, n, values.data(), work.data(),
                            lapack_int(work_size.real()), rwork.data(), lapack_int(rwork_size), iwork.data(),
                            iwork_size) != 0) {
#pragma omp critical
      failed = hh;
    }
    std::copy(values.begin(), values.begin() + std::ptrdiff_t(W), lambda.begin() + std::ptrdiff_t(h * W));
    for (std::size_t i = 0; i < W * W; ++i) vectors[h * W * W + i] = {float(g[i].real()), float(g[i].imag())};
  }
  TWOFOLD_ENSURES(failed < 0, "multi-coil row SVD: LAPACK zheevd failed on image row " + std::to_string(failed));
  // Singular values s = √λ; keep s > max(C·m, W)·2⁻²³·s_max (float round-off of A).
  const double top = *std::max_element(lambda.begin(), lambda.end());
  const double cut = std::pow(double(std::max(C * m, W)) * FLT_EPSILON, 2) * top;
  std::vector<std::size_t> kept(H);
  for (std::size_t h = 0; h < H; ++h)
    kept[h] = std::size_t(std::count_if(lambda.begin() + std::ptrdiff_t(h * W),
                                        lambda.begin() + std::ptrdiff_t((h + 1) * W), [&](double l) { return l > cut; }));
  rank_ = *std::max_element(kept.begin(), kept.end());
  singular_host_.assign(H * rank_, 0.0f);
  std::vector<float> inverse(H * rank_, 0.0f);
  std::vector<cfloat> bases(H * W * rank_, cfloat{0.0f, 0.0f});
  for (std::size_t h = 0; h < H; ++h)
    for (std::size_t j = 0; j < kept[h]; ++j) {  // eigenvalues ascend: the largest is last
      const std::size_t e = W - 1 - j;
      const double s = std::sqrt(lambda[h * W + e]);
      singular_host_[h * rank_ + j] = float(s);
      inverse[h * rank_ + j] = float(1.0 / s);
      for (std::size_t w = 0; w < W; ++w) {
        const std::complex<float> z = vectors[h * W * W + e * W + w];
        bases[(h * rank_ + j) * W + w] = {z.real(), z.imag()};
      }
    }
  row_bases_ = to_backend(ctx, std::span<const cfloat>(bases));
  inverse_singular_ = to_backend(ctx, std::span<const float>(inverse));
}

void multicoil_operator::analyse(const context& ctx, const_chain_view x, chain_view c) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(c, coefficient_shape(), "coefficient batch");
  const std::size_t H = shape_.height, W = shape_.width, N = shape_.pixels();
  // c_h = V_hᴴ x_h for every row h and every chain: one strided batch over the rows.
  ctx.blas().gemm_batched(detail::blas_op::conj_transpose, rank_, x.chains, W, row_bases_.data(), W, W * rank_,
                          x.data, N, W, c.data, H * rank_, rank_, H);
}

void multicoil_operator::synthesise(const context& ctx, const_chain_view c, chain_view x) const {
  expect_batch(c, coefficient_shape(), "coefficient batch");
  expect_batch(x, shape_, "image batch");
  const std::size_t H = shape_.height, W = shape_.width, N = shape_.pixels();
  // x_h = V_h c_h for every row h and every chain: one strided batch over the rows.
  ctx.blas().gemm_batched(detail::blas_op::none, W, c.chains, rank_, row_bases_.data(), W, W * rank_, c.data,
                          H * rank_, rank_, x.data, N, W, H);
}

void multicoil_operator::measurement_coefficients(const context& ctx, const_chain_view y, chain_view c) const {
  // Vᴴ Aᴴ y = diag(s) Uᴴ y for every y, so Uᴴ y = diag(1/s) Vᴴ Aᴴ y on the kept coefficients.
  const auto x = scratch(ctx, 3, y.chains, shape_);
  adjoint(ctx, y, x.view);
  analyse(ctx, x.view, c);
  detail::for_each(ctx, c.size(), math::multiply_by_map{c.data, inverse_singular_.data(), c.shape.pixels()});
}

void multicoil_operator::apply(const context& ctx, const_chain_view x, chain_view y) const {
  expect_batch(x, shape_, "image batch");
  expect_batch(y, codomain(), "k-space batch");
  detail::for_each(ctx, y.size(), math::coil_expand{y.data, x.data, maps_.data(), shape_.pixels(), coils_});
  mask_.apply(ctx, planes(y, shape_), planes(y, shape_));
}

void multicoil_operator::adjoint(const context& ctx, const_chain_view y, chain_view x) const {
  expect_batch(y, codomain(), "k-space batch");
  expect_batch(x, shape_, "image batch");
  const auto z = scratch(ctx, 0, y.chains, codomain());
  mask_.adjoint(ctx, const_chain_view{y.data, y.chains * coils_, shape_}, planes(z.view, shape_));
  detail::for_each(ctx, x.size(), math::coil_combine{x.data, z.view.data, maps_.data(), shape_.pixels(), coils_});
}

void multicoil_operator::normal(const context& ctx, const_chain_view x, chain_view out) const {
  expect_batch(x, shape_, "image batch");
  const auto z = scratch(ctx, 1, x.chains, codomain());
  detail::for_each(ctx, z.view.size(), math::coil_expand{z.view.data, x.data, maps_.data(), shape_.pixels(), coils_});
  mask_.normal(ctx, planes(z.view, shape_), planes(z.view, shape_));  // row DFTs for line masks
  detail::for_each(ctx, out.size(), math::coil_combine{out.data, z.view.data, maps_.data(), shape_.pixels(), coils_});
}

void multicoil_operator::range_project(const context& ctx, chain_view x) const {
  expect_batch(x, shape_, "image batch");
  if (rank_ > 0) {  // P_R = V Vᴴ, row by row
    const auto c = scratch(ctx, 2, x.chains, coefficient_shape());
    analyse(ctx, x, c.view);
    synthesise(ctx, c.view, x);
    last_iterations_ = 0;
    return;
  }
  const auto lease = scratch(ctx, 2, x.chains, shape_);
  const chain_view b = lease.view;
  normal(ctx, x, b);
  detail::zero_bytes(ctx, x.data, x.size() * sizeof(cfloat));
  const detail::batch_map op = [&](const_chain_view in, chain_view out) { normal(ctx, in, out); };
  const detail::batch_map identity = [&](const_chain_view in, chain_view out) { detail::copy_if_distinct(ctx, in, out); };
  last_iterations_ = detail::batched_cg(ctx, op, identity, b, x, projection_,
                                         "multi-coil range projection P_R (the maps leave some directions almost "
                                         "unseen; loosen --projection-tolerance or raise --projection-iterations)",
                                         projection_workspace_.get())
                          .iterations;
}

double multicoil_operator::norm_bound(const context& ctx) const {
  if (spectral()) return linear_operator::norm_bound(ctx);
  const std::size_t pixels = shape_.pixels();
  double top = 0;
  for (std::size_t p = 0; p < pixels; ++p) {
    double sum = 0;
    for (std::size_t c = 0; c < coils_; ++c) {
      const cfloat s = maps_host_[c * pixels + p];
      sum += double(s.re) * s.re + double(s.im) * s.im;
    }
    top = std::max(top, sum);
  }
  return std::sqrt(top);
}

}  // namespace twofold
