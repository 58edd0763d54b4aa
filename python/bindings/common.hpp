#pragma once
// Shared pieces of the nanobind extension twofold._twofold (docs/python.md): the
// Python-side handles of library objects and the array conversions. A client of
// the public API only (include/twofold/), like cli/.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include <twofold/twofold.hpp>

#include <complex>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace twofold::python {

namespace nb = nanobind;

/// An array: any object with __dlpack__ or the buffer protocol, as a DLPack view.
using any_array = nb::ndarray<nb::ro>;

/// An array argument: its DLPack view and the Python object it came from, which a
/// device array needs for DLPack's stream handshake (ready_on).
class array_arg : public any_array {
 public:
  array_arg() = default;
  array_arg(any_array view, nb::object source) : any_array(std::move(view)), source_(std::move(source)) {}
  bool on_cuda() const { return device_type() == nb::device::cuda::value; }
  /// For a CUDA array: exports it again with `__dlpack__(stream=...)` for `stream`, so
  /// that the producer orders its pending work before anything queued there next (the
  /// consumer's side of the DLPack protocol). Nothing for host arrays.
  void ready_on(void* stream);

 private:
  nb::object source_;
};

/// twofold.Context: a backend; every object built on it keeps it alive.
struct py_context {
  std::shared_ptr<context> ctx;
};

/// twofold.operators.Operator.
struct py_operator {
  std::shared_ptr<context> ctx;
  std::shared_ptr<const linear_operator> op;
};

/// twofold.InverseProblem.
struct py_problem {
  std::shared_ptr<context> ctx;
  std::shared_ptr<const inverse_problem> problem;
};

struct callback_state;  // denoiser.cpp

/// twofold.priors.Prior (and its subclass Denoiser, whose callback state is set).
struct py_prior {
  std::shared_ptr<context> ctx;  ///< null for callable priors (they hold no backend memory)
  std::shared_ptr<const prior> p;
  std::shared_ptr<callback_state> callback;
};

/// The context of `ctx`, or the module's default (automatic backend) when None.
std::shared_ptr<context> resolve_context(const py_context* ctx);

/// Host values read from an array argument: `values` points into the caller's
/// memory when dtype, layout and device fit (zero copy), else into `copy`.
template <class T>
struct host_values {
  std::span<const T> values;
  std::vector<T> copy;
  std::vector<std::size_t> shape;
  bool copied = false;
  std::size_t size() const { return values.size(); }
};

/// complex64 values of `a` ([...], C order). No copy for a C-contiguous complex64
/// CPU array; other numeric dtypes and layouts are converted (copied). A CUDA array
/// (C-contiguous, any dtype) is copied to the host first: what a constructor keeps, it
/// also checks and uses on the host. Other devices: ValueError naming `name`.
host_values<cfloat> complex_values(array_arg a, const char* name);
/// float32 values (masks, variances); complex input must have zero imaginary parts.
host_values<float> float_values(array_arg a, const char* name);
/// float64 values (mixture weights).
host_values<double> double_values(array_arg a, const char* name);

/// An array from `obj`: itself when it exports DLPack or a buffer, else numpy.asarray(obj).
array_arg as_array(nb::handle obj, const char* name);

/// Throws ValueError "name: must have N dimensions (got ...)" unless a.ndim() is one of `allowed`.
void expect_ndim(const any_array& a, const char* name, std::initializer_list<std::size_t> allowed);

/// True for a NumPy array (or any object with a dtype and a shape).
bool is_numpy_array(PyObject* o);

/// The NumPy arrays the bindings return, one type per dtype so that nanobind's stubgen
/// writes `numpy.typing.NDArray[numpy.<dtype>]` into _twofold.pyi (tests/python/
/// test_stubs.py checks the annotations against the arrays actually returned).
class float32_array : public nb::object {
  NB_OBJECT_DEFAULT(float32_array, object, "numpy.typing.NDArray[numpy.float32]", is_numpy_array)
};
class float64_array : public nb::object {
  NB_OBJECT_DEFAULT(float64_array, object, "numpy.typing.NDArray[numpy.float64]", is_numpy_array)
};
class complex64_array : public nb::object {
  NB_OBJECT_DEFAULT(complex64_array, object, "numpy.typing.NDArray[numpy.complex64]", is_numpy_array)
};
class complex128_array : public nb::object {
  NB_OBJECT_DEFAULT(complex128_array, object, "numpy.typing.NDArray[numpy.complex128]", is_numpy_array)
};

/// Arguments that take any object and check it themselves (with the library's own
/// error messages), typed for the stubs.
inline bool any_object(PyObject*) { return true; }
/// sampler=: a sampler name or a twofold.Sampler (to_sampler).
class sampler_arg : public nb::object {
  NB_OBJECT_DEFAULT(sampler_arg, object, "str | Sampler", any_object)
};
/// progress=: True for a bar, or a callable receiving each progress event (a dict).
class progress_arg : public nb::object {
  NB_OBJECT_DEFAULT(progress_arg, object, "bool | collections.abc.Callable[[dict], None]", any_object)
};

