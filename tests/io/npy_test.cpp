// .npy reading and writing: round trips, hand-built files (Fortran order, big
// endian, versions 2.0/3.0) written byte by byte from the format definition,
// corrupt files, and interoperability with NumPy itself when it is installed.
#include "tests/support/io_support.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/npy.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace twofold::io {
namespace {
namespace fs = std::filesystem;

using twofold::testing::bad_input_message;
using twofold::testing::scratch_dir;
using twofold::testing::write_bytes;

// A .npy file from its parts: magic, version, little-endian header length, the
// dict padded with spaces and '\n' to a multiple of 64 bytes, then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t pre = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((pre + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < pre - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v, bool big_endian = false, std::size_t unit = sizeof(T)) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  if (big_endian)
    for (std::size_t i = 0; i < s.size(); i += unit) std::reverse(s.begin() + long(i), s.begin() + long(i + unit));
  return s;
}

TEST(NpyRoundTrip, EveryDtypeAndShape) {
  scratch_dir dir("roundtrip");
  const std::vector<std::vector<std::size_t>> shapes{{}, {5}, {2, 3}, {2, 3, 4}, {0}, {3, 0, 2}};
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> f(n);
    std::vector<double> d(n);
    std::vector<cfloat> c(n);
    std::vector<std::uint8_t> u(n);
    for (std::size_t i = 0; i < n; ++i) {
      f[i] = 0.25f * float(i) - 1.f;
      d[i] = 1e-300 * double(i + 1) + double(i);
      c[i] = {float(i), -2.f * float(i)};
      u[i] = static_cast<std::uint8_t>(i * 37 % 256);
    }
    write_npy(dir.path / "f.npy", f, shape);
    write_npy(dir.path / "d.npy", d, shape);
    write_npy(dir.path / "c.npy", c, shape);
    write_npy(dir.path / "u.npy", u, shape);

    const auto rf = read_npy(dir.path / "f.npy", "f");
    EXPECT_EQ(rf.type, dtype::float32);
    EXPECT_EQ(rf.shape, shape);
    EXPECT_EQ(rf.elements(), n);
    EXPECT_EQ(as_float32(rf, "f"), f);

    const auto rd = read_npy(dir.path / "d.npy", "d");
    ASSERT_EQ(rd.type, dtype::float64);
    ASSERT_EQ(rd.data.size(), n * 8);
    for (std::size_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, rd.data.data() + 8 * i, 8);
      EXPECT_EQ(v, d[i]);
    }

    const auto rc = read_npy(dir.path / "c.npy", "c");
    EXPECT_EQ(rc.type, dtype::complex64);
    EXPECT_EQ(rc.shape, shape);
    EXPECT_EQ(as_complex64(rc, "c"), c);

    const auto ru = read_npy(dir.path / "u.npy", "u");
    EXPECT_EQ(ru.type, dtype::uint8);
    ASSERT_EQ(ru.data.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(std::to_integer<std::uint8_t>(ru.data[i]), u[i]);
  }
}

TEST(NpyRoundTrip, HeaderIsPaddedTo64Bytes) {
  scratch_dir dir("padding");
  const std::vector<float> v{1, 2, 3};
  const std::vector<std::size_t> shape{3};
  write_npy(dir.path / "a.npy", v, shape);
  const auto size = fs::file_size(dir.path / "a.npy");
  EXPECT_EQ((size - 12) % 64, 0u) << size;  // the data starts on a 64-byte boundary
}

