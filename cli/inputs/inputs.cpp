// Reading and checking the inputs of `twofold sample` (see inputs.hpp).
#include "inputs/inputs.hpp"
#include "commands.hpp"
#include "run/outputs.hpp"

#include <twofold/twofold.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace twofold::cli {

using io::shape_text;

namespace {

/// `shape` as an image: [H, W], or [n] / [1, n] for the 1×n images of dense operators.
image_shape as_image(const std::vector<std::size_t>& shape, const std::string& what) {
  TWOFOLD_EXPECTS(shape.size() == 1 || shape.size() == 2,
                  what + " must be a 1-D or 2-D array (got shape " + shape_text(shape) + ")");
  const image_shape s = shape.size() == 1 ? image_shape{1, shape[0]} : image_shape{shape[0], shape[1]};
  TWOFOLD_EXPECTS(s.pixels() > 0, what + " is empty");
  return s;
}

bool is_hdf5(const std::string& path) {
  const auto ext = std::filesystem::path(path).extension();
  return ext == ".h5" || ext == ".hdf5";
}

bool all_real(std::span<const cfloat> v) {
  for (const cfloat z : v)
    if (z.im != 0.0f) return false;
  return true;
}

/// A 0/1 mask of an image shape: [H, W], or W line flags when `lines_allowed`; read
/// from --mask, else from a fastMRI measurements file's `mask` dataset.
std::vector<float> read_mask(const problem_inputs& o, image_shape s, bool lines_allowed, const std::string& what) {
  std::string path = o.mask;
  io::array_read_options options{"mask", o.slice};
  if (path.empty() && is_hdf5(o.measurements) && io::inspect_fastmri(o.measurements, "measurements").has_mask)
    path = o.measurements;
  TWOFOLD_EXPECTS(!path.empty(), "--operator " + o.op + " needs --mask (" + what + ")");
  const auto a = io::read_float_array(path, what, options);
  if (lines_allowed && a.shape.size() == 1) {
    TWOFOLD_EXPECTS(a.shape[0] == s.width, what + " has " + std::to_string(a.shape[0]) + " line flags but the data has " +
                                               std::to_string(s.width) + " phase-encode lines");
    std::vector<float> full(s.pixels());
    for (std::size_t i = 0; i < full.size(); ++i) full[i] = a.values[i % s.width];
    return full;
  }
  expect_image(a.shape, s, what, "the data");
  return a.values;
}

/// `shape` as a stack of `count` images of shape `s`: [count, H, W], or [count, W] when H = 1.
std::size_t stack_count(const std::vector<std::size_t>& shape, image_shape s, const std::string& what) {
  const bool ok = (shape.size() == 3 && shape[1] == s.height && shape[2] == s.width) ||
                  (s.height == 1 && shape.size() == 2 && shape[1] == s.width);
  TWOFOLD_EXPECTS(ok && shape[0] >= 1, what + " must have shape [N, " + std::to_string(s.height) + ", " +
                                           std::to_string(s.width) + "] (got " + shape_text(shape) + ")");
  return shape[0];
}

/// --operator dense --noise-cov C: y and the matrix whitened once by C's whitener
/// (make_noise_whitener, MNE's rank handling), so the engine sees unit noise times σ.
loaded_problem load_whitened_problem(const context& ctx, const problem_inputs& o, const io::complex_array& y) {
  TWOFOLD_EXPECTS(all_real(y.values), "measurements " + o.measurements + ": --noise-cov needs real data");
  loaded_problem p;
  std::vector<double> matrix, cov;
  const auto a = read_real(o.matrix, "matrix " + o.matrix, matrix);
  TWOFOLD_EXPECTS(a.shape.size() == 2 && a.shape[0] > 0 && a.shape[1] > 0,
                  "matrix " + o.matrix + " must be a 2-D array [channels, sources] (got " + shape_text(a.shape) + ")");
  const std::size_t m = a.shape[0], n = a.shape[1];
  TWOFOLD_EXPECTS(y.values.size() == m && (y.shape.size() == 1 || y.shape.size() == 2),
                  "measurements " + o.measurements + " have shape " + shape_text(y.shape) + " but the matrix " +
                      o.matrix + " has " + std::to_string(m) + " channels (expected [" + std::to_string(m) + "])");
  const auto c = read_real(o.noise_cov, "noise covariance " + o.noise_cov, cov);
  TWOFOLD_EXPECTS(c.shape.size() == 2 && c.shape[0] == m && c.shape[1] == m,
                  "noise covariance " + o.noise_cov + " has shape " + shape_text(c.shape) + " but the matrix " +
                      o.matrix + " has " + std::to_string(m) + " channels (expected (" + std::to_string(m) + ", " +
                      std::to_string(m) + "))");
  p.whitener = make_noise_whitener(cov, m, "noise covariance " + o.noise_cov);
  p.sensor_matrix = matrix;
  p.sensor_y.resize(m);
  for (std::size_t i = 0; i < m; ++i) p.sensor_y[i] = y.values[i].re;
  p.matrix = p.whitener->apply(matrix, n, "matrix " + o.matrix);
  p.matrix_rows = p.whitener->rank;
  const auto yw = p.whitener->apply(p.sensor_y, 1, "measurements " + o.measurements);
  p.y.resize(yw.size());
  for (std::size_t i = 0; i < yw.size(); ++i) p.y[i] = cfloat{float(yw[i]), 0.0f};
  std::vector<cfloat> g(p.matrix.size());
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = cfloat{float(p.matrix[i]), 0.0f};
  p.op = std::make_shared<dense_operator>(ctx, g, p.matrix_rows, image_shape{1, n});
  p.real_data = true;
  return p;
}

}  // namespace

