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
   --sbc-acceleration mask: x*_l from the network's prior by the same sampler run with
   nothing observed (twofold.prior_draws), then twofold.sbc(..., truths=x*): y_l = A x*_l
   + n_l (sigma_y = 0.02), --sbc-draws posterior draws each, ranks of f(x*) among f(x_k)
   (ties at random) for the library's test functions — --sbc-pixels pixels (evenly spaced
   flat indices), Re<w, P_R x> and Re<w', P_N x> for fixed random w, w', the residual
   ||A x - y||^2 — with the chi-square p-value of the rank histogram (--sbc-bins bins) and
   the ECDF-band p-value; the 90 % coverage and the posterior predictive coverage of a
   held-out measurement. The same for cascade stage 2 (stage2=True): completions
   x ~ p(x | P_R x = P_R x*_l), ranked on the pixels and Re<w', P_N x>. The prior's
   quadratic form (Gaussian priors only) has no counterpart for a network.

3. Denoising (no sampler): the mean squared error of the network's x0 prediction on the
   same held-out images plus noise at s = 0.02 ... 3, against the Gaussian prior's exact
   MMSE denoiser (--skip-denoising leaves it out).

Writes --out (JSON) and prints a Markdown table. Everything is seeded.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from scipy import ndimage

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


def usefulness(args, module, info, sampler, shape):
    seed = info["data"]["family_seed"]
    first = info["data"]["heldout_first"]
    lo, hi = info["data"]["gaussian_part_members"] if args.gaussian_images is None else (0, args.gaussian_images)
    truths = twofold.data.phantoms(shape, seed, first + args.first_image, args.images)
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
        row["gaussian_exact"] = {"psnr": float(np.mean(pe)), "ssim": float(np.mean(se)), "psnr_per_image": pe,
                                 "ssim_per_image": se}
        row["zero_filled_psnr"] = float(np.mean(zf))
        d = np.array(row["learned"]["psnr_per_image"]) - np.array(pe)
        row["learned_minus_gaussian_exact_psnr"] = {"mean": float(d.mean()), "se": float(d.std(ddof=1) / np.sqrt(len(d))),
                                                    "images_better": int((d > 0).sum())}
        ds = np.array(row["learned"]["ssim_per_image"]) - np.array(se)
        row["learned_minus_gaussian_exact_ssim"] = {"mean": float(ds.mean()),
                                                    "se": float(ds.std(ddof=1) / np.sqrt(len(ds))),
                                                    "images_better": int((ds > 0).sum())}
        print(f"{acceleration:g}x gaussian exact: PSNR {np.mean(pe):.2f} dB, SSIM {np.mean(se):.3f}; zero-filled "
              f"PSNR {np.mean(zf):.2f} dB; learned - gaussian exact {d.mean():+.2f} +- {row['learned_minus_gaussian_exact_psnr']['se']:.2f} dB",
              flush=True)
        results[f"{acceleration:g}x"] = row
    results["network_seconds"] = fn.seconds
    results["network_images"] = fn.images
    return results


