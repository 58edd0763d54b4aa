// twofold._twofold: the library's public API for Python (docs/python.md). Every
// default is the library's own (read from its parameter structs), so Python runs
// exactly what the C++ API and the command line run.
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <optional>

namespace twofold::python {

std::shared_ptr<context> resolve_context(const py_context* ctx) {
  if (ctx) return ctx->ctx;
  static std::shared_ptr<context> fallback;
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  if (!fallback) fallback = std::make_shared<context>(backend_request::automatic);
  return fallback;
}

namespace {

PyObject* device_error_type = nullptr;

image_shape image_shape_of(const host_values<cfloat>& v, const char* name) {
  if (v.shape.size() != 2) raise(PyExc_ValueError, std::string(name) + ": must be an image [H, W]");
  return {v.shape[0], v.shape[1]};
}

/// A k-space / pixel mask [H, W], or [W] line flags with `height`.
std::vector<float> mask_values(const any_array& mask, std::optional<std::size_t> height, image_shape& shape,
                               const char* name) {
  expect_ndim(mask, name, {1, 2});
  const auto m = float_values(mask, name);
  if (mask.ndim() == 2) {
    shape = {m.shape[0], m.shape[1]};
    return {m.values.begin(), m.values.end()};
  }
  if (!height) raise(PyExc_ValueError, std::string(name) + ": a 1-D mask holds line flags [W]; give height= too");
  shape = {*height, m.shape[0]};
  std::vector<float> full(shape.pixels());
  for (std::size_t h = 0; h < shape.height; ++h)
    std::copy(m.values.begin(), m.values.end(), full.begin() + std::ptrdiff_t(h * shape.width));
  return full;
}

py_operator make_operator(std::shared_ptr<context> ctx, std::shared_ptr<const linear_operator> op) {
  return {std::move(ctx), std::move(op)};
}

/// A batch [chains, shape] (or one image [shape]) as a chain buffer on ctx.
chain_buffer batch_in(const context& ctx, const any_array& a, image_shape shape, const char* name,
                      bool& single) {
  const auto v = complex_values(a, name);
  const std::size_t dims = shape_of(shape).size();
  single = a.ndim() == dims;
  if (!single && a.ndim() != dims + 1)
    raise(PyExc_ValueError, std::string(name) + ": must be one array of shape " + to_string(shape) +
                                " or a batch [chains, ...] of them");
  const std::size_t n = shape.pixels();
  if (v.size() == 0 || v.size() % n != 0)
    raise(PyExc_ValueError, std::string(name) + ": size " + std::to_string(v.size()) + " is not a multiple of " +
                                to_string(shape));
  return to_backend(ctx, v.values, v.size() / n, shape);
}

nb::object batch_out(const context& ctx, const chain_buffer& b, bool single) {
  auto shape = shape_of(b.shape);
  if (!single) shape.insert(shape.begin(), b.chains);
  return numpy_array(to_host(ctx, b.view()), shape);
}

// ---- sampler options --------------------------------------------------------------

struct py_sampler {
  sampler_params p;
};

sampler_params to_sampler(nb::handle sampler) {
  if (nb::isinstance<py_sampler>(sampler)) return nb::cast<py_sampler&>(sampler).p;
  if (nb::isinstance<nb::str>(sampler)) {
    sampler_params p;
    p.kind = parse_sampler(nb::cast<std::string>(sampler));
    return p;
  }
  raise(PyExc_ValueError, "sampler: must be a sampler name ('langevin', 'exact', ...) or a twofold.Sampler");
}

design_params to_design(const std::string& design, std::size_t runs, std::size_t chains, std::uint64_t seed,
                        std::size_t wave_chains, bool keep_draws) {
  design_params d;
  d.kind = parse_design(design);
  d.runs = runs;
  d.chains_per_run = chains;
  d.seed = seed;
  d.wave_chains = wave_chains;
  d.keep_draws = keep_draws;
  return d;
}

// ---- runs with the GIL released ------------------------------------------------------

/// The progress hook of one run: records the position for callback messages, calls
/// the user's callable (progress=callable) or a tqdm bar (progress=True) with the GIL,
/// and checks for Ctrl-C a few times a second.
struct run_guard {
  callback_state* callback = nullptr;
  nb::object user;       // callable(event) or None
  nb::object error;      // an exception raised by the progress callable or a signal
  std::chrono::steady_clock::time_point last_signal_check = std::chrono::steady_clock::now();

  run_guard(const py_prior& prior, nb::object progress) {
    callback = prior.callback.get();
    if (callback) begin_run(*callback);
    if (progress.is_none() || (nb::isinstance<nb::bool_>(progress) && !nb::cast<bool>(progress))) return;
    if (nb::isinstance<nb::bool_>(progress)) {
      user = nb::module_::import_("twofold._progress").attr("default_progress")();
    } else {
      if (!PyCallable_Check(progress.ptr())) raise(PyExc_ValueError, "progress: must be None, a bool or a callable");
      user = progress;
    }
  }