// npy_header_bytes is the part of the file before the data, for streamed writers: the
// bytes a hand-built file has (format 1.0, padded dict) and what write_npy writes.
TEST(NpyRoundTrip, HeaderBytesAreWhatWriteNpyWritesBeforeTheData) {
  scratch_dir dir("header-bytes");
  const std::vector<cfloat> v(6 * 2 * 3, cfloat{1.0f, -1.0f});
  const std::size_t shape[3] = {6, 2, 3};
  const std::string head = npy_header_bytes(dtype::complex64, shape);
  EXPECT_EQ(head, npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (6, 2, 3), }", ""));
  write_npy(dir.path / "a.npy", v, shape);
  std::ifstream in(dir.path / "a.npy", std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(file, head + raw(v));
  const std::size_t one[1] = {5};
  EXPECT_EQ(npy_header_bytes(dtype::float32, one), npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", ""));
}

TEST(NpyRead, FortranOrderIsTransposedToCOrder) {
  scratch_dir dir("fortran");
  // 2×3 float32, element (i, j) = 10 i + j, stored column by column.
  std::vector<float> fortran;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 2; ++i) fortran.push_back(float(10 * i + j));
  write_bytes(dir.path / "a.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", raw(fortran)));
  const auto a = read_npy(dir.path / "a.npy", "map");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(as_float32(a, "map"), (std::vector<float>{0, 1, 2, 10, 11, 12}));

  // 2×3×4 complex64, big-endian too: element (i, j, k) = (100 i + 10 j + k, -k).
  std::vector<cfloat> f3;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) f3.push_back({float(100 * i + 10 * j + k), float(-k)});
  write_bytes(dir.path / "b.npy",
              npy_bytes("{'descr': '>c8', 'fortran_order': True, 'shape': (2, 3, 4), }", raw(f3, true, 4)));
  const auto b = as_complex64(read_npy(dir.path / "b.npy", "k-space"), "k-space");
  ASSERT_EQ(b.size(), 24u);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(b[(i * 3 + j) * 4 + k], (cfloat{float(100 * i + 10 * j + k), float(-k)}));
}

TEST(NpyRead, BigEndianIsByteSwapped) {
  scratch_dir dir("bigendian");
  const std::vector<double> d{1.5, -2.25, 1e-310, 6.02e23};
  write_bytes(dir.path / "d.npy", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }", raw(d, true)));
  EXPECT_EQ(as_float32(read_npy(dir.path / "d.npy", "d"), "d"),
            (std::vector<float>{1.5f, -2.25f, static_cast<float>(1e-310), 6.02e23f}));

  const std::vector<double> z{1.0, -1.0, 0.5, 3.0};  // two complex128 values
  write_bytes(dir.path / "z.npy", npy_bytes("{'descr': '>c16', 'fortran_order': False, 'shape': (2,), }", raw(z, true)));
  EXPECT_EQ(as_complex64(read_npy(dir.path / "z.npy", "z"), "z"), (std::vector<cfloat>{{1, -1}, {0.5f, 3}}));

  const std::vector<float> f{7.f, -0.125f};
  write_bytes(dir.path / "f.npy", npy_bytes("{'shape': (2,), 'descr': '>f4', 'fortran_order': False}", raw(f, true)));
  EXPECT_EQ(as_float32(read_npy(dir.path / "f.npy", "f"), "f"), f);
}

TEST(NpyRead, Versions2And3AndBoolAndUint8) {
  scratch_dir dir("versions");
  const std::string bools{'\0', '\1', '\2', '\0'};
  for (const int major : {2, 3}) {
    const auto p = dir.path / ("v" + std::to_string(major) + ".npy");
    write_bytes(p, npy_bytes("{\"descr\": \"|b1\", \"fortran_order\": False, \"shape\": (2, 2)}", bools, major));
    const auto a = read_npy(p, "mask");
    EXPECT_EQ(a.type, dtype::boolean);
    EXPECT_EQ(as_float32(a, "mask"), (std::vector<float>{0, 1, 1, 0}));  // nonzero bytes are True
  }
  write_bytes(dir.path / "u.npy", npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3L,), }", std::string("\x00\x7f\xff", 3)));
  EXPECT_EQ(as_complex64(read_npy(dir.path / "u.npy", "u"), "u"), (std::vector<cfloat>{{0, 0}, {127, 0}, {255, 0}}));
}

