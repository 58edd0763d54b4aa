#!/usr/bin/env python3
"""Validate the shipped learned prior (data/models/phantom-denoiser/model.pt) through
the Python package, with the network as a callable prior — the same TorchScript
module the C++ component loads (docs/learned_priors.md).

    PYTHONPATH=build/python /usr/bin/python3 python/validate_learned_prior.py \\
        --model data/models/phantom-denoiser --out validation-learned.json

1. Usefulness. --images held-out members of the training family (from the model's
   held-out index on, never trained on), 64 x 64; single-coil MRI with the demo's
   random line masks (twofold.data.line_mask, seed --mask-seed) at 4x and 8x; complex
   noise sigma_y = 0.02 (the demo's); each image's data from twofold.simulate with seed
   = its index in the set. Priors: the learned one, and the pixel-basis Gaussian
   estimated from --gaussian-images training members (twofold.priors.gaussian_from_images,
   the demo's prior; by default the members the model's own Gaussian part was estimated
   from). Both are sampled by the same sampler (--sampler ddrm, --levels 20: the DDRM
   paper's 20 steps, one network call per step — what this 2-core CPU affords for
   50 images x 16 chains x 2 masks; --chains per image, replicate design; one problem
   holds all images as measurement sets); the Gaussian's exact posterior mean
   (twofold.exact_posterior) is reported too: the best the Gaussian prior can do.
   Per image: PSNR = 10 log10(max|x*|^2 / mean|m - x*|^2) of the posterior mean m
   (complex pixels); SSIM of |m| against |x*| (Wang et al. 2004: 11 x 11 Gaussian
   window of std 1.5, K1 = 0.01, K2 = 0.03, dynamic range L = max|x*|, mean over all
   pixels, reflecting borders); PSNR with the K-chain mean's Monte Carlo error removed
   (|m - x*|^2 estimated by |m_K - x*|^2 - tr(sample covariance)/K: what the sampler's
   mean would score with infinitely many chains; its bias stays); coverage = the fraction of the truth's real and
   imaginary parts inside the per-coordinate central 90 % interval of the draws
   (twofold.coverage's quantile coverage; a calibrated sampler with n draws gives
   0.9 (n - 1)/(n + 1) in expectation for truths from the prior). Means over images.

2. Self-consistency (SBC, Talts et al. 2018) against the network's own prior, at the
   4x mask: x*_l from the network's prior by the same sampler run unconditionally
   (the same operator with y = 0 and sigma_y = 1e4, so the likelihood term is below
   1e-8 of the prior's — twofold has no prior-only sampling call for callable priors,
   and twofold.sbc needs a sampleable prior), y_l = A x*_l + n_l (sigma_y = 0.02),
   --sbc-draws posterior draws each; ranks of f(x*) among f(x_k) (ties at random) for
   test functions: Re x at 4 pixels of brain tissue, Re<w, P_R x> and Re<w', P_N x> for
   fixed random w, w', and the residual ||A x - y||^2; chi-square p-value of the rank
   histogram (--sbc-bins equal bins), and the Kolmogorov-Smirnov p-value of the
   randomised PIT (rank + U)/(K + 1) against U(0, 1). The prior's quadratic form
   (Gaussian priors only) has no counterpart for a network. Cascade stage 2 is not
   reachable from Python for a callable prior (twofold.sbc needs a sampleable prior).

Writes --out (JSON) and prints a Markdown table. Everything is seeded.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from scipy import ndimage, stats

# This file sits beside the package's sources (python/twofold/, without the compiled
# extension); import the built package from PYTHONPATH instead.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
import twofold  # noqa: E402

SIGMA_Y = 0.02  # the demo's noise level (cli/commands/demo.cpp)


class NetworkDenoiser:
    """The TorchScript module (x [B, 2, H, W], s [B]) -> x0_hat as a twofold callable:
    fn(z [B, H, W] complex64, s) -> [B, H, W] complex64. Differentiable (torch_vjp)."""

    def __init__(self, module):
        self.module = module
        self.calls = 0
        self.images = 0
        self.seconds = 0.0

    def __call__(self, z, s):
        t = time.perf_counter()
        x = torch.view_as_real(z).permute(0, 3, 1, 2)
        out = self.module(x, torch.full((z.shape[0],), float(s), dtype=torch.float32))
        d = torch.view_as_complex(out.permute(0, 2, 3, 1).contiguous())
        self.calls += 1
        self.images += int(z.shape[0])
        self.seconds += time.perf_counter() - t
        return d


def load_network(folder):
    module = torch.jit.load(os.path.join(folder, "model.pt"), map_location="cpu").eval()
    for p in module.parameters():
        p.requires_grad_(False)
    with open(os.path.join(folder, "model.json")) as f:
        info = json.load(f)
    return module, info


def learned_prior(module, shape, name="phantom-denoiser"):
    fn = NetworkDenoiser(module)
    return twofold.priors.Denoiser(fn, twofold.priors.torch_vjp(fn), shape=shape, name=name, tensors="torch"), fn


def psnr(estimate, truth):
    mse = float(np.mean(np.abs(estimate - truth) ** 2))
    return 10 * np.log10(float(np.max(np.abs(truth))) ** 2 / mse)


def ssim(estimate, truth):
    """SSIM of |estimate| against |truth| (Wang et al. 2004), mean over all pixels."""
    a, b = np.abs(truth).astype(np.float64), np.abs(estimate).astype(np.float64)
    L = float(a.max())
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2

    def blur(u):
        return ndimage.gaussian_filter(u, 1.5, truncate=3.5, mode="reflect")  # 11 x 11 window

    ma, mb = blur(a), blur(b)
    va, vb, cab = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(s.mean())


def coverage90(draws, truth):
    return float(twofold.coverage(draws, truth, nominal=[0.9])["quantile"][0])


def measurement_sets(op, images, seed0=0):
    return np.stack([twofold.simulate(op, images[i], SIGMA_Y, seed=seed0 + i) for i in range(len(images))])


def ranks_of(f_truth, f_draws, rng):
    """#{k : f_k < f*} + uniform share of ties, per replicate: [L] in 0..K."""
    less = (f_draws < f_truth[:, None]).sum(axis=1)
    ties = (f_draws == f_truth[:, None]).sum(axis=1)
    return less + np.array([rng.integers(0, t + 1) for t in ties])


