// BART .cfl/.hdr pairs: reading with size checks, writing both files as one
// atomic step, and the mapping between BART's column-major (H, W, 1, coils)
// and twofold's C-order [coils, H, W].
#include "host/io/input_problem.hpp"

#include <twofold/core/error.hpp>
#include <twofold/io/cfl.hpp>
#include <twofold/io/output_folder.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

static_assert(std::endian::native == std::endian::little,
              "BART .cfl files hold native float32 pairs; twofold reads and writes them little-endian");

namespace twofold::io {
namespace fs = std::filesystem;

namespace {

fs::path with_suffix(const fs::path& base, const char* ext) { return fs::path(base.string() + ext); }

std::uintmax_t existing_file_size(const fs::path& p, const detail::input_problem& fail, const char* role) {
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (!fs::exists(st)) fail(std::string("missing ") + role + " file '" + p.string() + "'");
  if (fs::is_directory(st)) fail(std::string(role) + " file '" + p.string() + "' is a directory");
  const auto size = fs::file_size(p, ec);
  if (ec) fail(std::string("cannot determine the size of '") + p.string() + "': " + ec.message());
  return size;
}

}  // namespace

fs::path cfl_base_path(const fs::path& p) {
  const auto ext = p.extension();
  if (ext == ".cfl" || ext == ".hdr") return fs::path(p).replace_extension();
  return p;
}

cfl_array read_cfl(const fs::path& path, std::string_view what) {
  const fs::path base = cfl_base_path(path);
  const detail::input_problem fail(what, base.string());
  const fs::path hdr = with_suffix(base, ".hdr"), cfl = with_suffix(base, ".cfl");

  const auto hdr_size = existing_file_size(hdr, fail, ".hdr");
  if (hdr_size > (std::uintmax_t{1} << 16)) fail("header '" + hdr.string() + "' is implausibly large");
  std::ifstream hin(hdr, std::ios::binary);
  if (!hin) fail("cannot open '" + hdr.string() + "' for reading");
  std::stringstream text;
  text << hin.rdbuf();
  cfl_array a;
  a.dims = parse_cfl_header(text.str(), std::string(what) + " '" + hdr.string() + "'");

  std::size_t need = 0;
  detail::checked_product(a.dims, sizeof(cfloat), need);  // cannot overflow: parse_cfl_header checked it
  const auto have = existing_file_size(cfl, fail, ".cfl");
  if (have != need)
    fail("'" + cfl.string() + "' holds " + std::to_string(have) + " bytes but dims " + detail::shape_text(a.dims) +
         " need 8 x " + std::to_string(need / 8) + " = " + std::to_string(need) + " bytes");
  a.data.resize(need / sizeof(cfloat));
  std::ifstream in(cfl, std::ios::binary);
  if (!in) fail("cannot open '" + cfl.string() + "' for reading");
  in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(need));
  if (static_cast<std::size_t>(in.gcount()) != need) fail("could not read '" + cfl.string() + "' (I/O error)");
  return a;
}

std::string cfl_header(std::span<const std::size_t> dims) {
  std::string header = "# Dimensions\n";
  for (std::size_t k = 0; k < cfl_max_dims; ++k) header += std::to_string(k < dims.size() ? dims[k] : 1) + " ";
  header += "\n";
  return header;
}

