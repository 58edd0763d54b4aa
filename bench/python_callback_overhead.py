#!/usr/bin/env python3
"""Overhead of a Python denoiser per sampler step (docs/python.md, "Callable priors").

One MRI problem (line mask, pixel-basis Gaussian prior), annealed Langevin in the
replicate design, one wave of all chains; the same run with
  builtin  the library's Gaussian prior (C++),
  numpy    Denoiser: the same Gaussian denoiser written in NumPy,
  torch    Denoiser: the same in PyTorch (tensors='torch'),
  identity Denoiser returning z itself, against the same identity as a C++
           callback_prior (cpp-identity): the pure cost of crossing into Python.
Overhead per call = (time - its C++ twin's time) / denoiser calls (builtin for numpy
and torch, cpp-identity for identity); also as a ratio to the C++ twin. Each time is the best of --repeat runs (process CPU time).

    OMP_NUM_THREADS=1 PYTHONPATH=build/python python3 bench/python_callback_overhead.py --size 64 --chains 64
"""

import argparse
import time

import numpy as np

import twofold


def best_times(repeat, runs):
    """Process CPU seconds of each run, best of `repeat`, the variants interleaved so
    that load from other processes hits them alike (CPU time rather than wall time:
    on a shared machine it is far less noisy; with OMP_NUM_THREADS=1 it is the work)."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            t0 = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--chains", type=int, default=64, help="chains per run; runs = 2, one wave")
    ap.add_argument("--levels", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    rng = np.random.default_rng(0)
    n = a.size
    mask = np.zeros((n, n), np.float32)
    mask[:, ::4] = 1
    mu = (0.3 * rng.normal(size=(n, n))).astype(np.complex64)
    v = rng.uniform(0.5, 1.5, size=(n, n)).astype(np.float32)
    ctx = twofold.Context("cpu")
    op = twofold.operators.mri(mask, ctx=ctx)
    problem = twofold.InverseProblem(op, twofold.simulate(op, mu, 0.05), 0.05)
    builtin = twofold.priors.gaussian(mu, v, ctx=ctx)
    sampler = twofold.Sampler("langevin", levels=a.levels)

    def numpy_gaussian(z, s):
        return ((v * z + (s * s) * mu) / (v + s * s)).astype(np.complex64, copy=False)

    priors = {"builtin": builtin,
              "numpy": twofold.priors.Denoiser(numpy_gaussian, shape=(n, n)),
              "cpp-identity": twofold._twofold.priors._identity((n, n)),
              "identity": twofold.priors.Denoiser(lambda z, s: z, shape=(n, n))}
    try:
        import torch
        mt, vt = torch.from_numpy(mu), torch.from_numpy(v)
        priors["torch"] = twofold.priors.Denoiser(lambda z, s: (vt * z + (s * s) * mt) / (vt + s * s),
                                                  shape=(n, n), tensors="torch")
    except ImportError:
        pass

    def run(prior):
        return lambda: twofold.sample(problem, prior, sampler=sampler, design="replicate", runs=2, chains=a.chains,
                                      wave_chains=2 * a.chains)

    times = best_times(a.repeat, {name: run(prior) for name, prior in priors.items()})
    base = times["builtin"]
    twins = {"numpy": "builtin", "torch": "builtin", "identity": "cpp-identity"}
    print(f"{n}x{n} image, {2 * a.chains} chains in one wave, langevin {a.levels} levels x 3 steps, "
          f"{ctx.device_name}")
    print(f"{'prior':12s} {'seconds':>8s} {'calls':>6s} {'ratio':>6s} {'overhead/call':>14s} {'per chain':>10s}")
    print(f"{'builtin':12s} {base:8.3f}")
    print(f"{'cpp-identity':12s} {times['cpp-identity']:8.3f}")
    for name, prior in priors.items():
        if name not in twins:
            continue
        t, twin = times[name], times[twins[name]]
        calls = prior.calls
        over = (t - twin) / calls
        print(f"{name:12s} {t:8.3f} {calls:6d} {t / twin:6.2f} {over * 1e6:11.1f} us {over * 1e6 / (2 * a.chains):7.2f} us"
              f"   (vs {twins[name]})")


if __name__ == "__main__":
    main()
