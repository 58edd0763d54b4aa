#!/usr/bin/env python3
"""Train the learned prior that ships with twofold: a small noise-conditional UNet
denoiser of the built-in phantom family, by denoising score matching, on the CPU.

    PYTHONPATH=build/python /usr/bin/python3 python/train_prior.py --out data/models/phantom-denoiser

Data. Members of the random Shepp-Logan phantom family (include/twofold/data/phantom.hpp,
through twofold.data.phantoms): 64 x 64, perturbation 1, smooth phase, family seed
--family-seed. Fresh phantoms every batch: step t trains on members
t*B, ..., t*B + B - 1, so training sees the members [0, steps*B) once each. Members
from --heldout-first (10^6) on are never trained on; python/validate_learned_prior.py
evaluates on them.

Model (the contract of the C++ TorchScript prior, docs/learned_priors.md):
forward(x, noise) with x [B, 2, H, W] float32 (real and imaginary parts of the complex
image) and noise [B] the engine's level s, z = x0 + s*eps with eps ~ CN(0, I) (each real
part has std s/sqrt(2), docs/design.md section 1.3); it returns the denoised image
x0_hat ~ E[x0 | z] [B, 2, H, W] ("x0" output, scale 1). Inside, a Gaussian
preconditioning (in the spirit of EDM's, Karras et al. 2022, with the pixel-basis
Gaussian prior in place of a single data scale):
  D(z, s) = D_G(z, s) + r F(features, log(s)/4),
  D_G = (v z + s^2 mu)/(v + s^2),  r = sqrt(v s^2 / (2 (v + s^2))),
mu, v the per-pixel mean and variance E|x - mu|^2 of the first --gaussian-images
training members, estimated as twofold.priors.gaussian_from_images estimates the demo's
prior (so F = 0 is exactly that Gaussian prior's MMSE denoiser, and r its posterior
std per real part); features: the whitened (z - mu)/sqrt((v + s^2)/2) and the maps
mu/sd, sqrt(v)/sd (sd the data's std per real part). F is a small UNet
(pixel-unshuffle by 2, three scales, noise-conditioned by FiLM). Any H, W: mu and v
are resampled bilinearly to other sizes (the phantom fills the same normalised square
at every size), and the UNet pads to a multiple of 8.

Loss. s log-uniform in [--s-min, --s-max] (default 5e-4 .. 20, covering the engine's
default schedule 1e-3 .. 10, include/twofold/sampling/schedule.hpp); weight 1/r^2 on
||D - x0||^2, i.e. ||F - (x0 - D_G)/r||^2: unit scale at every level (1 for the
Gaussian denoiser itself on data from that Gaussian), so all levels learn. Adam,
cosine learning rate, and an exponential moving average of the weights (exported).

Determinism: torch.manual_seed, torch.use_deterministic_algorithms, 2 threads, CPU.

Writes into --out: model.pt (TorchScript, torch.jit.script), training_log.csv (step,
loss, loss per noise-level band, elapsed seconds) and model.json (contract fields,
data, parameter count, command, wall time, versions). Refuses to overwrite an existing
model.pt unless --force.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# This file sits beside the package's sources (python/twofold/, without the compiled
# extension); import the built package from PYTHONPATH instead.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
import twofold  # noqa: E402

SHAPE = (64, 64)
LEVEL_BANDS = [5e-4, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 20.0]  # per-level loss bands (engine's s)


class Block(nn.Module):
    """conv - FiLM(noise) - SiLU - conv, with a residual connection."""

    def __init__(self, cin: int, cout: int, emb: int):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb, 2 * cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(x))
        scale, shift = self.film(e)[:, :, None, None].chunk(2, dim=1)
        h = h * (1 + scale) + shift
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class UNet(nn.Module):
    """F(x, c_noise): pixel-unshuffle by 2, blocks at 1/2, 1/4 and 1/8 of the size."""

    def __init__(self, channels=(16, 32, 64), emb: int = 64, inputs: int = 2):
        super().__init__()
        self.freqs = nn.Parameter(torch.exp(torch.linspace(0.0, math.log(64.0), 8)), requires_grad=False)
        self.emb = nn.Sequential(nn.Linear(16, emb), nn.SiLU(), nn.Linear(emb, emb))
        c0, c1, c2 = channels
        self.inp = nn.Conv2d(4 * inputs, c0, 3, padding=1)
        self.enc0 = Block(c0, c0, emb)
        self.down1 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.enc1 = Block(c1, c1, emb)
        self.down2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.mid = Block(c2, c2, emb)
        self.up1 = nn.Conv2d(c2, c1, 3, padding=1)
        self.dec1 = Block(c1, c1, emb)
        self.up0 = nn.Conv2d(c1, c0, 3, padding=1)
        self.dec0 = Block(c0, c0, emb)
        self.out = nn.Conv2d(c0, 8, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        a = c_noise[:, None] * self.freqs[None, :]
        e = self.emb(torch.cat([torch.sin(a), torch.cos(a)], dim=1))
        h0 = self.enc0(self.inp(F.pixel_unshuffle(x, 2)), e)
        h1 = self.enc1(self.down1(F.silu(h0)), e)
        h2 = self.mid(self.down2(F.silu(h1)), e)
        u1 = self.dec1(self.up1(F.interpolate(h2, scale_factor=2.0, mode="nearest")) + h1, e)
        u0 = self.dec0(self.up0(F.interpolate(u1, scale_factor=2.0, mode="nearest")) + h0, e)
        return F.pixel_shuffle(self.out(F.silu(u0)), 2)


class PhantomDenoiser(nn.Module):
    """The shipped module: forward(x [B, 2, H, W], noise [B] = s) -> x0_hat [B, 2, H, W].

    D(z, s) = D_G(z, s) + r F(inputs, log(s)/4): D_G is the MMSE denoiser of the
    pixel-basis Gaussian CN(mu, diag(v)) of the training images, (v z + s^2 mu)/(v + s^2),
    and r = sqrt(v s^2 / (2 (v + s^2))) its posterior std per real part, so the UNet F
    learns a unit-scale correction (F = 0 is exactly the Gaussian prior). F sees the
    whitened input (z - mu)/sqrt((v + s^2)/2) and the maps mu, sqrt(v) (scaled by the
    data's std sd). mu and v are stored at the training shape; at another size they
    are resampled bilinearly (the phantom fills the same normalised square at any size)."""

    def __init__(self, mean: torch.Tensor, variance: torch.Tensor, sigma_data: float, channels=(16, 32, 64)):
        super().__init__()
        self.sigma_data = float(sigma_data)
        self.register_buffer("mean", mean.reshape(1, 2, *mean.shape[-2:]).clone())
        self.register_buffer("variance", variance.clamp(min=1e-6).reshape(1, 1, *variance.shape[-2:]).clone())
        self.net = UNet(channels, inputs=5)

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        if noise.dim() == 0:
            noise = noise.expand(b)
        s2 = (noise.to(x.dtype) ** 2).reshape(b, 1, 1, 1)
        mu = self.mean
        v = self.variance
        if mu.shape[-2] != h or mu.shape[-1] != w:
            mu = F.interpolate(mu, size=[h, w], mode="bilinear", align_corners=False)
            v = F.interpolate(v, size=[h, w], mode="bilinear", align_corners=False)
        denom = v + s2
        gaussian = (v * x + s2 * mu) / denom
        r = torch.sqrt(v * s2 / (2.0 * denom))
        sd = self.sigma_data
        features = torch.cat([(x - mu) / torch.sqrt(denom / 2.0), mu.expand(b, 2, h, w) / sd,
                              torch.sqrt(v).expand(b, 1, h, w) / sd], dim=1)
        # The UNet halves the size three times: pad to a multiple of 8, crop after.
        ph = (8 - h % 8) % 8
        pw = (8 - w % 8) % 8
        if ph > 0 or pw > 0:
            features = F.pad(features, [0, pw, 0, ph])
        f = self.net(features, torch.log(noise.to(x.dtype)) / 4.0)[:, :, :h, :w]
        return gaussian + r * f

    @torch.jit.export
    def gaussian_denoiser(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """D_G alone (the module at F = 0), at the training shape."""
        s2 = (noise.to(x.dtype) ** 2).reshape(-1, 1, 1, 1)
        return (self.variance * x + s2 * self.mean) / (self.variance + s2)

    @torch.jit.export
    def posterior_std(self, noise: torch.Tensor) -> torch.Tensor:
        """r, the Gaussian posterior std per real part (the loss weight is 1/r^2), training shape."""
        s2 = (noise ** 2).reshape(-1, 1, 1, 1)
        return torch.sqrt(self.variance * s2 / (2.0 * (self.variance + s2)))


def to_channels(images: np.ndarray) -> torch.Tensor:
    """complex64 [B, H, W] -> float32 [B, 2, H, W]."""
    return torch.view_as_real(torch.from_numpy(np.ascontiguousarray(images))).permute(0, 3, 1, 2).contiguous()


def batch_images(seed: int, first: int, count: int) -> torch.Tensor:
    return to_channels(twofold.data.phantoms(SHAPE, seed, first, count, perturbation=1.0, smooth_phase=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder (model.pt, training_log.csv, model.json)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--ema", type=float, default=0.998, help="EMA decay of the exported weights")
    parser.add_argument("--family-seed", type=int, default=16)
    parser.add_argument("--heldout-first", type=int, default=1_000_000,
                        help="first member never trained on (validation uses members from here on)")
    parser.add_argument("--gaussian-images", type=int, default=2000,
                        help="training members [0, N) the Gaussian part is estimated from")
    parser.add_argument("--s-min", type=float, default=5e-4)
    parser.add_argument("--s-max", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0, help="torch seed (initialisation, noise levels, noise)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--force", action="store_true", help="replace an existing model.pt")
    args = parser.parse_args()

    model_path = os.path.join(args.out, "model.pt")
    if os.path.exists(model_path) and not args.force:
        sys.exit(f"train_prior.py: {model_path} exists (use --force to replace it)")
    if args.steps * args.batch > args.heldout_first:
        sys.exit("train_prior.py: --steps * --batch would reach the held-out members (--heldout-first)")
    os.makedirs(args.out, exist_ok=True)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    start = time.time()

    # The Gaussian part: the pixel-basis Gaussian of the first --gaussian-images training
    # members, estimated as twofold.priors.gaussian_from_images does (mean; unbiased
    # variance E|x - mu|^2 plus 1e-3 of its largest value); sd: the data's std per real part.
    probe = twofold.data.phantoms(SHAPE, args.family_seed, 0, args.gaussian_images)
    mean = probe.astype(np.complex128).mean(axis=0).astype(np.complex64)
    var = (np.abs(probe - mean[None]).astype(np.float64) ** 2).sum(axis=0) / (len(probe) - 1)
    var = (var + 1e-3 * var.max()).astype(np.float32)
    sigma_data = float(to_channels(probe).std())
    mean_t = to_channels(mean[None])[0]
    var_t = torch.from_numpy(var)
    model = PhantomDenoiser(mean_t, var_t, sigma_data)
    ema = PhantomDenoiser(mean_t, var_t, sigma_data)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    # Script now (TorchScript reads this file's source, which must not change while training);
    # the trained EMA weights are loaded into it at the end.
    scripted = torch.jit.script(PhantomDenoiser(mean_t, var_t, sigma_data))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"sigma_data {sigma_data:.4f}, {params} parameters", flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    warmup = max(1, args.steps // 50)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: min(1.0, (t + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(t, args.steps) / args.steps)))
    log_lo, log_hi = math.log(args.s_min), math.log(args.s_max)
    bands = np.array(LEVEL_BANDS)
    rows = []
    acc = {"loss": 0.0, "n": 0, "band_sum": np.zeros(len(bands) - 1), "band_n": np.zeros(len(bands) - 1)}
    for step in range(1, args.steps + 1):
        x0 = batch_images(args.family_seed, (step - 1) * args.batch, args.batch)
        s = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(args.batch))
        z = x0 + (s / math.sqrt(2.0)).reshape(-1, 1, 1, 1) * torch.randn_like(x0)
        # Weight 1/r^2 on ||D - x0||^2 (r: the Gaussian posterior std per real part), per
        # image (mean over pixels): 1 for the Gaussian prior's own denoiser (F = 0) on data
        # from that Gaussian; below 1 where the network does better.
        per_image = ((model(z, s) - x0) / model.posterior_std(s)).pow(2).mean(dim=(1, 2, 3))
        loss = per_image.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        acc["loss"] += float(loss) * args.batch
        acc["n"] += args.batch
        band = np.clip(np.searchsorted(bands, s.numpy(), side="right") - 1, 0, len(bands) - 2)
        np.add.at(acc["band_sum"], band, per_image.detach().numpy())
        np.add.at(acc["band_n"], band, 1)
        if step % args.log_every == 0 or step == args.steps:
            elapsed = time.time() - start
            per_band = np.where(acc["band_n"] > 0, acc["band_sum"] / np.maximum(acc["band_n"], 1), np.nan)
            rows.append([step, acc["loss"] / acc["n"], *per_band, elapsed])
            print(f"step {step}/{args.steps} loss {acc['loss'] / acc['n']:.4f} "
                  f"bands {' '.join(f'{v:.3f}' for v in per_band)} {elapsed:.0f} s", flush=True)
            acc = {"loss": 0.0, "n": 0, "band_sum": np.zeros(len(bands) - 1), "band_n": np.zeros(len(bands) - 1)}
    train_seconds = time.time() - start

    ema.eval()
    scripted.load_state_dict(ema.state_dict())
    scripted.eval()
    tmp = model_path + ".partial"
    scripted.save(tmp)
    os.replace(tmp, model_path)
    header = ["step", "loss"] + [f"loss_s_{bands[i]:g}_{bands[i + 1]:g}" for i in range(len(bands) - 1)] + [
        "elapsed_seconds"]
    with open(os.path.join(args.out, "training_log.csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join([str(r[0])] + [f"{v:.6g}" for v in r[1:]]) + "\n")
    info = {
        "format": "TorchScript (torch.jit.script), float32, CPU",
        "forward": "forward(x: Tensor[B, 2, H, W], noise: Tensor[B]) -> Tensor[B, 2, H, W]",
        "channels": 2,
        "channel_meaning": ["real", "imag"],
        "output": "x0",
        "noise": "sigma",
        "noise_meaning": "the engine's level s: z = x0 + s*eps, eps ~ CN(0, I), each real part std s/sqrt(2)",
        "scale": 1.0,
        "training_shape": list(SHAPE),
        "fully_convolutional": True,
        "data": {
            "family": "twofold.data.phantoms (make_phantom_family), random modified Shepp-Logan",
            "perturbation": 1.0,
            "smooth_phase": True,
            "family_seed": args.family_seed,
            "training_members": [0, args.steps * args.batch],
            "heldout_first": args.heldout_first,
            "fresh_members_per_batch": True,
            "sigma_data": sigma_data,
            "gaussian_part_members": [0, args.gaussian_images],
        },
        "training": {
            "objective": "denoising score matching; D = D_G + r F (D_G, r: the Gaussian prior's MMSE denoiser "
                         "and posterior std per real part); loss ||D - x0||^2 / r^2",
            "noise_levels": {"distribution": "log-uniform in s", "s_min": args.s_min, "s_max": args.s_max},
            "steps": args.steps,
            "batch": args.batch,
            "learning_rate": args.lr,
            "schedule": "linear warm-up over steps/50, cosine decay",
            "ema": args.ema,
            "torch_seed": args.seed,
            "threads": args.threads,
            "final_loss": rows[-1][1] if rows else None,
        },
        "architecture": "D(z, s) = D_G(z, s) + r(s) F: the pixel-basis Gaussian prior's MMSE denoiser plus a "
                        "UNet correction scaled by its posterior std; F: pixel-unshuffle 2, channels (16, 32, 64) at "
                        "1/2, 1/4, 1/8 size, FiLM noise conditioning on log(s)/4, residual blocks; inputs the "
                        "whitened z and the maps mu, sqrt(v)",
        "parameters": params,
        "command": "PYTHONPATH=build/python /usr/bin/python3 python/train_prior.py " + " ".join(sys.argv[1:]),
        "wall_seconds": round(train_seconds, 1),
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads (CPU shared with other work)",
        "torch_version": torch.__version__,
        "twofold_version": twofold.__version__,
        "file_bytes": os.path.getsize(model_path),
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"wrote {model_path} ({info['file_bytes']} bytes) in {train_seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
