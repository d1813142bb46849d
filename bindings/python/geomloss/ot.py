r"""geomloss.ot — entropic optimal transport with plans, as GeomLoss 0.3.1's ``geomloss.ot``.

::

    from geomloss import ot
    res = ot.solve_sample(x, y, reg=0.01, tol=1e-9)    # x (N, D), y (M, D)
    res.value, res.plan_operator @ v, res.a_to_b, res.marginal_error

Conventions (GeomLoss 0.3.1's, which differ from SamplesLoss's):

* ``cost="sqeuclidean"`` is C(x, y) = |x − y|² with no ½ ("euclidean": |x − y|,
  "halfsqeuclidean": |x − y|²/2, SamplesLoss's p = 2 cost; "power" with
  ``q=``: |x − y|^q/q for a real q ≥ 1, SamplesLoss's |x − y|^p/p for any p).
  ``reg`` is the temperature ε in units of the cost; without it, ε = s·blur^q
  for the cost s·|x − y|^q/q (sqeuclidean: 2·blur²; power: blur^q), and blur
  defaults to 0.05.
* ``unbalanced`` is ρ, the KL marginal penalty, in units of the cost (None:
  balanced, unless ``reach`` gives ρ = s·reach^q).
* The plan is π_ij = a_i b_j exp((f_i + g_j − C_ij)/ε); ``value`` is the dual
  objective (balanced, at convergence: ⟨π, C⟩ + ε·KL(π | a⊗b)), and
  ``value_linear`` is ⟨π, C⟩.
* ``tol`` continues the Sinkhorn loop at the final ε until ``marginal_error``
  (‖π1 − a‖₁ + ‖πᵀ1 − b‖₁ balanced; the dual change in units of ε otherwise)
  is below it, for at most ``max_iter`` more iterations; ``tol=None`` runs
  GeomLoss's fixed ε-schedule.

NumPy arrays in give NumPy arrays out; PyTorch tensors give tensors, and
``value`` is differentiable (``torch.autograd``) w.r.t. X_a and X_b for every
cost (the power cost included; balanced or unbalanced), and w.r.t. a and b for
balanced transport, both with ``debias=False`` (the envelope theorem: the
gradient of the dual value is Σ_j π_ij ∇_x C(x_i, y_j), the library's
value_grad_x, computed with the solve when X_a or X_b requires grad). Other cases compute the value but refuse a backward pass
(GeomLossNotImplementedError). Batched inputs — (B, N, D) points with (B, N)
weights, or (B, N, M) cost matrices — solve the B problems in one library
call (geomloss_ot_solve_sample_batch_plan), each item bit for bit the single
call's; every field gets a leading B axis, and the batch keeps one plan per
item: plan_operator is a BatchPlanOperator (``P[b]`` is item b's
PlanOperator; ``P @ V`` takes V of shape (B, M) or (B, M, K)).

``plan_operator`` applies π without storing it (streaming reductions in the
library, on the plan the solve kept: geomloss_ot_solve_sample_plan and
geomloss_plan_eval, so a product costs one reduction, not a solve, and equals
the solve call's own output bit for bit). ``plan`` is the dense N×M matrix,
refused over 2^26 entries. The kept plan is freed with the result (or by
``OTResult.close()``).
"""

import numpy as np

from . import _library
from ._errors import GeomLossNotImplementedError, GeomLossValueError, ERR_SHAPE

try:
    import torch as _torch
except ImportError:  # pragma: no cover
    _torch = None

__all__ = ["solve_sample", "solve", "OTResult", "PlanOperator", "BatchPlanOperator"]


def _is_torch(*ts):
    return _torch is not None and any(isinstance(t, _torch.Tensor) for t in ts)


def _dtype(*arrays):
    """float32 if every (real, floating) input is at most float32, else float64."""
    dts = []
    for t in arrays:
        if t is None:
            continue
        if _is_torch(t):
            dts.append(np.float32 if t.dtype in (_torch.float32, _torch.float16) else np.float64)
        else:
            dts.append(np.asarray(t).dtype)
    dt = np.result_type(*dts)
    return np.dtype(np.float32) if dt in (np.float32, np.float16) else np.dtype(np.float64)


