r"""Images and volumes: GeomLoss's ``sinkhorn_divergence`` on grids and ``ImagesBarycenter``.

``sinkhorn_divergence(a, b)`` takes densities of shape (B, K, N, N) (images)
or (B, K, N, N, N) (volumes) — also (B, K, N) for 1D signals, and any side
lengths, rectangles included — and returns the (B,) divergences, each the
sum of its K channels' values (the reference's convention). Pixel u along
an axis of n pixels sits at u/n (the domain [0, 1)^d), or at vmin + u·h with
h = (vmax − vmin)/n when ``axes`` gives (vmin, vmax) per axis. The cost is
|x − y|²/2 (p = 2) or the L1 distance (p = 1, as the reference).

Tensors in give tensors out, differentiable w.r.t. a and b (closed-form
gradients: ∂S/∂a = F − F_aa when debiased, as the reference); NumPy arrays
in give NumPy out. With ``potentials=True`` the pair (F, G), shaped like a,
is returned; for tensors it is differentiable w.r.t. a and b (beyond the
reference, whose potentials carry no graph): the Sinkhorn loop's duals are
held fixed and the last soft-min is differentiated through its weights —
the final full-resolution step or, when the schedule's last iteration is a
pyramid jump (e.g. the defaults on power-of-two sides), that iteration's
coarse soft-min on the sum-pooled densities, through the averaging and the
upsampling that give the returned maps.
"""

import numpy as np

from . import _library
from ._errors import GeomLossNotImplementedError, GeomLossValueError

try:
    import torch as _torch
    _Base = _torch.nn.Module
except ImportError:  # pragma: no cover - exercised only on machines without torch
    _torch = None
    _Base = object


def _is_tensor(t):
    return _torch is not None and isinstance(t, _torch.Tensor)


def _print_progress(stage, iteration, total):
    print("[geomloss] %s: %d/%d" % (stage, iteration, total), flush=True)


def _spacing(axes, shape):
    """Pixel widths from GeomLoss-style axes: None, one (vmin, vmax) pair for
    every axis, or one pair per axis."""
    if axes is None:
        return None
    try:
        pairs = [tuple(float(v) for v in ax) for ax in axes]
    except TypeError:
        pairs = None
    if pairs is not None and all(len(p) == 2 for p in pairs) and len(pairs) == len(shape):
        pass
    else:
        try:
            lo, hi = (float(v) for v in axes)
        except (TypeError, ValueError):
            raise GeomLossValueError(
                "axes: must be None, a pair (vmin, vmax) or %d such pairs (one per axis), got %r"
                % (len(shape), axes)) from None
        pairs = [(lo, hi)] * len(shape)
    spacing = []
    for k, ((lo, hi), n) in enumerate(zip(pairs, shape)):
        if not hi > lo:
            raise GeomLossValueError("axes[%d]: vmax must exceed vmin, got (%g, %g)" % (k, lo, hi))
        spacing.append((hi - lo) / n)
    return spacing


def _check_inputs(a, b, what="sinkhorn_divergence", ndims=(3, 4, 5)):
    """The (B, K, *shape) layout of a and b, checked."""
    if _is_tensor(a) != _is_tensor(b):
        raise TypeError("%s: a and b must both be torch tensors or both be NumPy arrays, got %s "
                        "and %s" % (what, type(a).__name__, type(b).__name__))
    for name, t in (("a", a), ("b", b)):
        dt = t.dtype
        if _is_tensor(t):
            ok = dt in (_torch.float32, _torch.float64)
        else:
            ok = np.dtype(dt) in (np.float32, np.float64)
        if not ok:
            raise TypeError("%s: %s must hold float32 or float64 values, got %s" % (what, name, dt))
        if t.ndim not in ndims:
            raise GeomLossValueError(
                "%s: %s must be %s, got shape %s" % (what, name, " or ".join(
                    "(B, K%s)" % (", N" * (d - 2)) for d in ndims), tuple(t.shape)))
    if tuple(a.shape) != tuple(b.shape):
        raise GeomLossValueError("%s: a and b must have the same shape, got %s and %s"
                                 % (what, tuple(a.shape), tuple(b.shape)))
    if a.dtype != b.dtype:
        raise TypeError("%s: a and b must have the same dtype, got %s and %s" % (what, a.dtype, b.dtype))
    B, K = int(a.shape[0]), int(a.shape[1])
    return B, K, tuple(int(n) for n in a.shape[2:])


