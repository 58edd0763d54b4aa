"""Shared pieces of the EEG tests: a small MNE forward model built offline, the
average reference, and running the twofold program."""
import os
import subprocess
import sys

import numpy as np

SKIP = 77  # ctest's SKIP_RETURN_CODE for the EEG tests

failures = []  # what failed, for the script's exit code


def check(ok, what):
    """Prints one check's outcome and remembers a failure."""
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def import_mne():
    try:
        import mne
    except ImportError:
        print("MNE-Python is missing (pip install mne; .ci/setup installs it): skipped")
        sys.exit(SKIP)
    mne.set_log_level("ERROR")
    return mne


def sphere_forward(mne, spacing=25.0, fixed_normals=False):
    """biosemi64 on a fitted three-layer sphere; a volume grid (free orientation) or, with
    fixed_normals, the same grid as a discrete source space with radial normals (what
    MNE needs for a fixed-orientation inverse). Returns (info, forward, sphere)."""
    montage = mne.channels.make_standard_montage("biosemi64")
    info = mne.create_info(montage.ch_names, 1000.0, "eeg")
    info.set_montage(montage)
    sphere = mne.make_sphere_model("auto", "auto", info)
    src = mne.setup_volume_source_space(sphere=sphere, pos=spacing, mindist=5.0, exclude=0.0)
    if fixed_normals:
        rr = src[0]["rr"][src[0]["vertno"]]
        nn = rr - np.asarray(sphere["r0"])
        nn /= np.linalg.norm(nn, axis=1, keepdims=True)
        src = mne.setup_volume_source_space(pos=dict(rr=rr, nn=nn))
    fwd = mne.make_forward_solution(info, None, src, sphere, meg=False, eeg=True)
    return info, fwd, sphere


def noise_covariance(positions):
    """White 0.5 uV plus 1 uV with exp(-d / 40 mm) (V^2), as make_forward.py's default."""
    d = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    return (0.5e-6) ** 2 * np.eye(len(positions)) + (1e-6) ** 2 * np.exp(-d / 0.04)


def average_reference(n):
    return np.eye(n) - np.full((n, n), 1.0 / n)


def run_twofold(exe, args, expect=0):
    r = subprocess.run([exe] + args, capture_output=True, text=True)
    if r.returncode != expect:
        print(r.stdout, r.stderr, sep="\n")
        raise SystemExit(f"twofold {' '.join(args)}: exit {r.returncode}, expected {expect}")
    return r


def save(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float64))
    return path