  progress_callback hook() {
    return [this](const progress_event& e) {
      if (callback) record_position(*callback, e);
      const auto now = std::chrono::steady_clock::now();
      const bool check_signals = now - last_signal_check > std::chrono::milliseconds(200);
      if (!user.is_valid() && !check_signals) return;
      nb::gil_scoped_acquire gil;
      try {
        if (check_signals) {
          last_signal_check = now;
          if (PyErr_CheckSignals() != 0) throw nb::python_error();
        }
        if (user.is_valid()) {
          nb::dict event;
          event["stage"] = std::string(e.stage);
          event["chains_done"] = e.chains_done;
          event["chains_total"] = e.chains_total;
          event["step"] = e.step;
          event["steps"] = e.steps;
          event["elapsed_seconds"] = e.elapsed_seconds;
          event["eta_seconds"] = e.eta_seconds;
          user(event);
        }
      } catch (nb::python_error& err) {
        err.restore();
        PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb) PyException_SetTraceback(value, tb);
        error = nb::steal(value);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        throw runtime_failure("stopped by the progress callback or a signal");
      }
    };
  }

  void close() {
    if (user.is_valid() && nb::hasattr(user, "close")) user.attr("close")();
  }

  /// Runs `work` without the GIL; re-raises a stored Python exception first.
  template <class Work>
  auto run(Work&& work) -> decltype(work(progress_callback{})) {
    const auto progress = hook();
    std::exception_ptr failure;
    std::optional<decltype(work(progress_callback{}))> result;
    {
      nb::gil_scoped_release release;
      try {
        result.emplace(work(progress));
      } catch (...) {
        failure = std::current_exception();
      }
    }
    close();
    if (failure) {
      if (callback) reraise_callback_error(*callback);
      if (error.is_valid()) {
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
        throw nb::python_error();
      }
      std::rethrow_exception(failure);
    }
    return std::move(*result);
  }
};

/// A prior's denoise or vjp called from Python (GIL held): a Python prior's stored
/// exception is re-raised as itself.
template <class Work>
void direct_call(const py_prior& p, Work&& work) {
  if (p.callback) begin_run(*p.callback);
  try {
    work();
  } catch (const runtime_failure&) {
    if (p.callback) reraise_callback_error(*p.callback);
    throw;
  }
}

void check_same_context(const py_problem& problem, const py_prior& prior) {
  if (prior.ctx && prior.ctx != problem.ctx)
    raise(PyExc_ValueError, "prior: was built on another twofold.Context than the problem; build both on one");
}

// ---- results ------------------------------------------------------------------------

struct py_sample_result {
  nb::object mean, total_variance, ambiguity, estimation, estimation_clipped, between_run_variance, range_variance,
      null_variance, draws, quantile_lo, quantile_hi;
  nb::dict report;
};

struct py_exact {
  nb::object mean, variance, ambiguity, estimation, range_variance, null_variance;
};

nb::dict report_dict(const sample_report& r) {
  nb::dict d;
  d["device"] = r.device;
  d["runs"] = r.runs;
  d["chains_per_run"] = r.chains_per_run;
  d["chains"] = r.chains;
  d["steps_per_chain"] = r.steps_per_chain;
  d["waves"] = r.waves;
  d["wave_chains"] = r.wave_chains;
  d["seconds"] = r.seconds;
  d["chain_steps_per_second"] = r.chain_steps_per_second;
  return d;
}

constexpr const char* sampler_doc =
    "Sampler settings; every default is the library's (include/twofold/sampling/sampler_params.hpp, "
    "docs/samplers.md).\n\nkind: langevin | exact | pto | dps | pigdm | ddrm | ddnm | smc. schedule: edm | ve | "
    "vp-cosine | vp-linear, with levels, s_min, s_max, rho. inner_steps, step (epsilon), gamma: langevin. "
    "cg_tolerance, cg_max_iterations: pto, pigdm, smc. dps_zeta; pigdm_eta, pigdm_data_variance; ddrm_eta, "
    "ddrm_eta_b; ddnm_eta; smc_ess (resampling threshold).";

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
  bind_data(m);

  m.def(
      "backends",
      [] {
        nb::dict d;
        d["cuda_built"] = bool(TWOFOLD_HAS_CUDA);
        d["cuda_usable"] = cuda_usable();
        d["cuda_unavailable_reason"] = cuda_unavailable_reason();
        return d;
      },
      "Which backends this build has and which are usable here.");

  // ---- context -----------------------------------------------------------------------
  nb::class_<py_context>(m, "Context",
                         "A backend choice: 'auto' (CUDA when a device is usable, else the CPU), 'cpu' or 'cuda'. "
                         "Objects built on a context keep it alive; calls on them run on it.")
      .def(
          "__init__",
          [](py_context* self, const std::string& backend, int device) {
            const auto request = parse_backend(backend, "backend");
            new (self) py_context{std::make_shared<context>(request, device)};
          },
          nb::arg("backend") = "auto", nb::arg("device") = 0)
      .def_prop_ro("backend", [](const py_context& c) { return std::string(to_string(c.ctx->backend())); })
      .def_prop_ro("device_name", [](const py_context& c) { return c.ctx->device_name(); })
      .def_prop_ro("stream", [](const py_context& c) { return reinterpret_cast<std::uintptr_t>(c.ctx->stream()); },
                   "The CUDA stream (cudaStream_t as an integer) every call queues on; 0 on the CPU.")
      .def("synchronize", [](const py_context& c) { c.ctx->synchronize(); })
      .def("__repr__", [](const py_context& c) {
        return "twofold.Context('" + std::string(to_string(c.ctx->backend())) + "': " + c.ctx->device_name() + ")";
      });
  m.def(
      "default_context", [] { return py_context{resolve_context(nullptr)}; },
      "The context used when ctx=None: the automatic backend, created on first use.");