TEST(NpyBadInput, CorruptFilesNameTheInputAndTheProblem) {
  scratch_dir dir("bad");
  const std::string what = "k-space file";
  const std::string f4x6 = raw(std::vector<float>(6, 1.f));
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  struct bad_case {
    std::string name, bytes, expect;
  };
  const std::string full = npy_bytes(good_dict, f4x6);
  const std::vector<bad_case> cases{
      {"empty", "", "empty"},
      {"magic", std::string("\x93NUMPX\x01\x00", 8) + full.substr(8), "bad magic"},
      {"text", "hello, world, this is not an array", "bad magic"},
      {"short_preamble", full.substr(0, 9), "truncated header"},
      {"truncated_header", full.substr(0, 40), "truncated header"},
      {"garbage_header", npy_bytes("{'descr': <f4, 'fortran_order': False, 'shape': (2, 3), }", f4x6), "unparsable header"},
      {"not_a_dict", npy_bytes("[1, 2, 3]", f4x6), "unparsable header"},
      {"missing_key", npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", f4x6), "missing"},
      {"negative_dim", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", f4x6), "non-negative"},
      {"bad_bool", npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", f4x6), "True or False"},
      {"int64", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", std::string(24, '\0')), "'<i8'"},
      {"object", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", std::string(24, '\0')), "object"},
      {"structured", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", f4x6), "structured"},
      {"version", std::string("\x93NUMPY\x04\x00", 8) + full.substr(8), "version 4.0"},
      {"truncated_data", full.substr(0, full.size() - 3), "truncated data"},
      {"trailing", full + "xyz", "3 trailing bytes"},
      {"absurd_shape", npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", f4x6),
       "truncated data"},
      {"overflow_shape", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", f4x6),
       "too large"},
      {"huge_dim", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }", f4x6),
       "too large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto p = dir.path / (c.name + ".npy");
    write_bytes(p, c.bytes);
    const std::string msg = bad_input_message([&] { read_npy(p, what); });
    EXPECT_CONTAINS(msg, what);
    EXPECT_CONTAINS(msg, p.string());
    EXPECT_CONTAINS(msg, c.expect);
  }
  const std::string missing = bad_input_message([&] { read_npy(dir.path / "nope.npy", what); });
  EXPECT_CONTAINS(missing, what);
  EXPECT_CONTAINS(missing, "not found");
  EXPECT_CONTAINS(bad_input_message([&] { read_npy(dir.path, what); }), "directory");
}

TEST(NpyBadInput, NonFiniteValuesAreRejectedWithTheirIndex) {
  scratch_dir dir("nonfinite");
  std::vector<float> f(6, 1.f);
  f[4] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::size_t> shape{2, 3};
  write_npy(dir.path / "f.npy", f, shape);
  const auto a = read_npy(dir.path / "f.npy", "sensitivity maps");
  for (const std::string& msg : {bad_input_message([&] { as_float32(a, "sensitivity maps"); }),
                                 bad_input_message([&] { as_complex64(a, "sensitivity maps"); })}) {
    EXPECT_CONTAINS(msg, "sensitivity maps");
    EXPECT_CONTAINS(msg, "NaN");
    EXPECT_CONTAINS(msg, "flat index 4");
    EXPECT_CONTAINS(msg, "[1, 1]");
  }
  std::vector<cfloat> c(3, cfloat{1, 1});
  c[2].im = -std::numeric_limits<float>::infinity();
  const std::vector<std::size_t> shape3{3};
  write_npy(dir.path / "c.npy", c, shape3);
  const std::string msg = bad_input_message([&] { as_complex64(read_npy(dir.path / "c.npy", "kspace"), "kspace"); });
  EXPECT_CONTAINS(msg, "-Inf");
  EXPECT_CONTAINS(msg, "flat index 2");

  const std::vector<double> big{1.0, 1e300};
  const std::vector<std::size_t> shape2{2};
  write_npy(dir.path / "d.npy", big, shape2);
  EXPECT_CONTAINS(bad_input_message([&] { as_float32(read_npy(dir.path / "d.npy", "prior"), "prior"); }),
                  "outside the float32 range");
  EXPECT_CONTAINS(bad_input_message([&] { as_float32(read_npy(dir.path / "c.npy", "noise map"), "noise map"); }),
                  "noise map: is complex64 but a real array is required");
}

TEST(NpyWrite, PreconditionsAndFailuresLeaveNothingBehind) {
  scratch_dir dir("write");
  const std::vector<float> v(5, 0.f);
  const std::vector<std::size_t> wrong{2, 3};
  EXPECT_THROW(write_npy(dir.path / "a.npy", v, wrong), bad_input);
  const std::vector<std::size_t> shape{5};
  EXPECT_THROW(write_npy(dir.path / "missing" / "a.npy", v, shape), runtime_failure);
  EXPECT_TRUE(fs::is_empty(dir.path));

  write_npy(dir.path / "a.npy", v, shape);  // replacing an existing file is atomic too
  const std::vector<float> w{1, 2};
  const std::vector<std::size_t> shape2{2};
  write_npy(dir.path / "a.npy", w, shape2);
  EXPECT_EQ(as_float32(read_npy(dir.path / "a.npy", "a"), "a"), w);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
}

TEST(NpyRoundTrip, Complex128AndBool) {
  scratch_dir dir("c16bool");
  const std::vector<std::size_t> shape{2, 3};
  std::vector<cdouble> z(6);
  for (std::size_t i = 0; i < 6; ++i) z[i] = {1e-3 * double(i) + 1.0 / 3.0, -double(i)};
  write_npy(dir.path / "z.npy", std::span<const cdouble>(z), shape);
  const auto rz = read_npy(dir.path / "z.npy", "z");
  EXPECT_EQ(rz.type, dtype::complex128);
  EXPECT_EQ(rz.shape, shape);
  ASSERT_EQ(rz.data.size(), 6u * 16u);
  for (std::size_t i = 0; i < 6; ++i) {
    double re, im;
    std::memcpy(&re, rz.data.data() + 16 * i, 8);
    std::memcpy(&im, rz.data.data() + 16 * i + 8, 8);
    EXPECT_EQ(re, z[i].re);  // bit-exact: no narrowing on the way
    EXPECT_EQ(im, z[i].im);
  }
  const bool b[6] = {true, false, false, true, true, false};
  write_npy(dir.path / "b.npy", std::span<const bool>(b), shape);
  const auto rb = read_npy(dir.path / "b.npy", "b");
  EXPECT_EQ(rb.type, dtype::boolean);
  EXPECT_EQ(as_float32(rb, "b"), (std::vector<float>{1, 0, 0, 1, 1, 0}));
}

std::vector<std::byte> as_byte_vector(const std::string& s) {
  std::vector<std::byte> v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

TEST(NpyHeader, ParsesFromBytesWithoutTheData) {
  const std::string dict = "{'descr': '>c8', 'fortran_order': True, 'shape': (4, 5, 6), }";
  const auto head = as_byte_vector(npy_bytes(dict, ""));
  const npy_header h = parse_npy_header(head, "probe");
  EXPECT_EQ(h.type, dtype::complex64);
  EXPECT_TRUE(h.big_endian);
  EXPECT_TRUE(h.fortran_order);
  EXPECT_EQ(h.shape, (std::vector<std::size_t>{4, 5, 6}));
  EXPECT_EQ(h.data_offset, head.size());
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_EQ(h.data_bytes, 4u * 5u * 6u * 8u);

  const auto v2 = as_byte_vector(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", "x", 2));
  const npy_header h2 = parse_npy_header(v2, "probe");
  EXPECT_EQ(h2.type, dtype::uint8);
  EXPECT_FALSE(h2.big_endian);
  EXPECT_TRUE(h2.shape.empty());
  EXPECT_EQ(h2.data_bytes, 1u);
  EXPECT_EQ(h2.data_offset + 1, v2.size());

  // Every prefix of a valid header is a clean bad_input, never a crash.
  for (std::size_t n = 0; n < head.size(); ++n) {
    const std::span<const std::byte> prefix(head.data(), n);
    const std::string msg = bad_input_message([&] { parse_npy_header(prefix, "probe"); });
    EXPECT_CONTAINS(msg, "probe: ");
  }
}

bool have_numpy() { return std::system("python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

TEST(NpyNumpy, NumpyFilesReadBackAndNumpyReadsOurs) {
  if (!have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed; NumPy interoperability not checked";
  scratch_dir dir("numpy");
  const std::string d = dir.path.string() + "/";
  write_bytes(dir.path / "make.py",
              "import numpy as np\n"
              "d = '" + d + "'\n"
              "np.save(d + 'f.npy', (np.arange(24).reshape(2, 3, 4) * 0.5).astype('<f4'))\n"
              "z = np.arange(6).reshape(2, 3)\n"
              "np.save(d + 'z.npy', np.asfortranarray((z + 2j * z).astype('>c16')))\n"
              "np.save(d + 'b.npy', np.array([[True, False], [False, True]]))\n"
              "np.save(d + 's.npy', np.float64(3.25))\n");
  ASSERT_EQ(std::system(("python3 " + d + "make.py").c_str()), 0);

  const auto f = read_npy(dir.path / "f.npy", "f");
  EXPECT_EQ(f.shape, (std::vector<std::size_t>{2, 3, 4}));
  const auto fv = as_float32(f, "f");
  for (std::size_t i = 0; i < 24; ++i) EXPECT_EQ(fv[i], 0.5f * float(i));
  const auto z = read_npy(dir.path / "z.npy", "z");
  EXPECT_EQ(z.type, dtype::complex128);
  const auto zv = as_complex64(z, "z");
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(zv[i], (cfloat{float(i), 2.f * float(i)}));
  EXPECT_EQ(as_float32(read_npy(dir.path / "b.npy", "b"), "b"), (std::vector<float>{1, 0, 0, 1}));
  const auto s = read_npy(dir.path / "s.npy", "s");
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(as_float32(s, "s"), std::vector<float>{3.25f});

  std::vector<float> ours_f(24);
  std::vector<cfloat> ours_c(6);
  for (std::size_t i = 0; i < 24; ++i) ours_f[i] = float(i) - 0.5f;
  for (std::size_t i = 0; i < 6; ++i) ours_c[i] = {float(i), -float(i)};
  const std::vector<std::size_t> s3{2, 3, 4}, s2{3, 2}, s0{};
  const std::vector<double> scalar{-7.5};
  const std::vector<std::uint8_t> mask{0, 1, 255};
  const std::vector<std::size_t> s1{3};
  write_npy(dir.path / "of.npy", ours_f, s3);
  write_npy(dir.path / "oc.npy", ours_c, s2);
  write_npy(dir.path / "od.npy", scalar, s0);
  write_npy(dir.path / "ou.npy", mask, s1);
  write_bytes(dir.path / "check.py",
              "import numpy as np\n"
              "d = '" + d + "'\n"
              "f = np.load(d + 'of.npy'); assert f.dtype == np.float32 and f.shape == (2, 3, 4)\n"
              "assert (f == np.arange(24).reshape(2, 3, 4) - 0.5).all()\n"
              "c = np.load(d + 'oc.npy'); assert c.dtype == np.complex64 and c.shape == (3, 2)\n"
              "assert (c == (np.arange(6) - 1j * np.arange(6)).reshape(3, 2)).all()\n"
              "s = np.load(d + 'od.npy'); assert s.dtype == np.float64 and s.shape == () and s == -7.5\n"
              "u = np.load(d + 'ou.npy'); assert u.dtype == np.uint8 and list(u) == [0, 1, 255]\n");
  EXPECT_EQ(std::system(("python3 " + d + "check.py").c_str()), 0) << "numpy could not read our files";
}

}  // namespace
}  // namespace twofold::io
