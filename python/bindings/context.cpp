// twofold.Context, twofold.default_context() and twofold.backends(): the backend
// choice (include/twofold/core/context.hpp).
#include "common.hpp"

#include <nanobind/stl/string.h>

#include <map>
#include <memory>
#include <mutex>

namespace twofold::python {

std::shared_ptr<context> resolve_context(const py_context* ctx) {
  if (ctx) return ctx->ctx;
  static std::shared_ptr<context> fallback;
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  if (!fallback) fallback = std::make_shared<context>(backend_request::automatic);
  return fallback;
}

const context& device_reader(int device) {
  // Never destroyed: a CUDA stream must not be torn down after the runtime at exit.
  static auto* readers = new std::map<int, std::unique_ptr<context>>();
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  auto& reader = (*readers)[device];
  if (!reader) reader = std::make_unique<context>(backend_request::cuda, device);
  return *reader;
}

void bind_context(nb::module_& m) {
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
      .def_prop_ro("device", [](const py_context& c) { return c.ctx->device(); },
                   "The CUDA device ordinal (-1 on the CPU): device arrays on it are read in place.")
      .def_prop_ro("stream", [](const py_context& c) { return reinterpret_cast<std::uintptr_t>(c.ctx->stream()); },
                   "The CUDA stream (cudaStream_t as an integer) every call queues on; 0 on the CPU.")
      .def("synchronize", [](const py_context& c) { c.ctx->synchronize(); })
      .def("__repr__", [](const py_context& c) {
        return "twofold.Context('" + std::string(to_string(c.ctx->backend())) + "': " + c.ctx->device_name() + ")";
      });
  m.def(
      "default_context", [] { return py_context{resolve_context(nullptr)}; },
      "The context used when ctx=None: the automatic backend, created on first use.");
}

}  // namespace twofold::python
