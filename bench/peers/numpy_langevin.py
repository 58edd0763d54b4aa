#!/usr/bin/env python3
"""NumPy peer of twofold's samplers, for timing only (SPEC §6).

Runs the same per-step algorithm as twofold on the same sizes (image H x W,
chains, noise levels, steps), vectorised over chains: every array is
[chains, H, W] complex64 and the centred orthonormal FFT is
fftshift(fft2(ifftshift(x), norm="ortho")) over axes (-2, -1), batched by
numpy.fft. Idiomatic NumPy with in-place updates where they come naturally; NumPy
runs it on one thread.

  langevin  annealed Langevin (Jalal et al. 2021), as host/sampler_langevin.cpp:
            EDM levels s; per level δ = ε / (1/s² + 1/(σ_y² + γ s²)); per step
              d = μ + v/(v + s²) (u − μ)                  pixel-basis Gaussian denoiser
              g = ifft2c(mask · fft2c(u))                 AᴴA u
              u ← u + δ [(d − u)/s² + (Aᴴy − g)/(σ_y² + γ s²)] + √(2δ) ζ,  ζ ~ CN(0, I)
  exact     ancestral steps with a Fourier-basis Gaussian denoiser, as
            host/sampler_exact.cpp: d = ifft2c(m + c/(c + S)(fft2c(u) − m)),
            u ← d + (T/S)(u − d) + √(T(S − T)/S) ζ, S = s_i², T = s_{i+1}² (0 at the end).

The inputs are NOT twofold's problem: prior mean and variance, the Fourier-basis
posterior, Aᴴy and a random 4x line mask (8 % centre block) are seeded random
arrays of the right shapes and dtypes. The numbers drawn are meaningless; only the
time per chain-step is used. Each timed repeat runs the whole sampler (initial
draw included) after one untimed warm-up with two levels.

Prints one JSON line with chain_steps_per_second (chains · steps / median seconds).
If NumPy cannot be imported it prints {"skipped": reason} and exits 0.
"""

import argparse
import json
import platform
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sampler", choices=["langevin", "exact"], default="langevin")
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--chains", type=int, required=True)
    p.add_argument("--levels", type=int, required=True, help="noise levels (>= 2)")
    p.add_argument("--inner-steps", type=int, default=1, help="langevin steps per level")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sigma-y", type=float, default=0.01)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--step", type=float, default=0.1, help="langevin epsilon")
    p.add_argument("--s-min", type=float, default=1e-4)
    p.add_argument("--s-max", type=float, default=10.0)
    p.add_argument("--rho", type=float, default=7.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    for name in ("height", "width", "chains", "inner_steps", "repeats"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if a.levels < 2:
        p.error("--levels must be >= 2")
    return a


def edm_levels(n, s_min, s_max, rho):
    """Karras et al. 2022 levels, as twofold::noise_levels(edm_karras)."""
    a, b = s_max ** (1 / rho), s_min ** (1 / rho)
    s = [(a + i / (n - 1) * (b - a)) ** rho for i in range(n)]
    s[0], s[-1] = s_max, s_min
    return s


def main(argv):
    args = parse_args(argv)
    try:
        import numpy as np
    except ImportError as e:
        print(json.dumps({"skipped": f"numpy is not installed for {sys.executable}: {e}"}))
        return 0

    axes = (-2, -1)
    H, W, C = args.height, args.width, args.chains
    rng = np.random.default_rng(args.seed)

    def fft2c(x):
        return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=axes), norm="ortho"), axes=axes)

    def ifft2c(x):
        return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(x, axes=axes), norm="ortho"), axes=axes)

    def complex_normal(shape):
        """CN(0, 1): E|z|² = 1, variance 1/2 per real and imaginary part."""
        z = np.empty(shape, dtype=np.complex64)
        rng.standard_normal(dtype=np.float32, out=z.view(np.float32))
        z *= np.float32(np.sqrt(0.5))
        return z

    # Timing-only inputs of the right shapes (see the module docstring).
    mean = complex_normal((H, W))
    variance = rng.uniform(0.01, 1.0, size=(H, W)).astype(np.float32)
    aty = complex_normal((H, W))
    lines = np.zeros(W, dtype=np.float32)
    centre = max(1, round(W * 0.08))
    lines[W // 2 - centre // 2: W // 2 - centre // 2 + centre] = 1
    outside = np.flatnonzero(lines == 0)
    lines[rng.choice(outside, size=max(0, round(W / 4) - centre), replace=False)] = 1
    mask = np.broadcast_to(lines, (H, W)).astype(np.float32)
    sigma2 = args.sigma_y ** 2

    def langevin(levels, inner):
        u = complex_normal((C, H, W))
        u *= np.float32(levels[0])
        for s in levels:
            s2 = s * s
            lik = 1.0 / (sigma2 + args.gamma * s2)
            delta = args.step / (1.0 / s2 + lik)
            shrink = (variance / (variance + np.float32(s2))).astype(np.float32)
            for _ in range(inner):
                d = u - mean
                d *= shrink
                d += mean          # d = D(u, s)
                d -= u
                d *= np.float32(1.0 / s2)
                g = fft2c(u)
                g *= mask
                g = ifft2c(g)      # AᴴA u
                np.subtract(aty, g, out=g)
                g *= np.float32(lik)
                d += g
                d *= np.float32(delta)
                u += d
                z = complex_normal((C, H, W))
                z *= np.float32(np.sqrt(2 * delta))
                u += z
        return u

    def exact(levels):
        u = complex_normal((C, H, W))
        u *= np.sqrt(variance + np.float32(levels[0] ** 2))
        u += mean
        u = ifft2c(u)
        for i, s in enumerate(levels):
            S = s * s
            T = levels[i + 1] ** 2 if i + 1 < len(levels) else 0.0
            shrink = (variance / (variance + np.float32(S))).astype(np.float32)
            d = fft2c(u)
            d -= mean
            d *= shrink
            d += mean
            d = ifft2c(d)          # Fourier-basis denoiser
            u -= d
            u *= np.float32(T / S)
            u += d
            if T > 0:
                z = complex_normal((C, H, W))
                z *= np.float32(np.sqrt(T * (S - T) / S))
                u += z
        return u

    def run(levels):
        if args.sampler == "langevin":
            return langevin(levels, args.inner_steps), len(levels) * args.inner_steps
        return exact(levels), len(levels)

    run(edm_levels(2, args.s_min, args.s_max, args.rho))  # warm-up
    levels = edm_levels(args.levels, args.s_min, args.s_max, args.rho)
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        u, steps = run(levels)
        seconds.append(time.perf_counter() - t0)
        assert u.dtype == np.complex64, f"state was promoted to {u.dtype}"
    median = float(np.median(seconds))
    print(json.dumps({
        "name": "numpy",
        "sampler": args.sampler,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "dtype": "complex64",
        "shape": [H, W],
        "chains": C,
        "levels": args.levels,
        "steps_per_chain": steps,
        "repeats": args.repeats,
        "seconds": median,
        "all_seconds": seconds,
        "chain_steps_per_second": C * steps / median,
        "inputs": "random arrays of the problem's shapes (timing only)",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