/// NumPy arrays owning `v` (moved), C order with `shape`.
float64_array numpy_array(std::vector<double>&& v, std::vector<std::size_t> shape);
complex128_array numpy_array(std::vector<cdouble>&& v, std::vector<std::size_t> shape);
complex64_array numpy_array(std::vector<cfloat>&& v, std::vector<std::size_t> shape);
float32_array numpy_array(std::vector<float>&& v, std::vector<std::size_t> shape);
/// None for an empty vector.
std::optional<float64_array> numpy_or_none(std::vector<double>&& v, std::vector<std::size_t> shape);

/// [H, W], or [coils, H, W] for several coil planes, or [m] for 1 × m.
std::vector<std::size_t> shape_of(image_shape s);

field parse_field(const std::string& text, const char* name);

/// Raises a Python exception of `type` with `message` (throws nb::python_error).
[[noreturn]] void raise(PyObject* type, const std::string& message);

/// A chain batch [chains, shape] (or one image [shape]: `single`) for the engine to
/// read on ctx: the caller's own memory (no copy) when the array is complex64,
/// C-contiguous and on ctx's device (the CPU, or ctx's CUDA device), else a copy on the
/// backend. ValueError naming `name` when the array has neither layout.
struct batch_arg {
  const_chain_view view;
  chain_buffer copy;  ///< empty when `view` is the caller's memory
  bool single = false;
  bool copied() const { return copy.chains > 0; }
};
batch_arg batch_in(const context& ctx, array_arg a, image_shape shape, const char* name);

/// A backend buffer handed to Python without a copy (the array owns it): a NumPy
/// array on the CPU backend, a DLPack-exportable CUDA array (nanobind's ndarray, read it
/// with torch.from_dlpack, cupy.from_dlpack, ...) on the CUDA backend, after the
/// context's stream is synchronised so that any stream may read it.
nb::object backend_array(const context& ctx, buffer<cdouble>&& b, std::vector<std::size_t> shape);
nb::object backend_array(const context& ctx, buffer<double>&& b, std::vector<std::size_t> shape);
nb::object backend_array(const context& ctx, buffer<cfloat>&& b, std::vector<std::size_t> shape);
/// backend_array of a chain batch: [chains, shape], or [shape] when `single`.
nb::object batch_out(const context& ctx, chain_buffer&& b, bool single);

/// The settings of a `sampler=` argument: a sampler name or a twofold.Sampler (sampling.cpp).
sampler_params to_sampler(nb::handle sampler);
/// ValueError unless the prior was built on the problem's context (or on none).
void check_same_context(const py_problem& problem, const py_prior& prior);

/// The CUDA context the bindings use to read device arrays of `device` (created once).
const context& device_reader(int device);

// One bind_* per layer of include/twofold/, each in its own file, registered in module.cpp.
void bind_arrays(nb::module_& m);       // arrays.cpp: test hooks of the array conversions
void bind_context(nb::module_& m);      // context.cpp: Context, backends()
void bind_operators(nb::module_& m);    // operators.cpp: twofold.operators
void bind_problem(nb::module_& m);      // problem.cpp: InverseProblem, simulate()
void bind_priors(nb::module_& m);       // priors.cpp: twofold.priors (with the Denoiser)
void bind_denoiser(nb::module_& m, nb::module_& priors);  // denoiser.cpp, called by bind_priors
void bind_sampling(nb::module_& m);     // sampling.cpp: Sampler, sample(), posterior_draws()
void bind_exact(nb::module_& m);        // exact.cpp: exact_posterior()
void bind_calibration(nb::module_& m);  // calibration.cpp: coverage(), sbc()
void bind_data(nb::module_& m);         // data.cpp: twofold.data (phantoms, line masks)

/// Whether the run that just failed was stopped by a Python callback (its
/// exception stored in `state`); then re-raises that exception with a note.
void reraise_callback_error(callback_state& state);
/// Clears the per-run fields of `state` before a run.
void begin_run(callback_state& state);
/// Records where the engine is (stage, chains, step) for messages.
void record_position(callback_state& state, const progress_event& e);

}  // namespace twofold::python

namespace nanobind::detail {
/// array_arg: converted as nb::ndarray<nb::ro> (same stub annotation), keeping the source.
template <>
struct type_caster<twofold::python::array_arg> {
  NB_TYPE_CASTER(twofold::python::array_arg, make_caster<twofold::python::any_array>::Name)
  template <class Flags>
  bool from_python(handle src, Flags flags, cleanup_list* cleanup) noexcept {
    make_caster<twofold::python::any_array> inner;
    if (!inner.from_python(src, flags, cleanup)) return false;
    value = twofold::python::array_arg(std::move(inner.value), borrow<object>(src));
    return true;
  }
};
}  // namespace nanobind::detail
