// twofold.priors: the built-in priors (Gaussian, mixture, empirical) and the Prior
// methods (include/twofold/priors/); the callable Denoiser is in denoiser.cpp.
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>

namespace twofold::python {

namespace {

image_shape image_shape_of(const host_values<cfloat>& v, const char* name) {
  if (v.shape.size() != 2) raise(PyExc_ValueError, std::string(name) + ": must be an image [H, W]");
  return {v.shape[0], v.shape[1]};
}

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

}  // namespace

void bind_priors(nb::module_& m) {
  auto priors = m.def_submodule("priors", "Priors p(x) as batched denoisers (docs/design.md section 1.3).");
  nb::class_<py_prior>(priors, "Prior", "A prior: built-in (gaussian, mixture, empirical) or a Denoiser.")
      .def_prop_ro("name", [](const py_prior& p) { return p.p->name(); })
      .def_prop_ro("shape", [](const py_prior& p) { return shape_of(p.p->shape()); })
      .def_prop_ro("has_vjp", [](const py_prior& p) { return p.p->has_vjp(); })
      .def(
          "denoise",
          [](const py_prior& p, array_arg z, double s) {
            auto c = p.ctx ? p.ctx : resolve_context(nullptr);
            const auto b = batch_in(*c, std::move(z), p.p->shape(), "z");
            chain_buffer out(*c, b.view.chains, b.view.shape);
            direct_call(p, [&] { p.p->denoise(*c, b.view, s, out.view()); });
            return batch_out(*c, std::move(out), b.single);
          },
          nb::arg("z"), nb::arg("s"),
          "D(z, s) for one image or a batch [chains, H, W]; a NumPy array on the CPU backend, a CUDA array on the "
          "CUDA backend (z is read without a copy when it is complex64, C-contiguous and on the backend's device).")
      .def(
          "vjp",
          [](const py_prior& p, array_arg z, double s, array_arg w) {
            auto c = p.ctx ? p.ctx : resolve_context(nullptr);
            const auto zb = batch_in(*c, std::move(z), p.p->shape(), "z");
            const auto wb = batch_in(*c, std::move(w), p.p->shape(), "w");
            if (zb.view.chains != wb.view.chains) raise(PyExc_ValueError, "w: must have as many chains as z");
            chain_buffer out(*c, zb.view.chains, zb.view.shape);
            direct_call(p, [&] { p.p->vjp(*c, zb.view, s, wb.view, out.view()); });
            return batch_out(*c, std::move(out), zb.single);
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
      [basis_of](array_arg mean, std::optional<array_arg> variance, std::optional<array_arg> spectrum,
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
      [basis_of](array_arg images, const std::string& basis, double relative_floor, const py_context* ctx) {
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
      [basis_of](nb::handle weights_arg, array_arg means, std::optional<array_arg> variances,
                 std::optional<array_arg> spectra, const std::string& values, const py_context* ctx) {
        auto c = resolve_context(ctx);
        if (variances.has_value() == spectra.has_value())
          raise(PyExc_ValueError, "mixture: give exactly one of variances (pixel basis) and spectra (Fourier basis)");
        expect_ndim(means, "means", {3});
        array_arg weights = as_array(weights_arg, "weights");
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
      [](array_arg images, const std::string& values, const py_context* ctx) {
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
}

}  // namespace twofold::python
