// twofold._twofold: the library's public API for Python (docs/python.md). Every
// default is the library's own (read from its parameter structs), so Python runs
// exactly what the C++ API and the command line run. One file per layer of
// include/twofold/, each with one bind_* function registered here.
#include "common.hpp"

#include <exception>

namespace twofold::python {

namespace {

PyObject* device_error_type = nullptr;

}  // namespace

NB_MODULE(_twofold, m) {
  m.doc() = "twofold's C++ library (docs/python.md); import `twofold`, not this module.";
  m.attr("__version__") = TWOFOLD_VERSION;

  device_error_type = PyErr_NewExceptionWithDoc(
      "twofold._twofold.DeviceError", "A CUDA, cuFFT or cuBLAS call failed, or the CUDA backend is unavailable.",
      PyExc_RuntimeError, nullptr);
  m.attr("DeviceError") = nb::handle(device_error_type);
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const bad_input& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const device_failure& e) {
      PyErr_SetString(device_error_type, e.what());
    } catch (const error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  bind_arrays(m);
  bind_context(m);
  bind_operators(m);
  bind_problem(m);
  bind_priors(m);
  bind_sampling(m);
  bind_exact(m);
  bind_calibration(m);
  bind_data(m);
}

}  // namespace twofold::python