io::float_array read_real(const std::string& path, const std::string& what, std::vector<double>& values) {
  if (std::filesystem::path(path).extension() == ".npy") {
    const auto a = io::read_npy(path, what);
    if (a.type == io::dtype::float64) {
      values.resize(a.elements());
      std::memcpy(values.data(), a.data.data(), values.size() * sizeof(double));
      for (std::size_t i = 0; i < values.size(); ++i)
        TWOFOLD_EXPECTS(std::isfinite(values[i]), what + ": value " + std::to_string(values[i]) + " at flat index " +
                                                      std::to_string(i) + "; inputs must be finite");
      return {a.shape, {}};
    }
  }
  auto a = io::read_float_array(path, what);
  values.assign(a.values.begin(), a.values.end());
  return {a.shape, {}};
}

void expect_image(const std::vector<std::size_t>& shape, image_shape expected, const std::string& what,
                  const std::string& against) {
  const image_shape got = as_image(shape, what);
  TWOFOLD_EXPECTS(got == expected || (expected.height == 1 && got.pixels() == expected.pixels()),
                  what + " has shape " + shape_text(shape) + " but " + against + " is " + to_string(expected));
}

std::vector<std::string> input_paths(const problem_inputs& o) {
  return {o.measurements,   o.mask,          o.maps,          o.matrix,       o.kernel,
          o.prior_images,   o.prior_mean,    o.prior_variance, o.prior_spectrum, o.prior_weights,
          o.truth,          o.forward,       o.noise_cov,     o.prior_factor,   o.model.path,    o.heldout};
}

std::vector<cfloat> read_heldout_measurements(const problem_inputs& o, const loaded_problem& p) {
  if (o.heldout.empty()) return {};
  const auto a = io::read_complex_array(o.heldout, "held-out measurements", {"kspace", o.slice});  // finite
  const std::string what = "held-out measurements " + o.heldout;
  const std::size_t one = p.whitener ? p.sensor_y.size() : p.y.size();
  std::size_t trailing = 1;
  for (std::size_t d = 1; d < a.shape.size(); ++d) trailing *= a.shape[d];
  const bool single = a.values.size() == one, stack = a.shape.size() >= 2 && trailing == one && a.shape[0] >= 1;
  TWOFOLD_EXPECTS(!a.values.empty() && (single || stack),
                  what + " has shape " + shape_text(a.shape) + " but one measurement has " + std::to_string(one) +
                      " values (expected the measurements' shape, or [S, ...] of it)");
  const std::size_t S = a.values.size() / one;
  if (!p.whitener) return a.values;
  TWOFOLD_EXPECTS(all_real(a.values), what + ": --noise-cov needs real data");
  std::vector<double> columns(one * S);  // [channels, S]: the whitener's layout
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t c = 0; c < one; ++c) columns[c * S + s] = a.values[s * one + c].re;
  const auto w = p.whitener->apply(columns, S, what);
  const std::size_t r = p.whitener->rank;
  std::vector<cfloat> out(S * r);
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t i = 0; i < r; ++i) out[s * r + i] = cfloat{float(w[i * S + s]), 0.0f};
  return out;
}