def _numpy(t, dtype):
    if t is None:
        return None
    if _torch is not None and isinstance(t, _torch.Tensor):
        t = t.detach().cpu().numpy()
    t = np.asarray(t)
    if t.dtype.kind == "c":
        raise TypeError("complex values (dtype %s) are not supported" % t.dtype)
    return np.ascontiguousarray(t, dtype)


def _weights(name, w, n, batch=None):
    if w is None:
        return None
    if batch is not None:
        w = w.reshape(w.shape[:2]) if w.ndim == 3 and w.shape[2] == 1 else w
        if w.shape != (batch, n):
            raise GeomLossValueError("%s: shape %s, want (%d, %d)" % (name, tuple(w.shape), batch, n), ERR_SHAPE)
        return np.ascontiguousarray(w)
    w = w.reshape(-1) if w.ndim == 2 and w.shape[1] == 1 else w
    if w.shape != (n,):
        raise GeomLossValueError("%s: shape %s, want (%d,)" % (name, tuple(w.shape), n), ERR_SHAPE)
    return w


class PlanOperator:
    """The transport plan π as a lazy linear operator of shape (N, M).

    ``P @ v`` with v of shape (M,) or (M, K) gives πv, of shape (N,) or
    (N, K); ``P.T @ u`` gives πᵀu; ``u @ P`` is (πᵀuᵀ)ᵀ. Each product is one
    reduction of the library over the kept plan (no new solve).
    """

    __array_ufunc__ = None  # so that ndarray @ P calls P.__rmatmul__

    def __init__(self, handle, shape, transposed=False, like=None):
        self._handle, self.shape, self._transposed, self._like = handle, shape, transposed, like

    @property
    def T(self):
        return PlanOperator(self._handle, self.shape[::-1], not self._transposed, self._like)

    def __matmul__(self, v):
        torch_out = _is_torch(v) or _is_torch(self._like)
        V = _numpy(v, self._handle.dtype)
        vec = V.ndim == 1
        if vec:
            V = V[:, None]
        if V.ndim != 2 or V.shape[0] != self.shape[1]:
            raise GeomLossValueError("plan product: the operand has shape %s, want (%d,) or (%d, K)"
                                     % (tuple(np.shape(v)), self.shape[1], self.shape[1]), ERR_SHAPE)
        V = np.ascontiguousarray(V)
        if self._transposed:
            out = self._handle.eval(["plan_t_u"], u=V)["plan_t_u"]
        else:
            out = self._handle.eval(["plan_v"], v=V)["plan_v"]
        if vec:
            out = out[:, 0]
        return _back(out, self._like) if torch_out else out

    def __rmatmul__(self, u):
        if not _is_torch(u):
            u = np.asarray(u)
        return (self.T @ u.T).T if u.ndim == 2 else self.T @ u

    def __repr__(self):
        return "PlanOperator(shape=%s%s)" % (self.shape, ", transposed" if self._transposed else "")


class BatchPlanOperator:
    """The B transport plans of a batched solve as a lazy operator of shape
    (B, N, M): a sequence of B PlanOperators (``P[b]``, ``len(P)``,
    iteration; a slice gives a BatchPlanOperator), with ``P @ V`` for V of
    shape (B, M) or (B, M, K) giving (B, N) or (B, N, K) — item b is
    ``P[b] @ V[b]``, the same reduction as a single solve's plan, bit for
    bit — ``P.T`` the transposed plans, and ``U @ P`` for U of shape (B, N)
    or (B, K, N).
    """

    __array_ufunc__ = None  # so that ndarray @ P calls P.__rmatmul__

    def __init__(self, ops):
        self._ops = list(ops)
        self.shape = (len(self._ops),) + tuple(self._ops[0].shape)

    @property
    def T(self):
        return BatchPlanOperator([op.T for op in self._ops])

    def __len__(self):
        return len(self._ops)

    def __iter__(self):
        return iter(self._ops)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return BatchPlanOperator(self._ops[k])
        return self._ops[k]

    def _each(self, v, axis, size, want, apply):
        B = len(self._ops)
        if np.ndim(v) not in (2, 3) or np.shape(v)[0] != B or np.shape(v)[axis] != size:
            raise GeomLossValueError("batched plan product: the operand has shape %s, want %s"
                                     % (tuple(np.shape(v)), want), ERR_SHAPE)
        outs = [apply(op, v[b]) for b, op in enumerate(self._ops)]
        if _is_torch(outs[0]):
            return _torch.stack(outs)
        return np.stack(outs)

    def __matmul__(self, v):
        B, N, M = self.shape
        return self._each(v, 1, M, "(%d, %d) or (%d, %d, K)" % (B, M, B, M), lambda op, vb: op @ vb)

    def __rmatmul__(self, u):
        B, N, M = self.shape
        return self._each(u, -1, N, "(%d, %d) or (%d, K, %d)" % (B, N, B, N), lambda op, ub: ub @ op)

    def __repr__(self):
        return "BatchPlanOperator(shape=%s%s)" % (self.shape, ", transposed" if self._ops[0]._transposed else "")


