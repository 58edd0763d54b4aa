// twofold.priors.Denoiser: a Python callable D(z, s) (and optionally its VJP) as a
// prior, on the library's callback_prior (include/twofold/priors/callback.hpp).
//
// The engine runs with the GIL released; each callback takes the GIL, hands the
// whole wave's batch [chains, H, W] to Python as a view of the engine's memory (a
// NumPy array or a torch tensor, no copy), checks what comes back (an array of that
// shape, complex64, on the engine's device, finite), copies it into the engine's
// output unless the callable wrote there itself, and gives the GIL back. A fault
// (an exception, a wrong result) is stored with its traceback and stops the run by a
// C++ exception; the binding re-raises it once the engine has unwound
// (reraise_callback_error), so nothing is written and the process stays usable.
#include "common.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <cstring>

namespace twofold::python {

/// What the callable receives: NumPy arrays (CPU backend only), torch tensors, or
/// nanobind's DLPack arrays (for CuPy, JAX, torch.from_dlpack or twofold itself).
enum class tensor_kind { numpy, torch, dlpack };

struct callback_state {
  nb::object fn, vjp;
  tensor_kind tensors = tensor_kind::numpy;
  bool writes_out = false;
  image_shape shape{};
  std::string name;
  // Per run (reset by begin_run):
  nb::object error;  ///< the stored exception, with __traceback__
  std::string where;  ///< "denoiser call 12 (s = ...)": set with the error
  std::size_t calls = 0, vjp_calls = 0;
  std::string stage = "setup";
  std::size_t chains_done = 0, chains_total = 0, step = 0, steps = 0;
};

namespace {

PyObject* callback_error_type = nullptr;  // twofold.CallbackError (a ValueError)

/// str(obj).
std::string text_of(nb::handle obj) {
  nb::str s = nb::steal<nb::str>(PyObject_Str(obj.ptr()));
  if (!s.is_valid()) throw nb::python_error();
  return s.c_str();
}

/// A view of engine memory as the array type the callable asked for; valid only
/// during the call.
nb::object view(const context& ctx, const cfloat* data, std::size_t chains, image_shape shape, tensor_kind kind,
                bool read_only) {
  const std::size_t sh[3] = {chains, shape.height, shape.width};
  const int device = ctx.is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
  const int device_id = ctx.is_cuda() ? ctx.device() : 0;
  const auto dtype = nb::dtype<std::complex<float>>();
  auto* p = const_cast<cfloat*>(data);
  if (kind == tensor_kind::torch) {
    nb::ndarray<nb::pytorch> a(p, 3, sh, nb::handle(), nullptr, dtype, device, device_id);
    return nb::cast(a, nb::rv_policy::reference);
  }
  if (kind == tensor_kind::dlpack) {
    if (read_only) {
      nb::ndarray<nb::array_api, nb::ro> a(p, 3, sh, nb::handle(), nullptr, dtype, device, device_id);
      return nb::cast(a, nb::rv_policy::reference);
    }
    nb::ndarray<nb::array_api> a(p, 3, sh, nb::handle(), nullptr, dtype, device, device_id);
    return nb::cast(a, nb::rv_policy::reference);
  }
  if (ctx.is_cuda())
    raise(PyExc_ValueError, "Denoiser: the CUDA backend hands device memory to the callable; ask for "
                            "tensors='torch' or tensors='dlpack'");
  if (read_only) {
    nb::ndarray<nb::numpy, nb::ro> a(p, 3, sh, nb::handle(), nullptr, dtype, device);
    return nb::cast(a, nb::rv_policy::reference);
  }
  nb::ndarray<nb::numpy> a(p, 3, sh, nb::handle(), nullptr, dtype, device);
  return nb::cast(a, nb::rv_policy::reference);
}

std::string position(const callback_state& st, const char* what, std::size_t call, double s, std::size_t chains) {
  std::string text = "Python " + std::string(what) + " of prior '" + st.name + "' failed at call " +
                     std::to_string(call) + " (s = " + std::to_string(s) + "; chains " +
                     std::to_string(st.chains_done) + "-" + std::to_string(st.chains_done + chains - 1);
  if (st.chains_total > 0)
    text += " of " + std::to_string(st.chains_total) + ", stage '" + st.stage + "', after step " +
            std::to_string(st.step) + " of " + std::to_string(st.steps);
  else
    text += ", first step of the run";
  return text + ")";
}

/// CallbackError naming the chains unless every value of `out` is finite (CPU; on
/// CUDA the engine's end-of-wave check names them).
void check_finite_batch(const callback_state& st, const context& ctx, const_chain_view out, const std::string& who) {
  if (ctx.is_cuda()) return;
  std::string bad;
  std::size_t count = 0;
  for (std::size_t c = 0; c < out.chains; ++c) {
    // x·0 is 0 for finite x and NaN for NaN or ±inf, and a sum with a NaN is NaN in
    // any order: one vectorised pass per chain.
    const float* x = reinterpret_cast<const float*>(out.chain(c));
    float probe = 0;
#pragma omp simd reduction(+ : probe)
    for (std::size_t i = 0; i < 2 * st.shape.pixels(); ++i) probe += x[i] * 0.0f;
    if (probe != 0 && count++ < 8) bad += (bad.empty() ? "" : ", ") + std::to_string(st.chains_done + c);
  }
  if (count > 0)
    raise(callback_error_type, who + " returned non-finite values (NaN or inf) for " + std::to_string(count) +
                                   " chain(s): " + bad + (count > 8 ? ", ..." : ""));
}

/// `result` (what the callable returned) into `out`: checked and copied unless it
/// is `out` itself.
void take_result(callback_state& st, const context& ctx, nb::object result, chain_view out, const char* what,
                 bool none_means_written) {
  const std::string who = "prior '" + st.name + "': the " + what;
  if (result.is_none()) {
    if (none_means_written) return check_finite_batch(st, ctx, out, who);
    raise(callback_error_type, who + " returned None; return the denoised batch (or build the Denoiser with "
                                     "writes_out=True and fill `out`)");
  }
  if (nb::hasattr(result, "detach")) result = result.attr("detach")();  // torch tensors that require grad
  any_array view;
  if (!nb::try_cast(result, view)) {
    std::string device;
    if (nb::hasattr(result, "device")) device = " on device '" + text_of(result.attr("device")) + "'";
    raise(callback_error_type, who + " returned " + nb::type_name(result.type()).c_str() + device +
                                   " that twofold cannot read (expected an array with __dlpack__ or the buffer "
                                   "protocol on the engine's device)");
  }
  array_arg a(std::move(view), result);
  const int device = ctx.is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
  if (a.device_type() != device || (ctx.is_cuda() && a.device_id() != ctx.device()))
    raise(callback_error_type, who + " returned an array on another device (DLPack device type " +
                                   std::to_string(a.device_type()) + " id " + std::to_string(a.device_id()) +
                                   ", the engine's is " + std::to_string(device) + " id " +
                                   std::to_string(ctx.is_cuda() ? ctx.device() : 0) + ")");
  // The producer orders its pending work before the engine's copy (DLPack's handshake).
  a.ready_on(ctx.stream());
  const bool shape_ok = a.ndim() == 3 && a.shape(0) == out.chains && a.shape(1) == st.shape.height &&
                        a.shape(2) == st.shape.width;
  if (!shape_ok) {
    std::string got = "[";
    for (std::size_t d = 0; d < a.ndim(); ++d) got += (d ? ", " : "") + std::to_string(a.shape(d));
    raise(callback_error_type, who + " returned shape " + got + "]; expected [" + std::to_string(out.chains) + ", " +
                                   std::to_string(st.shape.height) + ", " + std::to_string(st.shape.width) +
                                   "] (the whole batch)");
  }
  if (a.dtype() != nb::dtype<std::complex<float>>())
    raise(callback_error_type, who + " returned dtype code " + std::to_string(a.dtype().code) + " with " +
                                   std::to_string(a.dtype().bits) + " bits; expected complex64");
  const std::size_t n = out.size();
  const bool contiguous = a.stride(2) == 1 && a.stride(1) == std::int64_t(st.shape.width) &&
                          (out.chains == 1 || a.stride(0) == std::int64_t(st.shape.plane()));
  if (a.data() != static_cast<void*>(out.data)) {
    if (contiguous) {
      detail::copy_bytes(ctx, out.data, a.data(), n * sizeof(cfloat));
    } else if (!ctx.is_cuda()) {
      const auto* base = static_cast<const cfloat*>(a.data());
      for (std::size_t c = 0; c < out.chains; ++c)
        for (std::size_t h = 0; h < st.shape.height; ++h)
          for (std::size_t w = 0; w < st.shape.width; ++w)
            out.data[(c * st.shape.height + h) * st.shape.width + w] =
                base[std::int64_t(c) * a.stride(0) + std::int64_t(h) * a.stride(1) + std::int64_t(w) * a.stride(2)];
    } else {
      raise(callback_error_type, who + " returned a non-contiguous device array; return a contiguous one");
    }
  }
  check_finite_batch(st, ctx, out, who);
}

/// Stores the current Python error (with its traceback) in `st` and stops the
/// engine with a C++ exception.
[[noreturn]] void stop_run(callback_state& st, nb::python_error& e, const std::string& where) {
  e.restore();
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb) PyException_SetTraceback(value, tb);
  st.error = nb::steal(value);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  st.where = where;
  throw runtime_failure(where);
}

struct py_denoiser : py_prior {
  py_denoiser(nb::object fn, nb::object vjp, std::vector<std::size_t> shape, std::string name,
              const std::string& tensors, bool writes_out) {
    if (!PyCallable_Check(fn.ptr())) raise(PyExc_ValueError, "Denoiser: fn must be callable");
    if (!vjp.is_none() && !PyCallable_Check(vjp.ptr()))
      raise(PyExc_ValueError, "Denoiser: vjp must be callable or None");
    if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0)
      raise(PyExc_ValueError, "Denoiser: shape must be (H, W) with H, W > 0");
    if (tensors != "numpy" && tensors != "torch" && tensors != "dlpack")
      raise(PyExc_ValueError, "Denoiser: tensors must be 'numpy', 'torch' or 'dlpack' (got '" + tensors + "')");
    auto st = std::make_shared<callback_state>();
    st->fn = std::move(fn);
    st->vjp = std::move(vjp);
    st->tensors = tensors == "torch"    ? tensor_kind::torch
                  : tensors == "dlpack" ? tensor_kind::dlpack
                                        : tensor_kind::numpy;
    st->writes_out = writes_out;
    st->shape = image_shape{shape[0], shape[1]};
    st->name = name;
    if (st->tensors == tensor_kind::torch) nb::module_::import_("torch");  // fail here, not in the middle of a run
    callback = st;
    callback_state* raw = st.get();  // owned by this object, which outlives every run using it
    callback_prior::denoise_function denoise = [raw](const context& engine, const_chain_view z, double s, chain_view out) {
      nb::gil_scoped_acquire gil;
      const std::size_t call = ++raw->calls;
      try {
        if (engine.is_cuda()) engine.synchronize();  // z is complete before Python sees it
        nb::object zv = view(engine, z.data, z.chains, z.shape, raw->tensors, true);
        nb::object result;
        if (raw->writes_out) {
          // out may alias z: the callable then overwrites its input, as documented.
          nb::object ov = view(engine, out.data, out.chains, out.shape, raw->tensors, false);
          result = raw->fn(zv, s, ov);
        } else {
          result = raw->fn(zv, s);
        }
        take_result(*raw, engine, std::move(result), out, "denoiser", raw->writes_out);
        if (engine.is_cuda()) engine.synchronize();  // the copy is done before the result can be freed
      } catch (nb::python_error& e) {
        stop_run(*raw, e, position(*raw, "denoiser", call, s, z.chains));
      }
    };
    callback_prior::vjp_function vjp_fn;
    if (!st->vjp.is_none())
      vjp_fn = [raw](const context& engine, const_chain_view z, double s, const_chain_view w, chain_view out) {
        nb::gil_scoped_acquire gil;
        const std::size_t call = ++raw->vjp_calls;
        try {
          if (engine.is_cuda()) engine.synchronize();
          nb::object zv = view(engine, z.data, z.chains, z.shape, raw->tensors, true);
          nb::object wv = view(engine, w.data, w.chains, w.shape, raw->tensors, true);
          take_result(*raw, engine, raw->vjp(zv, s, wv), out, "vjp", false);  // the VJP always returns its result
          if (engine.is_cuda()) engine.synchronize();
        } catch (nb::python_error& e) {
          stop_run(*raw, e, position(*raw, "vjp", call, s, z.chains));
        }
      };
    p = std::make_shared<callback_prior>(st->shape, st->name, std::move(denoise), std::move(vjp_fn));
  }
};

