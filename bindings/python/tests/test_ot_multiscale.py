"""geomloss.ot.solve_sample(..., backend="multiscale") on a problem whose plan truncates: the plan
products run over the block pairs the final potentials keep (last_run's note says so) and agree
with the online solve's (every pair) within the dropped mass; value's autograd runs through the
same sparse plan (its gradient = 2(π1·x − πy) from the plan's own products)."""

import numpy as np
import pytest
import torch

from geomloss import ot as got


def problem():
    r = np.random.default_rng(21)
    return r.random((1000, 2)), r.random((1300, 2))


@pytest.fixture(scope="module")
def solves():
    x, y = problem()
    ms = got.solve_sample(x, y, reg=0.003, backend="multiscale")
    on = got.solve_sample(x, y, reg=0.003, backend="online")
    return x, y, ms, on


def rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


def test_multiscale_fields_and_products(solves):
    x, y, ms, on = solves
    assert ms.last_run["backend"] == "multiscale"
    assert "kept block pairs" in ms.last_run["note"], ms.last_run["note"]
    assert on.last_run["backend"] == "online"
    assert abs(float(ms.value) - float(on.value)) <= 1e-5 * abs(float(on.value))
    assert abs(float(ms.value_linear) - float(on.value_linear)) <= 2e-5 * abs(float(on.value_linear))
    for f in ("potential_a", "potential_b", "marginal_a", "marginal_b", "a_to_b", "b_to_a"):
        assert getattr(ms, f).shape == getattr(on, f).shape, f
        assert rel(getattr(ms, f), getattr(on, f)) <= 2e-5, (f, rel(getattr(ms, f), getattr(on, f)))
    assert ms.n_iter == on.n_iter and np.isfinite(ms.marginal_error)
    r = np.random.default_rng(3)
    V, U = r.standard_normal((1300, 3)), r.standard_normal((1000, 2))
    assert rel(ms.plan_operator @ V, on.plan_operator @ V) <= 2e-5
    assert rel(ms.plan_operator.T @ U, on.plan_operator.T @ U) <= 2e-5
    # the marginals are the sparse plan's own products
    assert np.array_equal(ms.plan_operator @ np.ones(1300), ms.marginal_a)


def test_multiscale_value_autograd(solves):
    x, y, ms, on = solves
    X, Y = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    res = got.solve_sample(X, Y, reg=0.003, backend="multiscale")
    assert "kept block pairs" in res.last_run["note"]
    res.value.backward()
    P = ms.plan_operator
    # ∇_x Σ π_ij |x_i − y_j|² = 2(π1_i x_i − (πy)_i), from the same plan's products
    gx = 2 * ((P @ np.ones(1300))[:, None] * x - P @ y)
    gy = 2 * ((P.T @ np.ones(1000))[:, None] * y - P.T @ x)
    assert rel(X.grad.numpy(), gx) <= 1e-10
    assert rel(Y.grad.numpy(), gy) <= 1e-10
    Xo = torch.tensor(x, requires_grad=True)
    got.solve_sample(Xo, torch.tensor(y), reg=0.003, backend="online").value.backward()
    assert rel(X.grad.numpy(), Xo.grad.numpy()) <= 2e-5