void check_input_shapes(const problem_inputs& o) {
  TWOFOLD_EXPECTS(o.prior_kind != "torchscript" || !o.model.path.empty(),
                  "--prior torchscript needs --model FILE (a TorchScript module; docs/learned_priors.md)");
  TWOFOLD_EXPECTS(o.prior_kind == "torchscript" || o.model.path.empty(),
                  "--model is read only with --prior torchscript (got --prior " + o.prior_kind + ")");
  const bool mri = o.op == "mri" || o.op == "mri-multicoil";
  auto y = io::read_array_shape(o.measurements, mri ? "k-space" : "measurements", {"kspace", o.slice});
  if (y.empty()) return;
  const std::size_t sets = take_set_axis(o.forward.empty() ? o.op : "dense", y);
  const auto peek = [&](const std::string& path, const std::string& what, const char* dataset = "kspace") {
    return path.empty() ? std::vector<std::size_t>{} : io::read_array_shape(path, what, {dataset, o.slice});
  };
  std::optional<image_shape> image;  // the operator's domain, when the headers tell it
  if ((o.op == "mri" && y.size() == 2) || (o.op == "mri-multicoil" && (y.size() == 2 || y.size() == 3))) {
    const image_shape s{y[y.size() - 2], y.back()};
    image = s;
    if (const auto m = peek(o.mask, "k-space mask", "mask"); !m.empty()) {
      if (m.size() == 1)
        TWOFOLD_EXPECTS(m[0] == s.width, "k-space mask has " + std::to_string(m[0]) +
                                             " line flags but the data has " + std::to_string(s.width) +
                                             " phase-encode lines");
      else
        expect_image(m, s, "k-space mask", "the data");
    }
    if (o.op == "mri-multicoil" && !o.maps.empty()) {
      const auto maps = peek(o.maps, "sensitivity maps");
      const std::size_t coils = y.size() == 3 ? y[0] : 1;
      const std::vector<std::size_t> want{coils, s.height, s.width};
      TWOFOLD_EXPECTS(maps.empty() || maps == want || (coils == 1 && maps == std::vector<std::size_t>{s.height, s.width}),
                      "sensitivity maps have shape " + shape_text(maps) + " but the k-space is " + shape_text(y) +
                          " (expected " + shape_text(want) + ")");
    }
  } else if (o.op == "dense" && !o.matrix.empty()) {
    const auto a = peek(o.matrix, "matrix");
    if (a.size() == 2) {
      std::size_t m = 1;
      for (const auto d : y) m *= d;
      TWOFOLD_EXPECTS(m == a[0] && (y.size() == 1 || y.size() == 2),
                      "measurements have shape " + shape_text(y) + " but the matrix has " + std::to_string(a[0]) +
                          " rows (expected [" + std::to_string(a[0]) + "])");
      image = image_shape{1, a[1]};
    }
  } else if ((o.op == "inpaint" || o.op == "blur") && (y.size() == 1 || y.size() == 2)) {
    image = as_image(y, "measurements");
    if (o.op == "inpaint")
      if (const auto m = peek(o.mask, "pixel mask", "mask"); !m.empty()) expect_image(m, *image, "pixel mask", "the data");
  }
  if (!image) return;
  const std::string domain = "the image (the operator's domain)";
  if (o.prior_kind == "gaussian" && o.prior_images.empty()) {
    if (const auto m = peek(o.prior_mean, "prior mean"); !m.empty()) expect_image(m, *image, "prior mean", domain);
    if (const auto v = peek(o.prior_variance, "prior variance"); !v.empty())
      expect_image(v, *image, "prior variance", domain);
    if (const auto v = peek(o.prior_spectrum, "prior spectrum"); !v.empty())
      expect_image(v, *image, "prior spectrum", domain);
  }
  if (!o.prior_images.empty())
    if (const auto st = peek(o.prior_images, "prior image stack"); !st.empty())
      stack_count(st, *image, "prior image stack");
  if (const auto t = peek(o.truth, "truth image"); !t.empty()) expect_truth(t, *image, sets);
}

