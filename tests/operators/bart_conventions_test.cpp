// twofold's conventions checked against the BART tool itself (skipped when
// `bart` is not on PATH): the centred unitary FFT (`bart fft -u 3`) equals
// fft2c for odd and even sizes, BART's coil dim 3 lands on twofold's coil axis,
// and files written by twofold are read by BART and back.
#include "tests/support/io_support.hpp"

#include <twofold/core/buffer.hpp>
#include <twofold/core/fft.hpp>
#include <twofold/io/cfl.hpp>
#include <twofold/core/philox.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace twofold::io {
namespace {
namespace fs = std::filesystem;
using twofold::testing::scratch_dir;

bool have_bart() { return std::system("bart version >/dev/null 2>&1") == 0; }

#define REQUIRE_BART() \
  if (!have_bart()) GTEST_SKIP() << "the BART tool is not on PATH (apt-get install bart); conventions not checked"

// Runs `bart <args>` inside `dir`.
void bart(const fs::path& dir, const std::string& args) {
  const std::string cmd = "cd '" + dir.string() + "' && bart " + args + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

coil_stack read_stack(const fs::path& p) { return cfl_to_coil_stack(read_cfl(p, p.filename().string()), "stack"); }

// twofold's centred orthonormal FFT of every coil image, on the CPU backend.
std::vector<cfloat> fft2c_host(const coil_stack& s) {
  context ctx(backend_request::cpu);
  const image_shape plane{s.shape.height, s.shape.width, 1};
  chain_buffer x(ctx, s.shape.coils, plane);  // one chain per coil image
  detail::copy_bytes(ctx, x.storage.data(), s.values.data(), s.values.size() * sizeof(cfloat));
  fft2c(ctx, x.view(), fft_direction::forward);
  return to_host(ctx, x.storage);
}

double relative_error(const std::vector<cfloat>& a, const std::vector<cfloat>& b) {
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < a.size(); ++i) err += double(norm2(a[i] - b[i])), ref += double(norm2(b[i]));
  return std::sqrt(err / ref);
}

TEST(BartConventions, UnitaryCentredFftMatchesFft2cOddAndEven) {
  REQUIRE_BART();
  scratch_dir dir("bart-fft");
  for (const auto& [h, w, c] : {std::tuple{17, 12, 1}, std::tuple{16, 10, 3}, std::tuple{9, 15, 2}}) {
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c));
    const std::string dims = std::to_string(h) + " " + std::to_string(w) + " 1 " + std::to_string(c);
    bart(dir.path, "zeros 4 " + dims + " z");
    bart(dir.path, "noise -s 7 z x");
    bart(dir.path, "fft -u 3 x k");
    const coil_stack x = read_stack(dir.path / "x");
    ASSERT_EQ(x.shape, (image_shape{std::size_t(h), std::size_t(w), std::size_t(c)}));
    const coil_stack k = read_stack(dir.path / "k");
    EXPECT_LT(relative_error(fft2c_host(x), k.values), 1e-5);
  }
}

TEST(BartConventions, CoilDimLandsOnTheCoilAxis) {
  REQUIRE_BART();
  scratch_dir dir("bart-coils");
  bart(dir.path, "phantom -x 32 img");
  bart(dir.path, "phantom -S 4 -x 32 maps");
  bart(dir.path, "phantom -s 4 -x 32 coil_img");
  bart(dir.path, "fft -u 3 coil_img coil_k");
  const coil_stack img = read_stack(dir.path / "img"), maps = read_stack(dir.path / "maps"),
                   coil_img = read_stack(dir.path / "coil_img"), coil_k = read_stack(dir.path / "coil_k");
  ASSERT_EQ(img.shape, (image_shape{32, 32, 1}));
  ASSERT_EQ(maps.shape, (image_shape{32, 32, 4}));
  ASSERT_EQ(coil_img.shape, (image_shape{32, 32, 4}));
  // Coil image c = map c × image, pixel by pixel: the coil axis and the (h, w)
  // order agree between the three files only if the mapping is right.
  std::vector<cfloat> product(maps.values.size());
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t i = 0; i < 32 * 32; ++i) product[c * 1024 + i] = maps.values[c * 1024 + i] * img.values[i];
  EXPECT_LT(relative_error(product, coil_img.values), 1e-6);
  // The maps differ between coils (so a wrong coil order would show).
  EXPECT_GT(relative_error(std::vector<cfloat>(maps.values.begin(), maps.values.begin() + 1024),
                           std::vector<cfloat>(maps.values.begin() + 1024, maps.values.begin() + 2048)),
            0.1);
  EXPECT_LT(relative_error(fft2c_host(coil_img), coil_k.values), 1e-5);
}

TEST(BartConventions, BartReadsWhatTwofoldWrites) {
  REQUIRE_BART();
  scratch_dir dir("bart-roundtrip");
  coil_stack x;
  x.shape = {11, 8, 2};
  x.values.resize(x.shape.pixels());
  for (std::size_t i = 0; i < x.values.size(); ++i) x.values[i] = complex_normal(3, 0, 0, rng_purpose::test, i);
  const cfl_array a = coil_stack_to_cfl(x.shape, x.values);
  write_cfl(dir.path / "ours.cfl", a.data, a.dims);
  bart(dir.path, "fft -u 3 ours theirs");
  const coil_stack k = read_stack(dir.path / "theirs.hdr");
  ASSERT_EQ(k.shape, x.shape);
  EXPECT_LT(relative_error(fft2c_host(x), k.values), 1e-5);
}

}  // namespace
}  // namespace twofold::io
