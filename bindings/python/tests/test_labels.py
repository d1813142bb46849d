"""Cluster labels: GeomLoss's six-argument call SamplesLoss(l_x, a, x, l_y, b, y).

The labels reach the library as GEOMLOSS_BUF_LABELS_X/_Y (int64) and select
the multiscale backend with those clusters. Checked: the six-argument call
is the C library's result with those labels (bit for bit); with
truncate=None it is the online result (1e-10, float64) for the value, the
potentials and the four gradients; autograd gradients pass gradcheck;
batched labels (B, N) are one labelling per item; every integer dtype gives
the same result; non-integer labels raise TypeError and wrong shapes
ValueError, naming l_x / l_y; the labels are not modified.
"""

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from geomloss import SamplesLoss
from geomloss import _library

from test_api import clouds
from test_gradcheck import problem, SINKHORN_TOL, EXACT_TOL


def labels(n, k, seed, lead=()):
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, size=lead + (n,)) * 1000 - 2500  # any integers


def test_six_args_is_the_library_result():
    a, x, b, y = clouds(N=30, M=40, D=5)
    lx, ly = labels(30, 4, 1), labels(40, 3, 2)
    L = SamplesLoss(blur=0.1)
    v = L(lx, a, x, ly, b, y)
    assert L.last_run["backend"] == "multiscale"
    out = _library.evaluate(L._settings(), x[None], y[None], a[None], b[None],
                            labels_x=lx[None].astype(np.int64), labels_y=ly[None].astype(np.int64))
    assert out["run"]["backend"] == "multiscale"
    assert v == out["value"][0]
    # without labels, auto runs online: the labels are what selected multiscale
    L(a, x, b, y)
    assert L.last_run["backend"] == "online"


@pytest.mark.parametrize("reach", [None, 0.4])
def test_untruncated_labels_equal_online(reach):
    a, x, b, y = clouds(N=30, M=40, D=3, seed=3)
    lx, ly = labels(30, 5, 3), labels(40, 4, 4)
    ms = SamplesLoss(blur=0.1, reach=reach, truncate=None)
    on = SamplesLoss(blur=0.1, reach=reach, backend="online")
    wrt = ("a", "x", "b", "y")
    v, g = ms.value_and_grad(lx, a, x, ly, b, y, wrt=wrt)
    assert ms.last_run["backend"] == "multiscale"
    v0, g0 = on.value_and_grad(a, x, b, y, wrt=wrt)
    assert v == pytest.approx(v0, rel=1e-10, abs=0)
    for w in wrt:
        assert np.abs(g[w] - g0[w]).max() <= 1e-10 * np.abs(g0[w]).max(), w
    # autograd (torch) gives the same gradients as value_and_grad
    ta, tx, tb, ty = (torch.tensor(t, requires_grad=True) for t in (a, x, b, y))
    tv = ms(torch.tensor(lx), ta, tx, torch.tensor(ly), tb, ty)
    tv.backward()
    assert float(tv) == v
    for w, t in zip(wrt, (ta, tx, tb, ty)):
        assert np.array_equal(t.grad.numpy(), g[w]), w
    # potentials
    F, G = SamplesLoss(blur=0.1, reach=reach, truncate=None, potentials=True)(lx, a, x, ly, b, y)
    F0, G0 = SamplesLoss(blur=0.1, reach=reach, backend="online", potentials=True)(a, x, b, y)
    assert np.abs(F - F0).max() <= 1e-10 and np.abs(G - G0).max() <= 1e-10


def test_label_dtypes_agree():
    a, x, b, y = clouds(N=25, M=20, D=2, seed=5)
    lx, ly = labels(25, 3, 5), labels(20, 3, 6)
    L = SamplesLoss(blur=0.1)
    want = L(lx, a, x, ly, b, y)
    rank = lambda v: np.unique(v, return_inverse=True)[1]  # same partition, same order
    for cx, cy in [(rank(lx).astype(np.int32), rank(ly).astype(np.uint8)),
                   (rank(lx).astype(np.uint64), rank(ly).astype(np.int16)),
                   (lx.tolist(), ly.tolist())]:
        assert L(cx, a, x, cy, b, y) == want
    for dt in (torch.int64, torch.int32, torch.int16, torch.uint8):
        tx, ty = torch.tensor(rank(lx)).to(dt), torch.tensor(rank(ly)).to(dt)
        assert float(L(tx, torch.tensor(a), torch.tensor(x), ty, torch.tensor(b), torch.tensor(y))) == want
        assert L(tx, a, x, ty, b, y) == want  # tensor labels, NumPy points