void expect_truth(std::vector<std::size_t> shape, image_shape image, std::size_t sets) {
  if (sets > 1 && shape.size() == 3) {
    TWOFOLD_EXPECTS(shape[0] == sets, "--truth has " + std::to_string(shape[0]) + " images (shape " +
                                          shape_text(shape) + ") but --measurements has " + std::to_string(sets) +
                                          " sets: give one truth image [H, W] or one per set [S, H, W]");
    shape.erase(shape.begin());
  }
  expect_image(shape, image, "truth image", "the image (the operator's domain)");
}

std::size_t take_set_axis(const std::string& op, std::vector<std::size_t>& shape) {
  const bool sets = ((op == "mri" || op == "blur" || op == "inpaint" || op == "superres") && shape.size() == 3) ||
                    (op == "mri-multicoil" && shape.size() == 4) ||
                    (op == "dense" && shape.size() == 2 && shape[0] > 1 && shape[1] > 1);
  if (!sets) return 1;
  const std::size_t S = shape.front();
  TWOFOLD_EXPECTS(S >= 1, "--measurements: a set axis of length 0 (shape " + shape_text(shape) + ")");
  shape.erase(shape.begin());
  return S;
}

loaded_problem load_problem(const context& ctx, const problem_inputs& given) {
  problem_inputs o = given;
  if (!o.forward.empty()) {  // an EEG forward folder: its files unless given explicitly
    const std::filesystem::path dir(o.forward);
    if (o.op == "mri") o.op = "dense";  // the default operator: a forward folder means a lead field
    TWOFOLD_EXPECTS(std::filesystem::is_directory(dir), "--forward " + o.forward + " is not a folder");
    if (o.matrix.empty()) o.matrix = (dir / "leadfield.npy").string();
    if (o.noise_cov.empty() && std::filesystem::exists(dir / "noise_covariance.npy"))
      o.noise_cov = (dir / "noise_covariance.npy").string();
  }
  TWOFOLD_EXPECTS(o.noise_cov.empty() || o.op == "dense",
                  "--noise-cov needs --operator dense (a lead field; got --operator " + o.op + ")");
  const io::array_read_options kspace_options{"kspace", o.slice};
  const bool mri = o.op == "mri" || o.op == "mri-multicoil";
  auto y = io::read_complex_array(o.measurements, mri ? "k-space" : "measurements", kspace_options);
  loaded_problem p;
  p.sets = take_set_axis(o.op, y.shape);  // y.shape: one measurement's from here on
  TWOFOLD_EXPECTS(p.sets == 1 || o.noise_cov.empty(),
                  "--measurements with a set axis (" + std::to_string(p.sets) +
                      " sets) cannot be whitened by --noise-cov; sample each set alone");
  p.y = y.values;
  p.real_data = all_real(y.values);
  if (o.op == "mri") {
    TWOFOLD_EXPECTS(y.shape.size() == 2, "measurements (k-space) must be [H, W] for --operator mri (got " +
                                             shape_text(y.shape) + "; multi-coil data needs --operator mri-multicoil)");
    const image_shape s = as_image(y.shape, "measurements");
    p.mask = read_mask(o, s, true, "k-space mask");
    p.op = std::make_shared<fourier_mask_operator>(ctx, s, p.mask);
    p.real_data = false;
  } else if (o.op == "mri-multicoil") {
    TWOFOLD_EXPECTS(y.shape.size() == 3 || y.shape.size() == 2,
                    "measurements (k-space) must be [coils, H, W] for --operator mri-multicoil (got " +
                        shape_text(y.shape) + ")");
    const std::size_t coils = y.shape.size() == 3 ? y.shape[0] : 1;
    const image_shape s{y.shape[y.shape.size() - 2], y.shape.back()};
    TWOFOLD_EXPECTS(!o.maps.empty(), "--operator mri-multicoil needs --maps (sensitivity maps [coils, H, W])");
    const auto maps = io::read_complex_array(o.maps, "sensitivity maps");
    const std::vector<std::size_t> want{coils, s.height, s.width};
    TWOFOLD_EXPECTS(maps.shape == want || (coils == 1 && maps.shape == std::vector<std::size_t>{s.height, s.width}),
                    "sensitivity maps have shape " + shape_text(maps.shape) + " but the k-space is " +
                        shape_text(y.shape) + " (expected " + shape_text(want) + ")");
    const std::size_t blind = validate_coil_maps(maps.values, {s.height, s.width, coils}, "sensitivity maps");
    if (blind > 0)
      std::fprintf(stderr, "twofold: note: %zu of %zu pixels have zero coil sensitivity (invisible to the data)\n",
                   blind, s.pixels());
    p.mask = read_mask(o, s, true, "k-space mask");
    p.op = std::make_shared<multicoil_operator>(ctx, s, coils, maps.values, p.mask, o.projection);
    p.real_data = false;
  } else if (o.op == "dense") {
    TWOFOLD_EXPECTS(!o.matrix.empty(), "--operator dense needs --matrix (the lead field, [sensors, sources])");
    if (!o.noise_cov.empty()) return load_whitened_problem(ctx, o, y);
    const auto a = io::read_complex_array(o.matrix, "matrix");
    TWOFOLD_EXPECTS(a.shape.size() == 2 && a.shape[0] > 0 && a.shape[1] > 0,
                    "matrix must be a 2-D array [rows, columns] (got " + shape_text(a.shape) + ")");
    TWOFOLD_EXPECTS(y.values.size() == p.sets * a.shape[0] && (y.shape.size() == 1 || y.shape.size() == 2),
                    "measurements have shape " + shape_text(y.shape) + " but the matrix has " +
                        std::to_string(a.shape[0]) + " rows (expected [" + std::to_string(a.shape[0]) + "])");
    p.op = std::make_shared<dense_operator>(ctx, a.values, a.shape[0], image_shape{1, a.shape[1]});
    p.real_data = p.real_data && all_real(a.values);
    if (all_real(a.values)) {
      p.matrix.resize(a.values.size());
      for (std::size_t i = 0; i < a.values.size(); ++i) p.matrix[i] = a.values[i].re;
      p.matrix_rows = a.shape[0];
    }
  } else if (o.op == "blur") {
    const image_shape s = as_image(y.shape, "measurements");
    TWOFOLD_EXPECTS(o.kernel.empty() != (o.kernel_std == 0),
                    "--operator blur needs exactly one of --kernel FILE and --kernel-std S");
    image_shape ks;
    std::vector<cfloat> k;
    if (!o.kernel.empty()) {
      const auto a = io::read_complex_array(o.kernel, "blur kernel");
      ks = as_image(a.shape, "blur kernel");
      k = a.values;
    } else {
      TWOFOLD_EXPECTS(std::isfinite(o.kernel_std) && o.kernel_std > 0, "--kernel-std must be finite and > 0");
      // Radius 3 std, clipped to the image (the kernel must fit the circular grid).
      const std::size_t fit = (std::min(s.height, s.width) - 1) / 2;
      k = gaussian_blur_kernel(o.kernel_std, std::max<std::size_t>(1, std::min(fit, std::size_t(std::ceil(3 * o.kernel_std)))), ks);
    }
    p.op = std::make_shared<convolution_operator>(ctx, s, k, ks);
    p.real_data = p.real_data && all_real(k);
  } else if (o.op == "inpaint") {
    const image_shape s = as_image(y.shape, "measurements");
    p.mask = read_mask(o, s, false, "pixel mask");
    p.op = std::make_shared<inpainting_operator>(ctx, s, p.mask);
  } else if (o.op == "superres") {
    const image_shape low = as_image(y.shape, "measurements");
    TWOFOLD_EXPECTS(o.factor >= 1, "--operator superres needs --factor F (>= 1)");
    p.op = std::make_shared<superres_operator>(image_shape{low.height * o.factor, low.width * o.factor}, o.factor);
  } else {
    TWOFOLD_EXPECTS(false, "--operator must be one of mri, mri-multicoil, dense, blur, inpaint, superres (got '" +
                               o.op + "')");
  }
  return p;
}