def rank_tests(name, ranks, draws, bins, rng):
    L = len(ranks)
    edges = np.linspace(0, draws + 1, bins + 1)
    hist = np.histogram(ranks + 0.5, bins=edges)[0]
    chi2 = stats.chisquare(hist)
    pit = (ranks + rng.uniform(size=L)) / (draws + 1)
    ks = stats.kstest(pit, "uniform")
    return {"name": name, "histogram": hist.tolist(), "chi2": float(chi2.statistic), "chi2_p": float(chi2.pvalue),
            "ks": float(ks.statistic), "ks_p": float(ks.pvalue)}


def usefulness(args, module, info, sampler, shape):
    seed = info["data"]["family_seed"]
    first = info["data"]["heldout_first"]
    lo, hi = info["data"]["gaussian_part_members"] if args.gaussian_images is None else (0, args.gaussian_images)
    truths = twofold.data.phantoms(shape, seed, first, args.images)
    train = twofold.data.phantoms(shape, seed, lo, hi - lo)
    gaussian = twofold.priors.gaussian_from_images(train)
    net, fn = learned_prior(module, shape)
    results = {}
    for acceleration in args.accelerations:
        mask = twofold.data.line_mask(shape[1], acceleration=acceleration, seed=args.mask_seed, height=shape[0])
        op = twofold.operators.mri(mask)
        y = measurement_sets(op, truths)
        problem = twofold.InverseProblem(op, y, SIGMA_Y)
        row = {"acceleration": acceleration, "sampled_lines": int(mask[0].sum())}
        for label, prior in [("learned", net), ("gaussian", gaussian)]:
            t = time.time()
            draws = twofold.posterior_draws(problem, prior, sampler=sampler, runs=args.images, chains=args.chains,
                                            seed=args.seed)
            seconds = time.time() - t
            draws = draws.reshape(args.images, args.chains, *shape)
            means = draws.mean(axis=1)
            p = [psnr(means[i], truths[i]) for i in range(args.images)]
            # The K-chain mean's Monte Carlo error removed: E|m_K - x*|^2 = |m - x*|^2 + tr(Cov)/K,
            # so |m - x*|^2 is estimated by |m_K - x*|^2 - (sample variance)/K, pixel-averaged.
            p_inf = []
            for i in range(args.images):
                mse_k = float(np.mean(np.abs(means[i] - truths[i]) ** 2))
                mc = float(np.mean(np.sum(np.abs(draws[i] - means[i][None]) ** 2, axis=0) / (args.chains - 1))) / args.chains
                p_inf.append(10 * np.log10(float(np.max(np.abs(truths[i]))) ** 2 / max(mse_k - mc, 1e-12)))
            s = [ssim(means[i], truths[i]) for i in range(args.images)]
            c = [coverage90(draws[i], truths[i]) for i in range(args.images)]
            row[label] = {"psnr": float(np.mean(p)), "psnr_se": float(np.std(p, ddof=1) / np.sqrt(len(p))),
                          "ssim": float(np.mean(s)), "ssim_se": float(np.std(s, ddof=1) / np.sqrt(len(s))),
                          "coverage90": float(np.mean(c)), "coverage90_se": float(np.std(c, ddof=1) / np.sqrt(len(c))),
                          "psnr_mc_corrected": float(np.mean(p_inf)),
                          "psnr_mc_corrected_se": float(np.std(p_inf, ddof=1) / np.sqrt(len(p_inf))),
                          "psnr_per_image": p, "ssim_per_image": s, "seconds": seconds}
            print(f"{acceleration:g}x {label}: PSNR {np.mean(p):.2f} dB (Monte Carlo error removed: "
                  f"{np.mean(p_inf):.2f} dB), SSIM {np.mean(s):.3f}, "
                  f"coverage90 {np.mean(c):.3f} ({seconds:.0f} s)", flush=True)
        # The Gaussian's exact posterior mean (its best possible point estimate), per image.
        ex = []
        for i in range(args.images):
            one = twofold.InverseProblem(op, y[i], SIGMA_Y)
            ex.append(twofold.exact_posterior(one, gaussian).mean)
        pe = [psnr(ex[i], truths[i]) for i in range(args.images)]
        se = [ssim(ex[i], truths[i]) for i in range(args.images)]
        zero_filled = problem.zero_filled.reshape(args.images, *shape)
        zf = [psnr(zero_filled[i], truths[i]) for i in range(args.images)]
        row["gaussian_exact"] = {"psnr": float(np.mean(pe)), "ssim": float(np.mean(se))}
        row["zero_filled_psnr"] = float(np.mean(zf))
        d = np.array(row["learned"]["psnr_per_image"]) - np.array(pe)
        row["learned_minus_gaussian_exact_psnr"] = {"mean": float(d.mean()), "se": float(d.std(ddof=1) / np.sqrt(len(d))),
                                                    "images_better": int((d > 0).sum())}
        print(f"{acceleration:g}x gaussian exact: PSNR {np.mean(pe):.2f} dB, SSIM {np.mean(se):.3f}; zero-filled "
              f"PSNR {np.mean(zf):.2f} dB; learned - gaussian exact {d.mean():+.2f} +- {row['learned_minus_gaussian_exact_psnr']['se']:.2f} dB",
              flush=True)
        results[f"{acceleration:g}x"] = row
    results["network_seconds"] = fn.seconds
    results["network_images"] = fn.images
    return results


