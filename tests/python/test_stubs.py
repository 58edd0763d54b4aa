"""The typed stubs (_twofold.pyi, written by nanobind's stubgen at build time) name
the dtype of every array the API returns and whether it may be None; here each
annotation is checked against the arrays actually returned."""

import pathlib
import re

import numpy as np

import twofold
from conftest import GaussianMri

ANNOTATION = re.compile(r"def (\w+)\(self\) -> numpy\.typing\.NDArray\[numpy\.(\w+)\]( \| None)?:")


def stub_text():
    path = pathlib.Path(twofold._twofold.__file__).with_name("_twofold.pyi")
    assert path.is_file(), f"no stub next to the extension ({path})"
    return path.read_text()


def class_annotations(text, name):
    """{attribute: (dtype, optional)} of the array properties of class `name`."""
    body = text.split(f"class {name}:", 1)[1].split("\nclass ", 1)[0].split("\ndef ", 1)[0]
    return {m[1]: (m[2], bool(m[3])) for m in ANNOTATION.finditer(body)}


def check(obj, annotations, where):
    assert annotations, f"{where}: no array annotations in the stub"
    for attr, (dtype, optional) in annotations.items():
        value = getattr(obj, attr)
        if value is None:
            assert optional, f"{where}.{attr} is None but the stub does not say '| None'"
            continue
        assert isinstance(value, np.ndarray) and value.dtype == np.dtype(dtype), \
            f"{where}.{attr}: stub says {dtype}, got {getattr(value, 'dtype', type(value))}"


def test_sample_result_annotations_match_the_arrays():
    p = GaussianMri()
    annotations = class_annotations(stub_text(), "SampleResult")
    assert {"mean", "ambiguity", "draws", "quantile_lo"} <= annotations.keys()
    sampler = twofold.Sampler("langevin", levels=5)
    kept = twofold.sample(p.problem, p.prior, sampler=sampler, runs=2, chains=2, keep_draws=True)
    check(kept, annotations, "SampleResult (cascade, keep_draws)")
    replicate = twofold.sample(p.problem, p.prior, sampler=sampler, design="replicate", runs=2, chains=2)
    check(replicate, annotations, "SampleResult (replicate)")
    assert replicate.ambiguity is None and replicate.draws is None  # the optional ones were exercised


def test_exact_posterior_annotations_match_the_arrays():
    p = GaussianMri()
    check(twofold.exact_posterior(p.problem, p.prior), class_annotations(stub_text(), "ExactPosterior"),
          "ExactPosterior")


def test_function_annotations_match_the_arrays():
    p = GaussianMri()
    text = stub_text()
    returned = {
        "simulate": twofold.simulate(p.op, p.truth, 0.1),
        "posterior_draws": twofold.posterior_draws(p.problem, p.prior, sampler=twofold.Sampler("langevin", levels=5),
                                                   runs=2, chains=2),
    }
    for name, value in returned.items():
        m = re.search(rf"\ndef {name}\(.*\) -> numpy\.typing\.NDArray\[numpy\.(\w+)\]:", text)
        assert m, f"{name}: the stub gives no array type"
        assert value.dtype == np.dtype(m[1]), f"{name}: stub says {m[1]}, got {value.dtype}"