std::unique_ptr<prior> read_prior(const context& ctx, const problem_inputs& o, image_shape s, field values,
                                  const loaded_problem* p) {
  if (o.prior_kind == "minimum-norm") {
    TWOFOLD_EXPECTS(p && !p->matrix.empty(),
                    "--prior minimum-norm needs --operator dense with a real lead field (--matrix or --forward)");
    const auto v = minimum_norm_source_variance(p->matrix, p->matrix_rows, s.pixels(), o.source);
    const std::vector<float> variance(v.begin(), v.end());
    for (std::size_t j = 0; j < variance.size(); ++j)
      TWOFOLD_EXPECTS(variance[j] > 0 && std::isfinite(variance[j]),
                      "--prior minimum-norm: source variance of component " + std::to_string(j) +
                          " is not a positive float (rescale the lead field's source unit, e.g. to nA m)");
    return std::make_unique<gaussian_prior>(ctx, gaussian_basis::pixel, s, std::vector<cfloat>(s.pixels()),
                                            variance);
  }
  TWOFOLD_EXPECTS(o.prior_basis == "pixel" || o.prior_basis == "fourier", "--prior-basis must be pixel or fourier");
  if (o.prior_kind == "torchscript") return load_torchscript_prior(ctx, o.model, s, values);
  if (o.prior_kind == "empirical") {
    TWOFOLD_EXPECTS(!o.prior_images.empty(), "--prior empirical needs --prior-images [N, H, W]");
    const auto a = io::read_complex_array(o.prior_images, "prior image stack");
    stack_count(a.shape, s, "prior image stack");
    return std::make_unique<gaussian_mixture_prior>(make_empirical_prior(ctx, s, a.values, values));
  }
  if (o.prior_kind == "mixture") {
    TWOFOLD_EXPECTS(!o.prior_weights.empty() && !o.prior_mean.empty(),
                    "--prior mixture needs --prior-weights [K], --prior-mean [K, H, W] and --prior-variance or "
                    "--prior-spectrum [K, H, W]");
    const bool spectrum = !o.prior_spectrum.empty();
    TWOFOLD_EXPECTS(spectrum != !o.prior_variance.empty(), "give exactly one of --prior-variance and --prior-spectrum");
    const auto w = io::read_float_array(o.prior_weights, "prior weights");
    const auto mean = io::read_complex_array(o.prior_mean, "prior means");
    const std::string what = spectrum ? "prior spectra" : "prior variances";
    const auto var = io::read_float_array(spectrum ? o.prior_spectrum : o.prior_variance, what);
    const std::size_t K = stack_count(mean.shape, s, "prior means");
    TWOFOLD_EXPECTS(stack_count(var.shape, s, what) == K && w.values.size() == K,
                    "--prior-weights, --prior-mean and --prior-" + std::string(spectrum ? "spectrum" : "variance") +
                        " must describe the same number of components (got " + std::to_string(w.values.size()) +
                        ", " + std::to_string(K) + " and " + shape_text(var.shape) + ")");
    const std::vector<double> weights(w.values.begin(), w.values.end());
    return std::make_unique<gaussian_mixture_prior>(ctx, spectrum ? gaussian_basis::fourier : gaussian_basis::pixel,
                                                    s, weights, mean.values, var.values, values);
  }
  TWOFOLD_EXPECTS(o.prior_kind == "gaussian",
                  "--prior must be gaussian, mixture, empirical, torchscript, minimum-norm or factor (got '" +
                      o.prior_kind + "')");
  const gaussian_basis basis = o.prior_basis == "fourier" ? gaussian_basis::fourier : gaussian_basis::pixel;
  if (!o.prior_images.empty()) {
    const auto a = io::read_complex_array(o.prior_images, "prior image stack");
    TWOFOLD_EXPECTS(stack_count(a.shape, s, "prior image stack") >= 2,
                    "prior image stack must hold at least 2 images to estimate a Gaussian (got " +
                        shape_text(a.shape) + ")");
    return std::make_unique<gaussian_prior>(estimate_gaussian_prior(ctx, basis, s, a.values, o.variance_floor));
  }
  TWOFOLD_EXPECTS(!o.prior_mean.empty(), "give --prior-images, or --prior-mean with --prior-variance or --prior-spectrum");
  const bool spectrum = !o.prior_spectrum.empty();
  TWOFOLD_EXPECTS(spectrum != !o.prior_variance.empty(), "give exactly one of --prior-variance and --prior-spectrum");
  const auto mean = io::read_complex_array(o.prior_mean, "prior mean");
  expect_image(mean.shape, s, "prior mean", "the image (the operator's domain)");
  const std::string what = spectrum ? "prior spectrum" : "prior variance";
  const auto var = io::read_float_array(spectrum ? o.prior_spectrum : o.prior_variance, what);
  expect_image(var.shape, s, what, "the image (the operator's domain)");
  return std::make_unique<gaussian_prior>(ctx, spectrum ? gaussian_basis::fourier : gaussian_basis::pixel, s,
                                          mean.values, var.values);
}

