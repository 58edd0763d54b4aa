#!/usr/bin/env python3
"""Sample an accelerated-MRI posterior with a PyTorch denoiser as the prior and plot
the maps (docs/python.md).

The denoiser is a torch.nn.Module: the MMSE denoiser of a per-pixel Gaussian prior
whose mean and variance are estimated from 200 random ellipse phantoms,
D(z, s) = (v z + s^2 mu) / (v + s^2). Any network with the same call signature
(a batch [chains, H, W] complex64 and the noise level s) plugs in the same way.
twofold runs annealed Langevin in the cascade design and returns the posterior mean
and the two variance maps: ambiguity (what the 4x undersampled scan cannot see) and
estimation (what noise and sampling leave open).

    python3 examples/python/mri_with_torch_denoiser.py --out mri_torch.png
"""

import argparse

import numpy as np
import torch

import twofold


def ellipse_phantoms(count, size, rng):
    """Random ellipses on a disc: a small family of MRI-like test images."""
    yy, xx = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    images = np.zeros((count, size, size), np.complex64)
    for i in range(count):
        img = 0.8 * ((xx / 0.85) ** 2 + (yy / 0.95) ** 2 <= 1)
        for _ in range(4):
            cx, cy = rng.uniform(-0.4, 0.4, 2)
            a, b = rng.uniform(0.1, 0.35, 2)
            theta = rng.uniform(0, np.pi)
            u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
            v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
            img = img + rng.uniform(-0.3, 0.3) * ((u / a) ** 2 + (v / b) ** 2 <= 1)
        images[i] = img
    return images


class GaussianDenoiser(torch.nn.Module):
    """The MMSE denoiser of CN(mu, diag(v)) as a torch module."""

    def __init__(self, mean, variance):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean))
        self.register_buffer("variance", torch.as_tensor(variance))

    def forward(self, z, s):
        return (self.variance * z + (s * s) * self.mean) / (self.variance + s * s)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--levels", type=int, default=300)
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--sigma", type=float, default=0.02)
    parser.add_argument("--out", default="mri_with_torch_denoiser.png")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    family = ellipse_phantoms(201, args.size, rng)
    truth, training = family[0], family[1:]
    mean = training.mean(axis=0)
    variance = training.var(axis=0, ddof=1).real.astype(np.float32)
    variance += 1e-3 * variance.max()

    # 4x random phase-encode lines with 8 % calibration lines in the centre.
    w = args.size
    lines = rng.uniform(size=w) < 0.25 - 0.08
    lines[w // 2 - int(0.04 * w): w // 2 + int(0.04 * w) + 1] = True
    mask = np.broadcast_to(lines.astype(np.float32), (args.size, w)).copy()

    ctx = twofold.Context("auto")
    op = twofold.operators.mri(mask, ctx=ctx)
    kspace = twofold.simulate(op, truth, args.sigma, seed=1)
    problem = twofold.InverseProblem(op, kspace, args.sigma)

    net = GaussianDenoiser(mean, variance).eval()
    prior = twofold.priors.Denoiser(net, twofold.priors.torch_vjp(net), shape=(args.size, args.size),
                                    name="torch-gaussian", tensors="torch")
    result = twofold.sample(problem, prior, sampler=twofold.Sampler("langevin", levels=args.levels),
                            runs=args.runs, chains=args.chains, progress=True)
    print(f"{result.report['chains']} chains x {result.report['steps_per_chain']} steps in "
          f"{result.report['seconds']:.1f} s on {result.report['device']}; {prior.calls} denoiser calls")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    std = {"ambiguity std": np.sqrt(result.ambiguity), "estimation std": np.sqrt(result.estimation_clipped)}
    panels = [("truth", np.abs(truth)), ("zero-filled A^H y", np.abs(problem.zero_filled)),
              ("posterior mean", np.abs(result.mean)), ("|mean - truth|", np.abs(result.mean - truth))]
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.8))
    top = max(np.abs(truth).max(), 1e-6)
    for ax, (title, img) in zip(axes[0], panels[:3]):
        ax.imshow(img, cmap="gray", vmin=0, vmax=top)
        ax.set_title(title)
    vmax = max(v.max() for v in std.values())
    for ax, (title, img) in zip(axes[1], list(std.items()) + [panels[3]]):
        im = ax.imshow(img, cmap="magma", vmin=0, vmax=vmax)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.046)
    for ax in axes.flat:
        ax.set_axis_off()
    fig.suptitle(f"twofold with a torch denoiser: {args.size}x{args.size}, "
                 f"{int(lines.sum())}/{w} lines, sigma {args.sigma}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
