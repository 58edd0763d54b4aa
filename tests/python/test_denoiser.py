"""Callable priors (twofold.priors.Denoiser): a Gaussian denoiser written in NumPy
or PyTorch reproduces the built-in Gaussian prior to float round-off for every
sampler that needs only the denoiser (langevin, ddrm, ddnm) and, with the autograd
VJP, for dps, pigdm and smc; a torch module drives an MRI sample end to end; the
callable sees the engine's memory without a copy; every faulty callable ends the
run with a Python exception naming the call and chains, and the next run works."""

import traceback

import numpy as np
import pytest

import twofold
from conftest import H, W, GaussianMri, assert_round_off

MAPS = ["mean", "total_variance", "ambiguity", "estimation", "range_variance", "null_variance"]


def compare(p, prior, sampler, design="cascade"):
    s = twofold.Sampler(sampler, levels=40)
    a = twofold.sample(p.problem, p.prior, sampler=s, design=design, runs=4, chains=8, seed=3)
    b = twofold.sample(p.problem, prior, sampler=s, design=design, runs=4, chains=8, seed=3)
    for name in MAPS:
        if getattr(a, name) is not None:
            assert_round_off(getattr(a, name), getattr(b, name), f"{sampler}: {name}")


@pytest.mark.parametrize("sampler,design", [("langevin", "cascade"), ("ddrm", "replicate"), ("ddnm", "replicate")])
def test_numpy_gaussian_denoiser_reproduces_the_builtin_prior(sampler, design):
    p = GaussianMri()
    d = twofold.priors.Denoiser(p.numpy_denoiser(), shape=(H, W), name="numpy-gaussian")
    compare(p, d, sampler, design)
    assert d.calls > 0 and not d.has_vjp


def test_a_dlpack_callable_reproduces_the_builtin_prior():
    """tensors='dlpack' hands the callable nanobind's DLPack arrays (on the engine's
    device), which twofold itself reads: the built-in prior's own denoise through the
    callable path gives the built-in prior's maps."""
    p = GaussianMri()
    seen = []

    def denoise(z, s):
        seen.append(twofold._twofold._array_address(z)[0])
        assert not isinstance(z, np.ndarray)
        return p.prior.denoise(z, s)

    compare(p, twofold.priors.Denoiser(denoise, shape=(H, W), tensors="dlpack"), "langevin")
    assert seen and set(seen) == {1}  # DLPack device type 1: the CPU


def test_denoiser_writing_into_out():
    p = GaussianMri()
    denoise = p.numpy_denoiser()

    def fill(z, s, out):
        out[...] = denoise(z, s)

    compare(p, twofold.priors.Denoiser(fill, shape=(H, W), writes_out=True), "langevin")


def torch_gaussian(p):
    torch = pytest.importorskip("torch")
    mu, v = torch.from_numpy(p.mean), torch.from_numpy(p.variance)

    def denoise(z, s):
        return (v * z + (s * s) * mu) / (v + s * s)

    return denoise


@pytest.mark.parametrize("sampler,design", [("langevin", "cascade"), ("ddnm", "replicate"), ("dps", "replicate"),
                                            ("pigdm", "replicate"), ("smc", "replicate")])
def test_torch_gaussian_denoiser_with_autograd_vjp_reproduces_the_builtin_prior(sampler, design):
    p = GaussianMri()
    fn = torch_gaussian(p)
    d = twofold.priors.Denoiser(fn, twofold.priors.torch_vjp(fn), shape=(H, W), name="torch-gaussian",
                                tensors="torch")
    compare(p, d, sampler, design)
    if sampler in ("dps", "pigdm", "smc"):
        assert d.vjp_calls > 0


def test_torch_vjp_equals_the_builtin_jacobian_transpose():
    p = GaussianMri()
    torch = pytest.importorskip("torch")
    vjp = twofold.priors.torch_vjp(torch_gaussian(p))
    rng = np.random.default_rng(4)
    z = (rng.normal(size=(3, H, W)) + 1j * rng.normal(size=(3, H, W))).astype(np.complex64)
    w = (rng.normal(size=(3, H, W)) + 1j * rng.normal(size=(3, H, W))).astype(np.complex64)
    got = vjp(torch.from_numpy(z), 0.7, torch.from_numpy(w)).numpy()
    assert_round_off(p.prior.vjp(z, 0.7, w), got, "vjp")


