"""Python and the command line run the same library with the same defaults: for
the same problem, prior and seed the maps are bit-identical (the CLI writes them
as float32 / complex64 .npy files, so Python's float64 maps are compared after the
same rounding)."""

import os
import subprocess

import numpy as np
import pytest

import twofold
from conftest import GaussianMri

CLI = os.environ.get("TWOFOLD_CLI")


@pytest.mark.skipif(not CLI, reason="TWOFOLD_CLI (the twofold program) not given")
@pytest.mark.parametrize("sampler,design", [("langevin", "cascade"), ("ddrm", "replicate")])
def test_maps_equal_the_command_line_bit_for_bit(tmp_path, sampler, design):
    p = GaussianMri()
    files = {"y": p.y, "mask": p.mask, "mean": p.mean, "variance": p.variance}
    for name, a in files.items():
        np.save(tmp_path / f"{name}.npy", a)
    out = tmp_path / "out"
    cmd = [CLI, "sample", "--operator", "mri", "--measurements", str(tmp_path / "y.npy"),
           "--mask", str(tmp_path / "mask.npy"), "--sigma", repr(p.sigma), "--prior", "gaussian",
           "--prior-mean", str(tmp_path / "mean.npy"), "--prior-variance", str(tmp_path / "variance.npy"),
           "--field", "complex", "--sampler", sampler, "--design", design, "--runs", "4", "--chains", "8",
           "--levels", "40", "--seed", "7", "--no-report", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})

    r = twofold.sample(p.problem, p.prior, sampler=twofold.Sampler(sampler, levels=40), design=design,
                       runs=4, chains=8, seed=7)
    np.testing.assert_array_equal(np.load(out / "mean.npy"), r.mean.astype(np.complex64))
    maps = ["total_variance", "between_run_variance", "range_variance", "null_variance"]
    if design == "cascade":
        maps += ["ambiguity", "estimation", "estimation_clipped"]
    for name in maps:
        np.testing.assert_array_equal(np.load(out / f"{name}.npy"), getattr(r, name).astype(np.float32), err_msg=name)
    np.testing.assert_array_equal(np.load(out / "zero_filled.npy"), p.problem.zero_filled, err_msg="zero_filled")
