"""Priors p(x) as batched denoisers D(z, s) = E[x0 | x0 + s eps = z].

Built in: gaussian (mean + variance per pixel, or spectrum= per centred k-space
coefficient), gaussian_from_images, mixture, empirical. Any Python callable:
Denoiser(fn, vjp=None, shape=(H, W), name=..., tensors='numpy'|'torch');
torch_vjp(fn) builds the VJP that dps, pigdm and smc need from a differentiable
torch function (docs/python.md, "Callable priors")."""

from ._twofold.priors import Denoiser, Prior, empirical, gaussian, gaussian_from_images, mixture

__all__ = ["Denoiser", "Prior", "empirical", "gaussian", "gaussian_from_images", "mixture", "torch_vjp"]


def torch_vjp(fn):
    """The vector-Jacobian product of a differentiable torch denoiser fn(z, s).

    Returns vjp(z, s, w) = J^T w with J the Jacobian of fn(., s) at z, complex
    images read as pairs of reals (the convention of twofold's samplers), computed
    by one torch.autograd.grad call through the real view of z. Use it as
    Denoiser(fn, torch_vjp(fn), shape=..., tensors='torch')."""
    import torch

    def vjp(z, s, w):
        with torch.enable_grad():
            zr = torch.view_as_real(z).detach().clone().requires_grad_(True)
            d = fn(torch.view_as_complex(zr), s)
            (g,) = torch.autograd.grad(torch.view_as_real(d), zr, grad_outputs=torch.view_as_real(w))
        return torch.view_as_complex(g.contiguous())

    return vjp
