"""The package's API: import, operators, problems, priors, sample, exact
posteriors, errors, zero-copy inputs, progress and the GIL."""

import threading

import numpy as np
import pytest

import twofold
from conftest import H, W, GaussianMri


def test_info_and_version():
    info = twofold.info(print_it=False)
    assert info["version"] == twofold.__version__
    assert info["cpu"].startswith("cpu")
    assert isinstance(info["cuda_usable"], bool)


def test_operator_adjoint_and_projections():
    rng = np.random.default_rng(1)
    p = GaussianMri()
    x = (rng.normal(size=(3, H, W)) + 1j * rng.normal(size=(3, H, W))).astype(np.complex64)
    y = (rng.normal(size=(3, H, W)) + 1j * rng.normal(size=(3, H, W))).astype(np.complex64)
    ax, ahy = p.op.apply(x), p.op.adjoint(y)
    assert ax.shape == (3, H, W)
    lhs, rhs = np.vdot(ax, y), np.vdot(x, ahy)  # <Ax, y> = <x, A^H y>
    assert abs(lhs - rhs) <= 1e-4 * abs(lhs)
    r, n = p.op.range_project(x), p.op.null_project(x)
    np.testing.assert_allclose(r + n, x, atol=1e-5)
    np.testing.assert_allclose(p.op.range_project(r), r, atol=1e-5)  # a projector


def test_every_operator_builds_from_arrays():
    rng = np.random.default_rng(2)
    ctx = twofold.Context("cpu")
    mask = (rng.uniform(size=(8, 8)) < 0.5).astype(np.float32)
    mask[0, 0] = 1
    maps = (rng.normal(size=(2, 8, 8)) + 1j * rng.normal(size=(2, 8, 8))).astype(np.complex64)
    ops = [
        twofold.operators.mri(mask, ctx=ctx),
        twofold.operators.mri(np.array([1, 0, 1, 0, 1, 0, 1, 1], np.float32), height=8, ctx=ctx),
        twofold.operators.multicoil(maps, np.array([1, 0, 1, 0, 1, 0, 1, 1], np.float32), ctx=ctx),
        twofold.operators.dense(rng.normal(size=(5, 64)), domain=(8, 8), ctx=ctx),
        twofold.operators.blur(np.ones((3, 3)) / 9, (8, 8), ctx=ctx),
        twofold.operators.inpainting(mask, ctx=ctx),
        twofold.operators.superres((8, 8), 2, ctx=ctx),
    ]
    names = [o.name for o in ops]
    assert names == ["mri", "mri", "mri-multicoil", "dense", "blur", "inpaint", "superres"]
    x = rng.normal(size=(8, 8)).astype(np.complex64)
    lines = np.broadcast_to(np.array([1, 0, 1, 0, 1, 0, 1, 1], np.float32), (8, 8))
    np.testing.assert_array_equal(ops[1].apply(x), twofold.operators.mri(lines.copy(), ctx=ctx).apply(x))
    for o in ops:
        y = o.apply(x)
        assert list(y.shape) == o.codomain
        assert np.isfinite(o.adjoint(y)).all()


def test_sample_maps_match_the_exact_posterior_for_pto():
    """pto draws exact Gaussian posterior samples: the sampled total variance meets
    the exact one within its Monte Carlo error (R K = 256 draws: relative standard
    error of a variance about sqrt(2/256) = 0.09 per pixel; averaged over 192 pixels
    far less; 0.05 on the spatial mean is over 5 standard errors)."""
    p = GaussianMri()
    r = twofold.sample(p.problem, p.prior, sampler="pto", design="replicate", runs=16, chains=16)
    e = twofold.exact_posterior(p.problem, p.prior)
    assert abs(r.total_variance.mean() / e.variance.mean() - 1) < 0.05
    err = np.abs(r.mean - e.mean) / np.sqrt(e.variance)
    assert err.mean() < 0.2  # E|z| / sqrt(256) ~ 0.06 for the mean of 256 draws
    assert r.ambiguity is None and r.draws is None


def test_keep_draws_gives_draws_and_quantiles(mri):
    r = twofold.sample(mri.problem, mri.prior, sampler=twofold.Sampler(levels=20), runs=2, chains=4, keep_draws=True)
    assert r.draws.shape == (8, H, W) and r.draws.dtype == np.complex64
    assert (r.quantile_lo <= r.quantile_hi).all()
    np.testing.assert_allclose(r.draws.mean(axis=0), r.mean, atol=1e-5)
    cov = twofold.coverage(r.draws, mri.truth)
    assert len(cov["nominal"]) == len(cov["quantile"])


def test_posterior_draws_with_several_measurement_sets(mri):
    y2 = np.stack([mri.y, twofold.simulate(mri.op, mri.truth, mri.sigma, seed=5)])
    problem = twofold.InverseProblem(mri.op, y2, mri.sigma)
    assert problem.sets == 2
    d = twofold.posterior_draws(problem, mri.prior, sampler=twofold.Sampler(levels=20), runs=2, chains=3)
    assert d.shape == (6, H, W)
    with pytest.raises(ValueError, match="measurement sets"):
        twofold.sample(problem, mri.prior, runs=2, chains=3)


