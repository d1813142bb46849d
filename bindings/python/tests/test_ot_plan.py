"""geomloss.ot's kept plans (geomloss_ot_solve_sample_plan / geomloss_plan_eval) and the power
cost |x−y|^q/q: plan_operator products equal the re-solve's outputs bit for bit and never solve
again; closed forms of the power cost (Dirac, translation); q = 2 is halfsqeuclidean."""

import gc

import numpy as np
import pytest

from geomloss import _library
from geomloss import ot as got
from geomloss._errors import GeomLossValueError


def problem(seed, n=30, m=20, d=3):
    r = np.random.default_rng(seed)
    return r.random((n, d)), r.random((m, d)) + 0.2


@pytest.mark.parametrize("dtype,cost,q", [(np.float64, "sqeuclidean", None), (np.float32, "euclidean", None),
                                          (np.float64, "power", 1.5)])
def test_plan_products_equal_resolve_bit_for_bit(dtype, cost, q):
    x, y = (t.astype(dtype) for t in problem(1))
    res = got.solve_sample(x, y, reg=0.05, tol=1e-9, cost=cost, q=q)
    r = np.random.default_rng(2)
    V, U = r.standard_normal((20, 3)).astype(dtype), r.standard_normal((30, 2)).astype(dtype)
    pv, ptu, plan = res.plan_operator @ V, res.plan_operator.T @ U, res.plan
    again = _library.ot_solve(res._problem, ["plan_v", "plan_t_u", "plan", "a_to_b", "marginal_a"], v=V, u=U)
    assert np.array_equal(pv, again["plan_v"])
    assert np.array_equal(ptu, again["plan_t_u"])
    assert np.array_equal(plan, again["plan"])
    assert np.array_equal(res.a_to_b, again["a_to_b"])
    assert np.array_equal(res.marginal_a, again["marginal_a"])


def test_products_do_not_solve_again(monkeypatch):
    x, y = problem(3)
    res = got.solve_sample(x, y, reg=0.1)
    V = np.ones((20, 2))

    def no_solve(*a, **k):
        raise AssertionError("the plan product solved the problem again")

    monkeypatch.setattr(_library, "ot_solve", no_solve)
    out = res.plan_operator @ V
    assert np.allclose(out[:, 0], res.marginal_a, rtol=1e-12, atol=0)
    assert res.plan.shape == (30, 20)
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    monkeypatch.undo()
    resm = got.solve(C, reg=0.1)
    monkeypatch.setattr(_library, "ot_solve", no_solve)
    assert np.allclose(resm.plan_operator @ V, resm.plan @ V, rtol=1e-12, atol=1e-15)


def test_closed_plan_is_refused_and_freed():
    x, y = problem(4)
    res = got.solve_sample(x, y, reg=0.1)
    res.close()
    res.close()  # idempotent
    with pytest.raises(GeomLossValueError, match="closed"):
        res.plan_operator @ np.ones(20)
    # Garbage-collected results free their plans (the library refuses the freed handle).
    res = got.solve_sample(x, y, reg=0.1)
    h = res._handle.handle
    del res
    gc.collect()
    lib = _library.load()
    assert lib.geomloss_plan_free(h) == _library._errors.ERR_INVALID_ARGUMENT


@pytest.mark.parametrize("q", [1.25, 3.0])
def test_power_cost_dirac_and_translation(q):
    r = np.random.default_rng(5)
    y, b = r.random((8, 2)), r.random(8) + 0.1
    b /= b.sum()
    x = np.array([[0.3, 0.6]])
    res = got.solve_sample(x, y, b=b, cost="power", q=q, reg=0.01, tol=1e-12)
    want = float((b * (np.linalg.norm(x - y, axis=1) ** q / q)).sum())
    assert abs(res.value - want) < 1e-12 and abs(res.value_linear - want) < 1e-12
    assert np.abs(res.plan[0] - b).max() < 1e-12
    assert res.last_run["engine"] == "portable"
    # Translation of a grid of spacing 1 by |t| = 0.25: the plan is the translation (ε = 1e-3).
    g = np.stack(np.meshgrid(np.arange(4.0), np.arange(3.0)), -1).reshape(-1, 2)
    t = np.array([0.2, -0.15])
    res = got.solve_sample(g, g + t, cost="power", q=q, reg=1e-3, tol=1e-12)
    assert abs(res.value_linear - np.linalg.norm(t) ** q / q) < 1e-9
    assert np.abs(res.a_to_b - (g + t)).max() < 1e-9


def test_power_cost_q2_is_halfsqeuclidean_and_refusals():
    x, y = problem(6)
    a = got.solve_sample(x, y, cost="power", q=2, blur=0.1)
    b = got.solve_sample(x, y, cost="halfsqeuclidean", blur=0.1)
    assert a.value == b.value and np.array_equal(a.potential_a, b.potential_a)
    with pytest.raises(GeomLossValueError, match="q"):
        got.solve_sample(x, y, cost="power", reg=0.1)
    with pytest.raises(GeomLossValueError, match="q"):
        got.solve_sample(x, y, cost="power", q=0.5, reg=0.1)
    with pytest.raises(GeomLossValueError, match="q"):
        got.solve_sample(x, y, cost="sqeuclidean", q=3, reg=0.1)


def test_batch_equals_items_bit_for_bit():
    r = np.random.default_rng(7)
    B, N, M, D = 3, 12, 9, 2
    x, y = r.random((B, N, D)), r.random((B, M, D))
    a, b = r.random((B, N)) + 0.2, r.random((B, M)) + 0.2
    a /= a.sum(-1, keepdims=True)
    b /= b.sum(-1, keepdims=True)
    res = got.solve_sample(x, y, a, b, reg=0.05, tol=1e-9, debias=True)
    assert res.value.shape == (B,) and res.potential_a.shape == (B, N) and res.a_to_b.shape == (B, N, D)
    assert res.plan_operator.shape == (B, N, M)  # per-item products: test_ot_batch_plan.py
    plan = res.plan
    for k in range(B):
        one = got.solve_sample(x[k], y[k], a[k], b[k], reg=0.05, tol=1e-9, debias=True)
        assert res.value[k] == one.value and res.value_linear[k] == one.value_linear
        for f in ("potential_a", "potential_b", "potential_aa", "potential_bb", "marginal_a", "a_to_b", "b_to_a"):
            assert np.array_equal(getattr(res, f)[k], getattr(one, f)), f
        assert res.n_iter[k] == one.n_iter and res.marginal_error[k] == one.marginal_error
        assert np.array_equal(plan[k], one.plan)
    C = ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)
    resm = got.solve(C, a, b, reg=0.05, tol=1e-9)
    for k in range(B):
        one = got.solve(C[k], a[k], b[k], reg=0.05, tol=1e-9)
        assert resm.value[k] == one.value and np.array_equal(resm.potential_a[k], one.potential_a)


def test_batch_torch_gradient_matches_items():
    import torch
    r = np.random.default_rng(8)
    B, N, M, D = 2, 8, 6, 2
    x = torch.tensor(r.random((B, N, D)), requires_grad=True)
    y = torch.tensor(r.random((B, M, D)))
    res = got.solve_sample(x, y, reg=0.1, tol=1e-10)
    (res.value * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    for k in range(B):
        xk = x.detach()[k].clone().requires_grad_(True)
        one = got.solve_sample(xk, y[k], reg=0.1, tol=1e-10)
        one.value.backward()
        assert torch.allclose(x.grad[k], (k + 1.0) * xk.grad, rtol=1e-12, atol=1e-15)