  // ---- operators ---------------------------------------------------------------------
  auto ops = m.def_submodule("operators", "The six forward operators A (docs/operators.md).");
  nb::class_<py_operator>(ops, "Operator", "A linear forward operator A on a batch of images.")
      .def_prop_ro("name", [](const py_operator& o) { return o.op->name(); })
      .def_prop_ro("domain", [](const py_operator& o) { return shape_of(o.op->domain()); },
                   "Shape of one image.")
      .def_prop_ro("codomain", [](const py_operator& o) { return shape_of(o.op->codomain()); },
                   "Shape of one measurement.")
      .def(
          "apply",
          [](const py_operator& o, const any_array& x) {
            bool single = false;
            auto in = batch_in(*o.ctx, x, o.op->domain(), "x", single);
            chain_buffer out(*o.ctx, in.chains, o.op->codomain());
            o.op->apply(*o.ctx, in.view(), out.view());
            return batch_out(*o.ctx, out, single);
          },
          nb::arg("x"), "y = A x for one image or a batch [chains, ...].")
      .def(
          "adjoint",
          [](const py_operator& o, const any_array& y) {
            bool single = false;
            auto in = batch_in(*o.ctx, y, o.op->codomain(), "y", single);
            chain_buffer out(*o.ctx, in.chains, o.op->domain());
            o.op->adjoint(*o.ctx, in.view(), out.view());
            return batch_out(*o.ctx, out, single);
          },
          nb::arg("y"), "x = A^H y.")
      .def(
          "range_project",
          [](const py_operator& o, const any_array& x) {
            bool single = false;
            auto b = batch_in(*o.ctx, x, o.op->domain(), "x", single);
            o.op->range_project(*o.ctx, b.view());
            return batch_out(*o.ctx, b, single);
          },
          nb::arg("x"), "P_R x, the projection onto the row space of A.")
      .def(
          "null_project",
          [](const py_operator& o, const any_array& x) {
            bool single = false;
            auto b = batch_in(*o.ctx, x, o.op->domain(), "x", single);
            o.op->null_project(*o.ctx, b.view());
            return batch_out(*o.ctx, b, single);
          },
          nb::arg("x"), "P_N x = x - P_R x.")
      .def("__repr__", [](const py_operator& o) {
        return "twofold.operators.Operator('" + o.op->name() + "', " + to_string(o.op->domain()) + " -> " +
               to_string(o.op->codomain()) + ")";
      });

  ops.def(
      "mri",
      [](const any_array& mask, std::optional<std::size_t> height, const py_context* ctx) {
        auto c = resolve_context(ctx);
        image_shape shape;
        const auto flags = mask_values(mask, height, shape, "mask");
        return make_operator(c, std::make_shared<fourier_mask_operator>(*c, shape, flags));
      },
      nb::arg("mask"), nb::kw_only(), nb::arg("height") = nb::none(), nb::arg("ctx") = nb::none(),
      "Single-coil Cartesian MRI A = M F: mask [H, W] of 0/1 (1 = sampled, centred k-space), or [W] line flags with "
      "height=H.");
  ops.def(
      "multicoil",
      [](const any_array& maps, const any_array& mask, const py_context* ctx) {
        auto c = resolve_context(ctx);
        expect_ndim(maps, "maps", {3});
        const auto s = complex_values(maps, "maps");
        image_shape shape;
        const auto flags = mask_values(mask, s.shape[1], shape, "mask");
        if (shape.width != s.shape[2] || shape.height != s.shape[1])
          raise(PyExc_ValueError, "mask: shape " + to_string(shape) + " differs from the maps' images " +
                                      std::to_string(s.shape[1]) + "x" + std::to_string(s.shape[2]));
        return make_operator(c, std::make_shared<multicoil_operator>(*c, shape, s.shape[0], s.values, flags));
      },
      nb::arg("maps"), nb::arg("mask"), nb::kw_only(), nb::arg("ctx") = nb::none(),
      "Multi-coil Cartesian MRI A = M F S: maps [coils, H, W], mask [H, W] or [W] line flags.");
  ops.def(
      "dense",
      [](const any_array& matrix, std::optional<std::vector<std::size_t>> domain, double rcond,
         const py_context* ctx) {
        auto c = resolve_context(ctx);
        expect_ndim(matrix, "matrix", {2});
        const auto a = complex_values(matrix, "matrix");
        image_shape d{1, a.shape[1]};
        if (domain) {
          if (domain->size() != 2) raise(PyExc_ValueError, "domain: must be (H, W)");
          d = {(*domain)[0], (*domain)[1]};
        }
        return make_operator(c, std::make_shared<dense_operator>(*c, a.values, a.shape[0], d, rcond));
      },
      nb::arg("matrix"), nb::kw_only(), nb::arg("domain") = nb::none(), nb::arg("rcond") = -1.0,
      nb::arg("ctx") = nb::none(),
      "A dense m x n matrix (EEG lead fields, any small operator); images are n-vectors laid out as domain "
      "(default (1, n)). rcond < 0: float round-off.");
  ops.def(
      "blur",
      [](const any_array& kernel, std::vector<std::size_t> shape, double cutoff, const py_context* ctx) {
        auto c = resolve_context(ctx);
        expect_ndim(kernel, "kernel", {2});
        if (shape.size() != 2) raise(PyExc_ValueError, "shape: must be (H, W)");
        const auto k = complex_values(kernel, "kernel");
        return make_operator(c, std::make_shared<convolution_operator>(*c, image_shape{shape[0], shape[1]}, k.values,
                                                                       image_shape{k.shape[0], k.shape[1]}, cutoff));
      },
      nb::arg("kernel"), nb::arg("shape"), nb::kw_only(), nb::arg("cutoff") = 1e-4, nb::arg("ctx") = nb::none(),
      "Deblurring: circular convolution with kernel [h, w] (centre at (h//2, w//2)) on (H, W) images.");
  ops.def(
      "inpainting",
      [](const any_array& mask, const py_context* ctx) {
        auto c = resolve_context(ctx);
        image_shape shape;
        expect_ndim(mask, "mask", {2});
        const auto flags = mask_values(mask, std::nullopt, shape, "mask");
        return make_operator(c, std::make_shared<inpainting_operator>(*c, shape, flags));
      },
      nb::arg("mask"), nb::kw_only(), nb::arg("ctx") = nb::none(),
      "Inpainting: observe the pixels where mask [H, W] is 1.");
  ops.def(
      "superres",
      [](std::vector<std::size_t> shape, std::size_t factor, const py_context* ctx) {
        auto c = resolve_context(ctx);
        if (shape.size() != 2) raise(PyExc_ValueError, "shape: must be (H, W)");
        return make_operator(c, std::make_shared<superres_operator>(image_shape{shape[0], shape[1]}, factor));
      },
      nb::arg("shape"), nb::arg("factor"), nb::kw_only(), nb::arg("ctx") = nb::none(),
      "Super-resolution: means of factor x factor blocks of (H, W) images.");