// The callables are Python objects held from C++: the cyclic garbage collector must
// see them (a lambda's globals often refer back to the Denoiser).
int denoiser_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  const auto* d = nb::inst_ptr<py_denoiser>(self);
  if (d->callback) {
    Py_VISIT(d->callback->fn.ptr());
    Py_VISIT(d->callback->vjp.ptr());
    Py_VISIT(d->callback->error.ptr());
  }
  return 0;
}

int denoiser_clear(PyObject* self) {
  auto* d = nb::inst_ptr<py_denoiser>(self);
  if (d->callback) {
    d->callback->fn = nb::none();
    d->callback->vjp = nb::none();
    d->callback->error = nb::object();
  }
  return 0;
}

PyType_Slot denoiser_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(denoiser_traverse)},
                                {Py_tp_clear, reinterpret_cast<void*>(denoiser_clear)},
                                {0, nullptr}};

}  // namespace

void begin_run(callback_state& st) {
  st.error = nb::object();
  st.where.clear();
  st.calls = st.vjp_calls = 0;
  st.stage = "setup";
  st.chains_done = st.chains_total = st.step = st.steps = 0;
}

void record_position(callback_state& st, const progress_event& e) {
  if (st.stage != e.stage) st.stage = std::string(e.stage);
  st.chains_done = e.chains_done;
  st.chains_total = e.chains_total;
  st.step = e.step;
  st.steps = e.steps;
}

