#include "run/draws.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

namespace twofold::cli {
namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) {
  std::string q(1, '\'');
  q += p.string();
  q.push_back('\'');
  return q;
}

fs::path with_suffix(const fs::path& base, const char* suffix) { return fs::path(base.string() + suffix); }

/// BART dims of n draws: (H, W, 1, n), trailing 1s dropped as io::parse_cfl_header reports them.
std::vector<std::size_t> bart_dims(image_shape s, std::size_t n) {
  std::vector<std::size_t> dims{s.height, s.width, 1, n};
  while (dims.size() > 1 && dims.back() == 1) dims.pop_back();
  return dims;
}

/// Moves `bytes` at `offset` with pwrite or pread, resuming after partial transfers;
/// runtime_failure naming the file (`doing`: what failed) on an error or an early end.
template <class Transfer, class Bytes>
void transfer_all(Transfer transfer, int fd, Bytes* data, std::size_t bytes, std::size_t offset, const fs::path& path,
                  const char* doing) {
  while (bytes > 0) {
    const ssize_t n = transfer(fd, data, bytes, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    TWOFOLD_ENSURES(n > 0, std::string("could not ") + doing + " " + quoted(path) + ": " +
                               (n < 0 ? std::strerror(errno) : "the file ends early or the disk is full"));
    data += n;
    bytes -= std::size_t(n);
    offset += std::size_t(n);
  }
}

void write_all(int fd, const void* data, std::size_t bytes, std::size_t offset, const fs::path& path) {
  transfer_all(::pwrite, fd, static_cast<const char*>(data), bytes, offset, path, "write the draws to");
}

void read_all(int fd, void* data, std::size_t bytes, std::size_t offset, const fs::path& path) {
  transfer_all(::pread, fd, static_cast<char*>(data), bytes, offset, path, "read the draws back from");
}

int open_file(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  TWOFOLD_ENSURES(fd >= 0, "could not open " + quoted(path) + " for the draws: " + std::strerror(errno));
  return fd;
}

void set_size(int fd, std::size_t bytes, const fs::path& path) {
  TWOFOLD_ENSURES(::ftruncate(fd, off_t(bytes)) == 0,
                  "could not size " + quoted(path) + " for the draws: " + std::strerror(errno));
}

std::size_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? std::size_t(st.st_size) : 0;
}

/// Pixels per tile so that a tile of n draws and its sort buffers (two doubles per
/// complex value) stay within draw_piece_bytes.
std::size_t tile_pixels(std::size_t n, std::size_t pixels) {
  const std::size_t per_pixel = n * (sizeof(cfloat) + 2 * sizeof(double));
  return std::clamp<std::size_t>(draw_piece_bytes / std::max<std::size_t>(per_pixel, 1), 1, pixels);
}

}  // namespace

draws_in_memory::draws_in_memory(std::span<const cfloat> draws, image_shape shape) : values_(draws), shape_(shape) {
  TWOFOLD_EXPECTS(shape.pixels() > 0 && !draws.empty() && draws.size() % shape.pixels() == 0,
                  "draws must be a non-empty stack of images of " + to_string(shape));
}

void draws_in_memory::read_draws(std::size_t first, std::size_t count, std::span<cfloat> out) const {
  const std::size_t N = shape_.pixels();
  std::copy_n(values_.begin() + std::ptrdiff_t(first * N), count * N, out.begin());
}

void draws_in_memory::read_pixels(std::size_t first_pixel, std::size_t count, std::span<cfloat> out) const {
  const std::size_t N = shape_.pixels();
  for (std::size_t d = 0; d < draws(); ++d)
    std::copy_n(values_.begin() + std::ptrdiff_t(d * N + first_pixel), count, out.begin() + std::ptrdiff_t(d * count));
}