def denoising(args, module, info, shape):
    """The network as a plain denoiser (no sampler): MSE of D(x* + s eps, s) against x* on
    --images held-out images, for the learned module and the Gaussian prior's exact MMSE
    denoiser (the same Gaussian as in the usefulness part), at noise levels s of the engine's
    schedule (z = x* + s eps, eps ~ CN(0, I))."""
    seed, first = info["data"]["family_seed"], info["data"]["heldout_first"]
    lo, hi = info["data"]["gaussian_part_members"] if args.gaussian_images is None else (0, args.gaussian_images)
    truths = twofold.data.phantoms(shape, seed, first + args.first_image, args.images)
    gaussian = twofold.priors.gaussian_from_images(twofold.data.phantoms(shape, seed, lo, hi - lo))
    net = NetworkDenoiser(module)
    rng = np.random.default_rng(args.seed)
    rows = []
    for s in [0.02, 0.1, 0.3, 1.0, 3.0]:
        eps = (rng.standard_normal(truths.shape) + 1j * rng.standard_normal(truths.shape)) / np.sqrt(2)
        z = (truths + s * eps).astype(np.complex64)
        with torch.no_grad():
            learned = net(torch.from_numpy(z), s).numpy()
        mse_l = float(np.mean(np.abs(learned - truths) ** 2))
        mse_g = float(np.mean(np.abs(gaussian.denoise(z, s) - truths) ** 2))
        rows.append({"s": s, "mse_learned": mse_l, "mse_gaussian_mmse": mse_g})
        print(f"denoising s = {s:g}: MSE learned {mse_l:.3g}, Gaussian MMSE {mse_g:.3g} "
              f"({100 * (1 - mse_l / mse_g):.0f} % lower)", flush=True)
    return rows


def sbc(args, module, sampler, shape):
    """twofold.sbc against the network's own prior, for the posterior and for cascade stage 2."""
    net, fn = learned_prior(module, shape)
    mask = twofold.data.line_mask(shape[1], acceleration=args.sbc_acceleration, seed=args.mask_seed, height=shape[0])
    op = twofold.operators.mri(mask)
    L, K = args.sbc_replicates, args.sbc_draws
    t = time.time()
    # x* from the network's own prior: the same sampler with nothing observed.
    truths = twofold.prior_draws(net, L, sampler=sampler, seed=args.seed + 100)
    out = {"replicates": L, "draws": K, "bins": args.sbc_bins, "pixels": args.sbc_pixels,
           "acceleration": args.sbc_acceleration, "prior_draws_seconds": time.time() - t}
    magnitude = float(np.abs(truths).mean())
    out["truth_mean_magnitude"] = magnitude
    for stage in ["posterior", "stage2"]:
        t = time.time()
        r = twofold.sbc(op, SIGMA_Y, net, sampler=sampler, replicates=L, draws=K, bins=args.sbc_bins,
                        pixels=args.sbc_pixels, stage2=stage == "stage2", seed=args.seed + 200, truths=truths)
        seconds = time.time() - t
        tests = [{k: v[k] for k in ["name", "histogram", "chi2", "chi2_p", "ecdf_p"]} for v in r["tests"]]
        nominal = r["coverage"]["nominal"]
        i90 = int(np.argmin(np.abs(np.array(nominal) - 0.9)))
        row = {"tests": tests, "coverage90": r["coverage"]["quantile"][i90], "seconds": seconds}
        if stage == "posterior":
            pc = r["predictive_coverage"]
            row["predictive_coverage90"] = pc["quantile"][i90]
            row["predictive_coverage90_se"] = pc["standard_error"][i90]
        out[stage] = row
        for t_ in tests:
            print(f"SBC {stage} {t_['name']}: chi2 p {t_['chi2_p']:.3g}, ECDF p {t_['ecdf_p']:.3g}, "
                  f"histogram {t_['histogram']}", flush=True)
        print(f"SBC {stage}: coverage90 {row['coverage90']:.3f}, {seconds:.0f} s", flush=True)
    return out


