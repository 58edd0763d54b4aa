"""twofold.data: the phantom family and the line masks are the C++ generators'
(include/twofold/data/), bit for bit — checked against what `twofold demo` draws
(its truth is member 0 of the family keyed by --seed, its mask the line mask of that
seed), and against the documented properties of the generators."""

import os
import subprocess

import numpy as np
import pytest

import twofold

CLI = os.environ.get("TWOFOLD_CLI")


@pytest.mark.skipif(not CLI, reason="TWOFOLD_CLI (the twofold program) not given")
@pytest.mark.parametrize("size,seed,acceleration", [(24, 5, 8.0), (32, 0, 4.0)])
def test_phantom_mask_and_data_equal_the_demo_bit_for_bit(tmp_path, size, seed, acceleration):
    out = tmp_path / "demo"
    cmd = [CLI, "demo", "--size", str(size), "--seed", str(seed), "--acceleration", repr(acceleration),
           "--runs", "2", "--chains", "2", "--levels", "2", "--family", "20", "--no-report", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})

    truth = twofold.data.phantoms((size, size), seed, 0, 1)[0]
    np.testing.assert_array_equal(truth, np.load(out / "truth.npy"))
    mask = twofold.data.line_mask(size, acceleration=acceleration, seed=seed, height=size)
    np.testing.assert_array_equal(mask, np.load(out / "mask.npy"))
    # The whole problem the demo builds: y = M F x* + n with the demo's noise (sigma_y 0.02, key --seed).
    op = twofold.operators.mri(mask)
    problem = twofold.InverseProblem(op, twofold.simulate(op, truth, 0.02, seed=seed), 0.02)
    np.testing.assert_array_equal(problem.zero_filled, np.load(out / "zero_filled.npy"))
    # Its prior: the pixel-basis Gaussian of members 1 ... --family; the exact posterior mean under it.
    prior = twofold.priors.gaussian_from_images(twofold.data.phantoms((size, size), seed, 1, 20))
    reference = np.load(out / "reference_mean.npy")
    exact = twofold.exact_posterior(problem, prior).mean
    np.testing.assert_allclose(exact, reference, rtol=0, atol=1e-5 * np.abs(reference).max())


def test_phantoms_are_members_of_one_family():
    shape = (20, 28)
    stack = twofold.data.phantoms(shape, 3, 10, 4)
    assert stack.shape == (4, 20, 28) and stack.dtype == np.complex64
    for k in range(4):
        np.testing.assert_array_equal(stack[k], twofold.data.phantoms(shape, 3, 10 + k, 1)[0])
    assert not np.array_equal(stack[0], stack[1])  # members differ
    assert not np.array_equal(stack[0], twofold.data.phantoms(shape, 4, 10, 1)[0])  # seeds differ
    assert twofold.data.phantoms(shape, 3, 0, 0).shape == (0, 20, 28)


def test_phantom_options():
    real = twofold.data.phantoms((32, 32), 1, 0, 2, smooth_phase=False)
    assert np.all(real.imag == 0) and np.all(real.real >= 0)
    phased = twofold.data.phantoms((32, 32), 1, 0, 2)
    assert np.any(phased.imag != 0)
    # The magnitude does not depend on the phase.
    np.testing.assert_allclose(np.abs(phased), np.abs(real), atol=1e-6)
    # perturbation 0: the exact modified Shepp-Logan magnitude, the same for every member, at most 1
    # (the thin skull is anti-aliased, so no 32 x 32 pixel lies wholly inside it).
    exact = twofold.data.phantoms((32, 32), 1, 0, 2, perturbation=0.0, smooth_phase=False)
    np.testing.assert_array_equal(exact[0], exact[1])
    assert 0.8 < float(np.abs(exact).max()) <= 1.0


def test_line_mask_properties():
    for width, acceleration in [(64, 4.0), (64, 8.0), (48, 4.0), (37, 3.0)]:
        lines = twofold.data.line_mask(width, acceleration=acceleration, seed=2)
        assert lines.shape == (width,) and lines.dtype == np.float32
        assert set(np.unique(lines)) <= {0.0, 1.0}
        assert int(lines.sum()) == max(1, int(np.floor(width / acceleration + 0.5)))
        assert lines[width // 2] == 1  # the DC line is in the calibration block
    full = twofold.data.line_mask(16, acceleration=4.0, seed=2, height=5)
    assert full.shape == (5, 16)
    np.testing.assert_array_equal(full, np.tile(twofold.data.line_mask(16, acceleration=4.0, seed=2), (5, 1)))
    eq = twofold.data.line_mask(64, acceleration=4.0, pattern="equispaced", seed=1)
    assert int(eq.sum()) == 16
    assert not np.array_equal(twofold.data.line_mask(64, seed=1), twofold.data.line_mask(64, seed=2))


@pytest.mark.parametrize("call,needle", [
    (lambda: twofold.data.phantoms((0, 8), 0, 0, 1), "shape"),
    (lambda: twofold.data.phantoms((8, 8), 0, 0, 1, perturbation=5.0), "perturbation"),
    (lambda: twofold.data.line_mask(0), "width"),
    (lambda: twofold.data.line_mask(16, acceleration=0.5), "acceleration"),
    (lambda: twofold.data.line_mask(16, pattern="spiral"), "pattern"),
    (lambda: twofold.data.line_mask(16, height=0), "height"),
])
def test_bad_input_names_the_argument(call, needle):
    with pytest.raises(ValueError, match=needle):
        call()