def _back(arr, like):
    """arr as a tensor on like's device (a NumPy array if like is not a tensor)."""
    if like is None or not _is_torch(like):
        return arr
    return _torch.from_numpy(np.array(arr)).to(like.device)


class OTResult:
    """The solution of an entropic OT problem (GeomLoss 0.3.1's OTResult names).

    value, value_linear: the dual objective and ⟨π, C⟩; potential_a/b: f, g
    (potential_aa/bb: the self potentials when debiased, else None);
    marginal_a/b: π1, πᵀ1; a_to_b (N, D), b_to_a (M, D): the barycentric maps
    (None for a cost matrix); n_iter, marginal_error; plan: the dense plan
    (computed on first access); plan_operator: the lazy plan; last_run: the
    backend, device and engine that ran.
    """

    def __init__(self, problem, out, shape, like, batch=False):
        self._problem, self._like, self._plan, self._batch = problem, like, None, batch
        conv = (lambda a: _back(a, like)) if like is not None else (lambda a: a)
        first = (lambda a: a[:, 0]) if batch else (lambda a: a[0])
        self.value = out.pop("value_t", None)
        if self.value is None:
            self.value = conv(first(out["value"]))
        self.value_linear = conv(first(out["value_linear"]))
        self.potential_a, self.potential_b = conv(out["F"]), conv(out["G"])
        self.potential_aa = conv(out["F_aa"]) if "F_aa" in out else None
        self.potential_bb = conv(out["G_bb"]) if "G_bb" in out else None
        self.marginal_a, self.marginal_b = conv(out["marginal_a"]), conv(out["marginal_b"])
        self.a_to_b = conv(out["a_to_b"]) if "a_to_b" in out else None
        self.b_to_a = conv(out["b_to_a"]) if "b_to_a" in out else None
        if batch:
            self.n_iter = out["n_iter"][:, 0].astype(np.int64)
            self.marginal_error = out["marginal_error"][:, 0].astype(np.float64)
        else:
            self.n_iter = int(out["n_iter"][0])
            self.marginal_error = float(out["marginal_error"][0])
        self.last_run = out["run"]
        # One kept plan per item when batched (plan_handles), else one.
        self._handles = out["plan_handles"] if batch else [out["plan_handle"]]
        ops = [PlanOperator(h, shape, like=like) for h in self._handles]
        self.plan_operator = BatchPlanOperator(ops) if batch else ops[0]
        self._handle = None if batch else self._handles[0]

    @property
    def plan(self):
        """The dense plan π (N, M) ((B, N, M) batched), computed on first
        access from the kept plan(s)."""
        if self._plan is None:
            plans = [h.eval(["plan"])["plan"] for h in self._handles]
            self._plan = np.stack(plans) if self._batch else plans[0]
        return _back(self._plan, self._like)

    def close(self):
        """Frees the plans the library keeps for plan_operator and plan (also
        done when the result is garbage-collected); they fail afterwards."""
        for h in self._handles:
            h.close()

    def __repr__(self):
        if self._batch:
            return "OTResult(batch of %d, n_iter=%s)" % (len(self.n_iter), list(self.n_iter))
        return "OTResult(value=%r, n_iter=%d, marginal_error=%.3g)" % (
            float(self.value), self.n_iter, self.marginal_error)


_SCALE = {"sqeuclidean": 2.0, "halfsqeuclidean": 1.0, "SqDist(X,Y)": 2.0, "SqDist(X,Y) / IntCst(2)": 1.0}
_COSTS = {"sqeuclidean": "sqeuclidean", "euclidean": "euclidean", "halfsqeuclidean": "halfsqeuclidean",
          "power": "power",
          "SqDist(X,Y)": "sqeuclidean", "SqDist(X,Y) / IntCst(2)": "halfsqeuclidean",
          "Norm2(X-Y)": "euclidean"}


