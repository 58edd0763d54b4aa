// Dispatch on the file extension to the .npy, BART and fastMRI readers, and the
// finiteness check every input passes through.
#include "host/io/input_problem.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/array_file.hpp>
#include <twofold/io/cfl.hpp>
#include <twofold/io/fastmri.hpp>
#include <twofold/io/npy.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <type_traits>

namespace twofold::io {
namespace fs = std::filesystem;

namespace {

enum class file_format { npy, cfl, hdf5 };

file_format format_of(const fs::path& path, std::string_view what) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  if (ext == ".npy") return file_format::npy;
  if (ext == ".cfl" || ext == ".hdr") return file_format::cfl;
  if (ext == ".h5" || ext == ".hdf5") return file_format::hdf5;
  std::error_code ec;
  if (fs::is_regular_file(fs::path(path.string() + ".cfl"), ec) && fs::is_regular_file(fs::path(path.string() + ".hdr"), ec))
    return file_format::cfl;  // BART names a pair by its base path
  if (ext.empty())
    detail::input_problem(what, path.string())(
        "no file extension, and no BART pair '" + path.string() + ".cfl'/'.hdr' exists (supported: .npy, "
        ".cfl/.hdr or a BART base name, .h5/.hdf5 (fastMRI))");
  detail::input_problem(what, path.string())(
      "unknown file extension '" + ext + "' (supported: .npy, .cfl/.hdr (BART), .h5/.hdf5 (fastMRI))");
}

// BART dims (H, W, 1, coils) as the C-order shape twofold uses.
complex_array from_cfl(const fs::path& path, std::string_view what) {
  const cfl_array a = read_cfl(path, what);
  coil_stack s = cfl_to_coil_stack(a, std::string(what) + " '" + cfl_base_path(path).string() + "'");
  complex_array out;
  if (s.shape.coils > 1) out.shape = {s.shape.coils, s.shape.height, s.shape.width};
  else if (a.dims.size() == 1) out.shape = {s.shape.height};
  else out.shape = {s.shape.height, s.shape.width};
  out.values = std::move(s.values);
  return out;
}

// One slice of a fastMRI dataset, as the C-order shape of that slice.
template <class Array>
Array from_fastmri(const fs::path& path, std::string_view what, const array_read_options& options, bool complex) {
  const detail::input_problem fail(what, path.string());
  const auto& name = options.dataset;
  if (name != "kspace" && name != "mask" && name != "reconstruction_rss")
    fail("dataset '" + name + "' is not one twofold reads (kspace, mask, reconstruction_rss)");
  if (complex != (name == "kspace"))
    fail("dataset '" + name + "' is " + (complex ? "real but a complex array is required"
                                                 : "complex but a real array is required"));
  const fastmri_info info = inspect_fastmri(path, what);
  if (name == "mask" && !info.has_mask) fail("no 'mask' dataset");
  if (name == "reconstruction_rss" && !info.has_rss) fail("no 'reconstruction_rss' dataset");
  fastmri_slice s = read_fastmri_slice(path, options.slice.value_or(info.slices / 2), what);
  Array out;
  if constexpr (std::is_same_v<Array, complex_array>) {
    out.shape = info.coils == 0 ? std::vector<std::size_t>{s.shape.height, s.shape.width}
                                : std::vector<std::size_t>{s.shape.coils, s.shape.height, s.shape.width};
    out.values = std::move(s.kspace);
  } else if (name == "mask") {
    out.shape = {s.shape.width};
    out.values = std::move(s.mask);
  } else {
    out.shape = {s.rss_height, s.rss_width};
    out.values = std::move(s.rss);
  }
  return out;
}

template <class T>
void check_finite(std::span<const T> values, std::span<const std::size_t> shape, std::string_view what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_same_v<T, cfloat>) {
      if (!std::isfinite(values[i].re)) detail::throw_non_finite(what, shape, i, values[i].re);
      if (!std::isfinite(values[i].im)) detail::throw_non_finite(what, shape, i, values[i].im);
    } else if (!std::isfinite(values[i])) {
      detail::throw_non_finite(what, shape, i, values[i]);
    }
  }
}

}  // namespace

