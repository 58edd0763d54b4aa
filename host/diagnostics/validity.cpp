// Validity diagnostics of draws against the data: normalised residuals, forward
// PSNR and SSIM, and the entanglement of the two uncertainty maps
// (see include/twofold/diagnostics/validity.hpp).
#include <twofold/diagnostics/validity.hpp>

#include <twofold/core/error.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace twofold {
namespace {

void require_one_set(const inverse_problem& problem, const std::string& what) {
  TWOFOLD_EXPECTS(problem.sets() == 1, what + ": one measurement set at a time (the problem has " +
                                           std::to_string(problem.sets()) + "; use measurement_set(r))");
}

}  // namespace

std::vector<double> normalised_residuals(const context& ctx, const inverse_problem& problem,
                                         std::span<const cfloat> draws) {
  require_one_set(problem, "residuals");
  const image_shape s = problem.shape(), m = problem.op().codomain();
  TWOFOLD_EXPECTS(!draws.empty() && draws.size() % s.pixels() == 0, "residuals: draws must be a stack of images");
  const std::size_t n = draws.size() / s.pixels();
  chain_buffer x = to_backend(ctx, draws, n, s), ax(ctx, n, m);
  problem.op().apply(ctx, x.view(), ax.view());
  const auto h = to_host(ctx, ax.storage);
  const auto& y = problem.measurements();
  std::vector<double> r(n);
  const double scale = double(problem.measured_entries()) * problem.sigma_y() * problem.sigma_y();
  for (std::size_t c = 0; c < n; ++c) {
    double sum = 0;
    for (std::size_t i = 0; i < m.pixels(); ++i) sum += norm2(cdouble(h[c * m.pixels() + i]) - cdouble(y[i]));
    r[c] = sum / scale;
  }
  return r;
}

double forward_psnr(const context& ctx, const inverse_problem& problem, std::span<const cdouble> mean) {
  require_one_set(problem, "forward PSNR");
  TWOFOLD_EXPECTS(mean.size() == problem.shape().pixels(), "forward PSNR: the mean must be one image");
  std::vector<cfloat> m(mean.size());
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = cfloat(mean[i]);
  chain_buffer x = to_backend(ctx, m, 1, problem.shape()), ax(ctx, 1, problem.op().codomain());
  problem.op().apply(ctx, x.view(), ax.view());
  const auto h = to_host(ctx, ax.storage);
  double peak = 0, mse = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    peak = std::max(peak, norm2(cdouble(problem.measurements()[i])));
    mse += norm2(cdouble(h[i]) - cdouble(problem.measurements()[i]));
  }
  mse /= double(problem.measured_entries());
  return 10 * std::log10(peak / mse);
}

double forward_ssim(const context& ctx, const inverse_problem& problem, std::span<const cdouble> mean) {
  require_one_set(problem, "forward SSIM");
  TWOFOLD_EXPECTS(mean.size() == problem.shape().pixels(), "forward SSIM: the mean must be one image");
  std::vector<cfloat> m(mean.size());
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = cfloat(mean[i]);
  const image_shape ms = problem.op().codomain();
  chain_buffer x = to_backend(ctx, m, 1, problem.shape()), ax(ctx, 1, ms);
  problem.op().apply(ctx, x.view(), ax.view());
  const auto a = to_host(ctx, ax.storage);
  const auto& y = problem.measurements();
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (const cfloat v : y) lo = std::min(lo, double(abs(v))), hi = std::max(hi, double(abs(v)));
  const double range = hi > lo ? hi - lo : 1.0, c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range);
  const std::size_t H = ms.height, W = ms.width, w = std::min<std::size_t>({7, H, W});
  double total = 0;
  std::size_t windows = 0;
  for (std::size_t c = 0; c < ms.coils; ++c)
    for (std::size_t r0 = 0; r0 + w <= H; ++r0)
      for (std::size_t q0 = 0; q0 + w <= W; ++q0) {
        double sa = 0, sy = 0, saa = 0, syy = 0, say = 0;
        for (std::size_t r = r0; r < r0 + w; ++r)
          for (std::size_t q = q0; q < q0 + w; ++q) {
            const std::size_t i = (c * H + r) * W + q;
            const double u = abs(a[i]), v = abs(y[i]);
            sa += u, sy += v, saa += u * u, syy += v * v, say += u * v;
          }
        const double n = double(w * w), ma = sa / n, my = sy / n;
        const double va = saa / n - ma * ma, vy = syy / n - my * my, cov = say / n - ma * my;
        total += (2 * ma * my + c1) * (2 * cov + c2) / ((ma * ma + my * my + c1) * (va + vy + c2));
        ++windows;
      }
  return total / double(windows);
}

double entanglement(const uncertainty_maps& maps) {
  TWOFOLD_EXPECTS(!maps.ambiguity.empty() && maps.ambiguity.size() == maps.estimation.size(),
                  "entanglement needs the ambiguity and estimation maps of a cascade run");
  const std::size_t N = maps.ambiguity.size();
  double ma = 0, me = 0;
  for (std::size_t p = 0; p < N; ++p) ma += maps.ambiguity[p] / double(N), me += maps.estimation[p] / double(N);
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t p = 0; p < N; ++p) {
    const double a = maps.ambiguity[p] - ma, e = maps.estimation[p] - me;
    sab += a * e, saa += a * a, sbb += e * e;
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace twofold
