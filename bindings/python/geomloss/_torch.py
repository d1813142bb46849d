"""The PyTorch front end: a torch.autograd.Function over libgeomloss.

Design
------
The library computes the value and, in the same pass, the gradients of

    S = sum_b cot_value[b] * value[b] + sum cot_F * F + sum cot_G * G

w.r.t. x, y, a and b, each only when asked. Gradients of S are linear in the
cotangents, which the two cases below exploit:

* ``potentials=False`` (the loss value). ``forward`` asks the library for the
  value and for the gradients autograd will need (``ctx.needs_input_grad``,
  and only when grad mode is on), with the cotangent left at ones: per batch
  item b this gives d value[b] / d input. ``backward`` multiplies them by
  ``grad_output[b]``. One library call in all; nothing is recomputed.

* ``potentials=True`` (the pair F, G). The gradient depends on the cotangents
  of F and G, which exist only once ``backward`` runs, and (unlike the value
  case) cannot be recovered from a fixed number of precomputed vectors. So
  ``forward`` computes F and G only, saves its inputs (version-checked by
  autograd), and ``backward`` makes a second library call with cot_F, cot_G
  (and a zero value cotangent) that returns exactly the gradients needed.
  The second call repeats the Sinkhorn loop: a backward costs about one
  forward, as in GeomLoss. No extra call is made when no gradient is needed.

Second derivatives are not supported: the library's gradients are closed
forms, not differentiable graphs. Rather than letting autograd treat them as
constants (``torch.autograd.functional.hessian`` would then return zeros),
``backward`` run with ``create_graph=True`` returns gradients attached to the
inputs through ``_NoSecondDerivative``, whose own backward raises
GeomLossNotImplementedError: first-order gradients still work under
``create_graph=True``, and any attempt to differentiate them fails loudly.

Inputs on a CUDA device are copied to the host (the library computes on the
CPU for now); results and gradients go back to each input's device.
"""

import numpy as np
import torch

from ._errors import GeomLossNotImplementedError
from ._shapes import check_shapes, check_real, check_labels

SECOND_DERIVATIVE_MESSAGE = (
    "SamplesLoss: second derivatives (double backward, e.g. torch.autograd.functional.hessian, "
    "or differentiating a gradient taken with create_graph=True) are not supported: "
    "libgeomloss computes closed-form gradients, which are not themselves differentiable")


class _NoSecondDerivative(torch.autograd.Function):
    """apply(g, *inputs) = g, whose derivative w.r.t. anything raises.

    Links a closed-form gradient g to the tensors it depends on, so that
    autograd knows g is not a constant and refuses to differentiate it.
    """

    @staticmethod
    def forward(ctx, g, *inputs):
        return g.clone()

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise GeomLossNotImplementedError(SECOND_DERIVATIVE_MESSAGE)


def _guard(grads, links):
    """grads unchanged, or linked to `links` when the backward builds a graph."""
    if not torch.is_grad_enabled():
        return tuple(grads)
    links = tuple(t for t in links if isinstance(t, torch.Tensor) and t.requires_grad)
    if not links:
        return tuple(grads)
    return tuple(None if g is None else _NoSecondDerivative.apply(g, *links) for g in grads)


def _host(t):
    """A C-contiguous NumPy view/copy of a (detached) tensor, or None."""
    if t is None:
        return None
    return np.ascontiguousarray(t.detach().to("cpu").numpy())


def _dtypes(tensors):
    """(output dtype, compute dtype) for tensor inputs."""
    dt = None
    for t in tensors:
        if t is not None:
            dt = t.dtype if dt is None else torch.promote_types(dt, t.dtype)
    if dt == torch.float64:
        return dt, dt
    if dt in (torch.float32, torch.float16, torch.bfloat16):
        return dt, torch.float32
    # Integers and booleans: NumPy's rule (computed and returned in float64).
    return torch.float64, torch.float64


class _Call:
    """What one SamplesLoss call needs inside the autograd Function."""

    __slots__ = ("loss", "settings", "potentials", "grad_enabled", "labels")

    def __init__(self, loss, settings, potentials, grad_enabled, labels=(None, None)):
        self.loss = loss
        self.settings = settings
        self.potentials = potentials
        self.grad_enabled = grad_enabled
        self.labels = labels  # (labels_x, labels_y): (B, N), (B, M) int64 arrays, or None

    def run(self, x, y, a, b, **kw):
        return self.loss._run(self.settings, x, y, a, b, labels_x=self.labels[0],
                              labels_y=self.labels[1], **kw)


def _to(arr, device):
    return None if arr is None else torch.from_numpy(arr).to(device)


