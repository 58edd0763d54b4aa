// BART .cfl/.hdr: header parsing, round trips through both suffix spellings,
// corrupt pairs, the atomic pair write, and the (H, W, 1, coils) <-> [coils, H, W]
// mapping written out index by index.
#include "tests/support/io_support.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/array_file.hpp>
#include <twofold/io/cfl.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace twofold::io {
namespace {
namespace fs = std::filesystem;
using twofold::testing::bad_input_message;
using twofold::testing::scratch_dir;
using twofold::testing::write_bytes;

std::string raw(const std::vector<cfloat>& v) {
  std::string s(v.size() * sizeof(cfloat), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

TEST(CflHeader, ParsesBartHeadersAndDropsTrailingOnes) {
  EXPECT_EQ(parse_cfl_header("# Dimensions\n4 5 1 1 1 1 1 1 1 1 1 1 1 1 1 1 \n", "h"),
            (std::vector<std::size_t>{4, 5}));
  EXPECT_EQ(parse_cfl_header("# Dimensions\r\n17 12 1 8\r\n# Command\r\nbart phantom\r\n", "h"),
            (std::vector<std::size_t>{17, 12, 1, 8}));
  EXPECT_EQ(parse_cfl_header("# Dimensions\n1 1 1\n", "h"), std::vector<std::size_t>{1});
  EXPECT_EQ(parse_cfl_header("# Command\nbart ones 2 3 3 x\n# Dimensions\n3 3\n", "h"),
            (std::vector<std::size_t>{3, 3}));
}

// cfl_header is the .hdr text write_cfl writes (BART pads the dims to 16), and it parses back.
TEST(CflHeader, TextIsWhatWriteCflWrites) {
  const std::size_t dims[4] = {8, 6, 1, 3};
  const std::string text = cfl_header(dims);
  EXPECT_EQ(text, "# Dimensions\n8 6 1 3 1 1 1 1 1 1 1 1 1 1 1 1 \n");
  EXPECT_EQ(parse_cfl_header(text, "test"), (std::vector<std::size_t>{8, 6, 1, 3}));
}

TEST(CflHeader, GarbageIsABadInputNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "no '# Dimensions'"},
      {"4 5 1\n", "no '# Dimensions'"},
      {"# Dimensions\n", "no dimensions"},
      {"# Dimensions\n   \n", "no dimensions"},
      {"# Dimensions\n4 x 1\n", "dimension 1 is not an integer"},
      {"# Dimensions\n4 5.5\n", "dimension 1 is not an integer"},
      {"# Dimensions\n4 0 1\n", "dimension 1 is 0"},
      {"# Dimensions\n4 -5 1\n", "dimension 1 is negative"},
      {"# Dimensions\n1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n", "more than 16"},
      {"# Dimensions\n99999999999999999999999\n", "too large"},
      {"# Dimensions\n4294967296 4294967296\n", "too large"},
  };
  for (const auto& [text, expect] : cases) {
    SCOPED_TRACE(text);
    const std::string msg = bad_input_message([&] { parse_cfl_header(text, "maps header"); });
    EXPECT_CONTAINS(msg, "maps header: ");
    EXPECT_CONTAINS(msg, expect);
  }
}

TEST(CflRoundTrip, EitherSuffixAndTheBasePath) {
  scratch_dir dir("cfl-roundtrip");
  std::vector<cfloat> v(3 * 4 * 2);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = {float(i), -0.5f * float(i)};
  const std::vector<std::size_t> dims{3, 4, 1, 2};
  write_cfl(dir.path / "a.cfl", v, dims);
  EXPECT_TRUE(fs::exists(dir.path / "a.cfl"));
  EXPECT_TRUE(fs::exists(dir.path / "a.hdr"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 2);  // no temporaries left
  EXPECT_EQ(fs::file_size(dir.path / "a.cfl"), v.size() * 8);
  for (const auto& p : {dir.path / "a", dir.path / "a.cfl", dir.path / "a.hdr"}) {
    const cfl_array a = read_cfl(p, "k-space");
    EXPECT_EQ(a.dims, dims);
    EXPECT_EQ(a.data, v);
  }
  const std::vector<std::size_t> with_ones{24, 1, 1};
  write_cfl(dir.path / "b", v, with_ones);
  EXPECT_EQ(read_cfl(dir.path / "b", "b").dims, std::vector<std::size_t>{24});
}

TEST(CflRead, MissingAndCorruptPairsNameTheFileAndTheNumbers) {
  scratch_dir dir("cfl-bad");
  const std::vector<cfloat> six(6, cfloat{1, 2});
  write_bytes(dir.path / "only_cfl.cfl", raw(six));
  EXPECT_CONTAINS(bad_input_message([&] { read_cfl(dir.path / "only_cfl", "maps"); }), "missing .hdr file");
  write_bytes(dir.path / "only_hdr.hdr", "# Dimensions\n2 3\n");
  EXPECT_CONTAINS(bad_input_message([&] { read_cfl(dir.path / "only_hdr.hdr", "maps"); }), "missing .cfl file");

  write_bytes(dir.path / "short.hdr", "# Dimensions\n2 3\n");
  write_bytes(dir.path / "short.cfl", raw(six).substr(0, 44));
  const std::string msg = bad_input_message([&] { read_cfl(dir.path / "short", "maps"); });
  EXPECT_CONTAINS(msg, "maps '");
  EXPECT_CONTAINS(msg, "holds 44 bytes");
  EXPECT_CONTAINS(msg, "need 8 x 6 = 48 bytes");
  write_bytes(dir.path / "long.hdr", "# Dimensions\n2 3\n");
  write_bytes(dir.path / "long.cfl", raw(six) + "xy");
  EXPECT_CONTAINS(bad_input_message([&] { read_cfl(dir.path / "long", "maps"); }), "holds 50 bytes");
  write_bytes(dir.path / "zero.hdr", "# Dimensions\n2 0 3\n");
  write_bytes(dir.path / "zero.cfl", "");
  const std::string zero = bad_input_message([&] { read_cfl(dir.path / "zero", "maps"); });
  EXPECT_CONTAINS(zero, "zero.hdr");
  EXPECT_CONTAINS(zero, "dimension 1 is 0");
}

TEST(CflRead, NonFiniteValuesAreFoundByRequireFinite) {
  scratch_dir dir("cfl-nan");
  std::vector<cfloat> v(6, cfloat{1, 1});
  v[4].im = std::numeric_limits<float>::infinity();
  const std::vector<std::size_t> dims{2, 3};
  write_cfl(dir.path / "x", v, dims);
  const cfl_array a = read_cfl(dir.path / "x", "k-space");
  const std::string msg = bad_input_message([&] { require_finite(a.data, a.dims, "k-space"); });
  EXPECT_CONTAINS(msg, "k-space: value +Inf at flat index 4");
}

TEST(CflWrite, BadDimsAndUnwritableFoldersLeaveNothing) {
  scratch_dir dir("cfl-write");
  const std::vector<cfloat> v(6);
  const std::vector<std::size_t> wrong{2, 2}, zero{6, 0}, none{};
  EXPECT_THROW(write_cfl(dir.path / "a", v, wrong), bad_input);
  EXPECT_THROW(write_cfl(dir.path / "a", v, zero), bad_input);
  EXPECT_THROW(write_cfl(dir.path / "a", v, none), bad_input);
  const std::vector<std::size_t> ok{6};
  EXPECT_THROW(write_cfl(dir.path / "missing" / "a", v, ok), runtime_failure);
  // A .hdr name taken by a folder: the .cfl temporary is written, the rename of the
  // .hdr fails, and the temporaries are removed.
  fs::create_directories(dir.path / "busy.hdr" / "x");
  EXPECT_THROW(write_cfl(dir.path / "busy", v, ok), runtime_failure);
  for (const auto& e : fs::directory_iterator(dir.path))
    EXPECT_EQ(e.path().filename().string().find(".pair-"), std::string::npos) << e.path();
}

TEST(CflCoilStack, BartColumnMajorMapsToCOrderCoilsHW) {
  // BART element (h, w, 0, c) = 100 c + 10 h + w, stored with h fastest.
  const std::size_t H = 3, W = 4, C = 2;
  cfl_array a;
  a.dims = {H, W, 1, C};
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t h = 0; h < H; ++h) a.data.push_back({float(100 * c + 10 * h + w), float(c)});
  const coil_stack s = cfl_to_coil_stack(a, "maps");
  EXPECT_EQ(s.shape, (image_shape{H, W, C}));
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t w = 0; w < W; ++w)
        EXPECT_EQ(s.values[(c * H + h) * W + w], (cfloat{float(100 * c + 10 * h + w), float(c)}));
  const cfl_array back = coil_stack_to_cfl(s.shape, s.values);
  EXPECT_EQ(back.dims, a.dims);
  EXPECT_EQ(back.data, a.data);

  cfl_array slices;
  slices.dims = {2, 2, 3};
  slices.data.resize(12);
  EXPECT_CONTAINS(bad_input_message([&] { cfl_to_coil_stack(slices, "maps"); }), "3 slices in dim 2");
  cfl_array extra;
  extra.dims = {2, 2, 1, 1, 2};
  extra.data.resize(8);
  EXPECT_CONTAINS(bad_input_message([&] { cfl_to_coil_stack(extra, "maps"); }), "use dim 4");
}

}  // namespace
}  // namespace twofold::io