def _flat(t, n):
    """A C-contiguous (n, -1) NumPy copy/view of a tensor or array."""
    if _is_tensor(t):
        t = t.detach().cpu().numpy()
    return np.ascontiguousarray(t).reshape(n, -1)


def _run(settings, a, b, B, K, shape, spacing, grad_a, grad_b, potentials, verbose):
    return _library.evaluate_grid(
        settings, _flat(a, B * K), _flat(b, B * K), shape, spacing=spacing, potentials=potentials,
        grad_a=grad_a, grad_b=grad_b, progress=_print_progress if verbose else None)


if _torch is not None:
    from ._torch import _guard

    class _GridDivergence(_torch.autograd.Function):
        """value(a, b) (B,), with the unit gradients computed in forward and
        scaled by grad_output in backward (they are linear in the cotangent)."""

        @staticmethod
        def forward(ctx, settings, info, a, b):
            B, K, shape, spacing, verbose = info
            ga, gb = ctx.needs_input_grad[2], ctx.needs_input_grad[3]
            res = _run(settings, a, b, B, K, shape, spacing, ga, gb, False, verbose)
            ctx.K, ctx.shape_a = K, a.shape
            ctx.grads = (res.get("grad_a"), res.get("grad_b"))
            ctx.devices = (a.device, b.device)
            ctx.save_for_backward(a, b)
            value = res["value"].reshape(B, K).sum(axis=1)
            return _torch.from_numpy(value).to(a.device)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            w = g.detach().cpu().repeat_interleave(ctx.K)[:, None]
            out = []
            for unit, dev in zip(ctx.grads, ctx.devices):
                if unit is None:
                    out.append(None)
                else:
                    gt = _torch.from_numpy(unit).to(w.dtype) * w
                    out.append(gt.reshape(ctx.shape_a).to(dev))
            ga, gb = _guard(out, (a, b))
            return None, None, ga, gb


    class _GridPotentials(_torch.autograd.Function):
        """(F, G)(a, b), shaped like a; backward makes a second library call
        with cot_F, cot_G (and a zero value cotangent) that returns the
        gradients of sum cot_F*F + sum cot_G*G w.r.t. a and b."""

        @staticmethod
        def forward(ctx, settings, info, a, b):
            B, K, shape, spacing, verbose = info
            res = _run(settings, a, b, B, K, shape, spacing, False, False, True, verbose)
            ctx.settings, ctx.info = settings, info
            ctx.save_for_backward(a, b)
            return (_torch.from_numpy(res["F"].reshape(a.shape)).to(a.device),
                    _torch.from_numpy(res["G"].reshape(a.shape)).to(b.device))

        @staticmethod
        def backward(ctx, gF, gG):
            a, b = ctx.saved_tensors
            need_a, need_b = ctx.needs_input_grad[2], ctx.needs_input_grad[3]
            if (gF is None and gG is None) or not (need_a or need_b):
                return None, None, None, None
            B, K, shape, spacing, verbose = ctx.info
            n = B * K
            dt = _flat(a, n).dtype
            cot = [None if g is None else np.ascontiguousarray(
                g.detach().cpu().numpy().astype(dt)).reshape(n, -1) for g in (gF, gG)]
            res = _library.evaluate_grid(
                ctx.settings, _flat(a, n), _flat(b, n), shape, spacing=spacing,
                cot_value=np.zeros(n, dt), cot_F=cot[0], cot_G=cot[1], grad_a=need_a,
                grad_b=need_b, progress=_print_progress if verbose else None)
            out = [None if not need else _torch.from_numpy(res[k]).reshape(t.shape).to(t.device)
                   for k, need, t in (("grad_a", need_a, a), ("grad_b", need_b, b))]
            ga, gb = _guard(out, (a, b))
            return None, None, ga, gb


