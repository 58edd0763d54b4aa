#!/usr/bin/env python3
"""NumPy peer of twofold's samplers, for timing only (docs/design.md §6).

Runs the same per-step algorithm as twofold on the same sizes (image H x W,
chains, noise levels, steps), vectorised over chains: every array is
[chains, H, W] complex64 and the centred orthonormal FFT is
fftshift(fft2(ifftshift(x), norm="ortho")) over axes (-2, -1), batched by
numpy.fft. Idiomatic NumPy with in-place updates where they come naturally; NumPy
runs it on one thread.

  langevin  annealed Langevin (Jalal et al. 2021), as host/samplers/langevin.cpp:
            EDM levels s; per level δ = ε / (1/s² + 1/(σ_y² + γ s²)); per step
              d = μ + v/(v + s²) (u − μ)                  pixel-basis Gaussian denoiser
              g = AᴴA u                                   (--operator, below)
              u ← u + δ [(d − u)/s² + (Aᴴy − g)/(σ_y² + γ s²)] + √(2δ) ζ,  ζ ~ CN(0, I)
            (ζ ~ N(0, I) for --operator dense, a real-valued problem)
  exact     ancestral steps with a Fourier-basis Gaussian denoiser, as
            host/samplers/exact.cpp: d = ifft2c(m + c/(c + S)(fft2c(u) − m)),
            u ← d + (T/S)(u − d) + √(T(S − T)/S) ζ, S = s_i², T = s_{i+1}² (0 at the end).
            Single-coil, or --operator gmm-1d: the same ancestral steps with the
            denoiser of a real 1-D three-component Gaussian mixture (the exact
            posterior of the bench's gmm-1d problem), as the diagonal mixture
            denoiser of host/priors/gaussian_mixture.cpp:
              r_k ∝ w_k N(u; m_k, c_k + S) by log-sum-exp, d = Σ_k r_k (m_k + c_k/(c_k + S)(u − m_k)).

Operators (AᴴA u of one langevin step), as host/operators/:
  single-coil  ifft2c(mask · fft2c(u))
  multicoil    Σ_c conj(S_c) ifft2c(mask · fft2c(S_c u)), [chains, coils, H, W] batched
  dense        (u Aᵀ) conj(A): two complex64 GEMMs through NumPy's BLAS (u is
               [chains, n], A is m × n stored as complex64 as twofold stores it)
  gmm-1d       A = 1 on a 1 x 1 image (exact sampler only; P_R is the identity mask)
Every run ends, as twofold::sample's accumulators do, with P_R u of every chain:
single-coil ifft2c(mask · fft2c(u)); dense V_r V_rᴴ u (V_r from an SVD computed
before timing, as twofold computes it when the operator is built); multicoil with
--projection row-svd (what twofold does for line masks) V_h V_hᴴ on every image row
h, V_h from the eigen-decomposition of A_hᴴA_h computed before timing; with
--projection cg the minimum-norm solution of AᴴA z = AᴴA u by batched CG from z = 0 with per-chain
scalars, stopped when ‖AᴴA(z − u)‖ ≤ 1e-5 ‖AᴴA u‖ (host/operators/multicoil.cpp), or
after exactly --projection-iterations iterations: the bench passes the count twofold
took in the same run, so both do the same work (the peer's own maps and mask need not
converge at the same rate); the peer's final relative residual is reported. twofold's
Welford accumulators are not mirrored.

The inputs are NOT twofold's problem: prior mean and variance, the Fourier-basis
posterior, Aᴴy, a random 4x line mask (8 % centre block), the lead field (N(0, 1/n)
entries) and the coil maps (the loop-field formula of include/twofold/data/coil_maps.hpp
with seeded placement, so the CG sees similar conditioning) are seeded random arrays
of the right shapes and dtypes. The numbers drawn are meaningless; only the time per
chain-step is used. Each timed repeat runs the whole sampler (initial draw included)
after one untimed warm-up with two levels.

Prints one JSON line with chain_steps_per_second (chains · steps / median seconds).
If NumPy cannot be imported it prints {"skipped": reason} and exits 0.
bench/peers/torch_langevin.py is the same algorithm in PyTorch.
"""

import json
import sys
import time

from peer_common import edm_levels, parse_args, print_report