  // ---- problems ----------------------------------------------------------------------
  nb::class_<py_problem>(m, "InverseProblem",
                         "y = A x + n, n ~ CN(0, sigma^2 I) (E|n|^2 = sigma^2; real field: N(0, sigma^2)). y has "
                         "the operator's codomain shape, or [sets, ...] for several measurement sets (run r of "
                         "posterior_draws uses set r). Entries A never reaches (unsampled k-space) are ignored.")
      .def(
          "__init__",
          [](py_problem* self, const py_operator& op, const any_array& y, double sigma, const std::string& values) {
            const auto f = parse_field(values, "field");
            const auto v = complex_values(y, "y");
            const std::size_t n = op.op->codomain().pixels(), dims = shape_of(op.op->codomain()).size();
            std::size_t sets = 1;
            if (y.ndim() == dims + 1) sets = y.shape(0);
            else if (y.ndim() != dims)
              raise(PyExc_ValueError, "y: must have the operator's measurement shape " +
                                          to_string(op.op->codomain()) + " or [sets, ...] of it");
            if (v.size() != sets * n)
              raise(PyExc_ValueError, "y: has " + std::to_string(v.size()) + " values; the operator's measurement "
                                          "shape " + to_string(op.op->codomain()) + " needs " + std::to_string(n) +
                                          " per set");
            if (!(sigma > 0)) raise(PyExc_ValueError, "sigma: must be finite and > 0");
            new (self) py_problem{op.ctx, std::make_shared<inverse_problem>(*op.ctx, op.op, v.values, sigma, f, sets)};
          },
          nb::arg("op"), nb::arg("y"), nb::arg("sigma"), nb::kw_only(), nb::arg("field") = "complex")
      .def_prop_ro("sigma", [](const py_problem& p) { return p.problem->sigma_y(); })
      .def_prop_ro("sets", [](const py_problem& p) { return p.problem->sets(); })
      .def_prop_ro("shape", [](const py_problem& p) { return shape_of(p.problem->shape()); })
      .def_prop_ro("field", [](const py_problem& p) { return p.problem->is_real() ? "real" : "complex"; })
      .def_prop_ro("operator", [](const py_problem& p) { return py_operator{p.ctx, p.problem->op_ptr()}; })
      .def_prop_ro(
          "zero_filled",
          [](const py_problem& p) {
            auto v = p.problem->zero_filled();
            auto shape = shape_of(p.problem->shape());
            if (p.problem->sets() > 1) shape.insert(shape.begin(), p.problem->sets());
            return numpy_array(std::move(v), shape);
          },
          "A^H y of every set (the zero-filled reconstruction for MRI).");

  m.def(
      "simulate",
      [](const py_operator& op, const any_array& x, double sigma, std::uint64_t seed, const std::string& values) {
        const auto v = complex_values(x, "x");
        if (v.size() != op.op->domain().pixels())
          raise(PyExc_ValueError, "x: must be one image of the operator's domain " + to_string(op.op->domain()));
        auto y = simulate_measurements(*op.ctx, *op.op, v.values, sigma, parse_field(values, "field"), seed);
        return numpy_array(std::move(y), shape_of(op.op->codomain()));
      },
      nb::arg("op"), nb::arg("x"), nb::arg("sigma"), nb::kw_only(), nb::arg("seed") = 0,
      nb::arg("field") = "complex", "y = A x + n with the library's seeded noise stream.");

