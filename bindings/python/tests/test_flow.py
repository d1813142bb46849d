"""A Wasserstein gradient flow: 200 SGD steps on the points x reduce S(x, y) by more than 90%."""

import numpy as np
import pytest
import torch

from geomloss import SamplesLoss


@pytest.mark.parametrize("loss, kw", [
    ("sinkhorn", dict(p=2, blur=0.05)),
    ("sinkhorn", dict(p=2, blur=0.05, reach=0.5)),
    ("energy", dict()),   # (gaussian MMD flows stall in local minima: not a library test)
])
def test_gradient_flow_reduces_loss(loss, kw):
    rng = np.random.default_rng(0)
    N, M = 120, 100
    x = torch.tensor(rng.random((N, 2)) * 0.4, requires_grad=True)   # a square at the origin
    t = rng.random(M) * 2 * np.pi
    r = 0.1 + 0.02 * rng.standard_normal(M)
    y = torch.tensor(np.stack([0.7 + r * np.cos(t), 0.6 + r * np.sin(t)], 1))  # a ring
    L = SamplesLoss(loss, **kw)
    lr = 0.5 if loss == "sinkhorn" else 0.3
    first = None
    for step in range(200):
        v = L(x, y)
        if first is None:
            first = float(v)
        (g,) = torch.autograd.grad(v, [x])
        with torch.no_grad():
            x -= lr * N * g   # the gradient of point i scales like its weight 1/N
    last = float(L(x, y))
    assert first > 0 and np.isfinite(last)
    assert last < 0.1 * first, (first, last)