def main(argv):
    args = parse_args(argv, __doc__.split("\n")[0])
    try:
        import numpy as np
    except ImportError as e:
        print(json.dumps({"skipped": f"numpy is not installed for {sys.executable}: {e}"}))
        return 0

    axes = (-2, -1)
    H, W, C = args.height, args.width, args.chains
    rng = np.random.default_rng(args.seed)

    # NumPy < 2 computes every FFT in complex128; the cast keeps the state complex64
    # under both (a no-op on NumPy 2, whose FFTs keep complex64).
    def fft2c(x):
        y = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=axes), norm="ortho"), axes=axes)
        return y.astype(np.complex64, copy=False)

    def ifft2c(x):
        y = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(x, axes=axes), norm="ortho"), axes=axes)
        return y.astype(np.complex64, copy=False)

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
    real = args.operator in ("dense", "gmm-1d")

    if args.operator == "multicoil":
        y, x = np.mgrid[:H, :W].astype(np.float64)
        y = (y - H // 2) / (H / 2)
        x = (x - W // 2) / (W / 2)
        maps = np.empty((args.coils, H, W), dtype=np.complex64)
        for c in range(args.coils):
            j, phase0, gx, gy = rng.uniform(size=4)
            theta = 2 * np.pi * (c + 0.5 * (j - 0.5)) / args.coils
            d2 = (x - 1.5 * np.cos(theta)) ** 2 + (y - 1.5 * np.sin(theta)) ** 2
            maps[c] = (1 + d2) ** -1.5 * np.exp(1j * (2 * np.pi * phase0 + np.pi * (gx - 0.5) * x
                                                       + np.pi * (gy - 0.5) * y))
        maps /= np.sqrt((np.abs(maps) ** 2).sum(axis=0))
        maps_conj = maps.conj()
        if args.projection == "row-svd":
            # Row h is measured alone by A_h = [diag(lines) F_W diag(S_c[h])]_c: its
            # Gram is P ∘ Σ_c conj(S_c[h]) S_c[h]ᵀ with P = F_Wᴴ diag(lines) F_W.
            f = np.fft.fftshift(np.fft.fft(np.fft.ifftshift(np.eye(W), axes=0), axis=0, norm="ortho"), axes=0)
            pw = f.conj().T @ (lines[:, None] * f)
            gram = pw[None] * np.einsum("chw,chv->hwv", maps_conj.astype(np.complex128), maps.astype(np.complex128))
            lam, vec = np.linalg.eigh(gram)
            cut = (max(args.coils * int(lines.sum()), W) * np.finfo(np.float32).eps) ** 2 * lam.max()
            rank = int((lam > cut).sum(axis=1).max())
            bases = np.where(lam[:, None, -rank:] > cut, vec[:, :, -rank:], 0).astype(np.complex64)  # H x W x r
            bases_conj = bases.conj()
            bases_t = np.ascontiguousarray(bases.transpose(0, 2, 1))

        def normal(u):
            z = fft2c(maps * u[:, None])
            z *= mask
            z = ifft2c(z)
            z *= maps_conj
            return z.sum(axis=1)
    elif args.operator == "dense":
        m = args.sensors
        lead = (rng.standard_normal((m, W), dtype=np.float32) / np.float32(np.sqrt(W))).astype(np.complex64)
        lead_t, lead_conj = np.ascontiguousarray(lead.T), lead.conj()
        _, sv, vh = np.linalg.svd(lead, full_matrices=False)
        rank = int((sv > max(m, W) * np.finfo(np.float32).eps * sv[0]).sum())
        v_r = np.ascontiguousarray(vh[:rank].conj().T)  # n x r
        v_r_conj, v_r_t = v_r.conj(), np.ascontiguousarray(v_r.T)

        def normal(u):
            flat = u.reshape(C, W)
            return ((flat @ lead_t) @ lead_conj).reshape(C, H, W)
    elif args.operator == "gmm-1d":
        mask = np.ones((H, W), dtype=np.float32)
        comp_w = np.log(np.array([0.2, 0.3, 0.5]))[:, None, None, None]
        comp_m = np.array([-2.0, 0.5, 3.0], dtype=np.float32)[:, None, None, None]
        comp_c = np.array([0.2, 0.4, 0.1], dtype=np.float32)[:, None, None, None]

        def normal(u):
            return u * mask
    else:
        def normal(u):
            g = fft2c(u)
            g *= mask
            return ifft2c(g)

    projection = {"iterations": 0, "seconds": []}

    def range_project(u):
        """P_R u of every chain, as twofold's accumulators compute it (timed apart too)."""
        t0 = time.perf_counter()
        out = project(u)
        projection["seconds"].append(time.perf_counter() - t0)
        return out

    def project(u):
        if args.operator == "dense":
            return ((u.reshape(C, W) @ v_r_conj) @ v_r_t).reshape(C, H, W)
        if args.operator in ("single-coil", "gmm-1d"):
            return normal(u)
        if args.projection == "row-svd":
            rows = u.transpose(1, 0, 2)  # H x chains x W
            return ((rows @ bases_conj) @ bases_t).transpose(1, 0, 2)

        def dots(a, b):
            return np.sum((a.conj() * b).real, axis=(1, 2), dtype=np.float64)

        b = normal(u)
        z = np.zeros_like(u)
        r, p = b.copy(), b.copy()
        rr = dots(r, r)
        limit = 1e-10 * dots(b, b)
        it, fixed = 0, args.projection_iterations
        while (it < fixed) if fixed > 0 else (not np.all(rr <= limit) and it < 1000):
            ap = normal(p)
            pap = dots(p, ap)
            alpha = np.where((rr <= limit) | (pap <= 0), 0.0, rr / np.where(pap > 0, pap, 1.0))
            alpha = alpha.astype(np.float32)[:, None, None]
            z += alpha * p
            r -= alpha * ap
            rr_new = dots(r, r)
            beta = np.where(rr > 0, rr_new / np.where(rr > 0, rr, 1.0), 0.0).astype(np.float32)[:, None, None]
            rr = rr_new
            p *= beta
            p += r
            it += 1
        projection["iterations"] = it
        projection["relative_residual"] = float(np.sqrt(np.max(rr / np.where(limit > 0, limit / 1e-10, 1.0))))
        return z

    def noise(shape):
        if not real:
            return complex_normal(shape)
        return rng.standard_normal(shape, dtype=np.float32).astype(np.complex64)

    def langevin(levels, inner):
        u = noise((C, H, W))
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
                g = normal(u)      # AᴴA u
                np.subtract(aty, g, out=g)
                g *= np.float32(lik)
                d += g
                d *= np.float32(delta)
                u += d
                z = noise((C, H, W))
                z *= np.float32(np.sqrt(2 * delta))
                u += z
        return range_project(u)

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
        return range_project(u)

    def exact_mixture(levels):
        pick = rng.uniform(size=C)
        k = np.searchsorted(np.cumsum(np.exp(comp_w[:, 0, 0, 0])), pick).clip(0, 2)
        u = (comp_m[k, 0] + np.sqrt(comp_c[k, 0] + np.float32(levels[0] ** 2)) *
             rng.standard_normal((C, H, W), dtype=np.float32)).astype(np.complex64)
        for i, s in enumerate(levels):
            S = np.float32(s * s)
            T = levels[i + 1] ** 2 if i + 1 < len(levels) else 0.0
            z = u.real[None]                       # K x chains x 1 x 1
            v = comp_c + S
            logr = comp_w - 0.5 * (z - comp_m) ** 2 / v - 0.5 * np.log(v)
            logr -= logr.max(axis=0)
            r = np.exp(logr)
            r /= r.sum(axis=0)
            d = (r * (comp_m + comp_c / v * (z - comp_m))).sum(axis=0).astype(np.complex64)
            u -= d
            u *= np.float32(T / S)
            u += d
            if T > 0:
                u += np.float32(np.sqrt(T * (S - T) / S)) * noise((C, H, W))
        return range_project(u)

    def run(levels):
        if args.sampler == "langevin":
            return langevin(levels, args.inner_steps), len(levels) * args.inner_steps
        if args.operator == "gmm-1d":
            return exact_mixture(levels), len(levels)
        return exact(levels), len(levels)

    run(edm_levels(2, args.s_min, args.s_max, args.rho))  # warm-up
    levels = edm_levels(args.levels, args.s_min, args.s_max, args.rho)
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        u, steps = run(levels)
        seconds.append(time.perf_counter() - t0)
        assert u.dtype == np.complex64, f"state was promoted to {u.dtype}"
    print_report(args, "numpy", steps, seconds, projection, {"numpy_version": np.__version__},
                 "random arrays of the problem's shapes (timing only)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
