"""twofold: posterior sampling for linear inverse problems, with per-pixel
ambiguity (what the data cannot see) and estimation (what noise and inference
leave open) maps. docs/python.md describes the API; every default is the C++
library's own.

    import twofold
    op = twofold.operators.mri(mask)                      # A = M F
    problem = twofold.InverseProblem(op, kspace, sigma=0.05)
    prior = twofold.priors.gaussian_from_images(images)
    result = twofold.sample(problem, prior)               # langevin, cascade, 16 x 16
    result.ambiguity, result.estimation, result.mean
"""

from . import _twofold
from ._twofold import (
    CallbackError,
    Context,
    DeviceError,
    ExactPosterior,
    InverseProblem,
    Sampler,
    SampleResult,
    coverage,
    default_context,
    exact_posterior,
    posterior_draws,
    prior_draws,
    sample,
    sbc,
    simulate,
    to_host,
)
from . import data, operators, priors

__version__ = _twofold.__version__

__all__ = [
    "CallbackError", "Context", "DeviceError", "ExactPosterior", "InverseProblem", "Sampler", "SampleResult",
    "coverage", "data", "default_context", "exact_posterior", "info", "operators", "posterior_draws", "prior_draws", "priors",
    "sample", "sbc", "simulate", "to_host", "__version__",
]


def info(print_it: bool = True) -> dict:
    """Version, backends of this build and which are usable here (like `twofold info`).

    Prints a short summary unless print_it is False; returns it as a dict."""
    backends = _twofold.backends()
    cpu = Context("cpu")
    out = {"version": __version__, "cpu": cpu.device_name, **backends}
    if print_it:
        print(f"twofold {__version__}")
        print(f"  cpu:  {cpu.device_name}")
        if backends["cuda_usable"]:
            print(f"  cuda: usable ({Context('cuda').device_name})")
        elif backends["cuda_built"]:
            print(f"  cuda: built, not usable here: {backends['cuda_unavailable_reason']}")
        else:
            print("  cuda: not built")
    return out
