// twofold.data: the built-in data generators of include/twofold/data/ — the random
// phantom family and the line masks of `twofold demo` — so that Python scripts (the
// learned prior's training and validation, python/train_prior.py) draw exactly the
// images and masks the command line draws. A client of the public API only.
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <utility>

namespace twofold::python {
namespace {

image_shape phantom_shape(const std::pair<std::size_t, std::size_t>& shape) {
  if (shape.first == 0 || shape.second == 0)
    raise(PyExc_ValueError, "shape: must be (H, W) with H, W >= 1 (got (" + std::to_string(shape.first) + ", " +
                                std::to_string(shape.second) + "))");
  return {shape.first, shape.second};
}

line_pattern parse_pattern(const std::string& text) {
  if (text == "random") return line_pattern::random;
  if (text == "equispaced") return line_pattern::equispaced;
  raise(PyExc_ValueError, "pattern: must be 'random' or 'equispaced' (got '" + text + "')");
}

}  // namespace

void bind_data(nb::module_& m) {
  auto data = m.def_submodule("data",
                              "The built-in data generators (include/twofold/data/): the seeded random "
                              "Shepp-Logan phantom family and the k-space line masks of `twofold demo`.");
  const phantom_params pd{};
  data.def(
      "phantoms",
      [](std::pair<std::size_t, std::size_t> shape, std::uint64_t seed, std::uint64_t first, std::size_t count,
         double perturbation, bool smooth_phase) {
        const phantom_params p{phantom_shape(shape), seed, perturbation, smooth_phase};
        std::vector<cfloat> images;
        {
          nb::gil_scoped_release release;
          images = make_phantom_family(p, first, count);
        }
        return numpy_array(std::move(images), {count, p.shape.height, p.shape.width});
      },
      nb::arg("shape"), nb::arg("seed"), nb::arg("first"), nb::arg("count"), nb::kw_only(),
      nb::arg("perturbation") = pd.perturbation, nb::arg("smooth_phase") = pd.smooth_phase,
      "Members first, ..., first + count - 1 of the phantom family (shape=(H, W), seed) as complex64 "
      "[count, H, W]: slice k is make_phantom(params, first + k) bit for bit, the images `twofold demo --seed "
      "seed` draws (its truth is member 0, its prior's images members 1 ... 200). perturbation in [0, 4]; "
      "smooth_phase multiplies by a random smooth phase (else real, non-negative images).");

  const line_mask_params ld{};
  data.def(
      "line_mask",
      [](std::size_t width, double acceleration, double center_fraction, const std::string& pattern,
         std::uint64_t seed, std::optional<std::size_t> height) {
        line_mask_params p;
        p.width = width;
        p.acceleration = acceleration;
        p.center_fraction = center_fraction;
        p.pattern = parse_pattern(pattern);
        p.seed = seed;
        const auto lines = make_line_mask(p);
        if (!height) return numpy_array(std::vector<float>(lines.begin(), lines.end()), {width});
        if (*height == 0) raise(PyExc_ValueError, "height: must be >= 1");
        return numpy_array(expand_line_mask(lines, image_shape{*height, width}), {*height, width});
      },
      nb::arg("width"), nb::kw_only(), nb::arg("acceleration") = ld.acceleration,
      nb::arg("center_fraction") = ld.center_fraction, nb::arg("pattern") = "random", nb::arg("seed") = ld.seed,
      nb::arg("height") = nb::none(),
      "A phase-encode line mask (make_line_mask): float32 flags [width] (1 = line sampled), or with height= the "
      "full mask [height, width] sampling those lines on every row (expand_line_mask), as `twofold demo` builds "
      "it (width = size, its --acceleration, seed = --seed). round(width / acceleration) lines, a centred "
      "calibration block of center_fraction of them (0: 0.32 / acceleration), the rest 'random' or "
      "'equispaced'.");
}

}  // namespace twofold::python