def solve_sample(X_a, X_b, a=None, b=None, cost="sqeuclidean", debias=False, reg=None,
                 unbalanced=None, max_iter=None, tol=None, blur=None, reach=None, *,
                 q=None, scaling=None, diameter=None, backend=None, threads=None):
    """Entropic OT between the points X_a (N, D) with weights a (N,) and X_b (M, D)
    with weights b (M,) (None: uniform), as GeomLoss 0.3.1's ``ot.solve_sample``.

    cost: "sqeuclidean" (|x−y|², the default), "euclidean", "halfsqeuclidean",
    or GeomLoss's KeOps formulas "SqDist(X,Y)", "SqDist(X,Y) / IntCst(2)",
    "Norm2(X-Y)", or "power" with q ≥ 1: |x−y|^q/q (q = 1, 2 are euclidean and
    halfsqeuclidean; other q run on the library's portable code, which
    last_run's note says). debias subtracts the self terms (the Sinkhorn
    divergence). Extras: q, scaling (the ε-schedule's ratio, 0.5), diameter, backend ("auto",
    "online", "tensorized", "multiscale": the solve on the multiscale geometry, euclidean and
    squared costs; its plan products run over the block pairs the final potentials keep, the
    dropped mass bounded in last_run's note), threads. Returns an OTResult.
    """
    if not isinstance(cost, str) or cost not in _COSTS:
        raise GeomLossNotImplementedError(
            "cost: %r is not supported (want one of %s; custom cost functions: use solve(C, ...))"
            % (cost, ", ".join(sorted(_COSTS))))
    like = next((t for t in (X_a, X_b, a, b) if _is_torch(t)), None)  # the first tensor
    dtype = _dtype(X_a, X_b, a, b)
    x, y = _numpy(X_a, dtype), _numpy(X_b, dtype)
    batch = x.ndim == 3
    for name, t in (("X_a", x), ("X_b", y)):
        if t.ndim != (3 if batch else 2):
            raise GeomLossValueError("%s: shape %s, want %s" % (name, t.shape, "(B, M, D) as X_a is batched"
                                                                  if batch else "(N, D) or (B, N, D)"), ERR_SHAPE)
    if x.shape[-1] != y.shape[-1] or batch and x.shape[0] != y.shape[0]:
        raise GeomLossValueError("X_b has shape %s but X_a %s" % (y.shape, x.shape), ERR_SHAPE)
    N, M = x.shape[-2], y.shape[-2]
    Bn = x.shape[0] if batch else None
    A, B = _weights("a", _numpy(a, dtype), N, Bn), _weights("b", _numpy(b, dtype), M, Bn)
    problem = dict(x=x, y=y, a=A, b=B, C=None, cost=_COSTS[cost], q=q, reg=reg, blur=blur,
                   unbalanced=unbalanced, reach=reach, debias=debias, tol=tol, max_iter=max_iter,
                   scaling=scaling, diameter=diameter, backend=backend, threads=threads)
    want = ["value", "value_linear", "F", "G", "marginal_a", "marginal_b", "a_to_b", "b_to_a",
            "n_iter", "marginal_error"] + (["F_aa", "G_bb"] if debias else [])
    if not debias and any(_is_torch(t) and t.requires_grad for t in (X_a, X_b)):
        want += ["value_grad_x", "value_grad_y"]  # Σ_j π_ij ∇ₓC(x_i, y_j), for the backward pass
    out = _library.ot_solve(problem, want, keep_plan=True)
    if like is not None:
        out["value_t"] = _value_tensor(out, problem, (X_a, X_b, a, b), like)
    return OTResult(problem, out, (N, M), like, batch)


