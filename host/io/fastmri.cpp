// fastMRI HDF5 files through the HDF5 C API. Handles are owned by a small RAII
// type; HDF5's automatic error printing is switched off once per process and
// every failed call becomes a bad_input (reading) or runtime_failure (writing).
#include "host/io/input_problem.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/fastmri.hpp>

#include <hdf5.h>

#include <atomic>
#include <string>
#include <unistd.h>

namespace twofold::io {
namespace fs = std::filesystem;

namespace {

// One HDF5 identifier and the function that closes it.
class h5_handle {
 public:
  h5_handle() = default;
  h5_handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  h5_handle(h5_handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  h5_handle& operator=(h5_handle&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  h5_handle(const h5_handle&) = delete;
  h5_handle& operator=(const h5_handle&) = delete;
  ~h5_handle() {
    if (id_ >= 0 && close_) close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// {r: float32, i: float32}, the layout of cfloat and of h5py's complex64.
h5_handle complex_memory_type() {
  h5_handle t(H5Tcreate(H5T_COMPOUND, sizeof(cfloat)), H5Tclose);
  H5Tinsert(t.get(), "r", 0, H5T_NATIVE_FLOAT);
  H5Tinsert(t.get(), "i", sizeof(float), H5T_NATIVE_FLOAT);
  return t;
}

struct open_dataset {
  h5_handle set, space;
  std::vector<hsize_t> dims;
};

struct fastmri_file {
  detail::input_problem fail;
  h5_handle file;

  fastmri_file(const fs::path& path, std::string_view what) : fail(what, path.string()) {
    silence_hdf5();
    std::error_code ec;
    if (!fs::exists(path, ec)) fail("file not found");
    if (fs::is_directory(path, ec)) fail("is a directory, not an HDF5 file");
    if (H5Fis_hdf5(path.c_str()) <= 0) fail("not an HDF5 file (no HDF5 signature)");
    file = h5_handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail("cannot open the HDF5 file (truncated or corrupt)");
  }

  bool has(const char* name) const { return H5Lexists(file.get(), name, H5P_DEFAULT) > 0; }

  [[noreturn]] void bad_dataset(const char* name, const std::string& problem) const {
    fail("dataset '" + std::string(name) + "': " + problem);
  }

  open_dataset open(const char* name) const {
    open_dataset d;
    d.set = h5_handle(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose);
    if (!d.set.valid()) bad_dataset(name, "cannot be opened (not a dataset, or the file is corrupt)");
    d.space = h5_handle(H5Dget_space(d.set.get()), H5Sclose);
    const int rank = d.space.valid() ? H5Sget_simple_extent_ndims(d.space.get()) : -1;
    if (rank < 0) bad_dataset(name, "has an unreadable shape");
    d.dims.resize(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(d.space.get(), d.dims.data(), nullptr);
    return d;
  }

  // Reads the hyperslab starting at `start` with extent `count` into `out`.
  void read(const char* name, const open_dataset& d, hid_t memory_type, const std::vector<hsize_t>& start,
            const std::vector<hsize_t>& count, void* out) const {
    h5_handle file_space(H5Scopy(d.space.get()), H5Sclose);
    h5_handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    if (!file_space.valid() || !mem_space.valid() ||
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
        H5Dread(d.set.get(), memory_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out) < 0)
      bad_dataset(name, "cannot be read (truncated or corrupt file, or an unconvertible dtype)");
  }
};

std::string dims_text(const std::vector<hsize_t>& dims) {
  std::vector<std::size_t> s(dims.begin(), dims.end());
  return detail::shape_text(s);
}

bool is_complex_compound(hid_t set) {
  h5_handle t(H5Dget_type(set), H5Tclose);
  if (!t.valid() || H5Tget_class(t.get()) != H5T_COMPOUND || H5Tget_nmembers(t.get()) != 2) return false;
  for (unsigned k = 0; k < 2; ++k) {
    char* name = H5Tget_member_name(t.get(), k);
    const bool ok = name && std::string(name) == (k == 0 ? "r" : "i") && H5Tget_member_class(t.get(), k) == H5T_FLOAT;
    H5free_memory(name);
    if (!ok) return false;
  }
  return true;
}

fastmri_info inspect(const fastmri_file& f) {
  fastmri_info info;
  if (!f.has("kspace")) f.fail("no 'kspace' dataset (not a fastMRI file)");
  const auto k = f.open("kspace");
  if (k.dims.size() != 3 && k.dims.size() != 4)
    f.bad_dataset("kspace", "has shape " + dims_text(k.dims) +
                                "; expected [slices, coils, H, W] or [slices, H, W] (single-coil)");
  if (!is_complex_compound(k.set.get()))
    f.bad_dataset("kspace", "is not complex (expected the compound type {r, i} of floats that h5py writes)");
  for (const auto d : k.dims)
    if (d == 0) f.bad_dataset("kspace", "has shape " + dims_text(k.dims) + " with a zero extent");
  const bool multi = k.dims.size() == 4;
  info.slices = k.dims[0];
  info.coils = multi ? k.dims[1] : 0;
  info.height = k.dims[multi ? 2 : 1];
  info.width = k.dims[multi ? 3 : 2];
  info.has_mask = f.has("mask");
  if (info.has_mask) {
    const auto m = f.open("mask");
    if (m.dims.size() != 1 || m.dims[0] != info.width)
      f.bad_dataset("mask", "has shape " + dims_text(m.dims) + " but k-space has W = " + std::to_string(info.width) +
                                " phase-encode lines; expected (" + std::to_string(info.width) + ",)");
  }
  info.has_rss = f.has("reconstruction_rss");
  if (info.has_rss) {
    const auto r = f.open("reconstruction_rss");
    if (r.dims.size() != 3 || r.dims[0] != info.slices)
      f.bad_dataset("reconstruction_rss", "has shape " + dims_text(r.dims) + "; expected [" +
                                              std::to_string(info.slices) + ", h, w], one image per k-space slice");
  }
  return info;
}

// The mask as 0/1 floats from any numeric or bool (h5py: enum over int8) dtype.
std::vector<float> read_mask(const fastmri_file& f, std::size_t width) {
  const auto m = f.open("mask");
  h5_handle t(H5Dget_type(m.set.get()), H5Tclose);
  const auto cls = H5Tget_class(t.get());
  std::vector<float> mask(width);
  if (cls == H5T_ENUM) {  // read the enum's integer codes (h5py bool: FALSE = 0, TRUE = 1)
    h5_handle codes(H5Tget_super(t.get()), H5Tclose);
    h5_handle native(H5Tget_native_type(codes.get(), H5T_DIR_ASCEND), H5Tclose);
    const std::size_t size = H5Tget_size(native.get());
    if (size > 8) f.bad_dataset("mask", "has an enum type wider than 8 bytes");
    std::vector<unsigned char> raw(width * H5Tget_size(t.get()));
    f.read("mask", m, t.get(), {0}, {width}, raw.data());
    const std::size_t item = H5Tget_size(t.get());
    for (std::size_t i = 0; i < width; ++i) {
      bool nonzero = false;
      for (std::size_t b = 0; b < item; ++b) nonzero = nonzero || raw[i * item + b] != 0;
      mask[i] = nonzero ? 1.f : 0.f;
    }
  } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    f.read("mask", m, H5T_NATIVE_FLOAT, {0}, {width}, mask.data());
  } else {
    f.bad_dataset("mask", "is neither numeric nor bool");
  }
  for (std::size_t i = 0; i < width; ++i)
    if (mask[i] != 0.f && mask[i] != 1.f)
      f.bad_dataset("mask", "value " + std::to_string(mask[i]) + " at index " + std::to_string(i) +
                                " is not 0 or 1 (a line is sampled or not)");
  return mask;
}

}  // namespace

fastmri_info inspect_fastmri(const fs::path& path, std::string_view what) {
  const fastmri_file f(path, what);
  return inspect(f);
}

fastmri_slice read_fastmri_slice(const fs::path& path, std::size_t slice, std::string_view what) {
  const fastmri_file f(path, what);
  const fastmri_info info = inspect(f);
  if (slice >= info.slices)
    f.fail("slice " + std::to_string(slice) + " is out of range: the file has " + std::to_string(info.slices) +
           " slices (0 to " + std::to_string(info.slices - 1) + ")");
  fastmri_slice out;
  out.shape = {info.height, info.width, info.coils == 0 ? 1 : info.coils};
  out.kspace.resize(out.shape.pixels());
  {
    const auto k = f.open("kspace");
    const auto memory_type = complex_memory_type();
    std::vector<hsize_t> start(k.dims.size(), 0), count = k.dims;
    start[0] = slice;
    count[0] = 1;
    f.read("kspace", k, memory_type.get(), start, count, out.kspace.data());
  }
  if (info.has_mask) out.mask = read_mask(f, info.width);
  if (info.has_rss) {
    const auto r = f.open("reconstruction_rss");
    out.rss_height = r.dims[1];
    out.rss_width = r.dims[2];
    out.rss.resize(out.rss_height * out.rss_width);
    f.read("reconstruction_rss", r, H5T_NATIVE_FLOAT, {slice, 0, 0}, {1, r.dims[1], r.dims[2]}, out.rss.data());
  }
  return out;
}

void write_fastmri(const fs::path& path, const fastmri_contents& c) {
  silence_hdf5();
  const std::string where = "write_fastmri '" + path.string() + "': ";
  const image_shape s = c.shape;
  TWOFOLD_EXPECTS(c.slices > 0 && s.pixels() > 0, where + "empty shape");
  TWOFOLD_EXPECTS(!c.single_coil || s.coils == 1, where + "the single-coil layout needs coils == 1");
  TWOFOLD_EXPECTS(c.kspace.size() == c.slices * s.pixels(),
                  where + std::to_string(c.kspace.size()) + " k-space values do not fill " + std::to_string(c.slices) +
                      " slices of " + to_string(s));
  TWOFOLD_EXPECTS(c.mask.empty() || c.mask.size() == s.width,
                  where + "the mask has " + std::to_string(c.mask.size()) + " values, W is " + std::to_string(s.width));
  TWOFOLD_EXPECTS(c.rss.empty() || c.rss.size() == c.slices * c.rss_height * c.rss_width,
                  where + "reconstruction_rss does not fill [slices, rss_height, rss_width]");

  static std::atomic<unsigned> counter{0};
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp_name(1, '.');  // built by appending: GCC 12 misreports "." + string (-Wrestrict)
  tmp_name += path.filename().string();
  tmp_name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const fs::path tmp = dir / tmp_name;
  const auto failed = [&](const std::string& step) {
    std::error_code ec;
    fs::remove(tmp, ec);
    ::twofold::detail::throw_runtime_failure(__FILE__, __LINE__, where + "HDF5 could not " + step);
  };
  {
    h5_handle file(H5Fcreate(tmp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) failed("create the file (missing or read-only folder?)");
    const auto write = [&](const char* name, hid_t file_type, hid_t memory_type, std::vector<hsize_t> dims,
                           const void* data) {
      h5_handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
      h5_handle set(H5Dcreate2(file.get(), name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    H5Dclose);
      if (!set.valid() || H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        failed(std::string("write dataset '") + name + "'");
    };
    const auto complex_type = complex_memory_type();
    std::vector<hsize_t> kdims{c.slices, s.coils, s.height, s.width};
    if (c.single_coil) kdims.erase(kdims.begin() + 1);
    write("kspace", complex_type.get(), complex_type.get(), kdims, c.kspace.data());
    if (!c.mask.empty()) write("mask", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {s.width}, c.mask.data());
    if (!c.rss.empty())
      write("reconstruction_rss", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {c.slices, c.rss_height, c.rss_width},
            c.rss.data());
    if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) failed("flush the file");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) failed("rename the file into place: " + ec.message());
}

}  // namespace twofold::io
