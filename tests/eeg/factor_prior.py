#!/usr/bin/env python3
"""--prior factor on the shipped EEG problem: a spatially smooth source prior
Sigma = F F^T (a Gaussian kernel of 25 mm over the source grid, x, y, z independent).

1. The sampler's cascade maps (pto on z, then x = F z through maps_from_draws) against
   the exact posterior of the same prior (dense_posterior_factor_prior): spatially
   averaged ambiguity and total variance within 5 % (per component the Monte Carlo error
   of R = 16 runs x K = 16 chains is sqrt(2 / (R (K - 1))) = 9 %; averaged over 963
   correlated components, well under 5 %) and the mean within 0.3 posterior std (RMS;
   Monte Carlo alone gives about 1/sqrt(256) = 0.06).
2. F = diag(sqrt(v)) with v the minimum-norm variances reproduces --prior minimum-norm's
   exact maps to 1e-4 (two independent exact paths: the factor SVD form and the
   diagonal-prior dense reference).

usage: factor_prior.py TWOFOLD_EXE SOURCE_DIR WORK_DIR"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eeg_support import check, failures, run_twofold, save

def main():
    exe, src, work = sys.argv[1:4]
    forward = os.path.join(src, "data", "eeg", "biosemi64-sphere")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    P = np.load(os.path.join(forward, "source_positions.npy"))
    L = np.load(os.path.join(forward, "leadfield.npy"))
    C = np.load(os.path.join(forward, "noise_covariance.npy"))
    D = np.linalg.norm(P[:, None] - P[None], axis=-1)
    e, E = np.linalg.eigh(np.exp(-D**2 / (2 * 0.025**2)))
    keep = e > 1e-8 * e[-1]
    F = np.kron(E[:, keep] * np.sqrt(e[keep]), np.eye(3)) * 5.0  # nA m
    rng = np.random.default_rng(1)
    x = F @ rng.standard_normal(F.shape[1])
    ec, Ec = np.linalg.eigh(C)
    kc = ec > 1e-6 * ec[-1]
    y = L @ x + (Ec[:, kc] * np.sqrt(ec[kc])) @ rng.standard_normal(kc.sum())
    out = os.path.join(work, "smooth")
    run_twofold(exe, ["sample", "--forward", forward, "--measurements", save(os.path.join(work, "y.npy"), y),
                      "--sigma", "1", "--prior", "factor", "--prior-factor", save(os.path.join(work, "F.npy"), F),
                      "--sampler", "pto", "--reference", "--no-report", "--out", out])
    c = json.load(open(os.path.join(out, "summary.json")))["against_exact_reference"]
    check(abs(c["ambiguity_ratio"] - 1) < 0.05, f"smooth prior: sampled / exact ambiguity {c['ambiguity_ratio']:.3f}")
    check(abs(c["total_variance_ratio"] - 1) < 0.05,
          f"smooth prior: sampled / exact total variance {c['total_variance_ratio']:.3f}")
    check(c["mean_error_rms_in_posterior_std"] < 0.3,
          f"smooth prior: mean error {c['mean_error_rms_in_posterior_std']:.3f} posterior std (RMS)")

    # 2. The diagonal factor of the minimum-norm variances against --prior minimum-norm.
    mn = os.path.join(work, "minimum-norm")
    args = ["sample", "--forward", forward, "--measurements", os.path.join(work, "y.npy"), "--sigma", "1",
            "--sampler", "pto", "--runs", "2", "--chains", "2", "--reference", "--no-report"]
    run_twofold(exe, args + ["--prior", "minimum-norm", "--out", mn])
    Wk = (Ec[:, kc] / np.sqrt(ec[kc])).T
    G = Wk @ L
    r = G.shape[0]
    gram = np.einsum("rsj,rsk->sjk", G.reshape(r, -1, 3), G.reshape(r, -1, 3))
    w = 1 / np.linalg.eigvalsh(gram)[:, -1]
    ws = np.sort(w)
    above = ws[ws > 100 * ws[0]]  # MNE's limit 10: the cap is the first 1/d above 10^2 x the smallest
    w = np.repeat(np.minimum(w / (above[0] if above.size else ws[-1]), 1) ** 0.8, 3)
    prior_var = w * r / np.sum(w * np.sum(G**2, axis=0)) * 9
    diag = os.path.join(work, "diagonal-factor")
    run_twofold(exe, args + ["--prior", "factor", "--prior-factor",
                             save(os.path.join(work, "F_diag.npy"), np.diag(np.sqrt(prior_var))), "--out", diag])
    for name in ("mean", "variance", "ambiguity", "estimation"):
        a = np.load(os.path.join(diag, "reference_" + name + ".npy")).real.reshape(-1)
        b = np.load(os.path.join(mn, "reference_" + name + ".npy")).real.reshape(-1)
        err = np.max(np.abs(a - b)) / np.max(np.abs(b))
        check(err < 1e-4, f"diagonal factor = minimum-norm prior: reference_{name} max relative difference {err:.1e}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
