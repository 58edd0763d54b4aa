#!/usr/bin/env python3
"""The EEG files: python/eeg/make_forward.py rebuilds the committed forward folder
exactly, converts MNE -fwd.fif/-cov.fif files into the same layout, and twofold
rejects bad EEG inputs with exit 2, a message naming the file, and nothing written.

usage: forward_files.py TWOFOLD_EXE SOURCE_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eeg_support import average_reference, check, failures, import_mne, noise_covariance, run_twofold, save, sphere_forward

def make_forward(src, args):
    return subprocess.run([sys.executable, os.path.join(src, "python", "eeg", "make_forward.py")] + args,
                          capture_output=True, text=True)


def main():
    exe, src, work = sys.argv[1:4]
    mne = import_mne()
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    shipped = os.path.join(src, "data", "eeg", "biosemi64-sphere")
    meta = json.load(open(os.path.join(shipped, "forward.json")))

    # 1. The committed folder is what its recorded command makes: to 1e-6 with the MNE
    # version that made it, to 1e-3 with another (MNE's sphere fit or EEG sphere solution
    # may change in the last digits between versions; the folder records its version).
    same = meta["mne_version"] == mne.__version__
    rtol = 1e-6 if same else 1e-3
    if not same:
        print(f"note  MNE {mne.__version__} here, {meta['mne_version']} made the folder: tolerance {rtol}")
    args = meta["command"].split()[2:]
    out = os.path.join(work, "rebuilt")
    r = make_forward(src, [a if a != args[args.index("--out") + 1] else out for a in args])
    check(r.returncode == 0, "make_forward.py reruns the recorded command: " + r.stderr.strip())
    for name in ("leadfield", "noise_covariance", "source_positions", "channel_positions"):
        a, b = np.load(os.path.join(out, name + ".npy")), np.load(os.path.join(shipped, name + ".npy"))
        check(a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=rtol * 1e-3 * np.abs(b).max()),
              f"rebuilt {name}.npy equals the committed one")

    # 2. -fwd.fif / -cov.fif conversion: same lead field and covariance as MNE holds.
    info, fwd, _ = sphere_forward(mne, spacing=30.0)
    chpos = np.array([ch["loc"][:3] for ch in fwd["info"]["chs"]])
    C = noise_covariance(chpos)
    fwd_path, cov_path = os.path.join(work, "test-fwd.fif"), os.path.join(work, "test-cov.fif")
    mne.write_forward_solution(fwd_path, fwd, overwrite=True)
    mne.Covariance(C, info["ch_names"], [], [], 1000).save(cov_path, overwrite=True)
    conv = os.path.join(work, "converted")
    r = make_forward(src, ["--out", conv, "--fwd", fwd_path, "--cov", cov_path])
    check(r.returncode == 0, "make_forward.py --fwd --cov converts: " + r.stderr.strip())
    P = average_reference(len(chpos))
    L = np.load(os.path.join(conv, "leadfield.npy"))
    check(np.allclose(L, 1e-3 * P @ fwd["sol"]["data"], rtol=1e-6, atol=1e-9), "converted lead field = 1e-3 P G")
    check(np.allclose(np.load(os.path.join(conv, "noise_covariance.npy")), 1e12 * P @ C @ P, atol=1e-9),
          "converted covariance = 1e12 P C P")
    r = make_forward(src, ["--out", os.path.join(work, "nope"), "--fwd", os.path.join(work, "missing-fwd.fif")])
    check(r.returncode == 2 and "missing-fwd.fif" in r.stderr and not os.path.exists(os.path.join(work, "nope")),
          "make_forward.py: a missing -fwd.fif exits 2 naming it, nothing written")

    # 3. Bad inputs to twofold: exit 2, the message names the file, no output folder.
    Ls = np.load(os.path.join(shipped, "leadfield.npy"))
    Cs = np.load(os.path.join(shipped, "noise_covariance.npy"))
    m = Ls.shape[0]
    y = save(os.path.join(work, "y.npy"), Ls @ np.ones(Ls.shape[1]))

    def bad(label, args, name):
        out = os.path.join(work, "out-" + label)
        r = run_twofold(exe, args + ["--out", out, "--no-report"], expect=2)
        check(name in r.stderr and not os.path.exists(out), f"{label}: exit 2 naming {name}, nothing written "
              f"({r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''})")

    base = ["sample", "--operator", "dense", "--sigma", "1", "--prior", "minimum-norm", "--runs", "2", "--chains", "2"]
    short_cov = save(os.path.join(work, "short_cov.npy"), Cs[:-1, :-1])
    bad("channel count (covariance)", base + ["--matrix", os.path.join(shipped, "leadfield.npy"), "--noise-cov",
                                              short_cov, "--measurements", y], "short_cov.npy")
    y_short = save(os.path.join(work, "y_short.npy"), np.ones(m - 1))
    bad("channel count (data)", base + ["--forward", shipped, "--measurements", y_short], "y_short.npy")
    asym = Cs.copy()
    asym[0, 1] += 0.1 * np.abs(Cs).max()
    bad("non-symmetric covariance", base + ["--forward", shipped, "--noise-cov",
                                            save(os.path.join(work, "asym.npy"), asym), "--measurements", y],
        "asym.npy")
    e, E = np.linalg.eigh(Cs)
    e[0] = -0.1 * e[-1]
    bad("indefinite covariance", base + ["--forward", shipped, "--noise-cov",
                                         save(os.path.join(work, "indef.npy"), (E * e) @ E.T), "--measurements", y],
        "indef.npy")
    Lnan = Ls.copy()
    Lnan[3, 5] = np.nan
    bad("NaN in the lead field", base + ["--matrix", save(os.path.join(work, "L_nan.npy"), Lnan), "--noise-cov",
                                         os.path.join(shipped, "noise_covariance.npy"), "--measurements", y],
        "L_nan.npy")
    folder = os.path.join(work, "bad-forward")
    shutil.copytree(shipped, folder)
    save(os.path.join(folder, "source_positions.npy"), np.load(os.path.join(shipped, "source_positions.npy"))[:, :2])
    bad("positions of the wrong shape", ["demo", "--problem", "eeg", "--forward", folder, "--runs", "2",
                                         "--chains", "2"], "source_positions.npy")
    bad("positions of the wrong shape (sample)", base + ["--forward", folder, "--measurements", y],
        "source_positions.npy")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