def sinkhorn_divergence(a, b, p=2, blur=None, reach=None, axes=None, scaling=0.5, cost=None,
                        debias=True, potentials=False, verbose=False, single_scale=False):
    r"""GeomLoss 0.2.6's ``geomloss.sinkhorn_images.sinkhorn_divergence``.

    a, b: non-negative densities (B, K, N, N) or (B, K, N, N, N) ((B, K, N)
    for 1D), torch tensors or NumPy arrays of float32/float64. p: 1 or 2.
    blur: None means the pixel width (1/N on the default domain). reach: None
    (balanced; equal masses needed) or the unbalanced scale. axes: None
    ([0, 1) per axis) or (vmin, vmax) pairs. scaling: the ε-schedule ratio in
    (0, 1) (values below the reference's 0.5 are allowed). cost must be None.
    Returns the (B,) divergences (sums over the K channels), or (F, G) shaped
    like a with ``potentials=True`` (for tensors, differentiable w.r.t. a and
    b through the last soft-min; see the module's docstring). single_scale
    (beyond GeomLoss): every iteration at full resolution, no pyramid (the
    schedule then always ends with a final full-resolution step). Errors:
    ValueError subclasses naming the argument (GeomLossValueError), TypeError
    for wrong types.
    """
    if cost is not None:
        raise GeomLossNotImplementedError(
            "cost: custom ground costs are not supported on grids; use p=1 or p=2")
    B, K, shape = _check_inputs(a, b)
    spacing = _spacing(axes, shape)
    settings = _library.GridSettings(p=p, blur=blur, reach=reach, scaling=scaling, debias=debias,
                                     single_scale=single_scale)
    if potentials and _is_tensor(a):
        return _GridPotentials.apply(settings, (B, K, shape, spacing, verbose), a, b)
    if potentials:
        res = _run(settings, a, b, B, K, shape, spacing, False, False, True, verbose)
        return res["F"].reshape(a.shape), res["G"].reshape(a.shape)
    if _is_tensor(a):
        return _GridDivergence.apply(settings, (B, K, shape, spacing, verbose), a, b)
    res = _run(settings, a, b, B, K, shape, spacing, False, False, False, verbose)
    return res["value"].reshape(B, K).sum(axis=1)


class ImagesLoss(_Base):
    r"""The Sinkhorn divergence between images, as a module (GeomLoss's ``ImagesLoss``).

    ``ImagesLoss(loss="sinkhorn", p=2, blur=None, reach=None, axes=None,
    scaling=0.5, debias=True, potentials=False, verbose=False, single_scale=False)(a, b)`` is
    ``sinkhorn_divergence(a, b, ...)`` on (B, K, H, W) densities (tensors,
    differentiable, or NumPy arrays).
    """

    _ndim, _what = 4, "(B, K, H, W) images"

    def __init__(self, loss="sinkhorn", p=2, blur=None, reach=None, axes=None, scaling=0.5,
                 cost=None, debias=True, potentials=False, verbose=False, single_scale=False):
        super().__init__()
        if loss != "sinkhorn":
            raise GeomLossNotImplementedError(
                "loss: %s supports 'sinkhorn' only on grids, got %r" % (type(self).__name__, loss))
        if cost is not None:
            raise GeomLossNotImplementedError(
                "cost: custom ground costs are not supported on grids; use p=1 or p=2")
        self.kwargs = dict(p=p, blur=blur, reach=reach, axes=axes, scaling=scaling, debias=debias,
                           potentials=potentials, verbose=verbose, single_scale=single_scale)

    def forward(self, a, b):
        _check_inputs(a, b, type(self).__name__, (self._ndim,))
        return sinkhorn_divergence(a, b, **self.kwargs)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self.kwargs.items()))


class VolumesLoss(ImagesLoss):
    r"""As :class:`ImagesLoss` on (B, K, D, H, W) volumes (GeomLoss's ``VolumesLoss``)."""

    _ndim, _what = 5, "(B, K, D, H, W) volumes"


