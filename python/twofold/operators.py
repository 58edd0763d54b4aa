"""The six forward operators A, built from arrays (docs/operators.md):
mri, multicoil, dense, blur, inpainting, superres. Each returns an Operator with
apply, adjoint, range_project and null_project."""

from ._twofold.operators import Operator, blur, dense, inpainting, mri, multicoil, superres

__all__ = ["Operator", "blur", "dense", "inpainting", "mri", "multicoil", "superres"]