  // ---- priors ------------------------------------------------------------------------
  auto priors = m.def_submodule("priors", "Priors p(x) as batched denoisers (docs/design.md section 1.3).");
  nb::class_<py_prior>(priors, "Prior", "A prior: built-in (gaussian, mixture, empirical) or a Denoiser.")
      .def_prop_ro("name", [](const py_prior& p) { return p.p->name(); })
      .def_prop_ro("shape", [](const py_prior& p) { return shape_of(p.p->shape()); })
      .def_prop_ro("has_vjp", [](const py_prior& p) { return p.p->has_vjp(); })
      .def(
          "denoise",
          [](const py_prior& p, const any_array& z, double s) {
            auto c = p.ctx ? p.ctx : resolve_context(nullptr);
            bool single = false;
            auto b = batch_in(*c, z, p.p->shape(), "z", single);
            direct_call(p, [&] { p.p->denoise(*c, b.view(), s, b.view()); });
            return batch_out(*c, b, single);
          },
          nb::arg("z"), nb::arg("s"), "D(z, s) for one image or a batch [chains, H, W].")
      .def(
          "vjp",
          [](const py_prior& p, const any_array& z, double s, const any_array& w) {
            auto c = p.ctx ? p.ctx : resolve_context(nullptr);
            bool single = false, single_w = false;
            auto zb = batch_in(*c, z, p.p->shape(), "z", single);
            auto wb = batch_in(*c, w, p.p->shape(), "w", single_w);
            if (zb.chains != wb.chains) raise(PyExc_ValueError, "w: must have as many chains as z");
            direct_call(p, [&] { p.p->vjp(*c, zb.view(), s, wb.view(), wb.view()); });
            return batch_out(*c, wb, single);
          },
          nb::arg("z"), nb::arg("s"), nb::arg("w"),
          "J^T w, J the Jacobian of D(., s) at z (complex images as pairs of reals).")
      .def("__repr__", [](const py_prior& p) {
        return "twofold.priors.Prior('" + p.p->name() + "', " + to_string(p.p->shape()) + ")";
      });

  auto basis_of = [](const std::string& text) {
    if (text == "pixel") return gaussian_basis::pixel;
    if (text == "fourier") return gaussian_basis::fourier;
    raise(PyExc_ValueError, "basis: must be 'pixel' or 'fourier' (got '" + text + "')");
  };
  priors.def(
      "gaussian",
      [basis_of](const any_array& mean, std::optional<any_array> variance, std::optional<any_array> spectrum,
                 const py_context* ctx) {
        auto c = resolve_context(ctx);
        if (variance.has_value() == spectrum.has_value())
          raise(PyExc_ValueError, "gaussian: give exactly one of variance (pixel basis) and spectrum (Fourier basis)");
        const auto mu = complex_values(mean, "mean");
        const image_shape shape = image_shape_of(mu, "mean");
        const char* name = variance ? "variance" : "spectrum";
        const auto v = float_values(variance ? *variance : *spectrum, name);
        if (v.size() != shape.pixels())
          raise(PyExc_ValueError, std::string(name) + ": must have the mean's shape " + to_string(shape));
        return py_prior{c,
                        std::make_shared<gaussian_prior>(*c, basis_of(variance ? "pixel" : "fourier"), shape,
                                                         mu.values, v.values),
                        nullptr};
      },
      nb::arg("mean"), nb::arg("variance") = nb::none(), nb::kw_only(), nb::arg("spectrum") = nb::none(),
      nb::arg("ctx") = nb::none(),
      "CN(mean, diag(variance)) per pixel, or with spectrum= the stationary prior whose centred k-space "
      "coefficients have those variances. E|x - mean|^2 is the variance (half per real/imaginary part).");
  priors.def(
      "gaussian_from_images",
      [basis_of](const any_array& images, const std::string& basis, double relative_floor, const py_context* ctx) {
        auto c = resolve_context(ctx);
        expect_ndim(images, "images", {3});
        const auto v = complex_values(images, "images");
        return py_prior{c,
                        std::make_shared<gaussian_prior>(estimate_gaussian_prior(
                            *c, basis_of(basis), image_shape{v.shape[1], v.shape[2]}, v.values, relative_floor)),
                        nullptr};
      },
      nb::arg("images"), nb::kw_only(), nb::arg("basis") = "pixel", nb::arg("relative_floor") = 1e-3,
      nb::arg("ctx") = nb::none(),
      "A Gaussian prior estimated from an image stack [count, H, W]: sample mean and unbiased variance per pixel "
      "(basis='pixel') or per centred k-space coefficient (basis='fourier'), plus relative_floor x the largest.");
  priors.def(
      "mixture",
      [basis_of](nb::handle weights_arg, const any_array& means, std::optional<any_array> variances,
                 std::optional<any_array> spectra, const std::string& values, const py_context* ctx) {
        auto c = resolve_context(ctx);
        if (variances.has_value() == spectra.has_value())
          raise(PyExc_ValueError, "mixture: give exactly one of variances (pixel basis) and spectra (Fourier basis)");
        expect_ndim(means, "means", {3});
        const any_array weights = as_array(weights_arg, "weights");
        const auto w = double_values(weights, "weights");
        const auto mu = complex_values(means, "means");
        const char* name = variances ? "variances" : "spectra";
        const auto v = float_values(variances ? *variances : *spectra, name);
        if (v.size() != mu.size()) raise(PyExc_ValueError, std::string(name) + ": must have the means' shape");
        return py_prior{c,
                        std::make_shared<gaussian_mixture_prior>(*c, basis_of(variances ? "pixel" : "fourier"),
                                                                 image_shape{mu.shape[1], mu.shape[2]}, w.values,
                                                                 mu.values, v.values, parse_field(values, "field")),
                        nullptr};
      },
      nb::arg("weights"), nb::arg("means"), nb::arg("variances") = nb::none(), nb::kw_only(),
      nb::arg("spectra") = nb::none(), nb::arg("field") = "complex", nb::arg("ctx") = nb::none(),
      "Gaussian mixture sum_k w_k CN(mu_k, Sigma_k): weights [K] summing to 1, means [K, H, W], variances [K, H, W] "
      "per pixel or spectra [K, H, W] per centred k-space coefficient.");
  priors.def(
      "empirical",
      [](const any_array& images, const std::string& values, const py_context* ctx) {
        auto c = resolve_context(ctx);
        expect_ndim(images, "images", {3});
        const auto v = complex_values(images, "images");
        return py_prior{c,
                        std::make_shared<gaussian_mixture_prior>(make_empirical_prior(
                            *c, image_shape{v.shape[1], v.shape[2]}, v.values, parse_field(values, "field"))),
                        nullptr};
      },
      nb::arg("images"), nb::kw_only(), nb::arg("field") = "complex", nb::arg("ctx") = nb::none(),
      "The empirical prior of an image stack [count, H, W]: the uniform mixture of atoms at the images (its "
      "denoiser is the exact MMSE denoiser of the data set).");
  bind_denoiser(m, priors);