def solve(C, a=None, b=None, reg=None, unbalanced=None, max_iter=None, tol=None, *,
          scaling=None, backend=None, threads=None):
    """Entropic OT for an explicit cost matrix C (N, M) and weights a, b (None:
    uniform), as GeomLoss 0.3.1's ``ot.solve``: reg (ε, required) and
    unbalanced (ρ) in units of C. Returns an OTResult without barycentric maps.
    Tensors in give tensors out (value not differentiable: the library takes C
    as data).
    """
    if reg is None:
        raise GeomLossValueError("reg: a cost matrix needs reg (ε), in units of C", 2)
    like = next((t for t in (C, a, b) if _is_torch(t)), None)
    dtype = _dtype(C, a, b)
    Cm = _numpy(C, dtype)
    if Cm.ndim not in (2, 3):
        raise GeomLossValueError("C: shape %s, want (N, M) or (B, N, M)" % (Cm.shape,), ERR_SHAPE)
    batch = Cm.ndim == 3
    N, M = Cm.shape[-2:]
    Bn = Cm.shape[0] if batch else None
    problem = dict(C=Cm, a=_weights("a", _numpy(a, dtype), N, Bn), b=_weights("b", _numpy(b, dtype), M, Bn),
                   reg=reg, unbalanced=unbalanced, tol=tol, max_iter=max_iter, scaling=scaling,
                   backend=backend, threads=threads)
    want = ["value", "value_linear", "F", "G", "marginal_a", "marginal_b", "n_iter", "marginal_error"]
    out = _library.ot_solve(problem, want, keep_plan=True)
    if like is not None and _torch is not None:
        v = out["value"][:, 0] if batch else float(out["value"][0])
        out["value_t"] = _torch.tensor(v, dtype=_torch.float64 if dtype == np.float64
                                       else _torch.float32, device=like.device)
    return OTResult(problem, out, (N, M), like, batch)


def _value_tensor(out, problem, inputs, like):
    """value as a tensor whose backward gives the envelope-theorem gradients."""
    X_a, X_b, a, b = inputs
    dt = _torch.float64 if out["value"].dtype == np.float64 else _torch.float32
    balanced = problem.get("unbalanced") is None and problem.get("reach") is None
    grads = {}
    if "value_grad_x" in out:  # the library's Σ_j π_ij ∇ₓC(x_i, y_j), every cost (debias=False)
        grads[0], grads[1] = out["value_grad_x"], out["value_grad_y"]
    if not problem["debias"] and balanced:
        eps = problem["reg"] if problem["reg"] is not None else None
        if eps is None:
            blur = problem["blur"] if problem["blur"] is not None else 0.05
            q = {"euclidean": 1.0, "power": problem.get("q")}.get(problem["cost"], 2.0)
            eps = _SCALE.get(problem["cost"], 1.0) * blur ** q
        batch = out["F"].ndim == 2
        msum = (lambda w: w.sum(-1, keepdims=True)) if batch else (lambda w: float(w.sum()))
        ma = 1.0 if problem["a"] is None else msum(problem["a"])
        mb = 1.0 if problem["b"] is None else msum(problem["b"])
        # d/da_i of the dual value at its optimum: f_i − ε(Σ_j b_j e^{(f_i+g_j−C_ij)/ε} − |b|) = f_i − ε(1 − |b|).
        grads[2] = out["F"] - eps * (1.0 - mb)
        grads[3] = out["G"] - eps * (1.0 - ma)
    v = out["value"][:, 0] if out["value"].shape[0] > 1 or out["F"].ndim == 2 else float(out["value"][0])
    return _Value.apply(_torch.tensor(v, dtype=dt, device=like.device), grads,
                        *[t if _is_torch(t) else None for t in inputs])


if _torch is not None:
    class _Value(_torch.autograd.Function):
        @staticmethod
        def forward(ctx, v, grads, *inputs):
            ctx.grads = grads
            ctx.meta = [(t.shape, t.dtype, t.device) if t is not None else None for t in inputs]
            return v.clone()

        @staticmethod
        def backward(ctx, g):
            res = [None, None]
            names = ("X_a", "X_b", "a", "b")
            for k, meta in enumerate(ctx.meta):
                if meta is None or not ctx.needs_input_grad[2 + k]:
                    res.append(None)
                    continue
                if k not in ctx.grads:
                    raise GeomLossNotImplementedError(
                        "geomloss.ot: the gradient of value w.r.t. %s is available only with "
                        "debias=False and, for a / b, balanced transport" % names[k])
                shape, dtype, device = meta
                gr = _torch.from_numpy(np.array(ctx.grads[k])).to(dtype=dtype, device=device).reshape(shape)
                gb = g.to(dtype)
                if gb.ndim:  # batched: one cotangent per item
                    gb = gb.reshape(gb.shape + (1,) * (gr.ndim - gb.ndim))
                res.append(gb * gr)
            return tuple(res)
