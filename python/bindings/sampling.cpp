// twofold.Sampler, twofold.sample and twofold.posterior_draws (include/twofold/sampling/):
// the engine runs with the GIL released, progress and Ctrl-C through run_guard.
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <exception>
#include <optional>

namespace twofold::python {

namespace {

struct py_sampler {
  sampler_params p;
};

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

  run_guard(const py_prior& prior, progress_arg progress) {
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

struct py_sample_result {
  complex128_array mean;
  float64_array total_variance, between_run_variance, range_variance, null_variance;
  std::optional<float64_array> ambiguity, estimation, estimation_clipped, quantile_lo, quantile_hi;
  std::optional<complex64_array> draws;
  nb::dict report;
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
  d["waves_halved"] = r.waves_halved;
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

sampler_params to_sampler(nb::handle sampler) {
  if (nb::isinstance<py_sampler>(sampler)) return nb::cast<py_sampler&>(sampler).p;
  if (nb::isinstance<nb::str>(sampler)) {
    sampler_params p;
    p.kind = parse_sampler(nb::cast<std::string>(sampler));
    return p;
  }
  raise(PyExc_ValueError, "sampler: must be a sampler name ('langevin', 'exact', ...) or a twofold.Sampler");
}

void bind_sampling(nb::module_& m) {
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
                               "The maps of sample(), [H, W] (complex pixels: variances are E|x - E x|^2): NumPy "
                               "arrays on the CPU backend; on the CUDA backend the engine's device memory as "
                               "DLPack arrays (torch.from_dlpack(result.ambiguity), twofold.to_host(...)). "
                               "ambiguity, estimation and estimation_clipped are None for the replicate design; "
                               "draws, quantile_lo and quantile_hi (NumPy on both backends) are None unless "
                               "keep_draws.")
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
      [](const py_problem& problem, const py_prior& prior, sampler_arg sampler, const std::string& design,
         std::size_t runs, std::size_t chains, std::uint64_t seed, std::size_t wave_chains, bool keep_draws,
         progress_arg progress) {
        check_same_context(problem, prior);
        const auto sp = to_sampler(sampler);
        auto dp = to_design(design, runs, chains, seed, wave_chains, keep_draws);
        dp.maps_on_backend = true;  // handed to Python without a copy (device arrays on CUDA)
        run_guard guard(prior, progress);
        auto r = guard.run([&](const progress_callback& hook) {
          return twofold::sample(*problem.ctx, *problem.problem, *prior.p, sp, dp, hook);
        });
        const context& ctx = *problem.ctx;
        const auto shape = shape_of(r.maps.shape);
        auto& maps = r.backend_maps;
        const auto map = [&](buffer<double>& b) {
          return nb::borrow<float64_array>(backend_array(ctx, std::move(b), shape));
        };
        const auto optional_map = [&](buffer<double>& b) -> std::optional<float64_array> {
          if (b.empty()) return std::nullopt;
          return map(b);
        };
        py_sample_result out;
        out.mean = nb::borrow<complex128_array>(backend_array(ctx, std::move(maps.mean), shape));
        out.total_variance = map(maps.total_variance);
        out.ambiguity = optional_map(maps.ambiguity);
        out.estimation = optional_map(maps.estimation);
        out.estimation_clipped = optional_map(maps.estimation_clipped);
        out.between_run_variance = map(maps.between_run_variance);
        out.range_variance = map(maps.range_variance);
        out.null_variance = map(maps.null_variance);
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
      [](const py_problem& problem, const py_prior& prior, sampler_arg sampler, std::size_t runs, std::size_t chains,
         std::uint64_t seed, std::size_t wave_chains, progress_arg progress) {
        check_same_context(problem, prior);
        const auto sp = to_sampler(sampler);
        const auto dp = to_design("replicate", runs, chains, seed, wave_chains, false);
        run_guard guard(prior, progress);
        auto draws = guard.run([&](const progress_callback& hook) {
          return twofold::posterior_draws_on_backend(*problem.ctx, *problem.problem, *prior.p, sp, dp, hook);
        });
        auto shape = shape_of(problem.problem->shape());
        shape.insert(shape.begin(), runs * chains);
        return nb::borrow<complex64_array>(backend_array(*problem.ctx, std::move(draws), shape));
      },
      nb::arg("problem"), nb::arg("prior"), nb::kw_only(), nb::arg("sampler") = std::string(to_string(sd.kind)),
      nb::arg("runs") = dd.runs, nb::arg("chains") = dd.chains_per_run, nb::arg("seed") = dd.seed,
      nb::arg("wave_chains") = dd.wave_chains, nb::arg("progress") = nb::none(),
      "runs x chains posterior draws [R*K, H, W] complex64 (run r's chains are r*K ... r*K + K - 1; smc treats each "
      "run as one particle system). A problem with R measurement sets gives run r the posterior of set r. A NumPy "
      "array on the CPU backend; on the CUDA backend the draws stay in device memory (a DLPack array; "
      "twofold.to_host copies it).");
  m.def(
      "prior_draws",
      [](const py_prior& prior, std::size_t count, sampler_arg sampler, std::uint64_t seed, const std::string& values,
         const py_context* ctx, progress_arg progress) {
        const auto sp = to_sampler(sampler);
        const auto f = parse_field(values, "field");
        std::shared_ptr<context> c = prior.ctx;
        if (ctx && c && ctx->ctx != c) raise(PyExc_ValueError, "ctx: the prior was built on another twofold.Context");
        if (!c) c = resolve_context(ctx);
        const image_shape shape = prior.p->shape();
        run_guard guard(prior, progress);
        auto draws = guard.run([&](const progress_callback& hook) {
          return twofold::prior_draws_on_backend(*c, shape, f, *prior.p, sp, count, seed, hook);
        });
        auto dims = shape_of(shape);
        dims.insert(dims.begin(), count);
        return nb::borrow<complex64_array>(backend_array(*c, std::move(draws), dims));
      },
      nb::arg("prior"), nb::arg("count"), nb::kw_only(), nb::arg("sampler") = std::string(to_string(sd.kind)),
      nb::arg("seed") = dd.seed, nb::arg("field") = "complex", nb::arg("ctx") = nb::none(),
      nb::arg("progress") = nb::none(),
      "count draws [count, H, W] complex64 of the prior itself by the posterior sampler run with nothing observed "
      "(A = 0: every likelihood term vanishes, ddrm and ddnm take their DDIM step everywhere): for a prior that "
      "cannot be drawn from directly (a network), the draws of the prior its sampler implies, e.g. the truths of "
      "twofold.sbc(..., truths=...). A NumPy array on the CPU backend, a DLPack device array on the CUDA backend.");
}

}  // namespace twofold::python
