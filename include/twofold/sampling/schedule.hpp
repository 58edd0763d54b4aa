#pragma once
/// \file
/// Noise schedules (docs/design.md §1.2). The forward process x_t = α_t x₀ + σ_t ε is run in
/// data units u = x/α, where it reads u = x₀ + s ε with s = σ/α (Karras et al. 2022,
/// §2); a schedule is then the decreasing list of levels s visited by a sampler.
/// The VP schedules differ from VE/EDM only in that list.

#include <cstddef>
#include <string_view>
#include <vector>

namespace twofold {

enum class schedule_kind {
  vp_cosine,     ///< Nichol & Dhariwal 2021: α(t) = cos(π/2·(t+0.008)/1.008)/cos(π/2·0.008/1.008), uniform t
  vp_linear,     ///< Ho et al. 2020: β(t) linear from 0.1 to 20, uniform t
  ve_geometric,  ///< Song & Ermon: s log-uniform between s_max and s_min
  edm_karras,    ///< Karras et al. 2022: s^{1/ρ} uniform, ρ = 7
};

struct schedule_params {
  schedule_kind kind = schedule_kind::edm_karras;
  std::size_t levels = 300;  ///< number of noise levels (≥ 2)
  double s_min = 1e-3;       ///< smallest level, data units (> 0)
  double s_max = 10.0;       ///< largest level, data units (> s_min)
  double rho = 7.0;          ///< EDM exponent
};

/// The levels s_0 = s_max > s_1 > … > s_{levels−1} = s_min. Throws bad_input on
/// invalid parameters (levels < 2, s_min ≤ 0, s_max ≤ s_min, non-finite values).
std::vector<double> noise_levels(const schedule_params& p);

/// α at data-unit level s for the schedule's process (1 for VE/EDM; 1/√(1+s²) for VP).
double alpha_at(schedule_kind kind, double s);

schedule_kind parse_schedule(std::string_view text);
std::string_view to_string(schedule_kind kind);

}  // namespace twofold
