"""SamplesLoss with a cost= callable, unbalanced (reach) and with gradients w.r.t. the weights:
the half squared distance as a callable equals the built-in p = 2 loss (values and the gradients
w.r.t. a, b, x, y, to 1e-9 in float64 at tol = 1e-12; balanced and unbalanced, raw and
debiased, masses ≠ 1), and the weight and position gradients of a non-built-in cost match
centred finite differences."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from geomloss import SamplesLoss  # noqa: E402


def half_sq(x, y):
    return ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1) / 2


def data(seed, n=15, m=12, d=2, mb=1.0):
    r = np.random.default_rng(seed)
    a, b = r.random(n) + 0.5, r.random(m) + 0.5
    return (torch.tensor(r.random((n, d))), torch.tensor(r.random((m, d)) + 0.2),
            torch.tensor(a / a.sum()), torch.tensor(mb * b / b.sum()))


def value_and_grads(L, x, y, a, b):
    x, y, a, b = (t.detach().clone().requires_grad_(True) for t in (x, y, a, b))
    v = L(a, x, b, y)
    return [v.detach()] + list(torch.autograd.grad(v, (a, b, x, y)))


@pytest.mark.parametrize("reach,mb", [(None, 1.0), (0.5, 1.3), (2.0, 0.7)])
@pytest.mark.parametrize("debias", [False, True])
def test_callable_equals_builtin_p2_values_and_all_gradients(reach, mb, debias):
    x, y, a, b = data(2, mb=mb)
    kw = dict(p=2, blur=0.1, reach=reach, debias=debias, tol=1e-12, max_iter=100000)
    named = value_and_grads(SamplesLoss(backend="tensorized", **kw), x, y, a, b)
    custom = value_and_grads(SamplesLoss(cost=half_sq, **kw), x, y, a, b)
    for name, p, q in zip(("value", "grad a", "grad b", "grad x", "grad y"), named, custom):
        assert float((p - q).abs().max()) < 1e-9, (name, float((p - q).abs().max()))


@pytest.mark.parametrize("reach", [None, 0.4])
def test_callable_weight_and_position_gradients_by_finite_differences(reach):
    q = 1.5

    def power(u, v):
        return (((u[:, :, None, :] - v[:, None, :, :]) ** 2).sum(-1) + 1e-30) ** (q / 2) / q
    x, y, a, b = data(3, n=8, m=7, mb=1.0 if reach is None else 1.4)
    L = SamplesLoss(p=q, blur=0.2, reach=reach, cost=power, debias=True, tol=1e-13, max_iter=100000)
    _, ga, gb, gx, _ = value_and_grads(L, x, y, a, b)
    h = 1e-6

    def fd(direction, which):
        args = [a, x, b, y]
        plus, minus = list(args), list(args)
        plus[which] = args[which] + h * direction
        minus[which] = args[which] - h * direction
        return (float(L(*plus)) - float(L(*minus))) / (2 * h)
    # Balanced: along directions keeping the masses equal; unbalanced: any direction.
    da = torch.zeros(8, dtype=torch.float64)
    da[1], da[5] = 1.0, -1.0 if reach is None else 0.5
    assert abs(fd(da, 0) - float(ga @ da)) < 1e-6
    db = torch.zeros(7, dtype=torch.float64)
    db[0], db[4] = 1.0, -1.0 if reach is None else 2.0
    assert abs(fd(db, 2) - float(gb @ db)) < 1e-6
    for i, k in [(0, 0), (6, 1)]:
        dx = torch.zeros(8, 2, dtype=torch.float64)
        dx[i, k] = 1.0
        assert abs(fd(dx, 1) - float(gx[i, k])) < 1e-6