class SamplesLossFunction(torch.autograd.Function):
    """apply(call, a, x, b, y) with a (B,N) or None, x (B,N,D), b (B,M) or None, y (B,M,D).

    Returns value (B,), or (F (B,N), G (B,M)) when call.potentials.
    """

    @staticmethod
    def forward(ctx, call, a, x, b, y):
        ctx.set_materialize_grads(False)
        ctx.call = call
        need = [bool(n) and call.grad_enabled for n in ctx.needs_input_grad[1:]]
        ctx.need = need
        ctx.devices = tuple(None if t is None else t.device for t in (a, x, b, y))
        X, Y, A, Bw = _host(x), _host(y), _host(a), _host(b)
        if not call.potentials:
            out = call.run(X, Y, A, Bw, grad_a=need[0], grad_x=need[1], grad_b=need[2],
                           grad_y=need[3])
            ctx.grads = tuple(out.get(k) for k in ("grad_a", "grad_x", "grad_b", "grad_y"))
            # Held (not saved: the gradients are already computed, so later
            # in-place changes of the inputs are harmless) only to link a
            # create_graph backward's results to them (_guard).
            ctx.inputs = (a, x, b, y) if any(need) else ()
            return _to(out["value"], x.device)
        out = call.run(X, Y, A, Bw, potentials=True)
        if any(need):
            ctx.save_for_backward(a, x, b, y)
        return _to(out["F"], x.device), _to(out["G"], x.device)

    @staticmethod
    def backward(ctx, *grad_outputs):
        with torch.no_grad():
            res = SamplesLossFunction._backward(ctx, *grad_outputs)
        links = tuple(ctx.inputs if not ctx.call.potentials else ctx.saved_tensors) + grad_outputs
        return (None,) + _guard(res[1:], links)

    @staticmethod
    def _backward(ctx, *grad_outputs):
        call, need = ctx.call, ctx.need
        if not call.potentials:
            go = grad_outputs[0]
            if go is None:
                return (None,) * 5
            w = _host(go)  # (B,), in the compute dtype
            res = [None]
            for g, n, dev in zip(ctx.grads, need, ctx.devices):
                if not n:
                    res.append(None)
                    continue
                scale = w.reshape((-1,) + (1,) * (g.ndim - 1)).astype(g.dtype, copy=False)
                res.append(_to(g * scale, dev))
            return tuple(res)
        gF, gG = grad_outputs
        if (gF is None and gG is None) or not any(need):
            return (None,) * 5
        a, x, b, y = ctx.saved_tensors
        X, Y, A, Bw = _host(x), _host(y), _host(a), _host(b)
        B, N, M = X.shape[0], X.shape[1], Y.shape[1]
        dt = X.dtype
        cotF = np.zeros((B, N), dt) if gF is None else _host(gF.to(x.dtype))
        cotG = np.zeros((B, M), dt) if gG is None else _host(gG.to(x.dtype))
        out = call.run(X, Y, A, Bw, cot_value=np.zeros(B, dt), cot_F=cotF, cot_G=cotG,
                       grad_a=need[0], grad_x=need[1], grad_b=need[2], grad_y=need[3])
        res = [None]
        for k, n, dev in zip(("grad_a", "grad_x", "grad_b", "grad_y"), need, ctx.devices):
            res.append(_to(out[k], dev) if n else None)
        return tuple(res)


def _label_array(t):
    return t.detach().to("cpu").numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def torch_forward(loss, a, x, b, y, lx=None, ly=None):
    """SamplesLoss.forward for PyTorch inputs (any of a, x, b, y a tensor).

    lx, ly: the cluster labels of the six-argument call (not differentiable), or None.
    """
    device = next(t.device for t in (x, y, a, b) if isinstance(t, torch.Tensor))
    a, x, b, y = (None if t is None else
                  (t if isinstance(t, torch.Tensor) else torch.as_tensor(t, device=device))
                  for t in (a, x, b, y))
    check_real(a, x, b, y)
    lay = check_shapes(a, x, b, y)
    labels = check_labels(lx, ly, lay, _label_array)
    out_dtype, dtype = _dtypes((a, x, b, y))
    settings = loss._settings()
    X = x.to(dtype).reshape(lay.B, lay.N, lay.D)
    Y = y.to(dtype).reshape(lay.B, lay.M, lay.D)
    A = None if a is None else a.to(dtype).reshape(lay.B, lay.N)
    Bw = None if b is None else b.to(dtype).reshape(lay.B, lay.M)
    call = _Call(loss, settings, bool(loss.potentials), torch.is_grad_enabled(), labels)
    if call.potentials:
        F, G = SamplesLossFunction.apply(call, A, X, Bw, Y)
        return (F.reshape(lay.a_shape).to(out_dtype), G.reshape(lay.b_shape).to(out_dtype))
    value = SamplesLossFunction.apply(call, A, X, Bw, Y).to(out_dtype)
    return value if lay.batched else value.reshape(())
