// twofold.InverseProblem and twofold.simulate (include/twofold/problem/).
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace twofold::python {

void check_same_context(const py_problem& problem, const py_prior& prior) {
  if (prior.ctx && prior.ctx != problem.ctx)
    raise(PyExc_ValueError, "prior: was built on another twofold.Context than the problem; build both on one");
}

void bind_problem(nb::module_& m) {
  nb::class_<py_problem>(m, "InverseProblem",
                         "y = A x + n, n ~ CN(0, sigma^2 I) (E|n|^2 = sigma^2; real field: N(0, sigma^2)). y has "
                         "the operator's codomain shape, or [sets, ...] for several measurement sets (run r of "
                         "posterior_draws uses set r). Entries A never reaches (unsampled k-space) are ignored.")
      .def(
          "__init__",
          [](py_problem* self, const py_operator& op, array_arg y, double sigma, const std::string& values) {
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
      [](const py_operator& op, array_arg x, double sigma, std::uint64_t seed, const std::string& values) {
        const auto v = complex_values(x, "x");
        if (v.size() != op.op->domain().pixels())
          raise(PyExc_ValueError, "x: must be one image of the operator's domain " + to_string(op.op->domain()));
        auto y = simulate_measurements(*op.ctx, *op.op, v.values, sigma, parse_field(values, "field"), seed);
        return numpy_array(std::move(y), shape_of(op.op->codomain()));
      },
      nb::arg("op"), nb::arg("x"), nb::arg("sigma"), nb::kw_only(), nb::arg("seed") = 0,
      nb::arg("field") = "complex", "y = A x + n with the library's seeded noise stream.");
}

}  // namespace twofold::python