void add_model_options(CLI::App& cmd, model_options& o) {
  cmd.add_option("--model", o.path,
                 "--prior torchscript: a TorchScript module, forward(x [B, C, H, W], noise [B]) -> [B, C, H, W] "
                 "float32; C = 2 (real, imaginary) for complex images, 1 for real ones (docs/learned_priors.md)");
  cmd.add_option("--model-output", o.output,
                 "what the network predicts: x0 (the clean image), eps (the noise, unit variance per channel) or "
                 "score (d log p / d conj(z))")
      ->capture_default_str();
  cmd.add_option("--model-noise", o.noise,
                 "how the noise level s is passed: sigma (s), logsigma (ln s) or vp-t (a timestep of the linear-beta "
                 "VP schedule; the input is scaled by sqrt(alpha_bar))")
      ->capture_default_str();
  cmd.add_option("--model-scale", o.scale, "the network sees S*z at noise S*s; its x0 output is divided by S")
      ->capture_default_str()
      ->check(number_in(1e-12, 1e12, false, false));
  cmd.add_option("--model-vp-beta-start", o.vp.beta_start, "vp-t: beta of the first step")
      ->capture_default_str()
      ->check(number_in(0, 1, true, true));
  cmd.add_option("--model-vp-beta-end", o.vp.beta_end, "vp-t: beta of the last step")
      ->capture_default_str()
      ->check(number_in(0, 1, true, true));
  cmd.add_option("--model-vp-steps", o.vp.steps, "vp-t: steps of the schedule (t in [0, steps - 1])")
      ->capture_default_str()
      ->check(count_in(2, 1000000));
}

