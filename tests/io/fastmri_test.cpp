// fastMRI HDF5: files written with the HDF5 C API in the fastMRI layout (and
// with h5py when it is installed), read back slice by slice; corrupt files and
// wrong datasets give bad_input naming the file and the dataset.
#include "tests/support/io_support.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/fastmri.hpp>

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdlib>
#include <vector>

namespace twofold::io {
namespace {
namespace fs = std::filesystem;
using twofold::testing::bad_input_message;
using twofold::testing::scratch_dir;
using twofold::testing::write_bytes;

// k-space value of (slice s, coil c, h, w): distinct for every index.
cfloat kspace_value(std::size_t s, std::size_t c, std::size_t h, std::size_t w) {
  return {float(1000 * s + 100 * c + 10 * h + w), -float(s + c)};
}

std::vector<cfloat> kspace_volume(std::size_t slices, image_shape sh) {
  std::vector<cfloat> k;
  for (std::size_t s = 0; s < slices; ++s)
    for (std::size_t c = 0; c < sh.coils; ++c)
      for (std::size_t h = 0; h < sh.height; ++h)
        for (std::size_t w = 0; w < sh.width; ++w) k.push_back(kspace_value(s, c, h, w));
  return k;
}

TEST(FastMri, MultiCoilRoundTripWithMaskAndRss) {
  scratch_dir dir("fastmri-multi");
  const image_shape sh{5, 6, 3};
  const auto k = kspace_volume(4, sh);
  const std::vector<float> mask{1, 0, 0, 1, 1, 0};
  std::vector<float> rss(4 * 2 * 2);
  for (std::size_t i = 0; i < rss.size(); ++i) rss[i] = 0.5f * float(i);
  fastmri_contents c;
  c.slices = 4;
  c.shape = sh;
  c.kspace = k;
  c.mask = mask;
  c.rss = rss;
  c.rss_height = c.rss_width = 2;
  write_fastmri(dir.path / "f.h5", c);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);

  const fastmri_info info = inspect_fastmri(dir.path / "f.h5", "k-space");
  EXPECT_EQ(info.slices, 4u);
  EXPECT_EQ(info.coils, 3u);
  EXPECT_EQ(info.height, 5u);
  EXPECT_EQ(info.width, 6u);
  EXPECT_TRUE(info.has_mask);
  EXPECT_TRUE(info.has_rss);