  // ---- sampling ----------------------------------------------------------------------
  const sampler_params sd{};
  nb::class_<py_sampler>(m, "Sampler", sampler_doc)
      .def(
          "__init__",
          [](py_sampler* self, const std::string& kind, const std::string& schedule, std::size_t levels, double s_min,
             double s_max, double rho, std::size_t inner_steps, double step, double gamma, double cg_tolerance,
             std::size_t cg_max_iterations, double dps_zeta, double pigdm_eta, double pigdm_data_variance,
             double ddrm_eta, double ddrm_eta_b, double ddnm_eta, double smc_ess) {
            sampler_params p;
            p.kind = parse_sampler(kind);
            p.schedule.kind = parse_schedule(schedule);
            p.schedule.levels = levels;
            p.schedule.s_min = s_min;
            p.schedule.s_max = s_max;
            p.schedule.rho = rho;
            p.langevin = {inner_steps, step, gamma};
            p.cg = {cg_tolerance, cg_max_iterations};
            p.dps.zeta = dps_zeta;
            p.pigdm = {pigdm_data_variance, pigdm_eta};
            p.ddrm = {ddrm_eta, ddrm_eta_b};
            p.ddnm.eta = ddnm_eta;
            p.smc.ess_threshold = smc_ess;
            new (self) py_sampler{p};
          },
          nb::arg("kind") = std::string(to_string(sd.kind)), nb::kw_only(),
          nb::arg("schedule") = std::string(to_string(sd.schedule.kind)), nb::arg("levels") = sd.schedule.levels,
          nb::arg("s_min") = sd.schedule.s_min, nb::arg("s_max") = sd.schedule.s_max,
          nb::arg("rho") = sd.schedule.rho, nb::arg("inner_steps") = sd.langevin.inner_steps,
          nb::arg("step") = sd.langevin.step, nb::arg("gamma") = sd.langevin.gamma,
          nb::arg("cg_tolerance") = sd.cg.tolerance, nb::arg("cg_max_iterations") = sd.cg.max_iterations,
          nb::arg("dps_zeta") = sd.dps.zeta, nb::arg("pigdm_eta") = sd.pigdm.eta,
          nb::arg("pigdm_data_variance") = sd.pigdm.data_variance, nb::arg("ddrm_eta") = sd.ddrm.eta,
          nb::arg("ddrm_eta_b") = sd.ddrm.eta_b, nb::arg("ddnm_eta") = sd.ddnm.eta,
          nb::arg("smc_ess") = sd.smc.ess_threshold)
      .def_prop_ro("kind", [](const py_sampler& s) { return std::string(to_string(s.p.kind)); })
      .def_prop_ro("levels", [](const py_sampler& s) { return s.p.schedule.levels; })
      .def("__repr__", [](const py_sampler& s) {
        return "twofold.Sampler('" + std::string(to_string(s.p.kind)) + "', schedule='" +
               std::string(to_string(s.p.schedule.kind)) + "', levels=" + std::to_string(s.p.schedule.levels) + ")";
      });

  nb::class_<py_sample_result>(m, "SampleResult",
                               "The maps of sample(), NumPy arrays [H, W] (complex pixels: variances are "
                               "E|x - E x|^2). ambiguity, estimation and estimation_clipped are None for the "
                               "replicate design; draws, quantile_lo and quantile_hi are None unless keep_draws.")
      .def_ro("mean", &py_sample_result::mean, "posterior mean (complex128)")
      .def_ro("total_variance", &py_sample_result::total_variance, "cascade: ambiguity + estimation")
      .def_ro("ambiguity", &py_sample_result::ambiguity, "mean within-run variance: what the data cannot see")
      .def_ro("estimation", &py_sample_result::estimation, "var_r(m_r) - ambiguity/K; may be < 0 by Monte Carlo error")
      .def_ro("estimation_clipped", &py_sample_result::estimation_clipped, "max(estimation, 0)")
      .def_ro("between_run_variance", &py_sample_result::between_run_variance, "var_r(m_r)")
      .def_ro("range_variance", &py_sample_result::range_variance, "total variance of P_R x")
      .def_ro("null_variance", &py_sample_result::null_variance, "total variance of P_N x")
      .def_ro("draws", &py_sample_result::draws, "the R*K draws [R*K, H, W] complex64 (keep_draws)")
      .def_ro("quantile_lo", &py_sample_result::quantile_lo, "per-pixel 5 % quantile of |x| (x if real)")
      .def_ro("quantile_hi", &py_sample_result::quantile_hi, "per-pixel 95 % quantile of |x| (x if real)")
      .def_ro("report", &py_sample_result::report, "device, runs, chains, steps, waves, seconds, ...");