draw_file draw_file::create(fs::path npy, std::optional<fs::path> cfl, std::size_t n, image_shape shape) {
  {  // The files are sparse until written: a disk too small would fail late, after the sampling.
    const double need = double(n) * double(shape.pixels()) * sizeof(cfloat) * (cfl ? 2 : 1);
    std::error_code ec;
    const auto space = fs::space(npy.parent_path(), ec);
    char text[200];
    std::snprintf(text, sizeof text, "%.3g GB for %zu draws of %zu pixels%s, but the disk of --out has %.3g GB free",
                  need / 1e9, n, shape.pixels(), cfl ? " (.npy and .cfl)" : "", double(space.available) / 1e9);
    TWOFOLD_EXPECTS(ec || need <= double(space.available),
                    std::string("--runs x --chains is too large for the disk: the draws need ") + text +
                        " (lower --runs or --chains, or free space)");
  }
  draw_file f;
  f.npy_path_ = std::move(npy);
  f.cfl_base_ = std::move(cfl);
  f.n_ = n;
  f.shape_ = shape;
  const std::size_t dims[3] = {n, shape.height, shape.width}, bytes = n * shape.pixels() * sizeof(cfloat);
  const std::string header = io::npy_header_bytes(io::dtype::complex64, dims);
  f.data_offset_ = header.size();
  f.npy_fd_ = open_file(f.npy_path_, O_RDWR | O_CREAT | O_TRUNC);
  write_all(f.npy_fd_, header.data(), header.size(), 0, f.npy_path_);
  set_size(f.npy_fd_, f.data_offset_ + bytes, f.npy_path_);
  if (f.cfl_base_) {
    const auto bart = bart_dims(shape, n);
    const std::string hdr = io::cfl_header(bart);
    const fs::path hdr_path = with_suffix(*f.cfl_base_, ".hdr"), cfl_path = with_suffix(*f.cfl_base_, ".cfl");
    const std::span<const std::byte> part = std::as_bytes(std::span(hdr));
    io::write_file_atomically(hdr_path, std::span(&part, 1));
    f.cfl_fd_ = open_file(cfl_path, O_RDWR | O_CREAT | O_TRUNC);
    set_size(f.cfl_fd_, bytes, cfl_path);
  }
  return f;
}