def test_float32_labels_run():
    a, x, b, y = clouds(N=25, M=20, D=2, seed=7)
    lx, ly = labels(25, 3, 7), labels(20, 3, 8)
    L = SamplesLoss(blur=0.1, truncate=None)
    v64 = L(lx, a, x, ly, b, y)
    v32 = L(lx, a.astype(np.float32), x.astype(np.float32), ly, b.astype(np.float32),
            y.astype(np.float32))
    assert v32.dtype == np.float32 and v32 == pytest.approx(v64, rel=1e-5)


def test_batched_labels_are_per_item():
    a, x, b, y = clouds(N=20, M=25, D=3, B=2, seed=9)
    lx, ly = labels(20, 3, 9, (2,)), labels(25, 4, 10, (2,))
    L = SamplesLoss(blur=0.1, diameter=2.0)
    v = L(lx, a, x, ly, b, y)
    assert v.shape == (2,)
    for k in range(2):
        assert L(lx[k], a[k], x[k], ly[k], b[k], y[k]) == v[k]


def test_gradcheck_with_labels():
    a, x, b, y = problem(11)  # B=2, N=5, M=6, D=2
    lx = torch.tensor(labels(5, 2, 11, (2,)))
    ly = torch.tensor(labels(6, 3, 12, (2,)))
    L = SamplesLoss("sinkhorn", blur=0.5, scaling=0.99, diameter=2.0, reach=0.3)
    L(lx, a, x, ly, b, y)
    assert L.last_run["backend"] == "multiscale"
    assert gradcheck(lambda a, x, b, y: L(lx, a, x, ly, b, y), (a, x, b, y), **SINKHORN_TOL)
    K = SamplesLoss("gaussian", blur=0.5)
    K(lx, a, x, ly, b, y)
    assert K.last_run["backend"] == "multiscale"
    assert gradcheck(lambda a, x, b, y: K(lx, a, x, ly, b, y), (a, x, b, y), **EXACT_TOL)


def test_label_errors():
    a, x, b, y = clouds(N=30, M=40)
    lx, ly = labels(30, 3, 13), labels(40, 3, 14)
    L = SamplesLoss()
    with pytest.raises(TypeError, match="l_x .*integers.*float64"):
        L(lx.astype(np.float64), a, x, ly, b, y)
    with pytest.raises(TypeError, match="l_y .*integers.*torch.float32"):
        L(lx, a, x, torch.tensor(ly, dtype=torch.float32), b, y)
    with pytest.raises(TypeError, match="l_x .*bool"):
        L(lx > 0, a, x, ly, b, y)
    with pytest.raises(ValueError, match=r"l_y \(cluster labels of y\) must be \(M,\) = \(40,\), got shape \(39,\)"):
        L(lx, a, x, ly[:39], b, y)
    with pytest.raises(ValueError, match=r"l_x .* must be \(N,\) = \(30,\), got shape \(30, 1\)"):
        L(lx[:, None], a, x, ly, b, y)
    with pytest.raises(ValueError, match="both .*l_x and l_y"):
        L(lx, a, x, None, b, y)
    with pytest.raises(ValueError, match="backend"):
        SamplesLoss(backend="online")(lx, a, x, ly, b, y)
    a2, x2, b2, y2 = clouds(N=30, M=40, B=2)
    with pytest.raises(ValueError, match=r"l_x .* must be \(B, N\) = \(2, 30\) for batched inputs"):
        L(lx, a2, x2, np.stack([ly, ly]), b2, y2)


def test_labels_not_modified():
    a, x, b, y = clouds(N=30, M=40)
    lx, ly = labels(30, 3, 15).astype(np.int32), labels(40, 3, 16)
    tx, ty = torch.tensor(lx), torch.tensor(ly)
    cx, cy, ctx, cty = lx.copy(), ly.copy(), tx.clone(), ty.clone()
    L = SamplesLoss(blur=0.1)
    L(lx, a, x, ly, b, y)
    L(tx, torch.tensor(a), torch.tensor(x), ty, torch.tensor(b), torch.tensor(y))
    assert np.array_equal(lx, cx) and np.array_equal(ly, cy)
    assert torch.equal(tx, ctx) and torch.equal(ty, cty)


def test_labels_with_custom_cost_refused():
    a, x, b, y = clouds(N=30, M=40)
    lx, ly = labels(30, 3, 17), labels(40, 3, 18)
    L = SamplesLoss(cost=lambda x, y: ((x[:, :, None] - y[:, None]) ** 2).sum(-1) / 2)
    with pytest.raises(ValueError, match="l_x, l_y: cluster labels select the multiscale backend"):
        L(torch.tensor(lx), torch.tensor(a), torch.tensor(x), torch.tensor(ly), torch.tensor(b),
          torch.tensor(y))
