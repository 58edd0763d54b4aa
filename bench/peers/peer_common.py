"""What the bench's peer scripts (numpy_langevin.py, torch_langevin.py) share: the
command-line flags with the sizes and sampler settings twofold_bench hands them
(bench/peer.cpp), the noise levels computed from them, and the JSON report line."""

import argparse
import json
import platform
import statistics


def parse_args(argv, description, extra=None):
    """The peers' flags; `extra(parser)` adds a script's own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--sampler", choices=["langevin", "exact"], default="langevin")
    p.add_argument("--operator", choices=["single-coil", "multicoil", "dense", "gmm-1d"], default="single-coil")
    p.add_argument("--coils", type=int, default=1, help="multicoil: coil maps")
    p.add_argument("--sensors", type=int, default=0, help="dense: rows m (the image is 1 x n)")
    p.add_argument("--projection", choices=["cg", "row-svd"], default="cg",
                   help="multicoil: how P_R is computed (twofold's choice in the same run)")
    p.add_argument("--projection-iterations", type=int, default=0,
                   help="multicoil: CG iterations of P_R (twofold's count in the same run); 0: to tolerance")
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--chains", type=int, required=True)
    p.add_argument("--levels", type=int, required=True, help="noise levels (>= 2)")
    p.add_argument("--inner-steps", type=int, default=1, help="langevin steps per level")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sigma-y", type=float, default=0.01)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--step", type=float, default=0.1, help="langevin epsilon")
    p.add_argument("--s-min", type=float, default=1e-4)
    p.add_argument("--s-max", type=float, default=10.0)
    p.add_argument("--rho", type=float, default=7.0)
    p.add_argument("--seed", type=int, default=0)
    if extra:
        extra(p)
    a = p.parse_args(argv)
    for name in ("height", "width", "chains", "inner_steps", "repeats"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if a.levels < 2:
        p.error("--levels must be >= 2")
    if a.operator == "multicoil" and a.coils < 1:
        p.error("--coils must be >= 1")
    if a.operator == "dense" and (a.sensors < 1 or a.height != 1):
        p.error("--operator dense needs --sensors >= 1 and --height 1")
    if a.operator not in ("single-coil", "gmm-1d") and a.sampler != "langevin":
        p.error("--sampler exact is single-coil or gmm-1d only")
    if a.operator == "gmm-1d" and (a.sampler != "exact" or a.height != 1 or a.width != 1):
        p.error("--operator gmm-1d needs --sampler exact and a 1 x 1 image")
    return a


def edm_levels(n, s_min, s_max, rho):
    """Karras et al. 2022 levels, as twofold::noise_levels(edm_karras)."""
    a, b = s_max ** (1 / rho), s_min ** (1 / rho)
    s = [(a + i / (n - 1) * (b - a)) ** rho for i in range(n)]
    s[0], s[-1] = s_max, s_min
    return s


def print_report(args, name, steps, seconds, projection, versions, inputs):
    """The peer's one JSON line: sizes, versions, every timing and chain_steps_per_second
    (chains · steps / median seconds) for twofold_bench to read."""
    median = statistics.median(seconds)
    print(json.dumps({
        "name": name,
        "sampler": args.sampler,
        "operator": args.operator,
        "coils": args.coils if args.operator == "multicoil" else None,
        "sensors": args.sensors if args.operator == "dense" else None,
        "projection_cg_iterations": projection["iterations"] if args.operator == "multicoil" else None,
        "projection_seconds": projection["seconds"][1:],
        "projection_relative_residual": projection.get("relative_residual"),
        **versions,
        "python_version": platform.python_version(),
        "dtype": "complex64",
        "shape": [args.height, args.width],
        "chains": args.chains,
        "levels": args.levels,
        "steps_per_chain": steps,
        "repeats": args.repeats,
        "seconds": median,
        "all_seconds": seconds,
        "chain_steps_per_second": args.chains * steps / median,
        "inputs": inputs,
    }))
