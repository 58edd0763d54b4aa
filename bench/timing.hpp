#pragma once
// Wall-clock timing and the median the benchmark reports.

#include <algorithm>
#include <chrono>
#include <vector>

namespace twofold::bench {

class stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point start_ = clock::now();
};

/// Median of a non-empty sample (mean of the two middle values for even sizes).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace twofold::bench