void write_cfl(const fs::path& path, std::span<const cfloat> data, std::span<const std::size_t> dims) {
  const fs::path base = cfl_base_path(path);
  std::size_t n = 0;
  const std::string where = "write_cfl '" + base.string() + "': ";
  TWOFOLD_EXPECTS(!dims.empty() && dims.size() <= cfl_max_dims,
                  where + "needs 1 to " + std::to_string(cfl_max_dims) + " dims, got " + std::to_string(dims.size()));
  for (const auto d : dims) TWOFOLD_EXPECTS(d >= 1, where + "dims " + detail::shape_text(dims) + " contain a 0");
  TWOFOLD_EXPECTS(detail::checked_product(dims, 1, n) && n == data.size(),
                  where + std::to_string(data.size()) + " values do not fill dims " + detail::shape_text(dims));

  const std::string header = cfl_header(dims);

  // Both files go to hidden temporaries first (each itself written atomically),
  // then are renamed: the pair never mixes an old .hdr with a new .cfl because of
  // a failed write. (Between the two renames another process could look; BART
  // reads the .hdr first, which is renamed last.)
  static std::atomic<unsigned> counter{0};
  const std::string tag = ".pair-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const fs::path dir = base.has_parent_path() ? base.parent_path() : fs::path(".");
  const std::string name = base.filename().string();
  const fs::path tmp_cfl = dir / ("." + name + ".cfl" + tag), tmp_hdr = dir / ("." + name + ".hdr" + tag);
  const auto remove_temps = [&] {
    std::error_code ec;
    fs::remove(tmp_cfl, ec);
    fs::remove(tmp_hdr, ec);
  };
  try {
    const std::array<std::span<const std::byte>, 1> cfl_parts{std::as_bytes(data)};
    write_file_atomically(tmp_cfl, cfl_parts);
    const std::array<std::span<const std::byte>, 1> hdr_parts{std::as_bytes(std::span(header))};
    write_file_atomically(tmp_hdr, hdr_parts);
    std::error_code ec;
    fs::rename(tmp_cfl, with_suffix(base, ".cfl"), ec);
    if (!ec) fs::rename(tmp_hdr, with_suffix(base, ".hdr"), ec);
    TWOFOLD_ENSURES(!ec, "write_cfl '" + base.string() + "': cannot rename into place: " + ec.message());
  } catch (...) {
    remove_temps();
    throw;
  }
}

coil_stack cfl_to_coil_stack(const cfl_array& a, std::string_view what) {
  const auto dim = [&](std::size_t k) { return k < a.dims.size() ? a.dims[k] : std::size_t{1}; };
  std::size_t n = 0;
  TWOFOLD_EXPECTS(detail::checked_product(a.dims, 1, n) && n == a.data.size(),
                  std::string(what) + ": " + std::to_string(a.data.size()) + " values do not fill BART dims " +
                      detail::shape_text(a.dims));
  TWOFOLD_EXPECTS(dim(2) == 1, std::string(what) + ": BART dims " + detail::shape_text(a.dims) + " have " +
                                   std::to_string(dim(2)) + " slices in dim 2; twofold takes one 2-D slice");
  for (std::size_t k = 4; k < a.dims.size(); ++k)
    TWOFOLD_EXPECTS(a.dims[k] == 1, std::string(what) + ": BART dims " + detail::shape_text(a.dims) + " use dim " +
                                        std::to_string(k) + "; twofold takes (readout, phase, 1, coils) only");
  coil_stack out;
  out.shape = {dim(0), dim(1), dim(3)};
  const std::size_t H = out.shape.height, W = out.shape.width;
  out.values.resize(a.data.size());
  for (std::size_t c = 0; c < out.shape.coils; ++c)
    for (std::size_t w = 0; w < W; ++w)
      for (std::size_t h = 0; h < H; ++h) out.values[(c * H + h) * W + w] = a.data[h + H * (w + W * c)];
  return out;
}

cfl_array coil_stack_to_cfl(image_shape shape, std::span<const cfloat> values) {
  TWOFOLD_EXPECTS(shape.pixels() > 0, "coil_stack_to_cfl: shape " + to_string(shape) + " is empty");
  TWOFOLD_EXPECTS(values.size() == shape.pixels(), "coil_stack_to_cfl: " + std::to_string(values.size()) +
                                                       " values do not fill shape " + to_string(shape));
  const std::size_t H = shape.height, W = shape.width;
  cfl_array a;
  a.dims = {H, W, 1, shape.coils};
  while (a.dims.size() > 1 && a.dims.back() == 1) a.dims.pop_back();
  a.data.resize(values.size());
  for (std::size_t c = 0; c < shape.coils; ++c)
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t w = 0; w < W; ++w) a.data[h + H * (w + W * c)] = values[(c * H + h) * W + w];
  return a;
}

}  // namespace twofold::io
