// twofold.coverage and twofold.sbc: calibration (include/twofold/diagnostics/).
#include "common.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>

namespace twofold::python {

void bind_calibration(nb::module_& m) {
  const sampler_params sd{};
  m.def(
      "coverage",
      [](array_arg draws, array_arg truth, const std::string& values,
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
      [](const py_operator& op, double sigma, const py_prior& prior, sampler_arg sampler, std::size_t replicates,
         std::size_t draws, std::size_t bins, std::size_t pixels, bool stage2, std::uint64_t seed,
         std::size_t batch_replicates, const std::string& values, double noise_scale, nb::object truths) {
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
        params.truth_noise_scale = noise_scale;
        const auto f = parse_field(values, "field");
        if (!truths.is_none()) {
          const auto t = complex_values(nb::cast<array_arg>(truths), "truths");
          const image_shape shape = op.op->domain();
          if (t.shape.size() != 3 || t.shape[0] != replicates || t.shape[1] != shape.height ||
              t.shape[2] != shape.width)
            raise(PyExc_ValueError, ("truths: must be [replicates, H, W] = [" + std::to_string(replicates) + ", " +
                                     std::to_string(shape.height) + ", " + std::to_string(shape.width) + "]")
                                        .c_str());
          params.truths.assign(t.values.begin(), t.values.end());
        }
        if (prior.callback) begin_run(*prior.callback);
        sbc_result r;
        try {
          nb::gil_scoped_release release;
          r = simulation_based_calibration(*op.ctx, op.op, sigma, f, *prior.p, sp, params);
        } catch (...) {
          if (prior.callback) reraise_callback_error(*prior.callback);
          throw;
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
        if (!r.stage2) {
          const auto& pc = r.predictive_coverage;
          nb::dict pd;
          pd["nominal"] = pc.curve.nominal;
          pd["quantile"] = pc.curve.quantile;
          pd["gaussian"] = pc.curve.gaussian;
          pd["standard_error"] = pc.quantile_standard_error;
          out["predictive_coverage"] = pd;
        }
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
      nb::arg("noise_scale") = sbcd.truth_noise_scale, nb::arg("truths") = nb::none(),
      "Simulation-based calibration (docs/calibration.md): `replicates` truths from the prior, their simulated "
      "data and `draws` posterior draws each; rank histograms with chi-square and ECDF p-values per test function, "
      "coverage over replicates, the posterior predictive coverage of a held-out measurement per replicate "
      "(predictive_coverage: p for a calibrated model, with its standard error over replicates; not for stage2) "
      "and a conformal interval scale (alpha = 0.1). noise_scale: the simulated noise std over sigma (2: the "
      "noise underestimated 2x). truths: the replicates' x* [replicates, H, W] instead of draws from the prior, "
      "e.g. twofold.prior_draws of a network prior, which cannot be drawn from directly; otherwise the prior must "
      "be sampleable.");
}

}  // namespace twofold::python