def test_mixture_and_empirical_priors_sample(mri):
    means = np.stack([mri.mean, -mri.mean])
    variances = np.stack([mri.variance, mri.variance])
    mix = twofold.priors.mixture([0.3, 0.7], means, variances, ctx=mri.ctx)
    r = twofold.sample(mri.problem, mix, sampler=twofold.Sampler("exact", levels=50), design="replicate", runs=2,
                       chains=4)
    e = twofold.exact_posterior(mri.problem, mix)
    assert e.ambiguity is None and e.mean.shape == (H, W)
    assert np.isfinite(r.mean).all()
    emp = twofold.priors.empirical(np.stack([mri.mean, mri.truth, -mri.mean]), ctx=mri.ctx)
    d = twofold.posterior_draws(mri.problem, emp, sampler=twofold.Sampler(levels=20), runs=2, chains=2)
    assert d.shape == (4, H, W)


def test_gaussian_from_images_and_spectrum(mri):
    rng = np.random.default_rng(3)
    images = (rng.normal(size=(20, H, W)) + 1j * rng.normal(size=(20, H, W))).astype(np.complex64)
    for basis in ("pixel", "fourier"):
        prior = twofold.priors.gaussian_from_images(images, basis=basis, ctx=mri.ctx)
        assert prior.shape == [H, W]
    fourier = twofold.priors.gaussian(mri.mean, spectrum=np.ones((H, W)), ctx=mri.ctx)
    z = fourier.denoise(np.zeros((H, W), np.complex64), 1.0)
    assert z.shape == (H, W)


def test_bad_input_raises_value_error_naming_the_argument(mri):
    with pytest.raises(ValueError, match="sigma"):
        twofold.InverseProblem(mri.op, mri.y, -1.0)
    with pytest.raises(ValueError, match="y: "):
        twofold.InverseProblem(mri.op, mri.y[:3], 0.1)
    with pytest.raises(ValueError, match="variance"):
        twofold.priors.gaussian(mri.mean, np.ones((3, 3)))
    with pytest.raises(ValueError, match="mask"):
        twofold.operators.mri(np.full((4, 4), 0.5))
    with pytest.raises(ValueError, match="runs"):
        twofold.sample(mri.problem, mri.prior, runs=1)
    with pytest.raises(ValueError, match="sampler"):
        twofold.sample(mri.problem, mri.prior, sampler="nonsense")
    with pytest.raises(ValueError, match="mask: must be real"):
        twofold.operators.mri(np.ones((4, 4)) * 1j)
    with pytest.raises(ValueError, match="backend"):
        twofold.Context("tpu")
    other = twofold.priors.gaussian(mri.mean, mri.variance, ctx=twofold.Context("cpu"))
    with pytest.raises(ValueError, match="another twofold.Context"):
        twofold.sample(mri.problem, other)


def test_cuda_unavailable_is_a_device_error():
    if twofold.info(print_it=False)["cuda_usable"]:
        pytest.skip("a GPU is usable here")
    with pytest.raises(twofold.DeviceError):
        twofold.Context("cuda")
    assert issubclass(twofold.DeviceError, RuntimeError)


def test_inputs_are_used_without_a_copy_when_they_fit():
    """complex64 / float32 C-contiguous CPU arrays are read in place (the address the
    library reads is the array's); other dtypes and layouts are converted (0)."""
    x = np.zeros((4, 5), np.complex64)
    assert twofold._twofold._input_address(x) == x.ctypes.data
    m = np.zeros((4, 5), np.float32)
    assert twofold._twofold._input_address(m, "real") == m.ctypes.data
    assert twofold._twofold._input_address(x.astype(np.complex128)) == 0
    assert twofold._twofold._input_address(np.zeros((5, 4), np.complex64).T) == 0
    ro = np.zeros((4, 5), np.complex64)
    ro.flags.writeable = False
    assert twofold._twofold._input_address(ro) == ro.ctypes.data
    torch = pytest.importorskip("torch")
    t = torch.zeros(4, 5, dtype=torch.complex64)
    assert twofold._twofold._input_address(t) == t.data_ptr()
    assert twofold._twofold._input_address(t.t()) == 0


def test_chain_batches_are_read_in_place_on_their_backend(mri):
    """Operator and Prior methods read a complex64 C-contiguous batch on the context's
    device where it lies (the engine's address is the array's); other dtypes and
    layouts are copied onto the backend (0). Neither changes the result or the input."""
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(3, H, W)) + 1j * rng.normal(size=(3, H, W))).astype(np.complex64)
    address = twofold._twofold._batch_address
    assert mri.ctx.device == -1  # the CPU
    assert address(x, mri.ctx) == x.ctypes.data
    assert address(x[0], mri.ctx) == x.ctypes.data
    assert address(x.astype(np.complex128), mri.ctx) == 0
    assert address(np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1), mri.ctx) == 0
    before = x.copy()
    in_place, copied = mri.op.apply(x), mri.op.apply(x.astype(np.complex128))
    np.testing.assert_array_equal(in_place, copied)
    np.testing.assert_array_equal(mri.op.range_project(x), mri.op.range_project(x.astype(np.complex128)))
    np.testing.assert_array_equal(mri.prior.denoise(x, 0.3), mri.prior.denoise(x.astype(np.complex128), 0.3))
    np.testing.assert_array_equal(x, before)  # the projections work on a copy
    assert isinstance(in_place, np.ndarray) and in_place.dtype == np.complex64 and in_place.shape == (3, H, W)
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(x)
    assert address(t, mri.ctx) == t.data_ptr()