if _torch is not None:
    class _Barycenter(_torch.autograd.Function):
        """bar(measures, weights), with the gradients of Σ cot·bar computed in
        backward by reverse mode through the extra iterations."""

        @staticmethod
        def forward(ctx, kw, measures, weights):
            B, K, shape = kw["B"], kw["K"], kw["shape"]
            m = _flat(measures, B * K).reshape(B, K, -1)
            w = np.ascontiguousarray(weights.detach().cpu().numpy())
            res = _library.images_barycenter(m, w, shape, **kw["lib"])
            ctx.kw, ctx.m, ctx.w = kw, m, w
            ctx.devices = (measures.device, weights.device)
            ctx.shapes = (measures.shape, weights.shape)
            ctx.save_for_backward(measures, weights)
            return _torch.from_numpy(res["bar"].reshape((B, 1) + shape)).to(measures.device)

        @staticmethod
        def backward(ctx, g):
            measures, weights = ctx.saved_tensors
            kw = ctx.kw
            cot = np.ascontiguousarray(g.detach().cpu().numpy().astype(ctx.m.dtype)).reshape(kw["B"], -1)
            res = _library.images_barycenter(ctx.m, ctx.w, kw["shape"], cot=cot, grads=True, **kw["lib"])
            gm = _torch.from_numpy(res["grad_measures"]).reshape(ctx.shapes[0]).to(ctx.devices[0])
            gw = _torch.from_numpy(res["grad_weights"]).reshape(ctx.shapes[1]).to(ctx.devices[1])
            gm, gw = _guard((gm, gw), (measures, weights))
            return (None, gm if ctx.needs_input_grad[1] else None,
                    gw if ctx.needs_input_grad[2] else None)


def ImagesBarycenter(measures, weights, blur=0, p=2, scaling_N=10, backward_iterations=5):
    r"""GeomLoss's ``ImagesBarycenter``: B Wasserstein barycenters of K images each.

    measures: (B, K, N, N) non-negative densities (also 1D/3D: (B, K, N...)),
    weights: (B, K). blur: 0 means the pixel width. Returns (B, 1, N, N),
    exp(ℓ_bar) (mass ≈ 1, not exactly). As the reference, the
    ``backward_iterations`` extra iterations at the final blur run only when
    an input requires a gradient (so the result depends on it); the
    gradients are those of reverse mode through them, w.r.t. the weights
    (the reference's) and the measures (which the reference does not give).
    """
    if _is_tensor(measures) != _is_tensor(weights):
        raise TypeError("ImagesBarycenter: measures and weights must both be tensors or both arrays")
    m_dtype = measures.dtype
    ok = (m_dtype in (_torch.float32, _torch.float64)) if _is_tensor(measures) else \
        np.dtype(m_dtype) in (np.float32, np.float64)
    if not ok:
        raise TypeError("ImagesBarycenter: measures must hold float32 or float64 values, got %s" % m_dtype)
    if measures.ndim not in (3, 4, 5):
        raise GeomLossValueError("ImagesBarycenter: measures must be (B, K, N, N), got shape %s"
                                 % (tuple(measures.shape),))
    B, K = int(measures.shape[0]), int(measures.shape[1])
    shape = tuple(int(n) for n in measures.shape[2:])
    if tuple(weights.shape) != (B, K):
        raise GeomLossValueError("ImagesBarycenter: weights must be (B, K) = (%d, %d), got shape %s"
                                 % (B, K, tuple(weights.shape)))
    blur = None if not blur else float(blur)
    grads = _is_tensor(measures) and _torch.is_grad_enabled() and (
        measures.requires_grad or weights.requires_grad)
    lib = dict(p=p, blur=blur, scaling_n=scaling_N,
               extra_iterations=backward_iterations if grads else 0)
    if _is_tensor(measures):
        weights = weights.to(m_dtype)
        if grads:
            return _Barycenter.apply(dict(B=B, K=K, shape=shape, lib=lib), measures, weights)
        m = _flat(measures, B * K).reshape(B, K, -1)
        w = np.ascontiguousarray(weights.detach().cpu().numpy())
        bar = _library.images_barycenter(m, w, shape, **lib)["bar"]
        return _torch.from_numpy(bar.reshape((B, 1) + shape)).to(measures.device)
    m = np.ascontiguousarray(measures).reshape(B, K, -1)
    w = np.ascontiguousarray(weights, dtype=m.dtype)
    bar = _library.images_barycenter(m, w, shape, **lib)["bar"]
    return bar.reshape((B, 1) + shape)
