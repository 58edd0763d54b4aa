"""The built-in data generators (include/twofold/data/): phantoms(shape, seed,
first, count) draws members of the seeded random Shepp-Logan phantom family and
line_mask(width, acceleration=, seed=, height=) the phase-encode line masks, the
same images and masks `twofold demo` draws."""

from ._twofold.data import line_mask, phantoms

__all__ = ["line_mask", "phantoms"]