  const design_params dd{};
  m.def(
      "sample",
      [](const py_problem& problem, const py_prior& prior, nb::object sampler, const std::string& design,
         std::size_t runs, std::size_t chains, std::uint64_t seed, std::size_t wave_chains, bool keep_draws,
         nb::object progress) {
        check_same_context(problem, prior);
        const auto sp = to_sampler(sampler);
        const auto dp = to_design(design, runs, chains, seed, wave_chains, keep_draws);
        run_guard guard(prior, progress);
        auto r = guard.run([&](const progress_callback& hook) {
          return twofold::sample(*problem.ctx, *problem.problem, *prior.p, sp, dp, hook);
        });
        const auto shape = shape_of(r.maps.shape);
        py_sample_result out;
        out.mean = numpy_array(std::move(r.maps.mean), shape);
        out.total_variance = numpy_array(std::move(r.maps.total_variance), shape);
        out.ambiguity = numpy_or_none(std::move(r.maps.ambiguity), shape);
        out.estimation = numpy_or_none(std::move(r.maps.estimation), shape);
        out.estimation_clipped = numpy_or_none(std::move(r.maps.estimation_clipped), shape);
        out.between_run_variance = numpy_array(std::move(r.maps.between_run_variance), shape);
        out.range_variance = numpy_array(std::move(r.maps.range_variance), shape);
        out.null_variance = numpy_array(std::move(r.maps.null_variance), shape);
        out.draws = out.quantile_lo = out.quantile_hi = nb::none();
        if (keep_draws) {
          auto q = pixel_quantiles(r.draws, r.maps.shape, problem.problem->values());
          out.quantile_lo = numpy_array(std::move(q.lo), shape);
          out.quantile_hi = numpy_array(std::move(q.hi), shape);
          auto dshape = shape;
          dshape.insert(dshape.begin(), runs * chains);
          out.draws = numpy_array(std::move(r.draws), dshape);
        }
        out.report = report_dict(r.report);
        return out;
      },
      nb::arg("problem"), nb::arg("prior"), nb::kw_only(), nb::arg("sampler") = std::string(to_string(sd.kind)),
      nb::arg("design") = std::string(to_string(dd.kind)), nb::arg("runs") = dd.runs,
      nb::arg("chains") = dd.chains_per_run, nb::arg("seed") = dd.seed, nb::arg("wave_chains") = dd.wave_chains,
      nb::arg("keep_draws") = dd.keep_draws, nb::arg("progress") = nb::none(),
      "Samples the posterior of `problem` under `prior`: `runs` runs of `chains` chains in the cascade design (run "
      "r draws x_R ~ p(P_R x | y), its chains complete it) or the replicate design, and returns the per-pixel maps "
      "(SampleResult). sampler: a name or a twofold.Sampler with its settings. seed: the counter-based random "
      "stream; results on the CPU do not depend on wave_chains (0: sized from free memory). progress: None, True "
      "(a tqdm bar when tqdm is installed, else lines on stderr) or a callable(event dict). Raises ValueError for "
      "bad input, RuntimeError when a chain turns non-finite, DeviceError for CUDA failures, and the denoiser's own "
      "exception when a Python prior fails.");
  m.def(
      "posterior_draws",
      [](const py_problem& problem, const py_prior& prior, nb::object sampler, std::size_t runs, std::size_t chains,
         std::uint64_t seed, std::size_t wave_chains, nb::object progress) {
        check_same_context(problem, prior);
        const auto sp = to_sampler(sampler);
        const auto dp = to_design("replicate", runs, chains, seed, wave_chains, false);
        run_guard guard(prior, progress);
        auto draws = guard.run([&](const progress_callback& hook) {
          return twofold::posterior_draws(*problem.ctx, *problem.problem, *prior.p, sp, dp, hook);
        });
        auto shape = shape_of(problem.problem->shape());
        shape.insert(shape.begin(), runs * chains);
        return numpy_array(std::move(draws), shape);
      },
      nb::arg("problem"), nb::arg("prior"), nb::kw_only(), nb::arg("sampler") = std::string(to_string(sd.kind)),
      nb::arg("runs") = dd.runs, nb::arg("chains") = dd.chains_per_run, nb::arg("seed") = dd.seed,
      nb::arg("wave_chains") = dd.wave_chains, nb::arg("progress") = nb::none(),
      "runs x chains posterior draws [R*K, H, W] complex64 (run r's chains are r*K ... r*K + K - 1; smc treats each "
      "run as one particle system). A problem with R measurement sets gives run r the posterior of set r.");

