"""Batched geomloss.ot results keep one plan per item (geomloss_ot_solve_sample_batch_plan,
geomloss_ot_solve_batch_plan): plan_operator is a BatchPlanOperator whose item products equal the
single calls' plan products bit for bit (NumPy and torch, points and cost matrices); shape
errors name the operand; the handles are freed with the result."""

import gc

import numpy as np
import pytest

from geomloss import _library
from geomloss import ot as got
from geomloss._errors import GeomLossValueError


def batch(seed, B=3, N=11, M=8, D=2):
    r = np.random.default_rng(seed)
    x, y = r.random((B, N, D)), r.random((B, M, D)) + 0.1
    a, b = r.random((B, N)) + 0.2, r.random((B, M)) + 0.2
    return x, y, a / a.sum(-1, keepdims=True), b / b.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype,unbalanced", [(np.float64, None), (np.float32, None), (np.float64, 0.5)])
def test_batch_plan_products_equal_single_bit_for_bit(dtype, unbalanced):
    x, y, a, b = (t.astype(dtype) for t in batch(1))
    B, N, M = x.shape[0], x.shape[1], y.shape[1]
    r = np.random.default_rng(2)
    V, U = r.standard_normal((B, M, 3)).astype(dtype), r.standard_normal((B, N, 2)).astype(dtype)
    kw = dict(reg=0.05, tol=1e-9 if dtype == np.float64 else 1e-5, unbalanced=unbalanced)
    res = got.solve_sample(x, y, a, b, **kw)
    P = res.plan_operator
    assert isinstance(P, got.BatchPlanOperator) and P.shape == (B, N, M) and len(P) == B
    pv, ptu, pv1, ut = P @ V, P.T @ U, P @ V[:, :, 0], U.transpose(0, 2, 1) @ P
    assert pv.shape == (B, N, 3) and ptu.shape == (B, M, 2) and pv1.shape == (B, N) and ut.shape == (B, 2, M)
    plan = res.plan
    for k in range(B):
        one = got.solve_sample(x[k], y[k], a[k], b[k], **kw)
        assert np.array_equal(pv[k], one.plan_operator @ V[k])
        assert np.array_equal(ptu[k], one.plan_operator.T @ U[k])
        assert np.array_equal(pv1[k], one.plan_operator @ V[k, :, 0])
        assert np.array_equal(ut[k], U[k].T @ one.plan_operator)
        assert np.array_equal(P[k] @ V[k], pv[k])
        assert np.array_equal(plan[k], one.plan)
        # And the plan the library kept is the solve's: the re-solve's own product.
        again = _library.ot_solve(one._problem, ["plan_v"], v=np.ascontiguousarray(V[k]))
        assert np.array_equal(pv[k], again["plan_v"])
    assert [op.shape for op in P[1:]] == [(N, M)] * (B - 1)


def test_batch_plan_cost_matrices_and_torch():
    import torch
    x, y, a, b = batch(3)
    C = ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)
    res = got.solve(torch.tensor(C), torch.tensor(a), torch.tensor(b), reg=0.1, tol=1e-10)
    V = torch.tensor(np.random.default_rng(4).standard_normal((C.shape[0], C.shape[2], 2)))
    pv = res.plan_operator @ V
    assert isinstance(pv, torch.Tensor) and pv.shape == (C.shape[0], C.shape[1], 2)
    for k in range(C.shape[0]):
        one = got.solve(C[k], a[k], b[k], reg=0.1, tol=1e-10)
        assert np.array_equal(pv[k].numpy(), one.plan_operator @ V[k].numpy())
        assert np.array_equal(res.plan[k].numpy(), one.plan)


def test_batch_plan_errors_name_the_operand():
    x, y, a, b = batch(5)
    P = got.solve_sample(x, y, a, b, reg=0.1).plan_operator
    with pytest.raises(GeomLossValueError, match=r"batched plan product: the operand has shape \(2, 8, 1\), want \(3, 8\) or \(3, 8, K\)"):
        P @ np.ones((2, 8, 1))
    with pytest.raises(GeomLossValueError, match=r"the operand has shape \(8,\)"):
        P @ np.ones(8)
    with pytest.raises(GeomLossValueError, match=r"the operand has shape \(3, 7, 1\), want \(3, 8\)"):
        P @ np.ones((3, 7, 1))
    with pytest.raises(GeomLossValueError, match=r"want \(3, 11\) or \(3, K, 11\)"):
        np.ones((3, 2, 10)) @ P


def test_batch_plans_are_freed():
    x, y, a, b = batch(6)
    res = got.solve_sample(x, y, a, b, reg=0.1)
    handles = list(res._handles)
    assert len(handles) == 3 and len({h.handle for h in handles}) == 3
    res.close()
    lib = _library.load()
    for h in handles:
        assert lib.geomloss_plan_free(h.handle) == _library._errors.ERR_INVALID_ARGUMENT
    with pytest.raises(GeomLossValueError, match="closed"):
        res.plan_operator[0] @ np.ones(8)
    res2 = got.solve_sample(x, y, a, b, reg=0.1)
    hs = [h.handle for h in res2._handles]
    del res2
    gc.collect()
    for h in hs:
        assert lib.geomloss_plan_free(h) == _library._errors.ERR_INVALID_ARGUMENT
