"""torch autograd through geomloss.ot's value for the power cost |x−y|^q/q (and euclidean):
the gradients w.r.t. X_a, X_b (the library's value_grad_x / value_grad_y, Σ_j π_ij ∇ₓC) and
w.r.t. a, b (balanced) agree with centred finite differences of the converged value."""

import numpy as np
import pytest
import torch

from geomloss import ot as got


def problem(seed, n=9, m=7, d=2):
    r = np.random.default_rng(seed)
    a, b = r.random(n) + 0.5, r.random(m) + 0.5
    return r.random((n, d)), r.random((m, d)) + 0.2, a / a.sum(), b / b.sum()


@pytest.mark.parametrize("cost,q,unbalanced", [("power", 1.5, None), ("power", 3.0, None),
                                               ("power", 1.5, 0.4), ("euclidean", None, None)])
def test_power_value_gradients_by_finite_differences(cost, q, unbalanced):
    x, y, a, b = problem(13)
    kw = dict(cost=cost, q=q, reg=0.05, unbalanced=unbalanced, tol=1e-13, max_iter=100000)
    X, Y = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    A, B = torch.tensor(a, requires_grad=unbalanced is None), torch.tensor(b, requires_grad=unbalanced is None)
    res = got.solve_sample(X, Y, A, B, **kw)
    res.value.backward()

    def val(xx=x, yy=y, aa=a, bb=b):
        return float(got.solve_sample(xx, yy, aa, bb, **kw).value)
    h = 1e-5
    for pts, grad, idx in ((x, X.grad, [(0, 0), (4, 1), (8, 0)]), (y, Y.grad, [(1, 1), (6, 0)])):
        for i, k in idx:
            p, m = pts.copy(), pts.copy()
            p[i, k] += h
            m[i, k] -= h
            fd = (val(p, y) - val(m, y)) / (2 * h) if pts is x else (val(x, p) - val(x, m)) / (2 * h)
            assert abs(grad[i, k].item() - fd) < 1e-6 * (1 + abs(fd)), (cost, q, i, k, grad[i, k].item(), fd)
    if unbalanced is None:
        # Weights: derivatives along directions keeping the total masses equal.
        da, db = np.zeros_like(a), np.zeros_like(b)
        da[1], da[5] = 1, -1
        db[0], db[3] = 1, -1
        fd = (val(aa=a + h * da) - val(aa=a - h * da)) / (2 * h)
        assert abs(float(A.grad.numpy() @ da) - fd) < 1e-6
        fd = (val(bb=b + h * db) - val(bb=b - h * db)) / (2 * h)
        assert abs(float(B.grad.numpy() @ db) - fd) < 1e-6


def test_power_gradient_batched_equals_items():
    r = np.random.default_rng(14)
    x, y = r.random((2, 6, 3)), r.random((2, 5, 3))
    X = torch.tensor(x, requires_grad=True)
    res = got.solve_sample(X, torch.tensor(y), cost="power", q=2.5, reg=0.1, tol=1e-11)
    (res.value * torch.tensor([1.0, 3.0], dtype=torch.float64)).sum().backward()
    for k in range(2):
        xk = torch.tensor(x[k], requires_grad=True)
        got.solve_sample(xk, torch.tensor(y[k]), cost="power", q=2.5, reg=0.1, tol=1e-11).value.backward()
        assert torch.equal(X.grad[k], [1.0, 3.0][k] * xk.grad)
