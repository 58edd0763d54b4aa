#include <twofold/core/error.hpp>
#include <twofold/sampling/schedule.hpp>

#include <cmath>
#include <string>

namespace twofold {
namespace {

constexpr double pi = 3.14159265358979323846;
constexpr double cosine_offset = 0.008;
constexpr double beta_min = 0.1, beta_max = 20.0;

// VP cosine: s(t) = σ/α with α(t) = cos(π/2 (t+ε)/(1+ε)) / cos(π/2 ε/(1+ε)).
double cosine_alpha(double t) {
  return std::cos(pi / 2 * (t + cosine_offset) / (1 + cosine_offset)) /
         std::cos(pi / 2 * cosine_offset / (1 + cosine_offset));
}
double cosine_t_of_s(double s) {
  const double alpha = 1 / std::sqrt(1 + s * s);
  return std::acos(alpha * std::cos(pi / 2 * cosine_offset / (1 + cosine_offset))) * 2 / pi * (1 + cosine_offset) -
         cosine_offset;
}
double cosine_s_of_t(double t) {
  const double a = cosine_alpha(t);
  return std::sqrt(1 - a * a) / a;
}

// VP linear: α² = exp(−∫β) so log(1 + s²) = β_min t + (β_max − β_min) t²/2.
double linear_t_of_s(double s) {
  const double c = std::log1p(s * s), a = (beta_max - beta_min) / 2, b = beta_min;
  return (-b + std::sqrt(b * b + 4 * a * c)) / (2 * a);
}
double linear_s_of_t(double t) {
  return std::sqrt(std::expm1(beta_min * t + (beta_max - beta_min) * t * t / 2));
}

}  // namespace

std::vector<double> noise_levels(const schedule_params& p) {
  TWOFOLD_EXPECTS(p.levels >= 2, "schedule needs at least 2 noise levels (got " + std::to_string(p.levels) + ")");
  TWOFOLD_EXPECTS(std::isfinite(p.s_min) && p.s_min > 0, "s_min must be finite and > 0");
  TWOFOLD_EXPECTS(std::isfinite(p.s_max) && p.s_max > p.s_min, "s_max must be finite and > s_min");
  TWOFOLD_EXPECTS(std::isfinite(p.rho) && p.rho > 0, "rho must be finite and > 0");
  const std::size_t n = p.levels;
  std::vector<double> s(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double f = double(i) / double(n - 1);  // 0 at s_max, 1 at s_min
    switch (p.kind) {
      case schedule_kind::edm_karras: {
        const double a = std::pow(p.s_max, 1 / p.rho), b = std::pow(p.s_min, 1 / p.rho);
        s[i] = std::pow(a + f * (b - a), p.rho);
        break;
      }
      case schedule_kind::ve_geometric: s[i] = p.s_max * std::pow(p.s_min / p.s_max, f); break;
      case schedule_kind::vp_cosine: {
        const double t0 = cosine_t_of_s(p.s_max), t1 = cosine_t_of_s(p.s_min);
        s[i] = cosine_s_of_t(t0 + f * (t1 - t0));
        break;
      }
      case schedule_kind::vp_linear: {
        const double t0 = linear_t_of_s(p.s_max), t1 = linear_t_of_s(p.s_min);
        s[i] = linear_s_of_t(t0 + f * (t1 - t0));
        break;
      }
    }
  }
  s.front() = p.s_max;  // exact end points, whatever the round trip through t did
  s.back() = p.s_min;
  return s;
}

double alpha_at(schedule_kind kind, double s) {
  return kind == schedule_kind::vp_cosine || kind == schedule_kind::vp_linear ? 1 / std::sqrt(1 + s * s) : 1.0;
}

schedule_kind parse_schedule(std::string_view text) {
  if (text == "vp-cosine") return schedule_kind::vp_cosine;
  if (text == "vp-linear") return schedule_kind::vp_linear;
  if (text == "ve") return schedule_kind::ve_geometric;
  if (text == "edm") return schedule_kind::edm_karras;
  TWOFOLD_EXPECTS(false, "schedule must be one of vp-cosine, vp-linear, ve, edm (got '" + std::string(text) + "')");
}

std::string_view to_string(schedule_kind kind) {
  switch (kind) {
    case schedule_kind::vp_cosine: return "vp-cosine";
    case schedule_kind::vp_linear: return "vp-linear";
    case schedule_kind::ve_geometric: return "ve";
    case schedule_kind::edm_karras: return "edm";
  }
  return "?";
}

}  // namespace twofold
