// twofold.exact_posterior and twofold.ExactPosterior (include/twofold/exact/).
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace twofold::python {

namespace {

struct py_exact {
  complex128_array mean;
  std::optional<float64_array> variance, ambiguity, estimation, range_variance, null_variance;
};

}  // namespace

void bind_exact(nb::module_& m) {
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
}

}  // namespace twofold::python
