"""The exact posteriors of mixture and empirical priors, through the Python package,
against the closed forms computed here in NumPy (float64, dense linear algebra), for a
real and a complex dense problem. A Gaussian-mixture prior under a linear-Gaussian
likelihood has a Gaussian-mixture posterior: component k moves to the Gaussian
posterior (m_k, P_k) and is re-weighted by its evidence w_k N(y; A mu_k, A V_k A^H +
sigma^2 I). The tolerance 1e-4 (relative to the largest value) covers twofold's float32
outputs and inputs; a wrong weight or a missed evidence term moves the maps by O(1)."""

import numpy as np
import pytest

import twofold

SHAPE = (2, 3)
N = SHAPE[0] * SHAPE[1]


def closed_form(a, y, sigma, weights, means, variances, complex_field):
    """Posterior mean and per-pixel variance E|x - E x|^2 of a diagonal Gaussian mixture."""
    m_rows = a.shape[0]
    kappa = 1.0 if complex_field else 0.5  # CN densities have exp(-r^H C^-1 r), N ones exp(-r^T C^-1 r / 2)
    log_evidence, post_means, post_vars = [], [], []
    for w, mu, v in zip(weights, means, variances):
        mu, v = mu.reshape(N), v.reshape(N)
        c = (a * v) @ a.conj().T + sigma ** 2 * np.eye(m_rows)
        r = y - a @ mu
        _, logdet = np.linalg.slogdet(c)
        log_evidence.append(np.log(w) - kappa * np.real(r.conj() @ np.linalg.solve(c, r)) - kappa * logdet)
        # Atoms (v = 0) stay where they are; otherwise the Gaussian posterior.
        if np.all(v == 0):
            post_means.append(mu)
            post_vars.append(np.zeros(N))
            continue
        precision = np.diag(1.0 / v) + a.conj().T @ a / sigma ** 2
        cov = np.linalg.inv(precision)
        post_means.append(cov @ (mu / v + a.conj().T @ y / sigma ** 2))
        post_vars.append(np.real(np.diag(cov)))
    log_evidence = np.array(log_evidence)
    resp = np.exp(log_evidence - log_evidence.max())
    resp /= resp.sum()
    mean = sum(r * m for r, m in zip(resp, post_means))
    second = sum(r * (pv + np.abs(pm) ** 2) for r, pm, pv in zip(resp, post_means, post_vars))
    return mean.reshape(SHAPE), (second - np.abs(mean) ** 2).reshape(SHAPE)


def problem_of(complex_field, seed):
    rng = np.random.default_rng(seed)
    ctx = twofold.Context("cpu")
    a = rng.normal(size=(4, N))
    if complex_field:
        a = a + 1j * rng.normal(size=(4, N))
    a = (a / np.sqrt(N)).astype(np.complex64 if complex_field else np.float32)
    op = twofold.operators.dense(a, domain=SHAPE, ctx=ctx)
    field = "complex" if complex_field else "real"
    truth = rng.normal(size=SHAPE) + (1j * rng.normal(size=SHAPE) if complex_field else 0)
    sigma = 0.3
    y = twofold.simulate(op, truth, sigma, field=field)
    return ctx, op, field, a.astype(np.complex128), np.asarray(y, np.complex128).reshape(-1), sigma


@pytest.mark.parametrize("complex_field", [False, True], ids=["real", "complex"])
def test_mixture_exact_posterior_matches_the_closed_form(complex_field):
    ctx, op, field, a, y, sigma = problem_of(complex_field, 11)
    rng = np.random.default_rng(12)
    weights = np.array([0.5, 0.3, 0.2])
    means = rng.normal(size=(3,) + SHAPE) * 1.5
    if complex_field:
        means = means + 1j * rng.normal(size=(3,) + SHAPE)
    means = means.astype(np.complex64)
    variances = rng.uniform(0.2, 1.0, size=(3,) + SHAPE).astype(np.float32)
    prior = twofold.priors.mixture(weights, means, variances, field=field, ctx=ctx)
    problem = twofold.InverseProblem(op, y.astype(np.complex64).reshape(4), sigma, field=field)
    got = twofold.exact_posterior(problem, prior)
    want_mean, want_var = closed_form(a, y, sigma, weights, means.astype(np.complex128),
                                      variances.astype(np.float64), complex_field)
    scale = np.abs(want_mean).max()
    np.testing.assert_allclose(got.mean, want_mean, atol=1e-4 * scale, rtol=0)
    np.testing.assert_allclose(got.variance, want_var, atol=1e-4 * want_var.max(), rtol=0)


@pytest.mark.parametrize("complex_field", [False, True], ids=["real", "complex"])
def test_empirical_exact_posterior_matches_the_closed_form(complex_field):
    ctx, op, field, a, y, sigma = problem_of(complex_field, 21)
    rng = np.random.default_rng(22)
    # Atoms close enough (relative to sigma) that several share the posterior weight.
    images = 0.3 * rng.normal(size=(5,) + SHAPE)
    if complex_field:
        images = images + 0.3j * rng.normal(size=(5,) + SHAPE)
    images = images.astype(np.complex64)
    prior = twofold.priors.empirical(images, field=field, ctx=ctx)
    problem = twofold.InverseProblem(op, y.astype(np.complex64).reshape(4), sigma, field=field)
    got = twofold.exact_posterior(problem, prior)
    want_mean, want_var = closed_form(a, y, sigma, np.full(5, 0.2), images.astype(np.complex128),
                                      np.zeros((5,) + SHAPE), complex_field)
    np.testing.assert_allclose(got.mean, want_mean, atol=1e-4 * np.abs(want_mean).max(), rtol=0)
    np.testing.assert_allclose(got.variance, want_var, atol=1e-4 * max(want_var.max(), 1e-6), rtol=0)