std::unique_ptr<prior> load_torchscript_prior(const context& ctx, const model_options& o, image_shape shape,
                                              field values) {
  torchscript_options t;
  t.output = parse_model_output(o.output, "--model-output");
  t.noise = parse_model_noise(o.noise, "--model-noise");
  t.scale = o.scale;
  t.vp = o.vp;
  t.channels = values == field::complex ? 2 : 1;
  stage_progress progress("loading " + o.path);
  return std::make_unique<torchscript_prior>(ctx, o.path, shape, t);
}

backend_request backend_for_network(const std::string& backend) {
  const backend_request r = parse_backend(backend, "--backend");
  if (r == backend_request::automatic && cuda_usable() && !torchscript_supports_cuda()) {
    std::fprintf(stderr, "twofold: this LibTorch cannot run on CUDA; the TorchScript prior runs on the CPU\n");
    return backend_request::cpu;
  }
  return r;
}

field choose_field(const problem_inputs& o, const loaded_problem& p) {
  if (o.field == "complex") return field::complex;
  if (o.field == "real") return field::real;
  TWOFOLD_EXPECTS(o.field == "auto", "--field must be auto, real or complex (got '" + o.field + "')");
  if (!p.real_data || !o.prior_spectrum.empty() || o.prior_basis == "fourier") return field::complex;
  if (o.prior_kind == "minimum-norm" || o.prior_kind == "factor") return field::real;  // real lead field and data
  if (o.prior_kind == "torchscript") return field::real;  // real A and y: a one-channel network
  const std::string& source = o.prior_images.empty() ? o.prior_mean : o.prior_images;
  return !source.empty() && all_real(io::read_complex_array(source, "prior mean").values) ? field::real
                                                                                         : field::complex;
}