def sbc(args, module, info, sampler, shape):
    rng = np.random.default_rng(args.seed + 1)
    net, fn = learned_prior(module, shape)
    mask = twofold.data.line_mask(shape[1], acceleration=args.sbc_acceleration, seed=args.mask_seed, height=shape[0])
    op = twofold.operators.mri(mask)
    L, K = args.sbc_replicates, args.sbc_draws
    t = time.time()
    # x* from the network's own prior: the sampler with an uninformative likelihood.
    vague = twofold.InverseProblem(op, np.zeros_like(twofold.simulate(op, np.zeros(shape, np.complex64), 1.0)), 1e4)
    truths = twofold.posterior_draws(vague, net, sampler=sampler, runs=2, chains=L // 2, seed=args.seed + 100)
    y = measurement_sets(op, truths, seed0=10_000)
    problem = twofold.InverseProblem(op, y, SIGMA_Y)
    draws = twofold.posterior_draws(problem, net, sampler=sampler, runs=L, chains=K, seed=args.seed + 200)
    draws = draws.reshape(L, K, *shape)
    seconds = time.time() - t

    # Test functions.
    # Four pixels of brain tissue (level 0.2 .. 0.3 in the unperturbed phantom), evenly spread over it.
    nominal = np.abs(twofold.data.phantoms(shape, 0, 0, 1, perturbation=0.0, smooth_phase=False)[0])
    brain = np.argwhere((nominal > 0.15) & (nominal < 0.35))
    pixels = [tuple(int(v) for v in brain[i]) for i in np.linspace(0, len(brain) - 1, 6).astype(int)[1:-1]]
    w = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)
    w_r, w_n = op.range_project(w), op.null_project(w)

    def functions(x, yy):
        """x [n, H, W] -> dict of [n] values; yy the data of x's replicate."""
        out = {f"pixel ({r}, {c})": x[:, r, c].real.astype(np.float64) for r, c in pixels}
        out["Re<w, P_R x>"] = np.real(np.sum(np.conj(w_r)[None] * op.range_project(x), axis=(1, 2)))
        out["Re<w', P_N x>"] = np.real(np.sum(np.conj(w_n)[None] * op.null_project(x), axis=(1, 2)))
        ax = op.apply(x)
        out["residual"] = np.sum(np.abs(ax - yy[None]) ** 2 * mask[None], axis=(1, 2)).astype(np.float64)
        return out

    f_truth = {}
    f_draws = {}
    for l in range(L):
        ft = functions(truths[l:l + 1], y[l])
        fd = functions(draws[l], y[l])
        for k in ft:
            f_truth.setdefault(k, []).append(ft[k][0])
            f_draws.setdefault(k, []).append(fd[k])
    tests = [rank_tests(k, ranks_of(np.array(f_truth[k]), np.array(f_draws[k]), rng), K, args.sbc_bins, rng)
             for k in f_truth]
    cover = [coverage90(draws[l], truths[l]) for l in range(L)]
    for t_ in tests:
        print(f"SBC {t_['name']}: chi2 p {t_['chi2_p']:.3f}, KS p {t_['ks_p']:.3f}, histogram {t_['histogram']}",
              flush=True)
    print(f"SBC coverage90 {np.mean(cover):.3f} (calibrated: {0.9 * (K - 1) / (K + 1):.3f}), {seconds:.0f} s", flush=True)
    return {"replicates": L, "draws": K, "bins": args.sbc_bins, "acceleration": args.sbc_acceleration,
            "tests": tests, "coverage90": float(np.mean(cover)), "coverage90_calibrated": 0.9 * (K - 1) / (K + 1),
            "seconds": seconds, "min_chi2_p": min(t_["chi2_p"] for t_ in tests),
            "min_ks_p": min(t_["ks_p"] for t_ in tests)}