draw_file draw_file::reopen(fs::path npy, std::optional<fs::path> cfl, std::size_t n, image_shape shape) {
  const std::string what = "--resume: the draws of the checkpoint, ";
  TWOFOLD_EXPECTS(fs::is_regular_file(npy), what + quoted(npy) + ", are missing; rerun without --resume to start over");
  draw_file f;
  f.npy_path_ = std::move(npy);
  f.cfl_base_ = std::move(cfl);
  f.n_ = n;
  f.shape_ = shape;
  const std::size_t bytes = n * shape.pixels() * sizeof(cfloat);
  f.npy_fd_ = open_file(f.npy_path_, O_RDWR);
  std::vector<std::byte> head(std::min<std::size_t>(file_size(f.npy_fd_), 4096));
  if (!head.empty()) read_all(f.npy_fd_, head.data(), head.size(), 0, f.npy_path_);
  const io::npy_header h = io::parse_npy_header(head, what + quoted(f.npy_path_));
  const std::vector<std::size_t> want{n, shape.height, shape.width};
  TWOFOLD_EXPECTS(h.type == io::dtype::complex64 && !h.big_endian && !h.fortran_order && h.shape == want &&
                      file_size(f.npy_fd_) == h.data_offset + bytes,
                  what + quoted(f.npy_path_) + ", do not hold " + std::to_string(n) + " draws of " +
                      to_string(shape) + "; rerun without --resume to start over");
  f.data_offset_ = h.data_offset;
  if (f.cfl_base_) {
    const fs::path hdr_path = with_suffix(*f.cfl_base_, ".hdr"), cfl_path = with_suffix(*f.cfl_base_, ".cfl");
    TWOFOLD_EXPECTS(fs::is_regular_file(hdr_path) && fs::is_regular_file(cfl_path),
                    what + quoted(cfl_path) + ", are missing; rerun without --resume to start over");
    std::ifstream in(hdr_path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    TWOFOLD_EXPECTS(io::parse_cfl_header(text, what + quoted(hdr_path)) == bart_dims(shape, n),
                    what + quoted(hdr_path) + ", have other dimensions; rerun without --resume to start over");
    f.cfl_fd_ = open_file(cfl_path, O_RDWR);
    TWOFOLD_EXPECTS(file_size(f.cfl_fd_) == bytes,
                    what + quoted(cfl_path) + ", have another size; rerun without --resume to start over");
  }
  return f;
}

draw_file::draw_file(draw_file&& o) noexcept
    : npy_path_(std::move(o.npy_path_)), cfl_base_(std::move(o.cfl_base_)), n_(o.n_), shape_(o.shape_),
      data_offset_(o.data_offset_), npy_fd_(std::exchange(o.npy_fd_, -1)), cfl_fd_(std::exchange(o.cfl_fd_, -1)) {}

draw_file& draw_file::operator=(draw_file&& o) noexcept {
  if (this != &o) {
    close();
    npy_path_ = std::move(o.npy_path_);
    cfl_base_ = std::move(o.cfl_base_);
    n_ = o.n_;
    shape_ = o.shape_;
    data_offset_ = o.data_offset_;
    npy_fd_ = std::exchange(o.npy_fd_, -1);
    cfl_fd_ = std::exchange(o.cfl_fd_, -1);
  }
  return *this;
}

draw_file::~draw_file() { close(); }

void draw_file::close() noexcept {
  if (npy_fd_ >= 0) ::close(npy_fd_);
  if (cfl_fd_ >= 0) ::close(cfl_fd_);
  npy_fd_ = cfl_fd_ = -1;
}

void draw_file::write(std::size_t first, std::span<const cfloat> draws) {
  const std::size_t N = shape_.pixels(), count = draws.size() / N;
  TWOFOLD_ENSURES(draws.size() % N == 0 && first + count <= n_, "draws beyond the file's " + std::to_string(n_));
  write_all(npy_fd_, draws.data(), draws.size_bytes(), data_offset_ + first * N * sizeof(cfloat), npy_path_);
  if (cfl_fd_ < 0) return;
  // BART: each draw column-major, (h, w) at h + H·w of its slot.
  std::vector<cfloat> bart(draws.size());
  const std::size_t H = shape_.height, W = shape_.width;
  for (std::size_t d = 0; d < count; ++d)
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t w = 0; w < W; ++w) bart[d * N + h + H * w] = draws[d * N + h * W + w];
  write_all(cfl_fd_, bart.data(), bart.size() * sizeof(cfloat), first * N * sizeof(cfloat),
            with_suffix(*cfl_base_, ".cfl"));
}

void draw_file::read_draws(std::size_t first, std::size_t count, std::span<cfloat> out) const {
  const std::size_t N = shape_.pixels();
  read_all(npy_fd_, out.data(), count * N * sizeof(cfloat), data_offset_ + first * N * sizeof(cfloat), npy_path_);
}

void draw_file::read_pixels(std::size_t first_pixel, std::size_t count, std::span<cfloat> out) const {
  const std::size_t N = shape_.pixels();
  for (std::size_t d = 0; d < n_; ++d)
    read_all(npy_fd_, out.data() + d * count, count * sizeof(cfloat),
             data_offset_ + (d * N + first_pixel) * sizeof(cfloat), npy_path_);
}

void draw_file::publish_as(const fs::path& npy, const std::optional<fs::path>& cfl) const {
  const auto place = [](const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_hard_link(from, to, ec);
    if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    TWOFOLD_ENSURES(!ec, "could not put the draws " + quoted(from) + " into the output folder: " + ec.message());
  };
  place(npy_path_, npy);
  if (cfl_base_ && cfl) {
    place(with_suffix(*cfl_base_, ".cfl"), with_suffix(*cfl, ".cfl"));
    place(with_suffix(*cfl_base_, ".hdr"), with_suffix(*cfl, ".hdr"));
  }
}

