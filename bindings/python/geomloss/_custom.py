r"""SamplesLoss with a custom ``cost=`` or ``kernel=`` callable (GeomLoss's tensorized backend).

The callable is called on (B, N, D) / (B, M, D) tensors, as in GeomLoss:

* ``kernel(x, y, blur=blur)`` returns the (B, N, M) kernel matrix of a kernel loss
  ("energy", "gaussian", "laplacian" name none of it then); the loss is
  ½⟨a, K_xx a⟩ + ½⟨b, K_yy b⟩ − ⟨a, K_xy b⟩, computed in torch, so autograd
  flows through the callable into x, y, a and b.
* ``cost(x, y)`` returns the (B, N, M) cost matrix of the "sinkhorn" loss,
  balanced or unbalanced (``reach``: ρ = reach^p). The entropic problems
  OT_ε(a, b) on C_xy (and, debiased, OT_ε(a, a) on C_xx, OT_ε(b, b) on C_yy)
  are solved by the library on the explicit matrices
  (geomloss_ot_solve_batch) at ε = blur^p, each OT the dual value at the
  optimum (balanced ⟨a, f⟩ + ⟨b, g⟩; unbalanced
  ρ⟨a, 1 − e^{−f/ρ}⟩ + ρ⟨b, 1 − e^{−g/ρ}⟩ + ε(m_a m_b − m(π)), the library's
  raw value), and
  S = OT(a, b) − ½OT(a, a) − ½OT(b, b) (+ ε/2·(m_a − m_b)² unbalanced), which
  is SamplesLoss's value: balanced ⟨a, F − F_aa⟩ + ⟨b, G − G_bb⟩, unbalanced
  (ρ + ε/2)[⟨a, e^{−F_aa/ρ} − e^{−F/ρ}⟩ + ⟨b, e^{−G_bb/ρ} − e^{−G/ρ}⟩] (§3.1).
  Gradients (envelope theorem, exact at convergence, so pass ``tol``):
  ∂OT/∂C_ij = π_ij = a_i b_j e^{(f_i + g_j − C_ij)/ε}, which torch autograd
  carries through the callable into x and y; ∂OT/∂a_i = f_i balanced (the
  potential, GeomLoss's convention: the true derivative up to a constant,
  which mass-preserving perturbations do not see), and
  ρ(1 − e^{−f_i/ρ}) + ε(m_b − e^{−f_i/ρ}) unbalanced (the derivative of the
  dual value at fixed f, g, using π1 = a e^{−f/ρ}); symmetrically for b. So
  the debiased weight gradients are F − F_aa (balanced) and
  (ρ + ε)(e^{−F_aa/ρ} − e^{−F/ρ}) (unbalanced), §7.1's. The ε-schedule of a
  matrix problem starts at max C − min C (not at the diameter), so without
  ``tol`` the value differs slightly from the named-cost one; with it both
  converge.
"""

import numpy as np
import torch

from . import ot as _ot
from ._errors import GeomLossNotImplementedError, GeomLossValueError, ERR_SHAPE, ERR_INVALID_OPTION
from ._shapes import check_real, check_shapes

_KERNEL_LOSSES = ("energy", "gaussian", "laplacian")


def custom_forward(loss, a, x, b, y):
    """SamplesLoss.forward with loss.cost or loss.kernel a callable."""
    numpy_in = not any(isinstance(t, torch.Tensor) for t in (a, x, b, y))
    if loss.potentials:
        raise GeomLossNotImplementedError("cost / kernel callables: potentials=True is not supported")
    if loss.backend not in ("auto", "tensorized"):
        raise GeomLossValueError("backend: cost / kernel callables run on the tensorized backend, not %r"
                                 % (loss.backend,), ERR_INVALID_OPTION)
    dev = next((t.device for t in (x, y, a, b) if isinstance(t, torch.Tensor)), None)
    a, x, b, y = (None if t is None else (t if isinstance(t, torch.Tensor) else torch.as_tensor(np.asarray(t), device=dev))
                  for t in (a, x, b, y))
    check_real(a, x, b, y)
    lay = check_shapes(a, x, b, y)
    dt = torch.float64 if torch.float64 in [t.dtype for t in (a, x, b, y) if t is not None] else torch.float32
    X = x.to(dt).reshape(lay.B, lay.N, lay.D)
    Y = y.to(dt).reshape(lay.B, lay.M, lay.D)
    A = (torch.full((lay.B, lay.N), 1.0 / lay.N, dtype=dt, device=X.device) if a is None
         else a.to(dt).reshape(lay.B, lay.N))
    B = (torch.full((lay.B, lay.M), 1.0 / lay.M, dtype=dt, device=X.device) if b is None
         else b.to(dt).reshape(lay.B, lay.M))
    if loss.kernel is not None:
        value = _kernel_value(loss, A, X, B, Y)
    else:
        value = _sinkhorn_value(loss, A, X, B, Y)
    loss.last_run = {"backend": "tensorized", "device": "cpu", "engine": "torch" if loss.kernel is not None
                     else "portable", "note": "custom %s callable" % ("kernel" if loss.kernel is not None else "cost")}
    value = value if lay.batched else value.reshape(())
    return value.detach().cpu().numpy() if numpy_in else value