def markdown(res):
    lines = ["| mask | prior | PSNR (dB) | PSNR, Monte Carlo error removed (dB) | SSIM | 90 % coverage |",
             "|---|---|---|---|---|---|"]
    for key in [k for k in res["usefulness"] if k.endswith("x")]:
        row = res["usefulness"][key]
        for label in ["learned", "gaussian"]:
            r = row[label]
            lines.append(f"| {key} | {label} ({res['sampler']}) | {r['psnr']:.2f} ± {r['psnr_se']:.2f} | "
                         f"{r['psnr_mc_corrected']:.2f} ± {r['psnr_mc_corrected_se']:.2f} | {r['ssim']:.3f} ± {r['ssim_se']:.3f} | {r['coverage90']:.3f} ± {r['coverage90_se']:.3f} |")
        g = row["gaussian_exact"]
        lines.append(f"| {key} | gaussian (exact posterior mean) | {g['psnr']:.2f} | - | {g['ssim']:.3f} | - |")
        lines.append(f"| {key} | zero-filled Aᴴy | {row['zero_filled_psnr']:.2f} | - | - | - |")
    if "sbc" in res:
        s = res["sbc"]
        lines += ["", "| SBC test function | χ² p | KS p |", "|---|---|---|"]
        lines += [f"| {t['name']} | {t['chi2_p']:.3f} | {t['ks_p']:.3f} |" for t in s["tests"]]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="data/models/phantom-denoiser", help="folder with model.pt, model.json")
    parser.add_argument("--out", required=True, help="results (JSON)")
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--accelerations", type=float, nargs="+", default=[4.0, 8.0])
    parser.add_argument("--mask-seed", type=int, default=0)
    parser.add_argument("--gaussian-images", type=int, default=None,
                        help="training members [0, N) of the Gaussian prior (default: those of the model's Gaussian "
                             "part, model.json)")
    parser.add_argument("--sampler", default="ddrm")
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--step", type=float, default=None, help="langevin's step epsilon (default: the library's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sbc-replicates", type=int, default=100)
    parser.add_argument("--sbc-draws", type=int, default=9)
    parser.add_argument("--sbc-bins", type=int, default=5)
    parser.add_argument("--sbc-acceleration", type=float, default=4.0)
    parser.add_argument("--skip-sbc", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    module, info = load_network(args.model)
    shape = tuple(info["training_shape"])
    sampler = (twofold.Sampler(args.sampler, levels=args.levels) if args.step is None else
               twofold.Sampler(args.sampler, levels=args.levels, step=args.step))
    start = time.time()
    res = {"command": "PYTHONPATH=build/python /usr/bin/python3 python/validate_learned_prior.py " + " ".join(sys.argv[1:]),
           "sampler": f"{args.sampler}, {args.levels} levels" + ("" if args.step is None else f", step {args.step:g}"), "chains": args.chains, "images": args.images,
           "sigma_y": SIGMA_Y, "model": info.get("command"), "torch_version": torch.__version__}
    res["usefulness"] = usefulness(args, module, info, sampler, shape)
    if not args.skip_sbc:
        res["sbc"] = sbc(args, module, info, sampler, shape)
    res["wall_seconds"] = time.time() - start
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(markdown(res))
    print(f"wall time {res['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