void draw_file::remove() noexcept {
  close();
  std::error_code ec;
  if (!npy_path_.empty()) fs::remove(npy_path_, ec);
  if (cfl_base_) {
    fs::remove(with_suffix(*cfl_base_, ".cfl"), ec);
    fs::remove(with_suffix(*cfl_base_, ".hdr"), ec);
  }
}

quantile_maps tiled_pixel_quantiles(const draw_source& draws, field values) {
  const std::size_t n = draws.draws(), N = draws.shape().pixels(), T = tile_pixels(n, N);
  quantile_maps q;
  std::vector<cfloat> tile;
  for (std::size_t p = 0; p < N; p += T) {
    const std::size_t count = std::min(T, N - p);
    tile.resize(n * count);
    draws.read_pixels(p, count, tile);
    const auto part = pixel_quantiles(tile, image_shape{1, count}, values);
    q.lo_level = part.lo_level;
    q.hi_level = part.hi_level;
    q.lo.insert(q.lo.end(), part.lo.begin(), part.lo.end());
    q.hi.insert(q.hi.end(), part.hi.begin(), part.hi.end());
  }
  return q;
}

coverage_curve tiled_coverage(const draw_source& draws, std::span<const cfloat> truth, field values,
                              std::span<const double> nominal) {
  const std::size_t n = draws.draws(), N = draws.shape().pixels(), T = tile_pixels(n, N);
  const std::size_t per_pixel = values == field::complex ? 2 : 1;  // coordinates per pixel
  std::vector<std::size_t> in_quantile(nominal.size()), in_gaussian(nominal.size());
  std::vector<cfloat> tile;
  for (std::size_t p = 0; p < N; p += T) {
    const std::size_t count = std::min(T, N - p);
    tile.resize(n * count);
    draws.read_pixels(p, count, tile);
    const auto part = coverage(tile, truth.subspan(p, count), image_shape{1, count}, values, nominal);
    // coverage() returns count / coordinates: the count is that times the coordinates, exactly after rounding.
    const double coordinates = double(per_pixel * count);
    for (std::size_t l = 0; l < nominal.size(); ++l) {
      in_quantile[l] += std::size_t(std::llround(part.quantile[l] * coordinates));
      in_gaussian[l] += std::size_t(std::llround(part.gaussian[l] * coordinates));
    }
  }
  coverage_curve c;
  c.nominal.assign(nominal.begin(), nominal.end());
  for (std::size_t l = 0; l < nominal.size(); ++l) {
    c.quantile.push_back(double(in_quantile[l]) / double(per_pixel * N));
    c.gaussian.push_back(double(in_gaussian[l]) / double(per_pixel * N));
  }
  return c;
}

std::vector<double> chunked_residuals(const context& ctx, const inverse_problem& problem, const draw_source& draws) {
  const std::size_t n = draws.draws(), N = draws.shape().pixels(), M = problem.op().codomain().pixels();
  // Per draw: the piece and its copy on the backend (N values each), A x there and on the host (M each).
  const std::size_t chunk = std::clamp<std::size_t>(draw_piece_bytes / (2 * (N + M) * sizeof(cfloat)), 1, n);
  std::vector<double> r;
  std::vector<cfloat> piece;
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t count = std::min(chunk, n - first);
    piece.resize(count * N);
    draws.read_draws(first, count, piece);
    const auto part = normalised_residuals(ctx, problem, piece);
    r.insert(r.end(), part.begin(), part.end());
  }
  return r;
}

std::vector<cfloat> all_draws(const draw_source& draws) {
  std::vector<cfloat> v(draws.draws() * draws.shape().pixels());
  draws.read_draws(0, draws.draws(), v);
  return v;
}

}  // namespace twofold::cli