void reraise_callback_error(callback_state& st) {
  if (!st.error.is_valid()) return;
  nb::object exc = std::move(st.error);
  st.error = nb::object();
  if (PyObject_IsInstance(exc.ptr(), callback_error_type) == 1) {
    // Our own check failed: the position belongs in the message itself.
    const std::string message = text_of(exc) + " [" + st.where + "]";
    exc.attr("args") = nb::make_tuple(message);
  } else if (nb::hasattr(exc, "add_note")) {
    exc.attr("add_note")("twofold: " + st.where + "; nothing was written");
  }
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw nb::python_error();
}

void bind_denoiser(nb::module_& m, nb::module_& priors) {
  callback_error_type = PyErr_NewExceptionWithDoc(
      "twofold._twofold.CallbackError",
      "A Python denoiser or VJP returned something the engine cannot use (None, a wrong shape, dtype or device, "
      "non-finite values). The message names the prior, the call, the chains and the step.",
      PyExc_ValueError, nullptr);
  m.attr("CallbackError") = nb::handle(callback_error_type);

  priors.def(
      "_identity",
      [](std::vector<std::size_t> shape) {
        if (shape.size() != 2) raise(PyExc_ValueError, "shape: must be (H, W)");
        auto denoise = [](const context& ctx, const_chain_view z, double, chain_view out) {
          detail::copy_if_distinct(ctx, z, out);
        };
        return py_prior{nullptr, std::make_shared<callback_prior>(image_shape{shape[0], shape[1]}, "identity", denoise),
                        nullptr};
      },
      nb::arg("shape"),
      "For the callback benchmark: D(z, s) = z as a C++ callback_prior, the baseline a Python identity is "
      "compared with (bench/python_callback_overhead.py).");

  nb::class_<py_denoiser, py_prior>(priors, "Denoiser", nb::type_slots(denoiser_slots),
                                    "A prior given by a Python callable D(z, s) = E[x0 | x0 + s*eps = z] "
                                    "(docs/python.md, 'Callable priors').\n\n"
                                    "fn(z, s) receives the whole wave's batch z [chains, H, W] complex64 (a "
                                    "read-only NumPy array; a torch tensor with tensors='torch'; a DLPack array with "
                                    "tensors='dlpack', for CuPy, JAX or twofold itself) as a view of "
                                    "the engine's memory, valid only during the call, and returns the denoised "
                                    "batch of the same shape and dtype (with writes_out=True: fn(z, s, out) fills "
                                    "out and returns None). vjp(z, s, w) returns J^T w, J the Jacobian of D(., s) "
                                    "at z with complex images read as pairs of reals; DPS, PiGDM and SMC need it "
                                    "(twofold.priors.torch_vjp builds one with autograd). The GIL is taken only for "
                                    "the calls. A callable that raises or returns None, a wrong shape, dtype or "
                                    "device, or non-finite values stops the run with that exception (or a "
                                    "CallbackError) naming the call, chains and step.")
      .def(nb::init<nb::object, nb::object, std::vector<std::size_t>, std::string, const std::string&, bool>(),
           nb::arg("fn"), nb::arg("vjp") = nb::none(), nb::kw_only(), nb::arg("shape"), nb::arg("name") = "python",
           nb::arg("tensors") = "numpy", nb::arg("writes_out") = false)
      .def_prop_ro("calls", [](const py_denoiser& d) { return d.callback->calls; },
                   "Denoiser calls of the last run.")
      .def_prop_ro("vjp_calls", [](const py_denoiser& d) { return d.callback->vjp_calls; },
                   "VJP calls of the last run.");
}

}  // namespace twofold::python
