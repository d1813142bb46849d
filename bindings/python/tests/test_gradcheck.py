"""torch.autograd.gradcheck (float64) of SamplesLoss for each loss.

The library returns closed-form gradients (GeomLoss's envelope gradients,
ALGORITHMS.md §7): exact for the kernel losses, exact *at convergence* for
Sinkhorn. Sinkhorn problems are therefore set up to converge (diameter fixed
at 2 so the schedule does not move with the points, slow annealing
scaling=0.99 down to blur=0.5, where the loop contracts fast); the remaining
non-convergence error is about 3e-4 of the largest Jacobian entry (measured),
so those checks use atol=2e-3, rtol=1e-2. A wrong coefficient (e.g. the
reference's unbalanced factor (ρ+ε/2)/(ρ+ε) ≈ 0.63, or a missing debiasing
term) is off by 10-50% and fails. Kernel losses use tight tolerances.

Balanced Sinkhorn and Hausdorff are only defined on equal masses, so their weight gradients are
checked along mass-preserving directions (gradcheck would perturb one weight
at a time); unbalanced Sinkhorn and kernel losses check a and b directly.
Every check is batched (B=2) so the per-item scaling by grad_output is
exercised too.
"""

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from geomloss import SamplesLoss

B, N, M, D = 2, 5, 6, 2
SINKHORN_TOL = dict(atol=2e-3, rtol=1e-2)
EXACT_TOL = dict(atol=1e-8, rtol=1e-6)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((B, N, D))
    y = rng.random((B, M, D)) * 0.8 + 0.3
    a = rng.random((B, N)) + 0.2
    b = rng.random((B, M)) + 0.2
    a /= a.sum(axis=1, keepdims=True)
    b /= b.sum(axis=1, keepdims=True)
    return [torch.tensor(t, requires_grad=True) for t in (a, x, b, y)]


SINKHORN = [
    dict(p=p, reach=reach, debias=debias)
    for p in (1, 2) for reach in (None, 0.3) for debias in (True, False)
]


@pytest.mark.parametrize("kw", SINKHORN, ids=lambda kw: "p%d-reach%s-debias%s" % (
    kw["p"], kw["reach"], kw["debias"]))
@pytest.mark.parametrize("backend", ["tensorized", "online"])
def test_gradcheck_sinkhorn(kw, backend):
    L = SamplesLoss("sinkhorn", blur=0.5, scaling=0.99, diameter=2.0, backend=backend, **kw)
    a, x, b, y = problem(1)
    if kw["reach"] is None:
        assert gradcheck(lambda x, y: L(a.detach(), x, b.detach(), y), (x, y), **SINKHORN_TOL)
    else:
        assert gradcheck(lambda a, x, b, y: L(a, x, b, y), (a, x, b, y), **SINKHORN_TOL)


@pytest.mark.parametrize("loss, p, debias", [
    ("sinkhorn", 1, True), ("sinkhorn", 1, False), ("sinkhorn", 2, True), ("sinkhorn", 2, False),
    ("hausdorff", 1, True), ("hausdorff", 2, True)])
def test_balanced_weight_gradients_along_mass_preserving_directions(loss, p, debias):
    L = SamplesLoss(loss, p=p, blur=0.5, scaling=0.99, diameter=2.0, debias=debias)
    a, x, b, y = problem(2)
    v = L(a, x, b, y)
    w = torch.tensor([1.0, -0.7], dtype=torch.float64)
    ga, gb = torch.autograd.grad((v * w).sum(), [a, b])
    rng = np.random.default_rng(3)
    for t, g in ((a, ga), (b, gb)):
        d = rng.standard_normal(t.shape)
        d -= d.mean(axis=1, keepdims=True)  # zero-sum per batch item
        d = torch.tensor(0.1 * d)
        h = 1e-6
        args = lambda s: [u.detach() + (s * d if u is t else 0) for u in (a, x, b, y)]
        fd = ((L(*args(h)) - L(*args(-h))) * w).sum() / (2 * h)
        an = (g * d).sum()
        assert abs(float(an - fd)) <= 3e-3 * float(g.norm() * d.norm()), (float(an), float(fd))


@pytest.mark.parametrize("loss, blur", [("energy", 0.05), ("gaussian", 0.5), ("laplacian", 0.5)])
@pytest.mark.parametrize("backend", ["tensorized", "online"])
def test_gradcheck_kernels(loss, blur, backend):
    L = SamplesLoss(loss, blur=blur, backend=backend)
    a, x, b, y = problem(4)
    assert gradcheck(lambda a, x, b, y: L(a, x, b, y), (a, x, b, y), **EXACT_TOL)
    # uniform weights (two-argument form), unbatched
    assert gradcheck(lambda x, y: L(x[0], y[0]), (x, y), **EXACT_TOL)


@pytest.mark.parametrize("loss", ["energy", "gaussian", "laplacian"])
def test_gradcheck_kernels_float_outputs_scaled(loss):
    # A non-trivial function of the batch values: grad_output differs per item.
    L = SamplesLoss(loss, blur=0.3)
    a, x, b, y = problem(5)
    assert gradcheck(lambda x, b: (L(a.detach(), x, b, y.detach()) ** 2 * torch.tensor([1.0, 3.0],
                     dtype=torch.float64)).sum(), (x, b), **EXACT_TOL)


def test_gradcheck_hausdorff_positions():
    L = SamplesLoss("hausdorff", blur=0.5, scaling=0.99, diameter=2.0)
    a, x, b, y = problem(6)
    assert gradcheck(lambda x, y: L(a.detach(), x, b.detach(), y), (x, y), **SINKHORN_TOL)


def test_hausdorff_gradients_finite_and_zero_at_identity():
    # What holds for hausdorff today: finite gradients, zero value and gradient when x == y.
    L = SamplesLoss("hausdorff", blur=0.5)
    a, x, b, y = problem(7)
    xx = x.detach().clone().requires_grad_()
    v = L(a.detach(), xx, a.detach(), x.detach())
    (g,) = torch.autograd.grad(v.sum(), [xx])
    assert v.abs().max() < 1e-12 and g.abs().max() < 1e-12
    v = L(a.detach(), xx, b.detach(), y.detach())
    (g,) = torch.autograd.grad(v.sum(), [xx])
    assert torch.isfinite(g).all() and g.abs().max() > 0 and (v > 0).all()
