"""Shared problems for the Python package's tests (docs/python.md)."""

import numpy as np
import pytest

import twofold

H, W = 16, 12


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds a wheel and installs it into a fresh virtual environment")
    config.addinivalue_line("markers", "gpu: needs a usable CUDA device (CTest PythonCuda, label gpu)")


class GaussianMri:
    """A 16 x 12 single-coil MRI problem (every other phase-encode line), a
    pixel-basis Gaussian prior with varying mean and variance, and its data."""

    def __init__(self, sigma=0.05, seed=0, backend="cpu"):
        rng = np.random.default_rng(seed)
        self.ctx = twofold.Context(backend)
        self.mask = np.zeros((H, W), np.float32)
        self.mask[:, ::2] = 1
        self.mask[:, W // 2] = 1
        self.mean = (0.3 * (rng.normal(size=(H, W)) + 1j * rng.normal(size=(H, W)))).astype(np.complex64)
        self.variance = rng.uniform(0.3, 1.5, size=(H, W)).astype(np.float32)
        self.truth = (self.mean + np.sqrt(self.variance / 2)
                      * (rng.normal(size=(H, W)) + 1j * rng.normal(size=(H, W)))).astype(np.complex64)
        self.sigma = sigma
        self.op = twofold.operators.mri(self.mask, ctx=self.ctx)
        self.y = twofold.simulate(self.op, self.truth, sigma, seed=seed)
        self.problem = twofold.InverseProblem(self.op, self.y, sigma)
        self.prior = twofold.priors.gaussian(self.mean, self.variance, ctx=self.ctx)

    def numpy_denoiser(self):
        """D(z, s) = (v z + s^2 mu) / (v + s^2): the prior's denoiser, written in NumPy."""
        v, mu = self.variance, self.mean

        def denoise(z, s):
            return ((v * z + (s * s) * mu) / (v + s * s)).astype(np.complex64)

        return denoise


@pytest.fixture
def mri():
    return GaussianMri()


def assert_round_off(a, b, what):
    """Equal up to float32 round-off accumulated over a run: 1e-5 of the map's scale."""
    scale = max(1.0, float(np.max(np.abs(a))))
    err = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    assert err <= 1e-5 * scale, f"{what}: max difference {err:.3g} (scale {scale:.3g})"
