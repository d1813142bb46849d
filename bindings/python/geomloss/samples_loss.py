"""SamplesLoss: GeomLoss's point-cloud loss, computed by libgeomloss."""

import numpy as np

from . import _library
from ._errors import GeomLossNotImplementedError, GeomLossValueError, ERR_INVALID_ARGUMENT
from ._shapes import split_args, check_shapes, check_real, check_labels

try:  # PyTorch is optional: without it SamplesLoss works on NumPy arrays only.
    import torch as _torch
    _Base = _torch.nn.Module
except ImportError:  # pragma: no cover - exercised only on machines without torch
    _torch = None
    _Base = object


def _print_progress(stage, iteration, total):
    if total > 0:
        print("[geomloss] %s: %d/%d" % (stage, iteration, total), flush=True)
    else:
        print("[geomloss] %s: %d" % (stage, iteration), flush=True)


class SamplesLoss(_Base):
    r"""A loss between weighted point clouds, as ``geomloss.SamplesLoss``.

    Parameters, defaults and call forms are GeomLoss's (v0.2.6)::

        L = SamplesLoss(loss="sinkhorn", p=2, blur=.05)
        L(x, y)              # uniform weights
        L(a, x, b, y)        # weights a (N,) or (N, 1), b (M,) or (M, 1)
        L(l_x, a, x, l_y, b, y)   # with cluster labels l_x (N,), l_y (M,): multiscale

    x is (N, D) or (B, N, D), y is (M, D) or (B, M, D); batched weights are
    (B, N) or (B, N, 1). The result is a scalar (0-d) for unbatched inputs and
    a (B,) vector for batched ones; with ``potentials=True`` it is the pair
    (F, G) of dual potentials, shaped like the weights a and b ((N,) / (B, N)
    when the weights are not given).

    Cluster labels l_x, l_y (integer arrays or tensors, (N,) and (M,), or
    (B, N) and (B, M) for batched inputs: one labelling per item; any
    integer values, equal labels forming a cluster) select the multiscale
    backend (backend "auto" or "multiscale") with these clusters in any
    dimension D; gradients w.r.t. a, x, b, y are as in the four-argument form.
    Non-integer labels raise TypeError, wrong shapes ValueError.

    NumPy arrays in give NumPy out (float32 stays float32; other dtypes are
    computed in float64; complex inputs raise TypeError). PyTorch tensors in give tensors out, differentiable
    w.r.t. x, y, a and b through ``torch.autograd``; CUDA tensors are copied to
    the host and the result is returned on the input's device.

    ``cost`` and ``kernel`` may be Python callables, as on GeomLoss's
    tensorized backend: ``cost(x, y)`` / ``kernel(x, y, blur=blur)`` return the
    (B, N, M) matrix, and autograd flows through them into x and y (see
    geomloss._custom: the kernel loss is computed in torch; the sinkhorn loss
    is solved by the library on the matrices, balanced or unbalanced, with
    gradient π through the callable and the potentials' closed forms for the
    weights — pass ``tol`` for the exact gradients). KeOps
    formula strings raise NotImplementedError. ``verbose=True`` prints the library's progress
    (stage, iteration). ``threads`` (an extra, as in the C and Julia APIs)
    bounds the CPU threads one evaluation uses: None or 0 means all cores,
    at most 65536; results do not depend on it. ``tol`` and ``max_iter``
    (extras, GeomLoss 0.3.1's ot names; sinkhorn only) continue the Sinkhorn
    loop at the final blur until the marginal error is below tol (at most
    max_iter more iterations); tol=None keeps GeomLoss's fixed schedule. After a call, ``last_run`` says which backend, device
    and engine actually ran.
    """

    def __init__(self, loss="sinkhorn", p=2, blur=0.05, reach=None, diameter=None, scaling=0.5,
                 truncate=5, cost=None, kernel=None, cluster_scale=None, debias=True,
                 potentials=False, verbose=False, backend="auto", threads=None, tol=None,
                 max_iter=None):
        super().__init__()
        for name, f in (("cost", cost), ("kernel", kernel)):
            if f is not None and not callable(f):
                raise GeomLossNotImplementedError(
                    "%s: only Python callables are supported (got %r); KeOps formula strings are not"
                    % (name, f))
            if f is not None and _torch is None:  # pragma: no cover
                raise GeomLossNotImplementedError("%s: callables need PyTorch" % name)
        if cost is not None and kernel is not None:
            raise GeomLossNotImplementedError("cost, kernel: give one of them, not both")
        self.loss = loss
        self.p = p
        self.blur = blur
        self.reach = reach
        self.diameter = diameter
        self.scaling = scaling
        self.truncate = truncate
        self.cost = cost
        self.kernel = kernel
        self.cluster_scale = cluster_scale
        self.debias = debias
        self.potentials = potentials
        self.verbose = verbose
        self.backend = backend
        self.threads = threads
        self.tol = tol
        self.max_iter = max_iter
        self.last_run = None

    def extra_repr(self):
        return "loss=%r, p=%r, blur=%r, reach=%r, backend=%r" % (
            self.loss, self.p, self.blur, self.reach, self.backend)

    def __repr__(self):
        if _torch is not None:
            return super().__repr__()
        return "SamplesLoss(%s)" % self.extra_repr()  # pragma: no cover

    # -- helpers shared by the two front ends --------------------------------

    def _settings(self):
        if self.cost is not None or self.kernel is not None:
            raise GeomLossNotImplementedError("custom cost / kernel functions are not supported yet")
        return _library.Settings(loss=self.loss, p=self.p, blur=self.blur, reach=self.reach,
                                 diameter=self.diameter, scaling=self.scaling,
                                 truncate=self.truncate, cluster_scale=self.cluster_scale,
                                 debias=self.debias, backend=self.backend,
                                 threads=self.threads, tol=self.tol, max_iter=self.max_iter)

    def _progress(self):
        return _print_progress if self.verbose else None

    def _run(self, settings, *args, **kwargs):
        out = _library.evaluate(settings, *args, progress=self._progress(), **kwargs)
        self.last_run = out.pop("run")
        return out

    # -- entry point -------------------------------------------------------

    def forward(self, *args):
        lx, ly, a, x, b, y = split_args(args)
        if self.cost is not None or self.kernel is not None:
            if lx is not None or ly is not None:
                raise GeomLossValueError(
                    "l_x, l_y: cluster labels select the multiscale backend; custom cost / kernel "
                    "callables run tensorized: call SamplesLoss(a, x, b, y)", ERR_INVALID_ARGUMENT)
            from ._custom import custom_forward
            return custom_forward(self, a, x, b, y)
        if _torch is not None and any(isinstance(t, _torch.Tensor) for t in (a, x, b, y)):
            from ._torch import torch_forward
            return torch_forward(self, a, x, b, y, lx, ly)
        return self._numpy_forward(a, x, b, y, lx, ly)

    # -- NumPy -----------------------------------------------------------------

    def _numpy_forward(self, a, x, b, y, lx=None, ly=None):
        x, y = np.asarray(x), np.asarray(y)
        a = None if a is None else np.asarray(a)
        b = None if b is None else np.asarray(b)
        check_real(a, x, b, y)
        lay = check_shapes(a, x, b, y)
        LX, LY = check_labels(lx, ly, lay, _label_array)
        out_dtype, dtype = numpy_dtypes(a, x, b, y)
        settings = self._settings()
        X = np.ascontiguousarray(x, dtype).reshape(lay.B, lay.N, lay.D)
        Y = np.ascontiguousarray(y, dtype).reshape(lay.B, lay.M, lay.D)
        A = None if a is None else np.ascontiguousarray(a, dtype).reshape(lay.B, lay.N)
        Bw = None if b is None else np.ascontiguousarray(b, dtype).reshape(lay.B, lay.M)
        out = self._run(settings, X, Y, A, Bw, potentials=bool(self.potentials),
                        labels_x=LX, labels_y=LY)
        if self.potentials:
            return (out["F"].reshape(lay.a_shape).astype(out_dtype, copy=False),
                    out["G"].reshape(lay.b_shape).astype(out_dtype, copy=False))
        value = out["value"].astype(out_dtype, copy=False)
        return value if lay.batched else value[0]

    def value_and_grad(self, *args, wrt=("x", "y"), cotangent=None):
        """The loss and its gradients for NumPy inputs (no autograd needed).

        ``wrt`` names the inputs to differentiate, among "x", "y", "a", "b"
        ("a"/"b" only with the four- or six-argument form); ``cotangent`` weights the
        batch values (default ones: the gradient of the sum of the values).
        Returns ``(value, grads)`` with grads a dict name -> array shaped like
        that input. Not available with ``potentials=True``.
        """
        if self.potentials:
            raise GeomLossNotImplementedError(
                "value_and_grad: not available with potentials=True; use PyTorch tensors")
        lx, ly, a, x, b, y = split_args(args)
        x, y = np.asarray(x), np.asarray(y)
        a = None if a is None else np.asarray(a)
        b = None if b is None else np.asarray(b)
        check_real(a, x, b, y)
        lay = check_shapes(a, x, b, y)
        LX, LY = check_labels(lx, ly, lay, _label_array)
        wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        for w in wrt:
            if w not in ("x", "y", "a", "b"):
                raise ValueError("wrt: unknown input %r (want x, y, a or b)" % (w,))
            if w in ("a", "b") and a is None:
                raise ValueError("wrt: %r needs the four-argument form (a, x, b, y)" % (w,))
        out_dtype, dtype = numpy_dtypes(a, x, b, y)
        X = np.ascontiguousarray(x, dtype).reshape(lay.B, lay.N, lay.D)
        Y = np.ascontiguousarray(y, dtype).reshape(lay.B, lay.M, lay.D)
        A = None if a is None else np.ascontiguousarray(a, dtype).reshape(lay.B, lay.N)
        Bw = None if b is None else np.ascontiguousarray(b, dtype).reshape(lay.B, lay.M)
        cot = None
        if cotangent is not None:
            cot = np.ascontiguousarray(np.broadcast_to(np.asarray(cotangent, dtype), (lay.B,)))
        out = self._run(self._settings(), X, Y, A, Bw, cot_value=cot,
                        grad_x="x" in wrt, grad_y="y" in wrt, grad_a="a" in wrt,
                        grad_b="b" in wrt, labels_x=LX, labels_y=LY)
        shapes = {"x": x.shape, "y": y.shape, "a": lay.a_shape, "b": lay.b_shape}
        grads = {w: out["grad_" + w].reshape(shapes[w]).astype(out_dtype, copy=False) for w in wrt}
        value = out["value"].astype(out_dtype, copy=False)
        return (value if lay.batched else value[0]), grads


def _label_array(t):
    """A NumPy view of cluster labels (an array, a tensor or a sequence)."""
    if _torch is not None and isinstance(t, _torch.Tensor):
        return t.detach().to("cpu").numpy()
    return np.asarray(t)


def numpy_dtypes(*arrays):
    """(output dtype, compute dtype) for NumPy inputs.

    float64 wins over float32; float16 is computed in float32 and given back
    as float16; non-float inputs are computed and returned in float64.
    """
    dt = np.result_type(*[t.dtype for t in arrays if t is not None])
    if dt == np.float32 or dt == np.float16:
        return dt, np.dtype(np.float32)
    if dt == np.float64:
        return dt, dt
    return np.dtype(np.float64), np.dtype(np.float64)


if _torch is None:  # pragma: no cover
    SamplesLoss.__call__ = SamplesLoss.forward