  nb::class_<py_exact>(m, "ExactPosterior",
                       "Exact posterior maps [H, W]; for mixture priors only mean and variance (the others None).")
      .def_ro("mean", &py_exact::mean)
      .def_ro("variance", &py_exact::variance)
      .def_ro("ambiguity", &py_exact::ambiguity)
      .def_ro("estimation", &py_exact::estimation)
      .def_ro("range_variance", &py_exact::range_variance)
      .def_ro("null_variance", &py_exact::null_variance);
  m.def(
      "exact_posterior",
      [](const py_problem& problem, const py_prior& prior) {
        check_same_context(problem, prior);
        gaussian_posterior_maps e;
        {
          nb::gil_scoped_release release;
          e = exact_posterior(*problem.ctx, *problem.problem, *prior.p);
        }
        const auto shape = shape_of(e.shape);
        py_exact out;
        out.mean = numpy_array(std::move(e.mean), shape);
        out.variance = numpy_or_none(std::move(e.variance), shape);
        out.ambiguity = numpy_or_none(std::move(e.ambiguity), shape);
        out.estimation = numpy_or_none(std::move(e.estimation), shape);
        out.range_variance = numpy_or_none(std::move(e.range_variance), shape);
        out.null_variance = numpy_or_none(std::move(e.null_variance), shape);
        return out;
      },
      nb::arg("problem"), nb::arg("prior"),
      "The exact posterior under a Gaussian or mixture prior, by whichever exact method applies (closed forms for "
      "MRI, dense linear algebra up to 4096 pixels, the exact mixture posterior); ValueError when none does.");

  // ---- calibration -------------------------------------------------------------------
  m.def(
      "coverage",
      [](const any_array& draws, const any_array& truth, const std::string& values,
         std::optional<std::vector<double>> nominal) {
        expect_ndim(draws, "draws", {3});
        const auto d = complex_values(draws, "draws");
        const auto t = complex_values(truth, "truth");
        const image_shape shape{d.shape[1], d.shape[2]};
        if (t.size() != shape.pixels()) raise(PyExc_ValueError, "truth: must be one image of the draws' shape");
        const auto levels = nominal ? *nominal : default_coverage_levels();
        const auto c = twofold::coverage(d.values, t.values, shape, parse_field(values, "field"), levels);
        nb::dict out;
        out["nominal"] = c.nominal;
        out["quantile"] = c.quantile;
        out["gaussian"] = c.gaussian;
        return out;
      },
      nb::arg("draws"), nb::arg("truth"), nb::kw_only(), nb::arg("field") = "complex",
      nb::arg("nominal") = nb::none(),
      "Coverage curve: for each nominal level p, the fraction of true coordinates inside the central p-interval "
      "of the draws [n, H, W] (per-coordinate quantiles, and mean +- z_p sigma).");
  const sbc_params sbcd{};
  m.def(
      "sbc",
      [](const py_operator& op, double sigma, const py_prior& prior, nb::object sampler, std::size_t replicates,
         std::size_t draws, std::size_t bins, std::size_t pixels, bool stage2, std::uint64_t seed,
         std::size_t batch_replicates, const std::string& values) {
        if (prior.ctx && prior.ctx != op.ctx)
          raise(PyExc_ValueError, "prior: was built on another twofold.Context than the operator");
        const auto sp = to_sampler(sampler);
        sbc_params params;
        params.replicates = replicates;
        params.draws = draws;
        params.bins = bins;
        params.pixels = pixels;
        params.stage2 = stage2;
        params.seed = seed;
        params.batch_replicates = batch_replicates;
        const auto f = parse_field(values, "field");
        sbc_result r;
        {
          nb::gil_scoped_release release;
          r = simulation_based_calibration(*op.ctx, op.op, sigma, f, *prior.p, sp, params);
        }
        nb::list tests;
        for (const auto& t : r.tests) {
          nb::dict d;
          d["name"] = t.name;
          d["ranks"] = t.ranks;
          d["histogram"] = t.histogram;
          d["chi2"] = t.chi2;
          d["chi2_p"] = t.chi2_p;
          d["ecdf_difference"] = t.ecdf_difference;
          d["ecdf_p"] = t.ecdf_p;
          tests.append(d);
        }
        nb::dict out;
        out["replicates"] = r.replicates;
        out["draws"] = r.draws;
        out["stage2"] = r.stage2;
        out["seconds"] = r.seconds;
        out["tests"] = tests;
        out["coverage"] = nb::dict();
        out["coverage"]["nominal"] = r.coverage.nominal;
        out["coverage"]["quantile"] = r.coverage.quantile;
        out["coverage"]["gaussian"] = r.coverage.gaussian;
        const auto conformal = conformal_scale(r, 0.1, r.replicates / 2);
        nb::dict cf;
        cf["alpha"] = conformal.alpha;
        cf["scale"] = conformal.scale;
        cf["calibration_risk"] = conformal.calibration_risk;
        cf["test_risk"] = conformal.test_risk;
        out["conformal"] = cf;
        return out;
      },
      nb::arg("op"), nb::arg("sigma"), nb::arg("prior"), nb::kw_only(),
      nb::arg("sampler") = std::string(to_string(sd.kind)), nb::arg("replicates") = sbcd.replicates,
      nb::arg("draws") = sbcd.draws, nb::arg("bins") = sbcd.bins, nb::arg("pixels") = sbcd.pixels,
      nb::arg("stage2") = sbcd.stage2, nb::arg("seed") = sbcd.seed,
      nb::arg("batch_replicates") = sbcd.batch_replicates, nb::arg("field") = "complex",
      "Simulation-based calibration (docs/calibration.md): `replicates` truths from the prior, their simulated "
      "data and `draws` posterior draws each; rank histograms with chi-square and ECDF p-values per test function, "
      "coverage over replicates and a conformal interval scale (alpha = 0.1). The prior must be sampleable.");
}

}  // namespace twofold::python
