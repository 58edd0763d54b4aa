"""The CUDA backend from Python: chain batches read in place from device memory,
results (maps, draws, method results) handed out as device arrays (DLPack, no host
round trip), device arrays as constructor inputs, and a callable prior receiving
device memory. Marked gpu: CTest PythonCuda runs these, skipping with the reason where no CUDA device is usable;
TWOFOLD_REQUIRE_GPU=1 (scripts/device_check.sh) turns the skip into a failure."""

import os

import numpy as np
import pytest

import twofold
from conftest import H, W, GaussianMri, assert_round_off

pytestmark = pytest.mark.gpu
CPU, CUDA = 1, 2  # DLPack device types
MAPS = ["mean", "total_variance", "ambiguity", "estimation", "range_variance", "null_variance"]


@pytest.fixture(autouse=True)
def need_gpu():
    info = twofold.info(print_it=False)
    if not info["cuda_usable"]:
        reason = "no usable CUDA device: " + info["cuda_unavailable_reason"]
        if os.environ.get("TWOFOLD_REQUIRE_GPU") == "1":
            pytest.fail("TWOFOLD_REQUIRE_GPU=1 but " + reason)
        pytest.skip(reason)


def device_of(a):
    return twofold._twofold._array_address(a)[0]


def upload(ctx, x):
    """x as a CUDA array on ctx: the all-observing inpainting operator's A x."""
    return twofold.operators.inpainting(np.ones(x.shape[-2:], np.float32), ctx=ctx).apply(x)


def test_operator_results_stay_on_the_device_and_are_read_in_place():
    gpu, cpu = GaussianMri(backend="cuda"), GaussianMri()
    assert gpu.ctx.device == 0 and cpu.ctx.device == -1
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(4, H, W)) + 1j * rng.normal(size=(4, H, W))).astype(np.complex64)
    y = gpu.op.apply(x)
    assert device_of(y) == CUDA
    assert twofold._twofold._batch_address(y, gpu.ctx) == twofold._twofold._array_address(y)[2]
    back = gpu.op.adjoint(y)  # reads y where it lies
    assert device_of(back) == CUDA
    reference = cpu.op.adjoint(cpu.op.apply(x))
    np.testing.assert_allclose(twofold.to_host(back), reference, atol=1e-5 * np.abs(reference).max())
    d = gpu.prior.denoise(upload(gpu.ctx, x), 0.3)
    assert device_of(d) == CUDA
    np.testing.assert_allclose(twofold.to_host(d), cpu.prior.denoise(x, 0.3), atol=1e-5)


def test_device_arrays_are_accepted_by_constructors():
    gpu = GaussianMri(backend="cuda")
    y_device = upload(gpu.ctx, gpu.y)
    assert device_of(y_device) == CUDA
    problem = twofold.InverseProblem(gpu.op, y_device, gpu.sigma)
    np.testing.assert_array_equal(problem.zero_filled, gpu.problem.zero_filled)
    prior = twofold.priors.gaussian(upload(gpu.ctx, gpu.mean), gpu.variance, ctx=gpu.ctx)
    z = np.ones((2, H, W), np.complex64)
    np.testing.assert_array_equal(twofold.to_host(prior.denoise(z, 0.5)), twofold.to_host(gpu.prior.denoise(z, 0.5)))


def test_sample_maps_are_device_arrays_that_agree_with_the_cpu():
    gpu, cpu = GaussianMri(backend="cuda"), GaussianMri()
    s = twofold.Sampler("langevin", levels=40)
    a = twofold.sample(gpu.problem, gpu.prior, sampler=s, runs=4, chains=8, seed=2)
    b = twofold.sample(cpu.problem, cpu.prior, sampler=s, runs=4, chains=8, seed=2)
    for name in MAPS:
        m = getattr(a, name)
        assert device_of(m) == CUDA, name
        host = twofold.to_host(m)
        reference = getattr(b, name)
        # Same random numbers and math; float rounding differs (cuFFT against FFTW).
        np.testing.assert_allclose(host, reference, atol=1e-3 * (1 + np.abs(reference).max()), err_msg=name)
    assert "cpu" not in a.report["device"]


def test_posterior_draws_stay_on_the_device_and_agree_with_the_cpu():
    gpu, cpu = GaussianMri(backend="cuda"), GaussianMri()
    s = twofold.Sampler("ddrm", levels=20)
    draws = twofold.posterior_draws(gpu.problem, gpu.prior, sampler=s, runs=2, chains=4, seed=1)
    assert device_of(draws) == CUDA
    host = twofold.to_host(draws)
    assert host.shape == (8, H, W) and host.dtype == np.complex64
    reference = twofold.posterior_draws(cpu.problem, cpu.prior, sampler=s, runs=2, chains=4, seed=1)
    # Draw by draw: the same random numbers, float rounding apart.
    np.testing.assert_allclose(host, reference, atol=1e-3 * (1 + np.abs(reference).max()))


def test_a_dlpack_callable_receives_device_memory_and_reproduces_the_builtin_prior():
    gpu = GaussianMri(backend="cuda")
    seen = []

    def denoise(z, s):
        seen.append(device_of(z))
        return gpu.prior.denoise(z, s)  # read in place on the device, a device array back

    d = twofold.priors.Denoiser(denoise, shape=(H, W), tensors="dlpack")
    s = twofold.Sampler("langevin", levels=40)
    a = twofold.sample(gpu.problem, gpu.prior, sampler=s, runs=4, chains=8, seed=3)
    b = twofold.sample(gpu.problem, d, sampler=s, runs=4, chains=8, seed=3)
    assert seen and set(seen) == {CUDA}
    for name in MAPS:
        assert_round_off(twofold.to_host(getattr(a, name)), twofold.to_host(getattr(b, name)), name)


def test_torch_cuda_tensors_in_and_out():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this torch has no CUDA")
    gpu = GaussianMri(backend="cuda")
    x = torch.randn(3, H, W, dtype=torch.complex64, device="cuda")
    assert twofold._twofold._batch_address(x, gpu.ctx) == x.data_ptr()
    y = torch.from_dlpack(gpu.op.apply(x))
    assert y.is_cuda
    np.testing.assert_allclose(y.cpu().numpy(), GaussianMri().op.apply(x.cpu().numpy()), atol=1e-4)
    mu, v = torch.from_numpy(gpu.mean).cuda(), torch.from_numpy(gpu.variance).cuda()
    d = twofold.priors.Denoiser(lambda z, s: (v * z + (s * s) * mu) / (v + s * s), shape=(H, W), tensors="torch")
    s = twofold.Sampler("langevin", levels=40)
    a = twofold.sample(gpu.problem, gpu.prior, sampler=s, runs=4, chains=8, seed=4)
    b = twofold.sample(gpu.problem, d, sampler=s, runs=4, chains=8, seed=4)
    assert torch.from_dlpack(b.ambiguity).is_cuda
    for name in MAPS:
        assert_round_off(twofold.to_host(getattr(a, name)), twofold.to_host(getattr(b, name)), name)
