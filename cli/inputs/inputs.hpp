#pragma once
/// \file
/// The inputs of `twofold sample`: the operator with its measurements and the prior,
/// read from .npy, BART .cfl/.hdr or fastMRI .h5 files and checked (every message
/// names the flag or file) before anything is written.

#include <twofold/twofold.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace twofold::cli {

/// A TorchScript denoiser (--prior torchscript --model FILE; docs/learned_priors.md).
struct model_options {
  std::string path;               ///< --model
  std::string output = "x0";      ///< --model-output x0 | eps | score
  std::string noise = "sigma";    ///< --model-noise sigma | logsigma | vp-t
  double scale = 1.0;             ///< --model-scale S
  vp_schedule vp{};               ///< --model-vp-beta-start, --model-vp-beta-end, --model-vp-steps
};

/// Registers --model and the --model-* flags (sample and demo).
void add_model_options(CLI::App& cmd, model_options& o);

/// Loads the model for images of `shape` in the field `values` (complex: 2 channels,
/// real: 1), probing it once; bad_input naming the file and what is wrong.
std::unique_ptr<prior> load_torchscript_prior(const context& ctx, const model_options& o, image_shape shape,
                                              field values);

/// The backend for a run with a TorchScript prior: `auto` stays on the CPU when the
/// plugin's LibTorch cannot run on CUDA (Debian's CPU LibTorch on a GPU machine).
backend_request backend_for_network(const std::string& backend);

/// The input flags: the operator, its data and the prior.
struct problem_inputs {
  std::string op = "mri";
  std::string measurements, mask, maps, matrix, kernel;
  std::string prior_images, prior_mean, prior_variance, prior_spectrum, prior_weights, truth;
  std::string prior_kind = "gaussian";
  std::string prior_basis = "pixel";
  std::string field = "auto";
  std::optional<std::size_t> slice;
  std::size_t factor = 0;
  double kernel_std = 0;
  cg_params projection{1e-5, 1000};  ///< multi-coil P_R
  double variance_floor = 1e-3;
  /// dense (EEG/MEG): a folder written by python/eeg/make_forward.py (lead field, noise
  /// covariance, positions; docs/eeg.md); --matrix and --noise-cov default to its files.
  std::string forward;
  std::string noise_cov;          ///< dense: sensor noise covariance C [m, m]; noise ~ N(0, sigma^2 C)
  minimum_norm_params source{};   ///< --prior minimum-norm
  std::string prior_factor;       ///< --prior factor: F [n, k], prior covariance F Fᵀ
  model_options model;            ///< --prior torchscript
  /// Held-out measurements of the same object ([S, measurement] or one measurement, the
  /// data's units and layout): the posterior predictive coverage in calibration.json.
  std::string heldout;
};

/// Registers the flags of `inputs` on a subcommand.
void add_input_options(CLI::App& cmd, problem_inputs& inputs);

/// Measurement sets (`twofold sample`, README): S measurements of one operator with a
/// leading axis, recognised by the array's rank: [S, H, W] for mri, blur, inpaint and
/// superres (one measurement is [H, W]), [S, coils, H, W] for mri-multicoil, [S, m]
/// with S > 1 and m > 1 for dense (one measurement is [m], [m, 1] or [1, m]). Returns
/// S (1 without the axis) and removes the axis from `shape`.
std::size_t take_set_axis(const std::string& op, std::vector<std::size_t>& shape);

/// The operator with its measurements, and what the outputs need to know of it.
struct loaded_problem {
  std::shared_ptr<const linear_operator> op;
  std::vector<cfloat> y;    ///< [sets, codomain]
  std::size_t sets = 1;     ///< measurement sets in y (take_set_axis)
  std::vector<float> mask;  ///< the k-space or pixel mask, for the outputs (empty when none)
  bool real_data = true;    ///< the operator's matrix and y have no imaginary parts
  /// dense with a real matrix: the matrix the engine uses, [rows, columns] row-major
  /// (whitened by --noise-cov when given), for priors built from the lead field.
  std::vector<double> matrix;
  std::size_t matrix_rows = 0;
  std::optional<noise_whitener> whitener;  ///< --noise-cov: y and the matrix were whitened by it
  std::vector<double> sensor_matrix, sensor_y;  ///< --noise-cov: the unwhitened matrix and data
};

/// Reads the operator and its measurements.
loaded_problem load_problem(const context& ctx, const problem_inputs& o);

/// Checks the inputs' sizes against each other from their headers alone, before
/// any large file is read (a many-gigabyte k-space is not read to find that its
/// mask has the wrong length): the mask, coil maps or matrix against the
/// measurements, and the prior and truth images against the image they imply.
/// The same checks run again, on the read arrays, in `load_problem` and `read_prior`.
void check_input_shapes(const problem_inputs& o);

/// --heldout-measurements: S measurements of y's layout ([S, ...] or one), brought to
/// the units the engine samples (whitened by --noise-cov, divided by the dense
/// normalisation): [S, codomain]. bad_input naming the file on a size mismatch, a
/// non-finite value or (real problems) complex values. Empty when the flag is absent.
std::vector<cfloat> read_heldout_measurements(const problem_inputs& o, const loaded_problem& p);

/// Every input file the options name (for the output folder's "never replace a
/// folder holding an input" rule).
std::vector<std::string> input_paths(const problem_inputs& o);

/// The field before the prior exists: explicit, or auto — real when nothing
/// complex enters (a real lead field, real data, a real prior mean or image stack);
/// MRI is always complex. A Fourier-basis prior draws complex images.
field choose_field(const problem_inputs& o, const loaded_problem& p);

/// The prior the options describe: --prior gaussian (estimated from --prior-images,
/// or --prior-mean with --prior-variance / --prior-spectrum), mixture
/// (--prior-weights [K], --prior-mean [K, H, W], --prior-variance or
/// --prior-spectrum [K, H, W]) or empirical (--prior-images).
/// --prior torchscript: the TorchScript denoiser of --model (load_torchscript_prior).
/// --prior minimum-norm: a zero-mean Gaussian with MNE's depth-weighted source variances
/// (minimum_norm_source_variance) on the dense (whitened) lead field `p.matrix`.
std::unique_ptr<prior> read_prior(const context& ctx, const problem_inputs& o, image_shape s, field values,
                                  const loaded_problem* p = nullptr);

/// A real matrix in double precision: `.npy` float64 read exactly, other formats and
/// dtypes through io::read_float_array. Values checked finite (bad_input naming `what`).
io::float_array read_real(const std::string& path, const std::string& what, std::vector<double>& values);

/// Checks --truth's shape: one image of `image`, or with measurement sets also one
/// per set ([S, H, W]).
void expect_truth(std::vector<std::size_t> shape, image_shape image, std::size_t sets);

/// Checks that an array read as `what` holds one image of `expected` shape ([H, W],
/// or [W] / [H·W] when H = 1).
void expect_image(const std::vector<std::size_t>& shape, image_shape expected, const std::string& what,
                  const std::string& against);

}  // namespace twofold::cli
