#!/usr/bin/env python3
"""A TorchScript file written by Python's torch.jit (Debian's python3-torch, the same 1.13
as libtorch-dev) loads in `twofold sample --prior torchscript` and gives the maps of the
same Gaussian prior given as --prior gaussian. The module predicts the noise per channel
(eps) from ln sigma, the way an exported diffusion network would, and pigdm exercises its
autograd VJP.

    python_export.py TWOFOLD_CLI WORKDIR          (exit 77: no torch in this python)
"""
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

try:
    import torch
except ImportError:
    print("skipped: this python has no torch (Debian: python3-torch)")
    sys.exit(77)


class GaussianEps(torch.nn.Module):
    """D(z, s) = mu + v/(v + s^2)(z - mu) of CN(mu, diag v), as eps per channel on ln s."""

    def __init__(self, mean: np.ndarray, variance: np.ndarray):
        super().__init__()
        self.register_buffer("mu", torch.tensor(np.stack([mean.real, mean.imag])[None], dtype=torch.float32))
        self.register_buffer("v", torch.tensor(variance[None, None], dtype=torch.float32))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        s = torch.exp(noise).view(-1, 1, 1, 1)
        d = self.mu + self.v / (self.v + s * s) * (x - self.mu)
        return (x - d) / (s / math.sqrt(2.0))  # unit variance per channel: sigma_c = s/sqrt(2)


def main():
    cli, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    H = W = 16
    rng = np.random.default_rng(0)
    mean = (0.3 * rng.standard_normal((H, W)) + 0.3j * rng.standard_normal((H, W))).astype(np.complex64)
    variance = rng.uniform(0.05, 0.5, (H, W)).astype(np.float32)
    mask = np.zeros((H, W), np.float32)
    mask[:, ::3] = 1
    mask[:, 7:9] = 1
    kspace = ((rng.standard_normal((H, W)) + 1j * rng.standard_normal((H, W))) * mask).astype(np.complex64)
    files = {"mean": mean, "variance": variance, "mask": mask, "kspace": kspace}
    for name, a in files.items():
        np.save(os.path.join(work, name + ".npy"), a)
    model = os.path.join(work, "gaussian-eps.pt")
    torch.jit.script(GaussianEps(mean, variance)).save(model)

    def run(out, *prior):
        cmd = [cli, "sample", "--kspace", os.path.join(work, "kspace.npy"), "--mask", os.path.join(work, "mask.npy"),
               "--sigma", "0.05", "--sampler", "pigdm", "--runs", "4", "--chains", "4", "--levels", "40",
               "--no-report", "--backend", "cpu", "--out", os.path.join(work, out), *prior]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(" ".join(cmd), "\n", r.stdout, r.stderr)
            sys.exit(1)

    run("gaussian", "--prior", "gaussian", "--prior-mean", os.path.join(work, "mean.npy"), "--prior-variance",
        os.path.join(work, "variance.npy"))
    run("torchscript", "--prior", "torchscript", "--model", model, "--model-output", "eps", "--model-noise", "logsigma")
    failed = False
    # Float round-off of the denoiser and its VJP through 40 pigdm steps
    # (tests/torch/torchscript_prior_test.cpp measures about 1e-5 of the maps' size).
    for m in ["mean", "ambiguity", "estimation_clipped", "total_variance"]:
        a = np.load(os.path.join(work, "torchscript", m + ".npy"))
        b = np.load(os.path.join(work, "gaussian", m + ".npy"))
        d = float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
        print(f"{m}: max |torchscript - gaussian| / max |gaussian| = {d:.2e}")
        failed |= not d < 1e-4
    summary = json.load(open(os.path.join(work, "torchscript", "summary.json")))
    if summary["inputs"]["prior"] != "torchscript:gaussian-eps.pt":
        print("summary names the prior", summary["inputs"]["prior"])
        failed = True
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
