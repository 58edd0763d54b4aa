// read_complex_array / read_float_array: one reader per extension, C-order
// shapes, the middle fastMRI slice by default, finiteness and unknown extensions.
#include "tests/support/io_support.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/array_file.hpp>
#include <twofold/io/cfl.hpp>
#include <twofold/io/fastmri.hpp>
#include <twofold/io/npy.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace twofold::io {
namespace {
using twofold::testing::bad_input_message;
using twofold::testing::scratch_dir;
using twofold::testing::write_bytes;

TEST(ArrayFile, NpyCflAndHdf5GiveTheSameCOrderStack) {
  scratch_dir dir("array-file");
  const image_shape sh{3, 4, 2};
  std::vector<cfloat> stack(sh.pixels());
  for (std::size_t i = 0; i < stack.size(); ++i) stack[i] = {float(i), 1.f};
  const std::vector<std::size_t> shape{2, 3, 4};
  write_npy(dir.path / "k.npy", std::span<const cfloat>(stack), shape);
  const cfl_array a = coil_stack_to_cfl(sh, stack);
  write_cfl(dir.path / "k", a.data, a.dims);
  std::vector<cfloat> volume;  // slices 0..2; slice s holds stack + 100 s
  for (int s = 0; s < 3; ++s)
    for (const auto v : stack) volume.push_back({v.re + 100.f * float(s), v.im});
  const std::vector<float> mask{1, 0, 1, 1};
  fastmri_contents c;
  c.slices = 3;
  c.shape = sh;
  c.kspace = volume;
  c.mask = mask;
  write_fastmri(dir.path / "k.h5", c);

  for (const auto* name : {"k.npy", "k.cfl", "k.hdr"}) {
    SCOPED_TRACE(name);
    const auto r = read_complex_array(dir.path / name, "k-space");
    EXPECT_EQ(r.shape, shape);
    EXPECT_EQ(r.values, stack);
  }
  const auto middle = read_complex_array(dir.path / "k.h5", "k-space");
  EXPECT_EQ(middle.shape, shape);
  EXPECT_EQ(middle.values[5], (cfloat{105.f, 1.f}));  // default: slice 3 / 2 = 1
  array_read_options first;
  first.slice = 0;
  EXPECT_EQ(read_complex_array(dir.path / "k.h5", "k-space", first).values, stack);

  array_read_options mask_options;
  mask_options.dataset = "mask";
  const auto m = read_float_array(dir.path / "k.h5", "mask", mask_options);
  EXPECT_EQ(m.shape, std::vector<std::size_t>{4});
  EXPECT_EQ(m.values, mask);
  EXPECT_CONTAINS(bad_input_message([&] { read_float_array(dir.path / "k.h5", "mask"); }),
                  "complex but a real array is required");
  EXPECT_CONTAINS(bad_input_message([&] { read_float_array(dir.path / "k.cfl", "mask"); }), "BART files hold complex");
  mask_options.dataset = "image";
  EXPECT_CONTAINS(bad_input_message([&] { read_float_array(dir.path / "k.h5", "mask", mask_options); }),
                  "dataset 'image' is not one twofold reads");

  // A 2-D BART matrix (rows in dim 0) is a C-order [rows, cols] matrix.
  const std::vector<cfloat> col_major{{1, 0}, {4, 0}, {2, 0}, {5, 0}, {3, 0}, {6, 0}};
  const std::vector<std::size_t> dims{2, 3};
  write_cfl(dir.path / "m", col_major, dims);
  const auto mat = read_complex_array(dir.path / "m.cfl", "matrix");
  EXPECT_EQ(mat.shape, dims);
  EXPECT_EQ(mat.values, (std::vector<cfloat>{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}}));
}

TEST(ArrayFile, NonFiniteValuesAndUnknownExtensions) {
  scratch_dir dir("array-file-bad");
  std::vector<cfloat> v(6, cfloat{1, 1});
  v[3].re = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::size_t> dims{2, 3};
  write_cfl(dir.path / "nan", v, dims);
  const std::string msg = bad_input_message([&] { read_complex_array(dir.path / "nan.cfl", "coil maps"); });
  EXPECT_CONTAINS(msg, "coil maps '");
  EXPECT_CONTAINS(msg, "value NaN at flat index 4");  // BART (1, 1) is C-order [1, 1] = 4
  EXPECT_CONTAINS(msg, "[1, 1]");

  write_bytes(dir.path / "k.mat", "MATLAB 5.0");
  const std::string ext = bad_input_message([&] { read_complex_array(dir.path / "k.mat", "k-space"); });
  EXPECT_CONTAINS(ext, "k-space '");
  EXPECT_CONTAINS(ext, "unknown file extension '.mat'");
  EXPECT_CONTAINS(ext, ".npy");
}

}  // namespace
}  // namespace twofold::io