void add_input_options(CLI::App& cmd, problem_inputs& o) {
  cmd.add_option("--operator", o.op, "mri | mri-multicoil | dense | blur | inpaint | superres")->capture_default_str();
  cmd.add_option("--measurements,--kspace", o.measurements,
                  "y: k-space [H, W] (mri), [coils, H, W] (mri-multicoil), [m] (dense), an image (blur, inpaint, "
                  "superres); with a leading axis [S, ...], S measurement sets sampled side by side (--design "
                  "replicate; outputs in set-000/ ...)")
      ->required();
  cmd.add_option("--slice", o.slice, "fastMRI .h5 slice (default: the middle one)")->check(count_in(0, 1000000));
  cmd.add_option("--mask", o.mask,
                  "mri: k-space mask [H, W] or [W] line flags (default: the .h5 file's mask); inpaint: pixel mask [H, W]");
  cmd.add_option("--maps", o.maps, "mri-multicoil: sensitivity maps [coils, H, W] (.npy or BART .cfl)");
  cmd.add_option("--projection-tolerance", o.projection.tolerance,
                  "mri-multicoil: relative residual of the CG range projection P_R")
      ->capture_default_str()
      ->check(number_in(0, 1, true, true));
  cmd.add_option("--projection-iterations", o.projection.max_iterations,
                  "mri-multicoil: most CG iterations of P_R")
      ->capture_default_str()
      ->check(count_in(1, 1000000));
  cmd.add_option("--matrix", o.matrix, "dense: the matrix / lead field [m, n], real or complex");
  cmd.add_option("--kernel", o.kernel, "blur: the kernel [h, w], centred at (h/2, w/2)");
  cmd.add_option("--kernel-std", o.kernel_std, "blur: a normalised Gaussian kernel of this std (pixels)")
      ->check(number_in(0, 1e6, true, false));
  cmd.add_option("--factor", o.factor, "superres: the block-averaging factor")->check(count_in(1, 4096));
  cmd.add_option("--field", o.field, "auto | real | complex (auto: real when A, y and the prior mean are real)")
      ->capture_default_str();
  cmd.add_option("--prior", o.prior_kind, "gaussian | mixture | empirical | torchscript | minimum-norm | factor")
      ->capture_default_str();
  add_model_options(cmd, o.model);
  cmd.add_option("--prior-images", o.prior_images,
                  "image stack [N, H, W]: a Gaussian prior is estimated from it, or (--prior empirical) its images "
                  "are the prior's atoms");
  cmd.add_option("--prior-weights", o.prior_weights, "mixture: component weights [K], >= 0, summing to 1");
  cmd.add_option("--prior-basis", o.prior_basis, "pixel | fourier (with --prior-images)")->capture_default_str();
  cmd.add_option("--prior-mean", o.prior_mean, "prior mean image [H, W] (mixture: [K, H, W])");
  cmd.add_option("--prior-variance", o.prior_variance, "per-pixel prior variance [H, W] (mixture: [K, H, W])");
  cmd.add_option("--prior-spectrum", o.prior_spectrum,
                  "prior power spectrum [H, W], centred k-space, fourier basis (mixture: [K, H, W])");
  cmd.add_option("--variance-floor", o.variance_floor, "relative variance floor for estimated priors")
      ->capture_default_str()
      ->check(number_in(0, 1, false, false));
  cmd.add_option("--truth", o.truth, "ground-truth image [H, W] for the error map");
  cmd.add_option("--heldout-measurements", o.heldout,
                  "held-out measurements of the same object ([S, ...] of the measurements' shape, e.g. other trials): "
                  "calibration.json gets their posterior predictive coverage (docs/calibration.md)");
  cmd.add_option("--forward", o.forward,
                  "dense (EEG): a folder from python/eeg/make_forward.py; --matrix and --noise-cov default to its "
                  "leadfield.npy and noise_covariance.npy, and the report draws its source and channel positions");
  cmd.add_option("--noise-cov", o.noise_cov,
                  "dense: sensor noise covariance [m, m] (noise ~ N(0, sigma^2 C)); data and matrix are whitened by it "
                  "once, dropping null directions as MNE does (docs/eeg.md)");
  cmd.add_option("--source-orientations", o.source.orientations,
                  "minimum-norm: components per source, 3 (free: x, y, z) or 1 (fixed)")
      ->capture_default_str();
  cmd.add_option("--depth", o.source.depth, "minimum-norm: depth-weighting exponent (MNE's depth; 0: none)")
      ->capture_default_str();
  cmd.add_option("--depth-limit", o.source.depth_limit, "minimum-norm: MNE's depth limit (0: none)")
      ->capture_default_str();
  cmd.add_option("--prior-factor", o.prior_factor,
                  "--prior factor: F [n, k]; the prior is N(prior mean or 0, F F^T) (dense, real; docs/eeg.md)");
  cmd.add_option("--lambda2", o.source.lambda2, "minimum-norm: MNE's lambda2 = 1/SNR^2")->capture_default_str();
}

}  // namespace twofold::cli