def markdown(res):
    lines = ["| mask | prior | PSNR (dB) | PSNR, Monte Carlo error removed (dB) | SSIM | 90 % coverage |",
             "|---|---|---|---|---|---|"]
    for key in [k for k in res.get("usefulness", {}) if k.endswith("x")]:
        row = res["usefulness"][key]
        for label in ["learned", "gaussian"]:
            r = row[label]
            lines.append(f"| {key} | {label} ({res['sampler']}) | {r['psnr']:.2f} ± {r['psnr_se']:.2f} | "
                         f"{r['psnr_mc_corrected']:.2f} ± {r['psnr_mc_corrected_se']:.2f} | {r['ssim']:.3f} ± {r['ssim_se']:.3f} | {r['coverage90']:.3f} ± {r['coverage90_se']:.3f} |")
        g = row["gaussian_exact"]
        lines.append(f"| {key} | gaussian (exact posterior mean) | {g['psnr']:.2f} | - | {g['ssim']:.3f} | - |")
        lines.append(f"| {key} | zero-filled Aᴴy | {row['zero_filled_psnr']:.2f} | - | - | - |")
    if "denoising" in res:
        lines += ["", "| s | denoising MSE, learned | Gaussian MMSE denoiser |", "|---|---|---|"]
        lines += [f"| {r['s']:g} | {r['mse_learned']:.3g} | {r['mse_gaussian_mmse']:.3g} |" for r in res["denoising"]]
    if "sbc" in res:
        s = res["sbc"]
        for stage in ["posterior", "stage2"]:
            lines += ["", f"| SBC ({stage}) test function | rank histogram | χ² p | ECDF p |", "|---|---|---|---|"]
            lines += [f"| {t['name']} | {' '.join(map(str, t['histogram']))} | {t['chi2_p']:.3g} | {t['ecdf_p']:.3g} |"
                      for t in s[stage]["tests"]]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="data/models/phantom-denoiser", help="folder with model.pt, model.json")
    parser.add_argument("--out", required=True, help="results (JSON)")
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--first-image", type=int, default=0,
                        help="offset into the held-out members (the published table: 0, images 0..49; settings were "
                             "tuned on others, e.g. --first-image 100)")
    parser.add_argument("--accelerations", type=float, nargs="+", default=[4.0, 8.0])
    parser.add_argument("--mask-seed", type=int, default=0)
    parser.add_argument("--gaussian-images", type=int, default=None,
                        help="training members [0, N) of the Gaussian prior (default: those of the model's Gaussian "
                             "part, model.json)")
    parser.add_argument("--sampler", default="ddrm")
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--step", type=float, default=None, help="langevin's step epsilon (default: the library's)")
    parser.add_argument("--sampler-option", action="append", default=[], metavar="KEY=VALUE",
                        help="another twofold.Sampler keyword, e.g. ddrm_eta=1.0 (repeatable)")
    parser.add_argument("--skip-usefulness", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sbc-replicates", type=int, default=100)
    parser.add_argument("--sbc-draws", type=int, default=9)
    parser.add_argument("--sbc-bins", type=int, default=5)
    parser.add_argument("--sbc-pixels", type=int, default=5, help="pixel test functions (evenly spaced flat indices)")
    parser.add_argument("--sbc-acceleration", type=float, default=4.0)
    parser.add_argument("--skip-sbc", action="store_true")
    parser.add_argument("--skip-denoising", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    module, info = load_network(args.model)
    shape = tuple(info["training_shape"])
    options = {"levels": args.levels}
    if args.step is not None:
        options["step"] = args.step
    for item in args.sampler_option:
        key, _, value = item.partition("=")
        options[key] = float(value)
    sampler = twofold.Sampler(args.sampler, **options)
    start = time.time()
    res = {"command": "PYTHONPATH=build/python /usr/bin/python3 python/validate_learned_prior.py " + " ".join(sys.argv[1:]),
           "sampler": f"{args.sampler}, {args.levels} levels" + ("" if args.step is None else f", step {args.step:g}")
           + "".join(f", {o}" for o in args.sampler_option), "chains": args.chains, "images": args.images,
           "first_image": args.first_image,
           "sigma_y": SIGMA_Y, "model": info.get("command"), "torch_version": torch.__version__}
    if not args.skip_usefulness:
        res["usefulness"] = usefulness(args, module, info, sampler, shape)
    if not args.skip_denoising:
        res["denoising"] = denoising(args, module, info, shape)
    if not args.skip_sbc:
        res["sbc"] = sbc(args, module, sampler, shape)
    res["wall_seconds"] = time.time() - start
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(markdown(res))
    print(f"wall time {res['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
