// twofold.operators: the six forward operators A built from arrays, and the
// Operator methods (include/twofold/operators/).
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>

namespace twofold::python {

namespace {

/// A k-space / pixel mask [H, W], or [W] line flags with `height`.
std::vector<float> mask_values(array_arg mask, std::optional<std::size_t> height, image_shape& shape,
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

enum class space { domain, codomain };

image_shape space_shape(const linear_operator& op, space s) { return s == space::domain ? op.domain() : op.codomain(); }

/// An Operator method on one image or a batch [chains, ...] of `in`-space arrays:
/// `f(ctx, op, in, out)` fills `out`-space arrays (the projections work in place, on a
/// copy of the input) and returns them, in the input's layout, as backend arrays.
template <class F>
auto batch_method(space in, space out, const char* arg, F f) {
  return [=](const py_operator& o, array_arg a) {
    const auto b = batch_in(*o.ctx, std::move(a), space_shape(*o.op, in), arg);
    chain_buffer r(*o.ctx, b.view.chains, space_shape(*o.op, out));
    if (in == out) detail::copy_bytes(*o.ctx, r.storage.data(), b.view.data, b.view.size() * sizeof(cfloat));
    f(*o.ctx, *o.op, in == out ? const_chain_view(r.view()) : b.view, r.view());
    return batch_out(*o.ctx, std::move(r), b.single);
  };
}

}  // namespace

void bind_operators(nb::module_& m) {
  auto ops = m.def_submodule("operators", "The six forward operators A (docs/operators.md).");
  nb::class_<py_operator>(ops, "Operator", "A linear forward operator A on a batch of images.")
      .def_prop_ro("name", [](const py_operator& o) { return o.op->name(); })
      .def_prop_ro("domain", [](const py_operator& o) { return shape_of(o.op->domain()); },
                   "Shape of one image.")
      .def_prop_ro("codomain", [](const py_operator& o) { return shape_of(o.op->codomain()); },
                   "Shape of one measurement.")
      .def("apply", batch_method(space::domain, space::codomain, "x",
                                 [](const context& c, const linear_operator& op, const_chain_view in,
                                    chain_view out) { op.apply(c, in, out); }),
           nb::arg("x"), "y = A x for one image or a batch [chains, ...].")
      .def("adjoint", batch_method(space::codomain, space::domain, "y",
                                   [](const context& c, const linear_operator& op, const_chain_view in,
                                      chain_view out) { op.adjoint(c, in, out); }),
           nb::arg("y"), "x = A^H y.")
      .def("range_project", batch_method(space::domain, space::domain, "x",
                                         [](const context& c, const linear_operator& op, const_chain_view,
                                            chain_view x) { op.range_project(c, x); }),
           nb::arg("x"), "P_R x, the projection onto the row space of A.")
      .def("null_project", batch_method(space::domain, space::domain, "x",
                                        [](const context& c, const linear_operator& op, const_chain_view,
                                           chain_view x) { op.null_project(c, x); }),
           nb::arg("x"), "P_N x = x - P_R x.")
      .def("__repr__", [](const py_operator& o) {
        return "twofold.operators.Operator('" + o.op->name() + "', " + to_string(o.op->domain()) + " -> " +
               to_string(o.op->codomain()) + ")";
      });

  ops.def(
      "mri",
      [](array_arg mask, std::optional<std::size_t> height, const py_context* ctx) {
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
      [](array_arg maps, array_arg mask, const py_context* ctx) {
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
      [](array_arg matrix, std::optional<std::vector<std::size_t>> domain, double rcond,
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
      [](array_arg kernel, std::vector<std::size_t> shape, double cutoff, const py_context* ctx) {
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
      [](array_arg mask, const py_context* ctx) {
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
}

}  // namespace twofold::python
