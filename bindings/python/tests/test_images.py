"""Images and volumes: sinkhorn_divergence, ImagesLoss, VolumesLoss, ImagesBarycenter.

Every public golden image case (tests/golden/expected.py's rules) through the
function (torch and NumPy) and the layers, values or potentials and the
autograd gradients w.r.t. a and b, within 1e-6 (float64) and 1e-4 (float32);
the cases where the reference raises give a finite answer; closed forms;
torch.autograd.gradcheck on a small unbalanced case; the barycenter; bad
inputs raise errors naming the argument.
"""

import numpy as np
import pytest
import torch

from conftest import load_expected
import geomloss
from geomloss import ImagesLoss, VolumesLoss, ImagesBarycenter, GeomLossValueError
from geomloss.sinkhorn_images import sinkhorn_divergence

E = load_expected()
CASES = E.expected_image_cases()
TOL = {torch.float64: 1e-6, torch.float32: 1e-4}


def _check(failures, name, got, want, tol):
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else got
    if tuple(got.shape) != tuple(want.shape):
        failures.append("%s: shape %s, want %s" % (name, got.shape, want.shape))
        return
    e = E.rel_error(got, want)
    if not e <= tol:
        failures.append("%s: relative error %.3g > %.3g" % (name, e, tol))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("via", ["function", "layer"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden_images(case, via, dtype):
    a = torch.tensor(case.a, dtype=dtype, requires_grad=True)
    b = torch.tensor(case.b, dtype=dtype, requires_grad=True)
    if via == "function":
        out = sinkhorn_divergence(a, b, **case.kwargs)
    else:
        layer = (ImagesLoss if case.dim == 2 else VolumesLoss)(**case.kwargs)
        out = layer(a, b)
    if case.status == "beyond":  # the reference raises; we answer
        vals = out if not case.potentials else torch.cat([out[0].flatten(), out[1].flatten()])
        assert torch.isfinite(vals).all()
        return
    tol, failures = TOL[dtype], []
    if case.potentials:
        F, G = out
        assert F.dtype == dtype
        _check(failures, "F", F, case.F, tol)
        _check(failures, "G", G, case.G, tol)
    else:
        assert out.dtype == dtype and tuple(out.shape) == (case.B,)
        _check(failures, "value", out, case.value, tol)
        S = (out * torch.tensor(case.cot_value, dtype=dtype)).sum()
        ga, gb = torch.autograd.grad(S, [a, b])
        _check(failures, "grad a", ga, case.grad_a, tol)
        _check(failures, "grad b", gb, case.grad_b, tol)
    assert not failures, "; ".join(failures)


@pytest.mark.parametrize("case", [c for c in CASES if c.status == "ok"], ids=lambda c: c.id)
def test_golden_images_numpy(case):
    """NumPy in, NumPy out, the same numbers (float64)."""
    out = sinkhorn_divergence(case.a, case.b, **case.kwargs)
    if case.potentials:
        assert isinstance(out[0], np.ndarray)
        assert E.rel_error(out[0], case.F) <= 1e-6 and E.rel_error(out[1], case.G) <= 1e-6
    else:
        assert isinstance(out, np.ndarray) and out.shape == (case.B,)
        assert E.rel_error(out, case.value) <= 1e-6


def _box(n, r, c, B=1, K=1):
    a = np.zeros((B, K, n, n))
    a[..., r:r + 6, c:c + 6] = 1 / 36
    return a


def test_closed_forms():
    """Translation by t = (2, 1) pixels: ≈ |t|²/2 (3% at scaling 0.9); identical → 0;
    symmetric; K channels sum; a rectangle with anisotropic axes."""
    n = 16
    a, b = _box(n, 4, 4), _box(n, 6, 5)
    want = 0.5 * ((2 / n) ** 2 + (1 / n) ** 2)
    v = sinkhorn_divergence(a, b, scaling=0.9)[0]
    assert abs(v - want) <= 0.03 * want
    assert abs(sinkhorn_divergence(a, a)[0]) <= 1e-12
    assert abs(sinkhorn_divergence(b, a, scaling=0.9)[0] - v) <= 1e-12
    ab = np.concatenate([a, b], axis=1)
    two = sinkhorn_divergence(ab, np.concatenate([b, a], axis=1), scaling=0.9)
    assert abs(two[0] - 2 * v) <= 1e-12
    # A 16 x 8 rectangle whose second axis is twice as wide per pixel: one
    # pixel along it costs (2/16)²/2.
    r = np.zeros((1, 1, 16, 8))
    r[..., 4:10, 2:5] = 1 / 18
    s = np.roll(r, 1, axis=3)
    w = sinkhorn_divergence(r, s, axes=[(0, 1), (0, 1)], scaling=0.9)[0]
    assert abs(w - 0.5 * (1 / 8) ** 2) <= 0.05 * 0.5 * (1 / 8) ** 2


def test_gradcheck():
    """torch.autograd.gradcheck on an unbalanced 4 x 4 case: with scaling
    0.999 the annealing is converged to about 1e-4 (the closed-form gradient
    is the value's derivative at convergence: at scaling 0.95 they differ by
    2%), hence rtol 1e-3."""
    rng = np.random.default_rng(3)
    a = torch.tensor(rng.uniform(0.5, 1.5, (1, 1, 4, 4)) / 16, requires_grad=True)
    b = torch.tensor(rng.uniform(0.5, 1.5, (1, 1, 4, 4)) / 16, requires_grad=True)

    def f(a, b):
        return sinkhorn_divergence(a, b, blur=0.5, reach=1.0, scaling=0.999)

    assert torch.autograd.gradcheck(f, (a, b), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("reach", [None, 1.0])
def test_potentials_autograd(reach):
    """Autograd through ImagesLoss(potentials=True) (raw, float64, 5 x 4).
    The library holds the loop's duals fixed and differentiates the final step
    F = lam*(-eps)*logsumexp_j(log b_j + (g_j - C_ij)/eps) (G likewise on a).
    Oracle: that step written densely in torch on the pixel centres, with the
    duals replaced by the returned potentials (their fixed point: equal at
    convergence, hence scaling 0.999 and rtol 1e-3), differentiated by torch.
    Also: the backward is linear in the cotangents, and NumPy potentials stay
    NumPy."""
    rng = np.random.default_rng(5)
    shape = (5, 4)
    n = shape[0] * shape[1]
    a0 = rng.uniform(0.5, 1.5, (1, 1) + shape)
    b0 = rng.uniform(0.5, 1.5, (1, 1) + shape)
    a0, b0 = a0 / a0.sum(), b0 / b0.sum()
    a = torch.tensor(a0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    blur = 0.5
    layer = ImagesLoss(blur=blur, reach=reach, scaling=0.999, debias=False, potentials=True)
    F, G = layer(a, b)
    assert F.requires_grad and G.requires_grad and F.shape == a.shape
    cF, cG = torch.tensor(rng.normal(size=F.shape)), torch.tensor(rng.normal(size=G.shape))
    ga, gb = torch.autograd.grad((cF * F).sum() + (cG * G).sum(), [a, b])

    eps = blur ** 2
    lam = 1.0 if reach is None else 1.0 / (1.0 + eps / reach ** 2)
    u = torch.stack(torch.meshgrid(torch.arange(shape[0]) / shape[0],
                                   torch.arange(shape[1]) / shape[1], indexing="ij"), -1)
    u = u.reshape(n, 2).double()
    C = ((u[:, None, :] - u[None, :, :]) ** 2).sum(-1) / 2
    a2 = torch.tensor(a0.reshape(n), requires_grad=True)
    b2 = torch.tensor(b0.reshape(n), requires_grad=True)
    g, f = G.detach().reshape(n), F.detach().reshape(n)
    F2 = -lam * eps * torch.logsumexp(torch.log(b2)[None, :] + (g[None, :] - C) / eps, dim=1)
    G2 = -lam * eps * torch.logsumexp(torch.log(a2)[None, :] + (f[None, :] - C) / eps, dim=1)
    assert torch.allclose(F2, f, rtol=1e-3, atol=1e-6) and torch.allclose(G2, g, rtol=1e-3, atol=1e-6)
    wa, wb = torch.autograd.grad((cF.reshape(n) * F2).sum() + (cG.reshape(n) * G2).sum(), [a2, b2])
    scale = max(wa.abs().max(), wb.abs().max())
    assert (ga.reshape(n) - wa).abs().max() <= 1e-3 * scale, (ga.reshape(n), wa)
    assert (gb.reshape(n) - wb).abs().max() <= 1e-3 * scale, (gb.reshape(n), wb)

    # Linear in the cotangents: the F and G parts add up (1e-12).
    F, G = layer(a, b)
    ga1, gb1 = torch.autograd.grad((cF * F).sum(), [a, b])
    F, G = layer(a, b)
    ga2, gb2 = torch.autograd.grad((cG * G).sum(), [a, b])
    assert torch.allclose(ga1 + ga2, ga, rtol=0, atol=1e-12 * float(scale))
    assert torch.allclose(gb1 + gb2, gb, rtol=0, atol=1e-12 * float(scale))
    F_np, _ = sinkhorn_divergence(a0, b0, blur=blur, reach=reach, scaling=0.999, debias=False,
                                  potentials=True)
    assert isinstance(F_np, np.ndarray) and np.allclose(F_np, F.detach().numpy(), rtol=0, atol=1e-14)


@pytest.mark.parametrize("shape", [(1, 1, 4, 4), (2, 1, 8, 8), (1, 1, 4, 4, 4)])
def test_potentials_backward_after_a_jump(shape):
    """With the defaults on power-of-two sides the last iteration is a pyramid
    jump: F = U((f + F_c)/2), F_c the coarse soft-min on the 2x2(x2)
    sum-pooled b, f the held-fixed dual. The backward (torch autograd, F and G
    cotangents, debiased and raw) obeys what that structure implies:
    a rescaling b -> s b shifts F_c by -eps ln s, F by half that (U keeps
    constants), so <b, grad_b> = -eps/2 (sum cF - sum cG) debiased
    (G_bb on b subtracts) and -eps/2 sum cF raw, <a, grad_a> = -eps/2
    (sum cG - sum cF) debiased and -eps/2 sum cG raw (eps = blur^2 = 1/N^2),
    to 1e-12; the pooling's adjoint gives the children of one coarse pixel
    the same gradient; the batch items are independent (each item's
    gradient equals that of a call on it alone); linear in the cotangents."""
    rng = np.random.default_rng(3)
    n = shape[-1]
    eps = (1 / n) ** 2
    a0 = rng.uniform(0.5, 1.5, shape)
    b0 = rng.uniform(0.5, 1.5, shape)
    axes = tuple(range(2, len(shape)))
    a0, b0 = a0 / a0.sum(axis=axes, keepdims=True), b0 / b0.sum(axis=axes, keepdims=True)
    cF, cG = torch.tensor(rng.normal(size=shape)), torch.tensor(rng.normal(size=shape))
    Layer = ImagesLoss if len(shape) == 4 else VolumesLoss
    for debias in (True, False):
        a = torch.tensor(a0, requires_grad=True)
        b = torch.tensor(b0, requires_grad=True)
        F, G = Layer(potentials=True, debias=debias)(a, b)
        ga, gb = torch.autograd.grad((cF * F).sum() + (cG * G).sum(), [a, b])
        sF, sG = cF.sum(dim=axes), cG.sum(dim=axes)
        wa = -eps / 2 * ((sG - sF) if debias else sG)
        wb = -eps / 2 * ((sF - sG) if debias else sF)
        assert torch.allclose((a * ga).sum(dim=axes), wa, rtol=0, atol=1e-12), ((a * ga).sum(dim=axes), wa)
        assert torch.allclose((b * gb).sum(dim=axes), wb, rtol=0, atol=1e-12), ((b * gb).sum(dim=axes), wb)
        for g in (ga, gb):  # (.., n/2, 2, n/2, 2, ..): each 2x2(x2) block against its first pixel
            blocks = g.reshape(shape[:2] + sum(((n // 2, 2) for _ in axes), ()))
            first = blocks[(slice(None),) * 2 + sum(((slice(None), slice(0, 1)) for _ in axes), ())]
            assert float(g.abs().max()) > 0
            assert torch.allclose(blocks, first.expand_as(blocks), rtol=0, atol=1e-13 * float(g.abs().max()))
        # Linear in the cotangents, and per batch item.
        F, G = Layer(potentials=True, debias=debias)(a, b)
        ga1, gb1 = torch.autograd.grad((2 * cF * F).sum() - (3 * cG * G).sum(), [a, b])
        F, G = Layer(potentials=True, debias=debias)(a, b)
        ga2, gb2 = torch.autograd.grad((cF * F).sum(), [a, b])
        F, G = Layer(potentials=True, debias=debias)(a, b)
        ga3, gb3 = torch.autograd.grad((cG * G).sum(), [a, b])
        scale = float(max(ga.abs().max(), gb.abs().max()))
        assert torch.allclose(ga1, 2 * ga2 - 3 * ga3, rtol=0, atol=1e-12 * scale)
        assert torch.allclose(gb1, 2 * gb2 - 3 * gb3, rtol=0, atol=1e-12 * scale)
        a_last, b_last = a[-1:].detach().requires_grad_(), b[-1:].detach().requires_grad_()
        F, G = Layer(potentials=True, debias=debias)(a_last, b_last)
        gal, gbl = torch.autograd.grad((cF[-1:] * F).sum() + (cG[-1:] * G).sum(), [a_last, b_last])
        assert torch.equal(gal, ga[-1:]) and torch.equal(gbl, gb[-1:])


def test_single_scale_potentials_backward():
    """single_scale=True (no pyramid) ends with a final full-resolution step:
    on the 4 x 4 grid of the test above each soft-max row of that step sums
    to one, so <b, dF/db . cot> = -eps * sum(cot) (eps = blur^2
    with the default blur, the pixel width 1/4)."""
    a = torch.full((1, 1, 4, 4), 1 / 16, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(np.random.default_rng(1).uniform(0.5, 1.5, (1, 1, 4, 4)))
    b = (b / b.sum()).requires_grad_()
    cot = torch.tensor(np.random.default_rng(2).normal(size=(1, 1, 4, 4)))
    for debias in (True, False):
        F, G = ImagesLoss(potentials=True, single_scale=True, debias=debias)(a, b)
        gb, = torch.autograd.grad((F * cot).sum(), [b])
        assert abs(float((b * gb).sum()) + 0.25 ** 2 * float(cot.sum())) <= 1e-12
    with pytest.raises(TypeError, match="single_scale"):
        sinkhorn_divergence(a.detach().numpy(), b.detach().numpy(), single_scale="yes")
    # single scale changes the schedule (the pyramid's jumps are gone)
    v0 = sinkhorn_divergence(a.detach().numpy(), b.detach().numpy())
    v1 = sinkhorn_divergence(a.detach().numpy(), b.detach().numpy(), single_scale=True)
    assert v0[0] != v1[0]


def test_volumes_and_1d():
    a = np.zeros((2, 1, 8, 8, 8))
    a[..., 2:5, 2:5, 2:5] = 1 / 27
    b = np.roll(a, 1, axis=2)
    v = VolumesLoss(scaling=0.9)(torch.tensor(a), torch.tensor(b))
    assert v.shape == (2,) and torch.allclose(v, torch.full((2,), 0.5 / 64, dtype=torch.float64), rtol=0.05)
    s = np.zeros((1, 1, 32))
    s[..., 4:10] = 1 / 6
    v1 = sinkhorn_divergence(s, np.roll(s, 3, axis=2), scaling=0.9)[0]
    assert abs(v1 - 0.5 * (3 / 32) ** 2) <= 0.03 * 0.5 * (3 / 32) ** 2


def test_barycenter():
    n = 16
    m = np.concatenate([_box(n, 2, 5), _box(n, 8, 5)], axis=1)
    w = np.array([[0.5, 0.5]])
    bar = ImagesBarycenter(m, w)
    assert bar.shape == (1, 1, n, n)
    rows = np.arange(n)
    mass = bar.sum()
    assert abs(mass - 1) <= 0.2
    assert abs((bar[0, 0].sum(axis=1) * rows).sum() / mass - 7.5) <= 0.5
    mt = torch.tensor(m, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = ImagesBarycenter(mt, wt)
    cot = torch.tensor(rows, dtype=torch.float64)[None, None, :, None].expand(1, 1, n, n)
    gm, gw = torch.autograd.grad((bt * cot).sum(), [mt, wt])
    assert gm.shape == mt.shape and gw.shape == wt.shape
    # Moving weight onto the lower box moves the barycenter's mean row down.
    assert gw[0, 1] > gw[0, 0]
    with torch.no_grad():  # no gradient: no extra iterations (the reference's forward)
        assert np.allclose(ImagesBarycenter(mt, wt).numpy(), bar)


def test_errors():
    a = _box(16, 4, 4)
    with pytest.raises(NotImplementedError, match="cost"):
        sinkhorn_divergence(a, a, cost="x")
    with pytest.raises(ValueError, match="same shape"):
        sinkhorn_divergence(a, a[..., :8])
    with pytest.raises(ValueError, match="a must be"):
        sinkhorn_divergence(a[0, 0], a[0, 0])
    with pytest.raises(ValueError, match=r"\(B, K, N, N\)"):
        ImagesLoss()(a[..., 0], a[..., 0])
    with pytest.raises(ValueError, match="VolumesLoss"):
        VolumesLoss()(a, a)
    with pytest.raises(TypeError, match="float32 or float64"):
        sinkhorn_divergence(a.astype(np.int64), a.astype(np.int64))
    with pytest.raises(TypeError, match="both"):
        sinkhorn_divergence(torch.tensor(a), a)
    with pytest.raises(GeomLossValueError, match="set reach"):
        sinkhorn_divergence(a, 2 * a)
    neg = a.copy()
    neg[0, 0, 0, 0] = -1
    with pytest.raises(GeomLossValueError, match="negative"):
        sinkhorn_divergence(neg, a)
    with pytest.raises(GeomLossValueError, match="scaling"):
        sinkhorn_divergence(a, a, scaling=1.5)
    with pytest.raises(GeomLossValueError, match="p"):
        sinkhorn_divergence(a, a, p=3)
    with pytest.raises(GeomLossValueError, match="axes"):
        sinkhorn_divergence(a, a, axes=[(1, 0), (0, 1)])
    with pytest.raises(NotImplementedError, match="sinkhorn"):
        ImagesLoss(loss="energy")
    with pytest.raises(ValueError, match="weights"):
        ImagesBarycenter(np.concatenate([a, a], 1), np.ones((1, 3)))
    assert hasattr(geomloss, "sinkhorn_images")
