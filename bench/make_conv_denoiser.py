#!/usr/bin/env python3
"""Writes the benchmark's stand-in network: a small noise-conditional UNet (untrained,
fixed seed) with the TorchScript contract of docs/learned_priors.md -- forward(x
[B, 2, H, W], noise [B]) -> [B, 2, H, W] float32, x0 output, sigma input. Its weights
are random: it measures speed, not quality. About the size of the shipped learned prior
(two resolutions, 32 and 64 channels, ~0.3 M parameters).

    /usr/bin/python3 bench/make_conv_denoiser.py OUT.pt [--width 32]
"""
import argparse
import math

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.conv2(self.act(self.conv1(x))))


class SmallUNet(nn.Module):
    def __init__(self, width: int = 32):
        super().__init__()
        self.down1 = Block(3, width)           # x (2 channels) + ln sigma as a channel
        self.down2 = Block(width, 2 * width)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.up1 = Block(2 * width, width)
        self.out = nn.Conv2d(width, 2, 1)

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        # EDM-style preconditioning: D = c_skip x + c_out F(c_in x, ln s), data std 0.5.
        s = noise.view(-1, 1, 1, 1)
        sd = 0.5
        c_in = 1.0 / torch.sqrt(s * s + sd * sd)
        c_skip = sd * sd / (s * s + sd * sd)
        c_out = s * sd / torch.sqrt(s * s + sd * sd)
        level = torch.log(s).expand(x.shape[0], 1, x.shape[2], x.shape[3])
        h1 = self.down1(torch.cat([c_in * x, level], dim=1))
        h2 = self.down2(nn.functional.avg_pool2d(h1, 2))
        h = self.up1(torch.cat([self.up(h2), h1], dim=1))
        return c_skip * x + c_out * self.out(h)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--width", type=int, default=32)
    a = p.parse_args()
    torch.manual_seed(0)
    net = SmallUNet(a.width).eval()
    for m in net.modules():  # small weights: a stable, finite output at every level
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, std=0.5 / math.sqrt(m.weight[0].numel()))
            nn.init.zeros_(m.bias)
    torch.jit.script(net).save(a.out)
    params = sum(t.numel() for t in net.parameters())
    print(f"{a.out}: SmallUNet width {a.width}, {params} parameters, TorchScript (torch {torch.__version__})")


if __name__ == "__main__":
    main()
