#include "fft_floor.hpp"

#include "timing.hpp"

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace twofold::bench {
namespace {

/// Pairs per second of `rank`-D transforms of size n, `count` per thread, in place.
double pair_rate(int rank, const int* n, int per_image, std::size_t count, int threads, std::size_t repeats) {
  const std::size_t elements = std::size_t(per_image) * count;
  const auto t_count = static_cast<std::size_t>(threads);
  std::vector<fftwf_complex*> data(t_count);
  std::vector<fftwf_plan> forward(t_count), inverse(t_count);
  for (std::size_t t = 0; t < data.size(); ++t) {
    data[t] = fftwf_alloc_complex(elements);
    // FFTW_MEASURE overwrites the array while planning; it is filled afterwards.
    forward[t] = fftwf_plan_many_dft(rank, n, int(count), data[t], nullptr, 1, per_image, data[t], nullptr, 1,
                                     per_image, FFTW_FORWARD, FFTW_MEASURE);
    inverse[t] = fftwf_plan_many_dft(rank, n, int(count), data[t], nullptr, 1, per_image, data[t], nullptr, 1,
                                     per_image, FFTW_BACKWARD, FFTW_MEASURE);
    for (std::size_t i = 0; i < elements; ++i) data[t][i][0] = 1e-3f * float(i % 97), data[t][i][1] = 0.5f;
  }
  const auto round = [&] {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int t = 0; t < threads; ++t) {
      fftwf_execute(forward[std::size_t(t)]);
      fftwf_execute(inverse[std::size_t(t)]);
    }
  };
  // An unnormalised pair multiplies by the transform size: rescale between rounds,
  // outside the timing, so the values stay finite.
  const auto rescale = [&] {
    const float scale = 1.0f / float(per_image);
    for (auto* d : data)
      for (std::size_t i = 0; i < elements; ++i) d[i][0] *= scale, d[i][1] *= scale;
  };
  round();  // warm-up
  rescale();
  std::vector<double> seconds;
  for (std::size_t r = 0; r < repeats; ++r) {
    double total = 0;
    for (int k = 0; k < 10; ++k) {
      const stopwatch watch;
      round();
      total += watch.seconds();
      rescale();
    }
    seconds.push_back(total / 10);
  }
  for (std::size_t t = 0; t < data.size(); ++t) {
    fftwf_destroy_plan(forward[t]);
    fftwf_destroy_plan(inverse[t]);
    fftwf_free(data[t]);
  }
  return double(count) * double(threads) / median(seconds);
}

}  // namespace

fft_floor measure_fft_floor(const context& ctx, image_shape shape, std::size_t batch, std::size_t repeats) {
  fft_floor f;
  if (ctx.is_cuda()) {
    f.skipped = "the cuFFT floor is not measured by this benchmark yet";
    return f;
  }
  int threads = std::max(1, omp_get_max_threads());
  while (threads > 1 && batch % std::size_t(threads) != 0) --threads;
  const std::size_t per_thread = batch / std::size_t(threads);
  f.method = "FFTW " + std::string(fftwf_version) + ", fftwf_plan_many_dft with FFTW_MEASURE, in place, " +
             std::to_string(threads) + " OpenMP thread(s) x " + std::to_string(per_thread) +
             " images, forward + inverse";
  const int n2[2] = {int(shape.height), int(shape.width)};
  f.pairs_per_second = pair_rate(2, n2, int(shape.pixels()), per_thread, threads, repeats);
  const int n1[1] = {int(shape.width)};
  f.row_pairs_per_second =
      pair_rate(1, n1, int(shape.width), per_thread * shape.height, threads, repeats) / double(shape.height);
  return f;
}

}  // namespace twofold::bench
