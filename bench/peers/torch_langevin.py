#!/usr/bin/env python3
"""PyTorch peer of twofold's samplers, for timing only (docs/benchmarks.md).

The algorithm of numpy_langevin.py (read its docstring: the same steps, operators,
final range projection and timing-only random inputs), written as a PyTorch user
would: [chains, H, W] complex64 tensors, torch.fft with norm="ortho" and
fftshift/ifftshift over the last two axes, in-place updates. It runs on the GPU when
torch sees one (twofold_bench --backend cuda on a machine whose torch has CUDA),
otherwise on the CPU with --threads threads (the bench passes its own count; recorded).

  --mode eager    plain eager PyTorch
  --mode compile  the per-step function through torch.compile (PyTorch >= 2.0); an
                  older torch prints {"skipped": reason}

Prints one JSON line with chain_steps_per_second (chains · steps / median seconds).
If torch cannot be imported it prints {"skipped": reason} and exits 0.
"""

import json
import math
import sys
import time

from peer_common import edm_levels, parse_args, print_report


def main(argv):
    def own_flags(p):
        p.add_argument("--mode", choices=["eager", "compile"], default="eager")
        p.add_argument("--threads", type=int, default=0, help="CPU threads (twofold's count); 0: torch's default")

    args = parse_args(argv, __doc__.split("\n")[0], own_flags)
    name = "torch" if args.mode == "eager" else "torch-compile"
    try:
        import torch
    except ImportError as e:
        print(json.dumps({"name": name, "skipped": f"torch is not installed for {sys.executable}: {e}"}))
        return 0
    if args.mode == "compile" and not hasattr(torch, "compile"):
        print(json.dumps({"name": name, "skipped": f"torch {torch.__version__} has no torch.compile (PyTorch >= 2.0)"}))
        return 0

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    dims = (-2, -1)
    H, W, C = args.height, args.width, args.chains
    real = args.operator in ("dense", "gmm-1d")
    sigma2 = args.sigma_y ** 2

    def fft2c(x):
        return torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(x, dim=dims), norm="ortho"), dim=dims)

    def ifft2c(x):
        return torch.fft.fftshift(torch.fft.ifft2(torch.fft.ifftshift(x, dim=dims), norm="ortho"), dim=dims)

    def noise(shape):
        """CN(0, 1) (variance 1/2 per part), or N(0, 1) in the real part for real problems."""
        if real:
            return torch.randn(shape, generator=gen, device=device).to(torch.complex64)
        return torch.randn(shape, generator=gen, device=device, dtype=torch.complex64)

    def uniform(shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(shape, generator=gen, device=device)

    # Timing-only inputs of the right shapes (numpy_langevin.py's docstring).
    mean, aty = noise((H, W)), noise((H, W))
    variance = uniform((H, W), 0.01, 1.0)
    lines = torch.zeros(W, device=device)
    centre = max(1, round(W * 0.08))
    lines[W // 2 - centre // 2: W // 2 - centre // 2 + centre] = 1
    outside = torch.nonzero(lines == 0).flatten()
    pick = outside[torch.randperm(outside.numel(), generator=gen, device=device)[:max(0, round(W / 4) - centre)]]
    lines[pick] = 1
    mask = lines.expand(H, W).contiguous()

    if args.operator == "multicoil":
        y, x = torch.meshgrid(torch.arange(H, device=device, dtype=torch.float64),
                              torch.arange(W, device=device, dtype=torch.float64), indexing="ij")
        y, x = (y - H // 2) / (H / 2), (x - W // 2) / (W / 2)
        maps = torch.empty((args.coils, H, W), dtype=torch.complex128, device=device)
        for c in range(args.coils):
            j, phase0, gx, gy = uniform(4).double().tolist()
            theta = 2 * math.pi * (c + 0.5 * (j - 0.5)) / args.coils
            d2 = (x - 1.5 * math.cos(theta)) ** 2 + (y - 1.5 * math.sin(theta)) ** 2
            maps[c] = (1 + d2) ** -1.5 * torch.exp(1j * (2 * math.pi * phase0 + math.pi * (gx - 0.5) * x
                                                         + math.pi * (gy - 0.5) * y))
        maps /= torch.sqrt((maps.abs() ** 2).sum(dim=0))
        if args.projection == "row-svd":
            eye = torch.eye(W, dtype=torch.complex128, device=device)
            f = torch.fft.fftshift(torch.fft.fft(torch.fft.ifftshift(eye, dim=0), dim=0, norm="ortho"), dim=0)
            pw = f.conj().T @ (lines.double()[:, None] * f)
            gram = pw[None] * torch.einsum("chw,chv->hwv", maps.conj(), maps)
            lam, vec = torch.linalg.eigh(gram)
            cut = (max(args.coils * int(lines.sum()), W) * torch.finfo(torch.float32).eps) ** 2 * lam.max()
            rank = int((lam > cut).sum(dim=1).max())
            bases = torch.where(lam[:, None, -rank:] > cut, vec[:, :, -rank:], 0).to(torch.complex64)
            bases_conj, bases_t = bases.conj(), bases.transpose(1, 2).contiguous()
        maps = maps.to(torch.complex64)
        maps_conj = maps.conj()

        def normal(u):
            z = fft2c(maps * u[:, None])
            z *= mask
            z = ifft2c(z)
            z *= maps_conj
            return z.sum(dim=1)
    elif args.operator == "dense":
        m = args.sensors
        lead = (torch.randn((m, W), generator=gen, device=device) / math.sqrt(W)).to(torch.complex64)
        lead_t, lead_conj = lead.T.contiguous(), lead.conj()
        _, sv, vh = torch.linalg.svd(lead, full_matrices=False)
        rank = int((sv > max(m, W) * torch.finfo(torch.float32).eps * sv[0]).sum())
        v_r = vh[:rank].conj().T.contiguous()
        v_r_conj, v_r_t = v_r.conj(), v_r.T.contiguous()

        def normal(u):
            return ((u.reshape(C, W) @ lead_t) @ lead_conj).reshape(C, H, W)
    elif args.operator == "gmm-1d":
        mask = torch.ones((H, W), device=device)
        comp_w = torch.log(torch.tensor([0.2, 0.3, 0.5], device=device))[:, None, None, None]
        comp_m = torch.tensor([-2.0, 0.5, 3.0], device=device)[:, None, None, None]
        comp_c = torch.tensor([0.2, 0.4, 0.1], device=device)[:, None, None, None]

        def normal(u):
            return u * mask
    else:
        def normal(u):
            g = fft2c(u)
            g *= mask
            return ifft2c(g)

    projection = {"iterations": 0, "seconds": []}

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def range_project(u):
        t0 = time.perf_counter()
        out = project(u)
        synchronize()
        projection["seconds"].append(time.perf_counter() - t0)
        return out

    def project(u):
        if args.operator == "dense":
            return ((u.reshape(C, W) @ v_r_conj) @ v_r_t).reshape(C, H, W)
        if args.operator in ("single-coil", "gmm-1d"):
            return normal(u)
        if args.projection == "row-svd":
            rows = u.transpose(0, 1)  # H x chains x W
            return ((rows @ bases_conj) @ bases_t).transpose(0, 1)

        def dots(a, b):
            return (a.conj() * b).real.sum(dim=(1, 2), dtype=torch.float64)

        b = normal(u)
        z = torch.zeros_like(u)
        r, p = b.clone(), b.clone()
        rr = dots(r, r)
        limit = 1e-10 * dots(b, b)
        it, fixed = 0, args.projection_iterations
        while (it < fixed) if fixed > 0 else (not bool(torch.all(rr <= limit)) and it < 1000):
            ap = normal(p)
            pap = dots(p, ap)
            alpha = torch.where((rr <= limit) | (pap <= 0), torch.zeros_like(rr), rr / torch.where(pap > 0, pap, 1.0))
            alpha = alpha.float()[:, None, None]
            z += alpha * p
            r -= alpha * ap
            rr_new = dots(r, r)
            beta = torch.where(rr > 0, rr_new / torch.where(rr > 0, rr, 1.0), torch.zeros_like(rr))
            rr = rr_new
            p *= beta.float()[:, None, None]
            p += r
            it += 1
        projection["iterations"] = it
        projection["relative_residual"] = float(torch.sqrt(torch.max(rr / torch.where(limit > 0, limit / 1e-10, 1.0))))
        return z

    def langevin_step(u, z, shrink, inv_s2, lik, delta, noise_scale):
        d = u - mean
        d *= shrink
        d += mean          # d = D(u, s)
        d -= u
        d *= inv_s2
        g = normal(u)      # AᴴA u
        g = aty - g
        g *= lik
        d += g
        d *= delta
        u += d
        z *= noise_scale
        u += z
        return u

    def exact_step(u, z, shrink, keep, noise_scale):
        d = fft2c(u)
        d -= mean
        d *= shrink
        d += mean
        d = ifft2c(d)      # Fourier-basis denoiser
        u -= d
        u *= keep
        u += d
        z *= noise_scale
        u += z
        return u

    def mixture_step(u, z, S, keep, noise_scale):
        x = u.real[None]   # K x chains x 1 x 1
        v = comp_c + S
        logr = comp_w - 0.5 * (x - comp_m) ** 2 / v - 0.5 * torch.log(v)
        logr -= logr.max(dim=0).values
        r = torch.exp(logr)
        r /= r.sum(dim=0)
        d = (r * (comp_m + comp_c / v * (x - comp_m))).sum(dim=0).to(torch.complex64)
        u -= d
        u *= keep
        u += d
        z *= noise_scale
        u += z
        return u

    if args.mode == "compile":
        langevin_step, exact_step, mixture_step = (torch.compile(f) for f in (langevin_step, exact_step, mixture_step))

    def langevin(levels, inner):
        u = noise((C, H, W)) * levels[0]
        for s in levels:
            s2 = s * s
            lik = 1.0 / (sigma2 + args.gamma * s2)
            delta = args.step / (1.0 / s2 + lik)
            shrink = variance / (variance + s2)
            for _ in range(inner):
                u = langevin_step(u, noise((C, H, W)), shrink, 1.0 / s2, lik, delta, math.sqrt(2 * delta))
        return range_project(u)

    def exact(levels):
        u = ifft2c(noise((C, H, W)) * torch.sqrt(variance + levels[0] ** 2) + mean)
        for i, s in enumerate(levels):
            S = s * s
            T = levels[i + 1] ** 2 if i + 1 < len(levels) else 0.0
            u = exact_step(u, noise((C, H, W)), variance / (variance + S), T / S, math.sqrt(T * (S - T) / S))
        return range_project(u)

    def exact_mixture(levels):
        k = torch.searchsorted(torch.cumsum(torch.exp(comp_w[:, 0, 0, 0]), 0), uniform(C)).clamp(0, 2)
        u = (comp_m[k, 0] + torch.sqrt(comp_c[k, 0] + levels[0] ** 2) *
             torch.randn((C, H, W), generator=gen, device=device)).to(torch.complex64)
        for i, s in enumerate(levels):
            S = s * s
            T = levels[i + 1] ** 2 if i + 1 < len(levels) else 0.0
            u = mixture_step(u, noise((C, H, W)), S, T / S, math.sqrt(T * (S - T) / S))
        return range_project(u)

    def run(levels):
        if args.sampler == "langevin":
            return langevin(levels, args.inner_steps), len(levels) * args.inner_steps
        if args.operator == "gmm-1d":
            return exact_mixture(levels), len(levels)
        return exact(levels), len(levels)

    with torch.no_grad():
        run(edm_levels(2, args.s_min, args.s_max, args.rho))  # warm-up (and compilation)
        synchronize()
        levels = edm_levels(args.levels, args.s_min, args.s_max, args.rho)
        seconds = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            u, steps = run(levels)
            synchronize()
            seconds.append(time.perf_counter() - t0)
            assert u.dtype == torch.complex64, f"state was promoted to {u.dtype}"
    print_report(args, name, steps, seconds, projection,
                 {"torch_version": torch.__version__,
                  "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
                  "threads": torch.get_num_threads()},
                 "random tensors of the problem's shapes (timing only)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