void require_finite(std::span<const cfloat> values, std::span<const std::size_t> shape, std::string_view what) {
  check_finite(values, shape, what);
}
void require_finite(std::span<const float> values, std::span<const std::size_t> shape, std::string_view what) {
  check_finite(values, shape, what);
}

std::vector<std::size_t> read_array_shape(const fs::path& path, std::string_view what,
                                          const array_read_options& options) {
  switch (format_of(path, what)) {
    case file_format::npy: {
      const detail::input_problem fail(what, path.string());
      std::ifstream in(path, std::ios::binary);
      if (!in) fail(fs::exists(path) ? "cannot open the file for reading" : "file not found");
      std::vector<std::byte> head(12 + max_npy_header_bytes);
      in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<std::size_t>(in.gcount()));
      return parse_npy_header(head, std::string(what) + " '" + path.string() + "'").shape;
    }
    case file_format::cfl: {
      const fs::path base = cfl_base_path(path);
      const detail::input_problem fail(what, base.string());
      const fs::path hdr(base.string() + ".hdr");
      std::ifstream in(hdr, std::ios::binary);
      if (!in) fail("missing .hdr file '" + hdr.string() + "'");
      std::string text(1 << 16, '\0');
      in.read(text.data(), static_cast<std::streamsize>(text.size()));
      text.resize(static_cast<std::size_t>(in.gcount()));
      const auto d = parse_cfl_header(text, std::string(what) + " '" + hdr.string() + "'");
      const auto dim = [&](std::size_t k) { return k < d.size() ? d[k] : std::size_t{1}; };
      if (dim(2) != 1 || d.size() > 4) return {};
      if (dim(3) > 1) return {dim(3), dim(0), dim(1)};
      if (d.size() == 1) return {dim(0)};
      return {dim(0), dim(1)};
    }
    case file_format::hdf5: {
      const fastmri_info info = inspect_fastmri(path, what);
      if (options.dataset == "kspace")
        return info.coils == 0 ? std::vector<std::size_t>{info.height, info.width}
                               : std::vector<std::size_t>{info.coils, info.height, info.width};
      if (options.dataset == "mask" && info.has_mask) return {info.width};
      return {};
    }
  }
  return {};
}

complex_array read_complex_array(const fs::path& path, std::string_view what, const array_read_options& options) {
  complex_array out;
  switch (format_of(path, what)) {
    case file_format::npy: {
      npy_array a = read_npy(path, what);
      out.values = as_complex64(a, std::string(what) + " '" + path.string() + "'");  // checks finiteness itself
      out.shape = std::move(a.shape);
      return out;
    }
    case file_format::cfl: out = from_cfl(path, what); break;
    case file_format::hdf5: out = from_fastmri<complex_array>(path, what, options, true); break;
  }
  require_finite(out.values, out.shape, std::string(what) + " '" + path.string() + "'");
  return out;
}

float_array read_float_array(const fs::path& path, std::string_view what, const array_read_options& options) {
  float_array out;
  switch (format_of(path, what)) {
    case file_format::npy: {
      npy_array a = read_npy(path, what);
      out.values = as_float32(a, std::string(what) + " '" + path.string() + "'");
      out.shape = std::move(a.shape);
      return out;
    }
    case file_format::cfl:
      detail::input_problem(what, cfl_base_path(path).string())(
          "BART files hold complex values but a real array is required");
    case file_format::hdf5: out = from_fastmri<float_array>(path, what, options, false); break;
  }
  require_finite(out.values, out.shape, std::string(what) + " '" + path.string() + "'");
  return out;
}

}  // namespace twofold::io
