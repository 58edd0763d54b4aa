#!/usr/bin/env python3
"""EEG forward models for twofold, built offline with MNE-Python (nothing is downloaded).

Two modes, the same output files:

  make_forward.py --out DIR [--montage biosemi64] [--spacing 19] [--orientation free|fixed]
      A lead field from a three-layer spherical head model fitted to a montage that
      ships with MNE (mne.make_sphere_model on mne.channels.make_standard_montage), a
      volume source grid inside the inner sphere (mne.setup_volume_source_space),
      free orientation (3 components per source, x, y, z in head coordinates) or fixed
      (one radial component per source), and a synthetic noise covariance: white
      sensor noise plus a spatially correlated part, exp(-distance / 40 mm).

  make_forward.py --out DIR --fwd my-fwd.fif [--cov my-cov.fif] [--orientation free|fixed]
      Converts a user's MNE forward solution (and noise covariance) into the same files.
      Fixed orientation needs a surface-oriented forward solution (cortical normals).

Both apply the average reference to the lead field and to the covariance (the
covariance then has rank channels - 1, which twofold's whitening handles as MNE
does: docs/eeg.md). Files in DIR (C-order float64 .npy). Voltages are in microvolts
and source moments in nA m, so that source amplitudes are O(1-10) in the units the
engine samples in (its noise schedule runs from 10 down to 1e-3 of those units):

  leadfield.npy            [channels, components]  uV / (nA m)   (= 1e-3 V / (A m))
  source_positions.npy     [sources, 3]            m, head coordinates
  source_orientations.npy  [components, 3]         unit vectors (free: x, y, z per source)
  channel_positions.npy    [channels, 3]           m, head coordinates
  noise_covariance.npy     [channels, channels]    uV^2          (= 1e12 V^2)
  forward.json             channel names, units, settings, the command, MNE's version

Exit status 2 (nothing written) when an input is bad.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np


def fail(message):
    print(f"make_forward.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def average_reference(n):
    return np.eye(n) - np.full((n, n), 1.0 / n)


def synthetic_noise_covariance(positions, white_std, correlated_std, length):
    """White sensor noise plus exp(-d/length)-correlated noise (V^2), before referencing."""
    d = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    return white_std**2 * np.eye(len(positions)) + correlated_std**2 * np.exp(-d / length)


def from_sphere_model(args, mne):
    montage = mne.channels.make_standard_montage(args.montage)
    info = mne.create_info(montage.ch_names, 1000.0, "eeg")
    info.set_montage(montage)
    sphere = mne.make_sphere_model("auto", "auto", info, verbose=False)
    src = mne.setup_volume_source_space(sphere=sphere, pos=args.spacing, mindist=args.mindist, exclude=0.0,
                                        verbose=False)
    fwd = mne.make_forward_solution(info, None, src, sphere, meg=False, eeg=True, verbose=False)
    gain = fwd["sol"]["data"]  # [channels, 3 * sources], x, y, z per source
    positions = fwd["source_rr"]
    channels = np.array([ch["loc"][:3] for ch in fwd["info"]["chs"]])
    centre = np.asarray(sphere["r0"], dtype=float)
    if args.orientation == "fixed":
        radial = positions - centre
        radial /= np.linalg.norm(radial, axis=1, keepdims=True)
        gain = np.einsum("csk,sk->cs", gain.reshape(len(channels), -1, 3), radial)
        orientations = radial
    else:
        orientations = np.tile(np.eye(3), (len(positions), 1))
    cov = synthetic_noise_covariance(channels, args.white_noise, args.correlated_noise, args.noise_length)
    settings = {
        "source": "sphere model",
        "montage": args.montage,
        "sphere_centre_m": centre.tolist(),
        "sphere_layers": [{"radius_m": float(layer["rad"]), "conductivity_S_per_m": float(layer["sigma"])}
                          for layer in sphere["layers"]],
        "source_space": f"volume grid, {args.spacing} mm spacing, >= {args.mindist} mm inside the inner sphere",
        "noise_covariance": (f"synthetic: white {args.white_noise:g} V std + correlated {args.correlated_noise:g} V "
                             f"std with exp(-distance / {args.noise_length:g} m)"),
    }
    return fwd["info"]["ch_names"], gain, positions, orientations, channels, cov, centre, settings


def from_fif(args, mne):
    if not os.path.isfile(args.fwd):
        fail(f"forward solution {args.fwd}: no such file")
    try:
        fwd = mne.read_forward_solution(args.fwd, verbose=False)
        fwd = mne.pick_types_forward(fwd, meg=False, eeg=True)
        if args.orientation == "fixed":
            fwd = mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True, use_cps=True, verbose=False)
        else:
            fwd = mne.convert_forward_solution(fwd, surf_ori=False, force_fixed=False, verbose=False)
    except Exception as e:  # MNE raises many kinds for unreadable or unsuitable files
        fail(f"forward solution {args.fwd}: {e}")
    names = fwd["info"]["ch_names"]
    if not names:
        fail(f"forward solution {args.fwd}: no EEG channels")
    gain = fwd["sol"]["data"]
    positions = fwd["source_rr"]
    orientations = fwd["source_nn"]
    channels = np.array([ch["loc"][:3] for ch in fwd["info"]["chs"]])
    if args.cov:
        if not os.path.isfile(args.cov):
            fail(f"noise covariance {args.cov}: no such file")
        try:
            cov = mne.read_cov(args.cov, verbose=False)
        except Exception as e:
            fail(f"noise covariance {args.cov}: {e}")
        missing = [n for n in names if n not in cov.ch_names]
        if missing:
            fail(f"noise covariance {args.cov} lacks channels of the forward solution: {', '.join(missing[:5])}")
        index = [cov.ch_names.index(n) for n in names]
        c = cov.data if not cov["diag"] else np.diag(cov.data)
        cov = np.asarray(c)[np.ix_(index, index)]
    else:
        cov = synthetic_noise_covariance(channels, args.white_noise, args.correlated_noise, args.noise_length)
    centre = positions.mean(axis=0)
    settings = {"source": "forward solution", "forward": os.path.abspath(args.fwd),
                "noise_covariance": os.path.abspath(args.cov) if args.cov else "synthetic (no --cov given)"}
    return names, gain, positions, orientations, channels, cov, centre, settings


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (must not exist, or be empty)")
    p.add_argument("--fwd", help="convert this MNE -fwd.fif instead of building a sphere model")
    p.add_argument("--cov", help="with --fwd: the MNE -cov.fif noise covariance")
    p.add_argument("--montage", default="biosemi64", help="a montage that ships with MNE (default biosemi64)")
    p.add_argument("--spacing", type=float, default=19.0, help="volume grid spacing, mm (default 19)")
    p.add_argument("--mindist", type=float, default=5.0, help="smallest distance to the inner sphere, mm")
    p.add_argument("--orientation", choices=["free", "fixed"], default="free")
    p.add_argument("--white-noise", type=float, default=0.5e-6, help="white sensor noise std, V")
    p.add_argument("--correlated-noise", type=float, default=1.0e-6, help="correlated noise std, V")
    p.add_argument("--noise-length", type=float, default=0.04, help="noise correlation length, m")
    args = p.parse_args(argv)
    if args.cov and not args.fwd:
        fail("--cov needs --fwd")
    if os.path.exists(args.out) and (not os.path.isdir(args.out) or os.listdir(args.out)):
        fail(f"--out {args.out} exists and is not an empty folder; nothing was written")
    try:
        import mne
    except ImportError:
        print("make_forward.py: MNE-Python is missing (pip install mne)", file=sys.stderr)
        sys.exit(3)

    names, gain, positions, orientations, channels, cov, centre, settings = (
        from_fif(args, mne) if args.fwd else from_sphere_model(args, mne))
    n = len(names)
    if gain.shape[0] != n or cov.shape != (n, n):
        fail(f"channel counts disagree: lead field {gain.shape}, covariance {cov.shape}, {n} names")
    if not (np.all(np.isfinite(gain)) and np.all(np.isfinite(cov))):
        fail("the lead field or the covariance has non-finite entries")
    ref = average_reference(n)
    gain = 1e-3 * (ref @ gain)  # V/(A m) -> uV/(nA m)
    cov = 1e12 * (ref @ cov @ ref)  # V^2 -> uV^2
    cov = 0.5 * (cov + cov.T)
    per_source = gain.shape[1] // len(positions)
    meta = {
        "command": "python3 python/eeg/make_forward.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "mne_version": mne.__version__,
        "channels": n,
        "sources": int(len(positions)),
        "components": int(gain.shape[1]),
        "components_per_source": int(per_source),
        "orientation": args.orientation,
        "reference": "average (applied to the lead field and the noise covariance; covariance rank channels - 1)",
        "head_centre_m": np.asarray(centre, dtype=float).tolist(),
        "units": {"leadfield": "uV/(nA m)", "source_positions": "m", "channel_positions": "m",
                  "noise_covariance": "uV^2", "source amplitude": "nA m"},
        "coordinate_frame": "head",
        "channel_names": list(names),
        "settings": settings,
    }
    parent = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".make_forward-", dir=parent)
    try:
        for name, value in [("leadfield", gain), ("source_positions", positions),
                            ("source_orientations", orientations), ("channel_positions", channels),
                            ("noise_covariance", cov)]:
            np.save(os.path.join(stage, name + ".npy"), np.ascontiguousarray(value, dtype=np.float64))
        with open(os.path.join(stage, "forward.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        os.chmod(stage, 0o755)
        if os.path.isdir(args.out):
            os.rmdir(args.out)
        os.replace(stage, args.out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    print(f"make_forward.py: {n} channels x {gain.shape[1]} components ({len(positions)} sources, "
          f"{args.orientation} orientation) in {args.out}")


if __name__ == "__main__":
    main()
