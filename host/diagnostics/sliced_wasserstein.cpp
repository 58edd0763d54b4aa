#include <twofold/diagnostics/sliced_wasserstein.hpp>
#include <twofold/core/error.hpp>
#include <twofold/core/philox.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace twofold {

double sliced_wasserstein(std::span<const cfloat> a, std::span<const cfloat> b, std::size_t dim, field values,
                          std::span<const double> scale, std::size_t directions, std::uint64_t seed) {
  TWOFOLD_EXPECTS(dim > 0 && !a.empty() && a.size() % dim == 0 && a.size() == b.size(),
                  "sliced Wasserstein: both sets need the same number of draws of dimension " + std::to_string(dim) +
                      " (got " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " values)");
  TWOFOLD_EXPECTS(scale.empty() || scale.size() == dim, "sliced Wasserstein: scale needs one value per coordinate");
  TWOFOLD_EXPECTS(directions > 0, "sliced Wasserstein: directions must be > 0");
  const std::size_t n = a.size() / dim;
  const bool real = values == field::real;
  std::vector<double> pa(n), pb(n), theta(2 * dim);
  double total = 0;
  for (std::size_t d = 0; d < directions; ++d) {
    double norm = 0;
    for (std::size_t i = 0; i < dim; ++i) {
      const cfloat z = complex_normal(seed, d, 0, rng_purpose::test, i, 1);
      const double w = scale.empty() ? 1.0 : 1.0 / scale[i];
      theta[2 * i] = z.re * w;
      theta[2 * i + 1] = real ? 0.0 : z.im * w;
      norm += double(z.re) * z.re + (real ? 0.0 : double(z.im) * z.im);
    }
    const double inv = 1.0 / std::sqrt(norm);
    const auto project = [&](std::span<const cfloat> x, std::vector<double>& out) {
      for (std::size_t c = 0; c < n; ++c) {
        double t = 0;
        for (std::size_t i = 0; i < dim; ++i) t += theta[2 * i] * x[c * dim + i].re + theta[2 * i + 1] * x[c * dim + i].im;
        out[c] = t * inv;
      }
      std::sort(out.begin(), out.end());
    };
    project(a, pa);
    project(b, pb);
    double w2 = 0;
    for (std::size_t c = 0; c < n; ++c) w2 += (pa[c] - pb[c]) * (pa[c] - pb[c]);
    total += w2 / double(n);
  }
  return std::sqrt(total / double(directions));
}

}  // namespace twofold