def test_to_host_copies_any_array():
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    y = twofold.to_host(x)
    np.testing.assert_array_equal(x, y)
    assert y.dtype == x.dtype and y.ctypes.data != x.ctypes.data


def test_progress_callable_and_its_exception(mri):
    events = []
    twofold.sample(mri.problem, mri.prior, sampler=twofold.Sampler(levels=10), runs=2, chains=2,
                   progress=events.append)
    assert events and {"stage", "step", "steps", "chains_done", "eta_seconds"} <= set(events[0])
    assert {e["stage"] for e in events} == {"stage 1", "stage 2"}

    def stop(event):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        twofold.sample(mri.problem, mri.prior, sampler=twofold.Sampler(levels=10), runs=2, chains=2, progress=stop)
    twofold.sample(mri.problem, mri.prior, sampler=twofold.Sampler(levels=10), runs=2, chains=2, progress=True)


def test_the_gil_is_released_while_the_engine_runs(mri):
    """Another Python thread keeps running during sample()."""
    ticks = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks[0]
        twofold.sample(mri.problem, mri.prior, sampler=twofold.Sampler(levels=200), runs=4, chains=8)
        during = ticks[0] - before
    finally:
        done.set()
        t.join()
    assert during > 1000


def test_sbc_of_the_exact_sampler_returns_ranks_and_coverage():
    """A small SBC run of pto (exact Gaussian posterior draws): every test function's
    ranks lie in 0..draws, the histograms count every replicate, and the smallest
    chi-square p-value over the test functions is not tiny (with about 8 test
    functions a correct sampler falls below 1e-4 with probability < 1e-3)."""
    p = GaussianMri()
    out = twofold.sbc(p.op, p.sigma, p.prior, sampler="pto", replicates=40, draws=9, bins=5, seed=2)
    assert out["replicates"] == 40 and out["draws"] == 9
    assert len(out["tests"]) >= 4
    for t in out["tests"]:
        assert all(0 <= r <= 9 for r in t["ranks"])
        assert sum(t["histogram"]) == 40
    assert min(t["chi2_p"] for t in out["tests"]) > 1e-4
    assert len(out["coverage"]["nominal"]) == len(out["coverage"]["quantile"])
    pc = out["predictive_coverage"]
    assert len(pc["quantile"]) == len(pc["nominal"]) == len(pc["standard_error"])


def test_sbc_predictive_coverage_flags_twice_the_noise():
    """The held-out measurements' predictive coverage at p = 0.9 is p for the right noise
    (within 4 standard errors over the 100 replicates) and far below it when the data
    carry twice the assumed noise (noise_scale=2; more than 5 standard errors)."""
    p = GaussianMri()
    args = dict(sampler="pto", replicates=100, draws=9, bins=5, seed=3)
    good = twofold.sbc(p.op, p.sigma, p.prior, **args)["predictive_coverage"]
    bad = twofold.sbc(p.op, p.sigma, p.prior, noise_scale=2.0, **args)["predictive_coverage"]
    i = good["nominal"].index(0.9)
    assert abs(good["quantile"][i] - 0.9) < 4 * good["standard_error"][i]
    assert bad["quantile"][i] < 0.9 - 5 * bad["standard_error"][i]


def test_a_real_field_problem_with_a_dense_operator():
    """An EEG-like real problem: 6 real measurements of a 4 x 4 image. pto draws are
    exact; their variance meets the dense exact posterior's within Monte Carlo error
    (256 draws, relative standard error of a variance sqrt(2/256) = 0.09 per pixel;
    0.1 on the average over 16 pixels is over 4 standard errors)."""
    rng = np.random.default_rng(6)
    ctx = twofold.Context("cpu")
    op = twofold.operators.dense(rng.normal(size=(6, 16)), domain=(4, 4), ctx=ctx)
    mean = rng.normal(size=(4, 4))
    prior = twofold.priors.gaussian(mean, np.full((4, 4), 0.8), ctx=ctx)
    y = twofold.simulate(op, mean + rng.normal(size=(4, 4)), 0.1, field="real")
    assert np.all(y.imag == 0)
    problem = twofold.InverseProblem(op, y, 0.1, field="real")
    assert problem.field == "real"
    r = twofold.sample(problem, prior, sampler="pto", design="replicate", runs=16, chains=16, keep_draws=True)
    assert np.all(r.draws.imag == 0)
    e = twofold.exact_posterior(problem, prior)
    assert abs(r.total_variance.mean() / e.variance.mean() - 1) < 0.1
    with pytest.raises(ValueError, match="imaginary"):
        twofold.InverseProblem(op, y + 1j, 0.1, field="real")
