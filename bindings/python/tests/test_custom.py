"""SamplesLoss with cost= / kernel= callables (GeomLoss's tensorized backend): values and gradients
equal the named-cost / named-kernel ones (the same function computed another way), match finite
differences, and a non-built-in cost |x−y|^1.5/1.5 equals ot.solve_sample's power cost."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from geomloss import SamplesLoss  # noqa: E402
from geomloss import ot as got  # noqa: E402


def sqdist(x, y):
    return ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)


def gauss_kernel(x, y, blur):
    return torch.exp(-sqdist(x, y) / (2 * blur ** 2))


def half_sq(x, y):
    return sqdist(x, y) / 2


def data(seed, n=15, m=12, d=2, batch=None):
    r = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    return (torch.tensor(r.random(lead + (n, d)), requires_grad=True),
            torch.tensor(r.random(lead + (m, d)) + 0.2, requires_grad=True))


@pytest.mark.parametrize("batch", [None, 2])
def test_kernel_callable_equals_gaussian(batch):
    x, y = data(1, batch=batch)
    named = SamplesLoss("gaussian", blur=0.3, backend="tensorized")(x, y)
    gx, gy = torch.autograd.grad(named.sum(), (x, y))
    L = SamplesLoss("gaussian", blur=0.3, kernel=gauss_kernel)
    custom = L(x, y)
    cx, cy = torch.autograd.grad(custom.sum(), (x, y))
    assert custom.shape == named.shape
    assert torch.allclose(custom, named, rtol=1e-12, atol=1e-14)
    assert torch.allclose(cx, gx, rtol=1e-10, atol=1e-13) and torch.allclose(cy, gy, rtol=1e-10, atol=1e-13)
    assert L.last_run["note"] == "custom kernel callable"
    # NumPy in, NumPy out.
    v = L(x.detach().numpy(), y.detach().numpy())
    assert isinstance(v, np.ndarray) and np.allclose(v, named.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("debias", [False, True])
def test_cost_callable_equals_named_p2(debias):
    x, y = data(2)
    kw = dict(blur=0.1, debias=debias, tol=1e-12, max_iter=100000)
    named = SamplesLoss(p=2, backend="tensorized", **kw)(x, y)
    gx, gy = torch.autograd.grad(named, (x, y))
    custom = SamplesLoss(p=2, cost=half_sq, **kw)(x, y)
    cx, cy = torch.autograd.grad(custom, (x, y))
    assert abs(float(custom - named)) < 1e-10
    assert torch.allclose(cx, gx, rtol=1e-7, atol=1e-9) and torch.allclose(cy, gy, rtol=1e-7, atol=1e-9)


def test_cost_callable_finite_differences_and_power_cost():
    x, y = data(3, n=8, m=7)
    q = 1.5

    def power(u, v):
        return (sqdist(u, v) + 1e-30) ** (q / 2) / q

    L = SamplesLoss(p=q, blur=0.2, cost=power, debias=True, tol=1e-13, max_iter=100000)
    val = L(x, y)
    (gx,) = torch.autograd.grad(val, (x,))
    h = 1e-6
    for i, k in [(0, 0), (3, 1), (7, 0)]:
        xp, xm = x.detach().clone(), x.detach().clone()
        xp[i, k] += h
        xm[i, k] -= h
        fd = (float(L(xp, y)) - float(L(xm, y))) / (2 * h)
        assert abs(fd - float(gx[i, k])) < 1e-6, (i, k, fd, float(gx[i, k]))
    # Not debiased, the value is OT_ε with ε = blur^q: ot.solve_sample's power cost.
    raw = SamplesLoss(p=q, blur=0.2, cost=power, debias=False, tol=1e-12)(x, y)
    ref = got.solve_sample(x.detach().numpy(), y.detach().numpy(), cost="power", q=q, blur=0.2, tol=1e-12)
    assert abs(float(raw) - ref.value) < 1e-9


def test_custom_refusals():
    x, y = data(4)
    with pytest.raises(ValueError, match=r"want a \(1, 15, 12\) tensor"):
        SamplesLoss(cost=lambda u, v: sqdist(u, v)[0])(x, y)
    with pytest.raises(ValueError, match="kernel loss"):
        SamplesLoss("sinkhorn", kernel=gauss_kernel)(x, y)
    with pytest.raises(ValueError, match="tensorized"):
        SamplesLoss(cost=half_sq, backend="online")(x, y)
    with pytest.raises(ValueError, match="total masses differ"):  # balanced needs equal masses
        SamplesLoss(cost=half_sq)(torch.full((15,), 0.1), x, torch.full((12,), 1 / 12), y)