  const fastmri_slice s = read_fastmri_slice(dir.path / "f.h5", 2, "k-space");
  EXPECT_EQ(s.shape, sh);
  for (std::size_t cc = 0; cc < 3; ++cc)
    for (std::size_t h = 0; h < 5; ++h)
      for (std::size_t w = 0; w < 6; ++w) EXPECT_EQ(s.kspace[(cc * 5 + h) * 6 + w], kspace_value(2, cc, h, w));
  EXPECT_EQ(s.mask, mask);
  EXPECT_EQ(s.rss_height, 2u);
  EXPECT_EQ(s.rss, (std::vector<float>{4, 4.5f, 5, 5.5f}));
}

TEST(FastMri, SingleCoilLayoutAndNoOptionalDatasets) {
  scratch_dir dir("fastmri-single");
  const image_shape sh{4, 3, 1};
  const auto k = kspace_volume(2, sh);
  fastmri_contents c;
  c.slices = 2;
  c.shape = sh;
  c.single_coil = true;
  c.kspace = k;
  write_fastmri(dir.path / "s.h5", c);
  const auto info = inspect_fastmri(dir.path / "s.h5", "k");
  EXPECT_EQ(info.coils, 0u);
  EXPECT_FALSE(info.has_mask);
  EXPECT_FALSE(info.has_rss);
  const auto s = read_fastmri_slice(dir.path / "s.h5", 1, "k");
  EXPECT_EQ(s.shape, sh);
  EXPECT_TRUE(s.mask.empty());
  for (std::size_t h = 0; h < 4; ++h)
    for (std::size_t w = 0; w < 3; ++w) EXPECT_EQ(s.kspace[h * 3 + w], kspace_value(1, 0, h, w));
}

// Writes one dataset of the given type and shape with the C API.
void add_dataset(hid_t file, const char* name, hid_t type, std::vector<hsize_t> dims, const void* data) {
  const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  const hid_t set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(set, 0);
  ASSERT_GE(H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  H5Dclose(set);
  H5Sclose(space);
}

TEST(FastMri, MaskOfAnyNumericDtype) {
  scratch_dir dir("fastmri-mask");
  const image_shape sh{2, 4, 1};
  const auto k = kspace_volume(1, sh);
  fastmri_contents c;
  c.shape = sh;
  c.kspace = k;
  write_fastmri(dir.path / "m.h5", c);
  const hid_t file = H5Fopen((dir.path / "m.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const unsigned char u8[4] = {0, 1, 1, 0};
  add_dataset(file, "mask", H5T_NATIVE_UCHAR, {4}, u8);
  H5Fclose(file);
  EXPECT_EQ(read_fastmri_slice(dir.path / "m.h5", 0, "k").mask, (std::vector<float>{0, 1, 1, 0}));

  const hid_t file2 = H5Fopen((dir.path / "m.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(file2, "mask", H5P_DEFAULT);
  const double half[4] = {0, 0.5, 1, 0};
  add_dataset(file2, "mask", H5T_NATIVE_DOUBLE, {4}, half);
  H5Fclose(file2);
  const std::string msg = bad_input_message([&] { read_fastmri_slice(dir.path / "m.h5", 0, "k"); });
  EXPECT_CONTAINS(msg, "dataset 'mask'");
  EXPECT_CONTAINS(msg, "index 1 is not 0 or 1");
}

TEST(FastMri, BadFilesNameTheFileAndTheDataset) {
  scratch_dir dir("fastmri-bad");
  const std::string what = "k-space file";
  const auto expect_bad = [&](const fs::path& p, const std::string& part, std::size_t slice = 0) {
    SCOPED_TRACE(p.filename().string());
    const std::string msg = bad_input_message([&] { read_fastmri_slice(p, slice, what); });
    EXPECT_CONTAINS(msg, what);
    EXPECT_CONTAINS(msg, p.string());
    EXPECT_CONTAINS(msg, part);
  };
  expect_bad(dir.path / "nope.h5", "not found");
  write_bytes(dir.path / "text.h5", "this is not HDF5");
  expect_bad(dir.path / "text.h5", "not an HDF5 file");

  const image_shape sh{4, 4, 2};
  const auto k = kspace_volume(3, sh);
  fastmri_contents c;
  c.slices = 3;
  c.shape = sh;
  c.kspace = k;
  write_fastmri(dir.path / "good.h5", c);
  expect_bad(dir.path / "good.h5", "slice 3 is out of range: the file has 3 slices", 3);

  // Truncated: the first half of a valid file.
  std::string bytes(fs::file_size(dir.path / "good.h5"), '\0');
  std::ifstream(dir.path / "good.h5", std::ios::binary).read(bytes.data(), std::streamsize(bytes.size()));
  write_bytes(dir.path / "half.h5", bytes.substr(0, bytes.size() / 2));
  {
    const std::string msg = bad_input_message([&] { read_fastmri_slice(dir.path / "half.h5", 0, what); });
    EXPECT_CONTAINS(msg, "half.h5");
  }

  const auto make = [&](const char* name, auto&& fill) {
    const hid_t file = H5Fcreate((dir.path / name).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    fill(file);
    H5Fclose(file);
    return dir.path / name;
  };
  const std::vector<float> reals(2 * 4 * 4, 1.f);
  expect_bad(make("nokspace.h5", [&](hid_t f) { add_dataset(f, "image", H5T_NATIVE_FLOAT, {2, 4, 4}, reals.data()); }),
             "no 'kspace' dataset");
  expect_bad(make("real.h5", [&](hid_t f) { add_dataset(f, "kspace", H5T_NATIVE_FLOAT, {2, 4, 4}, reals.data()); }),
             "dataset 'kspace': is not complex");
  expect_bad(make("rank2.h5", [&](hid_t f) { add_dataset(f, "kspace", H5T_NATIVE_FLOAT, {8, 4}, reals.data()); }),
             "dataset 'kspace': has shape (8, 4)");

  fastmri_contents bad_mask = c;
  const std::vector<float> m3{1, 0, 1};
  write_fastmri(dir.path / "mask3.h5", c);
  const hid_t file = H5Fopen((dir.path / "mask3.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  add_dataset(file, "mask", H5T_NATIVE_FLOAT, {3}, m3.data());
  H5Fclose(file);
  expect_bad(dir.path / "mask3.h5", "dataset 'mask': has shape (3,) but k-space has W = 4");

  const std::vector<float> five(5);
  bad_mask.mask = five;
  EXPECT_THROW(write_fastmri(dir.path / "w.h5", bad_mask), bad_input);
  EXPECT_THROW(write_fastmri(dir.path / "missing" / "w.h5", c), runtime_failure);
}

bool have_h5py() { return std::system("python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0; }

TEST(FastMri, H5pyFilesReadBack) {
  if (!have_h5py()) GTEST_SKIP() << "python3 with h5py is not installed; h5py interoperability not checked";
  scratch_dir dir("fastmri-h5py");
  const std::string d = dir.path.string() + "/";
  write_bytes(dir.path / "make.py",
              "import h5py, numpy as np\n"
              "d = '" + d + "'\n"
              "s, c, h, w = np.meshgrid(np.arange(3), np.arange(2), np.arange(4), np.arange(5), indexing='ij')\n"
              "k = (1000 * s + 100 * c + 10 * h + w - 1j * (s + c)).astype(np.complex64)\n"
              "with h5py.File(d + 'multi.h5', 'w') as f:\n"
              "    f['kspace'] = k\n"
              "    f['mask'] = np.array([True, False, True, True, False])\n"
              "    f['reconstruction_rss'] = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)\n"
              "with h5py.File(d + 'single.h5', 'w') as f:\n"
              "    f['kspace'] = k[:, 0].astype(np.complex128)\n");
  ASSERT_EQ(std::system(("python3 " + d + "make.py").c_str()), 0);
  const auto info = inspect_fastmri(dir.path / "multi.h5", "k");
  EXPECT_EQ(info.slices, 3u);
  EXPECT_EQ(info.coils, 2u);
  const auto s = read_fastmri_slice(dir.path / "multi.h5", 1, "k");
  EXPECT_EQ(s.shape, (image_shape{4, 5, 2}));
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t h = 0; h < 4; ++h)
      for (std::size_t w = 0; w < 5; ++w) EXPECT_EQ(s.kspace[(c * 4 + h) * 5 + w], kspace_value(1, c, h, w));
  EXPECT_EQ(s.mask, (std::vector<float>{1, 0, 1, 1, 0}));  // h5py's bool enum
  EXPECT_EQ(s.rss, (std::vector<float>{4, 5, 6, 7}));
  const auto one = read_fastmri_slice(dir.path / "single.h5", 2, "k");  // complex128 narrowed
  EXPECT_EQ(one.shape, (image_shape{4, 5, 1}));
  EXPECT_EQ(one.kspace[7], kspace_value(2, 0, 1, 2));
}

}  // namespace
}  // namespace twofold::io