def _matrix(f, name, u, v, B, N, M, **kw):
    m = f(u, v, **kw)
    if not isinstance(m, torch.Tensor) or tuple(m.shape) != (B, N, M):
        raise GeomLossValueError("%s: the callable returned %s, want a (%d, %d, %d) tensor"
                                 % (name, tuple(getattr(m, "shape", ())) or type(m).__name__, B, N, M), ERR_SHAPE)
    return m.to(u.dtype)


def _kernel_value(loss, A, X, B, Y):
    if loss.loss not in _KERNEL_LOSSES:
        raise GeomLossValueError("kernel: a kernel callable needs a kernel loss (%s), not %r"
                                 % (", ".join(_KERNEL_LOSSES), loss.loss), ERR_INVALID_OPTION)
    Bn, N, M = X.shape[0], X.shape[1], Y.shape[1]
    kxx = _matrix(loss.kernel, "kernel", X, X, Bn, N, N, blur=loss.blur)
    kyy = _matrix(loss.kernel, "kernel", Y, Y, Bn, M, M, blur=loss.blur)
    kxy = _matrix(loss.kernel, "kernel", X, Y, Bn, N, M, blur=loss.blur)
    quad = lambda u, K, v: (u * (K @ v.unsqueeze(-1)).squeeze(-1)).sum(-1)  # noqa: E731
    return 0.5 * quad(A, kxx, A) + 0.5 * quad(B, kyy, B) - quad(A, kxy, B)


def _sinkhorn_value(loss, A, X, B, Y):
    if loss.loss != "sinkhorn":
        raise GeomLossValueError("cost: a cost callable needs loss='sinkhorn', not %r" % (loss.loss,),
                                 ERR_INVALID_OPTION)
    eps = float(loss.blur) ** float(loss.p)
    rho = None if loss.reach is None else float(loss.reach) ** float(loss.p)
    Bn, N, M = X.shape[0], X.shape[1], Y.shape[1]
    terms = [(1.0, _matrix(loss.cost, "cost", X, Y, Bn, N, M), A, B)]
    if loss.debias:
        terms += [(-0.5, _matrix(loss.cost, "cost", X, X, Bn, N, N), A, A),
                  (-0.5, _matrix(loss.cost, "cost", Y, Y, Bn, M, M), B, B)]
    value = 0
    for coef, C, u, v in terms:
        value = value + coef * _OTValue.apply(C, u, v, eps, rho, loss)
    if loss.debias and rho is not None:
        value = value + eps / 2 * (A.sum(-1) - B.sum(-1)) ** 2
    return value


class _OTValue(torch.autograd.Function):
    """OT_ε(u, v) on the cost matrices C (B, N, M) (ρ None: balanced), with
    ∂/∂C = π and the weight derivatives of the module docstring."""

    @staticmethod
    def forward(ctx, C, u, v, eps, rho, loss):
        Cn = C.detach().cpu().numpy()
        res = _ot.solve(Cn, u.detach().cpu().numpy(), v.detach().cpu().numpy(), reg=eps, unbalanced=rho,
                        tol=loss.tol, max_iter=loss.max_iter, scaling=loss.scaling, threads=loss.threads)
        f = torch.as_tensor(np.asarray(res.potential_a), device=C.device)
        g = torch.as_tensor(np.asarray(res.potential_b), device=C.device)
        ctx.save_for_backward(C, u, v, f, g)
        ctx.eps, ctx.rho = eps, rho
        return torch.as_tensor(np.asarray(res.value), dtype=C.dtype, device=C.device)

    @staticmethod
    def backward(ctx, grad):
        C, u, v, f, g = ctx.saved_tensors
        eps, rho = ctx.eps, ctx.rho
        gr = grad.reshape(-1, 1).to(C.dtype)
        with torch.no_grad():
            plan = u.unsqueeze(-1) * v.unsqueeze(-2) * torch.exp(
                (f.unsqueeze(-1) + g.unsqueeze(-2) - C) / eps)

            def weight_grad(pot, other):
                if rho is None:
                    return pot
                e = torch.exp(-pot / rho)
                return -rho * torch.expm1(-pot / rho) + eps * (other.sum(-1, keepdim=True) - e)
            gu = gr * weight_grad(f, v) if ctx.needs_input_grad[1] else None
            gv = gr * weight_grad(g, u) if ctx.needs_input_grad[2] else None
        return gr.unsqueeze(-1) * plan, gu, gv, None, None, None
