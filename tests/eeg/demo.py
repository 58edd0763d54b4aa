#!/usr/bin/env python3
"""`twofold demo --problem eeg` end to end: it runs from the shipped files, the exact
ambiguity grows with depth band by band while the exact estimation shrinks (the point of
the demo), the sampler's ambiguity agrees with the exact one, and the report shows
glass-brain projections and topomaps instead of 1 x n strips.

usage: demo.py TWOFOLD_EXE WORK_DIR"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eeg_support import check, failures, run_twofold

def main():
    exe, work = sys.argv[1:3]
    shutil.rmtree(work, ignore_errors=True)
    out = os.path.join(work, "demo")
    r = run_twofold(exe, ["demo", "--problem", "eeg", "--out", out])
    print(r.stdout)
    summary = json.load(open(os.path.join(out, "summary.json")))
    bands = summary["eeg"]["exact_depth_bands"]
    amb = [b["mean_ambiguity_std"] for b in bands]
    est = [b["mean_estimation_std"] for b in bands]
    frac = [b["mean_ambiguity_fraction_of_prior_variance"] for b in bands]
    check(all(a < b for a, b in zip(amb, amb[1:])), f"exact ambiguity std grows with depth: {amb}")
    check(est[0] > 3 * est[-1], f"exact estimation std of the shallowest band > 3x the deepest: {est}")
    check(frac[0] < frac[-1], f"the data explain more of the prior at shallow depth: {frac}")
    c = summary["against_exact_reference"]
    # 16 runs x 16 chains: per component the relative Monte Carlo error of the ambiguity
    # is sqrt(2 / (R (K - 1))) = 9 %; the spatial average over 963 components is well
    # inside 5 %.
    check(abs(c["ambiguity_ratio"] - 1) < 0.05, f"sampled / exact ambiguity {c['ambiguity_ratio']:.3f} within 5 %")
    page = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    pc = json.load(open(os.path.join(out, "calibration.json")))["predictive_coverage"]
    check(pc["groups"] == 20 and pc["coordinates"] == summary["problem"]["whitened_rank"],
          f"predictive coverage of 20 held-out measurements' {pc['coordinates']} whitened channels: "
          f"{pc['quantile'][pc['nominal'].index(0.9)]:.3f} at p = 0.9")
    for alt in ("ambiguity std per source", "exact estimation std per source", "sensor topomaps",
                "predictive coverage curve"):
        check(f'alt="{alt}"' in page, f"report.html shows '{alt}'")
    check('alt="ambiguity std"' not in page, "report.html has no 1 x n strip maps")
    for name in ("source_positions", "channel_positions", "sensor_residual", "source_ambiguity_std"):
        check(os.path.exists(os.path.join(out, name + ".npy")), f"{name}.npy written")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