def test_a_torch_module_denoiser_samples_mri_end_to_end():
    """A small torch module of our own (no downloaded weights): a fixed smoothing
    convolution blended with its input by s^2/(s^2 + tau^2), run on the real and
    imaginary channels. langevin and dps (autograd VJP through the module) give
    finite maps whose posterior mean is closer to a smooth truth than the
    zero-filled image, and whose ambiguity is larger where k-space was not seen."""
    torch = pytest.importorskip("torch")

    class SmoothingDenoiser(torch.nn.Module):
        def __init__(self, tau=0.3):
            super().__init__()
            k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
            k = torch.outer(k, k) / 256
            self.conv = torch.nn.Conv2d(2, 2, 5, padding=2, padding_mode="circular", groups=2, bias=False)
            with torch.no_grad():
                self.conv.weight.copy_(k.expand(2, 1, 5, 5))
            self.tau = tau

        def forward(self, z, s):
            x = torch.view_as_real(z).permute(0, 3, 1, 2)  # [chains, 2, H, W]
            a = s * s / (s * s + self.tau ** 2)
            d = (1 - a) * x + a * self.conv(x)
            return torch.view_as_complex(d.permute(0, 2, 3, 1).contiguous())

    net = SmoothingDenoiser()
    for p_ in net.parameters():
        p_.requires_grad_(False)
    yy, xx = np.mgrid[0:H, 0:W]
    truth = np.exp(-((yy - H / 2) ** 2 + (xx - W / 2) ** 2) / 12.0).astype(np.complex64)
    mask = np.zeros((H, W), np.float32)
    mask[:, W // 2 - 2: W // 2 + 3] = 1
    mask[:, ::3] = 1
    op = twofold.operators.mri(mask)
    problem = twofold.InverseProblem(op, twofold.simulate(op, truth, 0.02), 0.02)
    prior = twofold.priors.Denoiser(net, twofold.priors.torch_vjp(net), shape=(H, W), name="smoothing-net",
                                    tensors="torch")
    sampled = mask > 0
    for sampler in ("langevin", "dps"):
        r = twofold.sample(problem, prior, sampler=twofold.Sampler(sampler, levels=60), runs=4, chains=8)
        assert np.isfinite(r.mean).all() and np.isfinite(r.total_variance).all()
        # The mean explains the data: its k-space residual on the sampled entries is
        # within a few noise standard deviations (sigma = 0.02) ...
        residual = (op.apply(r.mean.astype(np.complex64)) - problem_y(problem, op))[sampled]
        assert np.sqrt(np.mean(np.abs(residual) ** 2)) < 5 * 0.02, sampler
        # ... and is far closer to the truth than the zero image.
        assert np.abs(r.mean - truth).mean() < 0.2 * np.abs(truth).mean(), sampler
        assert (r.total_variance > 0).all()
    assert prior.vjp_calls > 0


def problem_y(problem, op):
    """y on the sampled entries: A A^H y = y there for a 0/1 mask."""
    return op.apply(problem.zero_filled.astype(np.complex64))


def test_the_callable_sees_the_engines_memory_without_a_copy():
    p = GaussianMri()
    denoise = p.numpy_denoiser()
    seen = []

    def spy(z, s):
        seen.append((z.ctypes.data, z.flags.owndata, z.flags.writeable, z.shape))
        return denoise(z, s)

    d = twofold.priors.Denoiser(spy, shape=(H, W))
    twofold.sample(p.problem, d, sampler=twofold.Sampler(levels=10), design="replicate", runs=2, chains=4,
                   wave_chains=8)
    addresses = {a for a, _, _, _ in seen}
    assert all(not own and not writable for _, own, writable, _ in seen)  # views of engine memory, read-only
    assert all(shape == (8, H, W) for *_, shape in seen)  # the whole wave in one call
    assert len(addresses) <= 3  # the same few engine buffers every step, no per-call copies
    assert len(seen) == d.calls


def failing_run(p, fn, **kw):
    prior = twofold.priors.Denoiser(fn, shape=(H, W), name="faulty", **kw)
    return lambda: twofold.sample(p.problem, prior, sampler=twofold.Sampler(levels=10), runs=2, chains=4)


def still_usable(p):
    r = twofold.sample(p.problem, p.prior, sampler=twofold.Sampler(levels=10), runs=2, chains=4)
    assert np.isfinite(r.mean).all()


def test_a_callable_that_raises_ends_the_run_with_its_own_exception():
    p = GaussianMri()
    calls = []

    def broken_network(z, s):
        calls.append(s)
        if len(calls) == 5:
            raise ZeroDivisionError("layer 3 divided by zero")
        return p.numpy_denoiser()(z, s)

    with pytest.raises(ZeroDivisionError, match="layer 3") as info:
        failing_run(p, broken_network)()
    text = "".join(traceback.format_exception(info.value))
    assert "broken_network" in text  # the original traceback
    assert "call 5" in text and "chains" in text and "step" in text and "faulty" in text
    still_usable(p)


def one_value(z, index, value):
    """z with its flat element `index` (first chain: 5; last chain: -1) set to `value`."""
    out = np.array(z)
    out.reshape(-1)[index] = value
    return out


@pytest.mark.parametrize("fn,message", [
    (lambda z, s: None, "returned None"),
    (lambda z, s: z[:, :3], "returned shape"),
    (lambda z, s: z.astype(np.complex128), "expected complex64"),
    (lambda z, s: z.real.copy(), "expected complex64"),
    (lambda z, s: z * np.nan, "non-finite"),
    (lambda z, s: z * np.inf, "non-finite"),
    (lambda z, s: one_value(z, 5, np.inf), r"non-finite values \(NaN or inf\) for 1 chain\(s\): 0\b"),
    (lambda z, s: one_value(z, -1, 1j * np.nan), r"for 1 chain\(s\): \d+ "),
    (lambda z, s: "not an array", "cannot read"),
])
def test_every_bad_return_is_a_callback_error_naming_the_call(fn, message):
    p = GaussianMri()
    with pytest.raises(twofold.CallbackError, match=message) as info:
        failing_run(p, fn)()
    assert "call 1" in str(info.value) and "chains 0-" in str(info.value)
    assert isinstance(info.value, ValueError)
    still_usable(p)


def test_a_tensor_on_another_device_is_refused():
    torch = pytest.importorskip("torch")
    p = GaussianMri()
    fn = lambda z, s: torch.zeros(z.shape, dtype=torch.complex64, device="meta")  # noqa: E731
    with pytest.raises(twofold.CallbackError, match="device 'meta'"):
        failing_run(p, fn, tensors="torch")()
    still_usable(p)


def test_a_failing_vjp_names_itself():
    p = GaussianMri()

    def bad_vjp(z, s, w):
        raise RuntimeError("no gradient here")

    prior = twofold.priors.Denoiser(p.numpy_denoiser(), bad_vjp, shape=(H, W))
    with pytest.raises(RuntimeError, match="no gradient here") as info:
        twofold.sample(p.problem, prior, sampler=twofold.Sampler("dps", levels=10), design="replicate", runs=2,
                       chains=2)
    assert "vjp" in "".join(traceback.format_exception(info.value))
    still_usable(p)


def test_samplers_that_need_a_vjp_say_so():
    p = GaussianMri()
    prior = twofold.priors.Denoiser(p.numpy_denoiser(), shape=(H, W), name="no-vjp")
    with pytest.raises(ValueError, match="no-vjp"):
        twofold.sample(p.problem, prior, sampler="dps", design="replicate", runs=2, chains=2)


def test_bad_denoiser_arguments():
    with pytest.raises(ValueError, match="fn must be callable"):
        twofold.priors.Denoiser(3, shape=(4, 4))
    with pytest.raises(ValueError, match="shape"):
        twofold.priors.Denoiser(lambda z, s: z, shape=(4,))
    with pytest.raises(ValueError, match="tensors"):
        twofold.priors.Denoiser(lambda z, s: z, shape=(4, 4), tensors="jax")


def test_the_example_runs_and_writes_its_figure(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "mri_with_torch_denoiser.py"
    out = tmp_path / "figure.png"
    subprocess.run([sys.executable, str(script), "--size", "24", "--levels", "40", "--runs", "4", "--chains", "4",
                    "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
