"""geomloss.ot against POT's converged log-domain Sinkhorn (ot.sinkhorn(..., method="sinkhorn_log"),
Debian python3-pot) and GeomLoss 0.3.1's oracles: plan, marginals, plan products, barycentric maps
and value within 1e-6 (float64) at tol = 1e-11; OT(a, b) = OT(b, a)ᵀ; marginal error below tol;
Dirac plans; gradients by finite differences; the cost-matrix entry; refusals."""

import numpy as np
import pytest

import geomloss
from geomloss import ot as got

pot = pytest.importorskip("ot")  # Debian python3-pot (build/deps.sh installs it)
torch = pytest.importorskip("torch")

TOL = 1e-11


def problem(seed, n=40, m=30, d=2):
    r = np.random.default_rng(seed)
    x, y = r.random((n, d)), r.random((m, d)) + 0.3
    a, b = r.random(n) + 0.2, r.random(m) + 0.2
    return x, y, a / a.sum(), b / b.sum()


def pot_plan(x, y, a, b, eps):
    C = pot.dist(x, y)  # |x - y|^2
    P = pot.sinkhorn(a, b, C, eps, method="sinkhorn_log", stopThr=1e-14, numItermax=200000)
    return C, P


@pytest.mark.parametrize("seed,eps", [(1, 0.05), (2, 0.2), (3, 0.01)])
def test_solve_sample_matches_pot(seed, eps):
    x, y, a, b = problem(seed)
    C, P = pot_plan(x, y, a, b, eps)
    res = got.solve_sample(x, y, a, b, reg=eps, tol=TOL)
    assert res.marginal_error < TOL
    assert res.n_iter > 0
    assert np.abs(res.plan - P).max() < 1e-6
    assert np.abs(res.marginal_a - P.sum(1)).max() < 1e-6
    assert np.abs(res.marginal_b - P.sum(0)).max() < 1e-6
    r = np.random.default_rng(seed + 10)
    V, U = r.standard_normal((30, 3)), r.standard_normal((40, 2))
    assert np.abs(res.plan_operator @ V - P @ V).max() < 1e-6
    assert np.abs(res.plan_operator.T @ U - P.T @ U).max() < 1e-6
    assert np.abs(res.plan_operator @ V[:, 0] - P @ V[:, 0]).max() < 1e-6
    assert np.abs(U.T @ res.plan_operator - U.T @ P).max() < 1e-6
    assert np.abs(res.a_to_b - (P @ y) / P.sum(1)[:, None]).max() < 1e-6
    assert np.abs(res.b_to_a - (P.T @ x) / P.sum(0)[:, None]).max() < 1e-6
    lin = float((P * C).sum())
    kl = float((P * np.log(P / np.outer(a, b))).sum())
    assert abs(res.value_linear - lin) < 1e-6
    assert abs(res.value - (lin + eps * kl)) < 1e-6
    # the plan of the potentials
    f, g = res.potential_a, res.potential_b
    assert np.abs(res.plan - np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / eps)).max() < 1e-12


def test_solve_matrix_matches_pot_and_samples():
    x, y, a, b = problem(4, 25, 20)
    C, P = pot_plan(x, y, a, b, 0.1)
    res = got.solve(C, a, b, reg=0.1, tol=TOL)
    assert np.abs(res.plan - P).max() < 1e-6
    assert res.a_to_b is None
    ref = got.solve_sample(x, y, a, b, reg=0.1, tol=TOL)
    assert abs(res.value - ref.value) < 1e-9
    # cost linearity: OT_{sC} at s·eps = s·OT_C
    res2 = got.solve(3 * C, a, b, reg=0.3, tol=TOL)
    assert abs(res2.value - 3 * res.value) < 1e-8
    assert np.abs(res2.plan - res.plan).max() < 1e-8


def test_exchange_symmetry():
    x, y, a, b = problem(5)
    ab = got.solve_sample(x, y, a, b, reg=0.05, tol=TOL)
    ba = got.solve_sample(y, x, b, a, reg=0.05, tol=TOL)
    assert np.abs(ab.plan - ba.plan.T).max() < 1e-9
    assert abs(ab.value - ba.value) < 1e-9


def test_dirac_plan_is_b():
    _, y, _, b = problem(6)
    res = got.solve_sample(np.array([[0.2, 0.1]]), y, None, b, blur=0.05)
    assert np.abs(res.plan[0] - b).max() < 1e-12
    assert np.allclose(res.a_to_b[0], b @ y, atol=1e-12)


def test_unbalanced_and_debias_run_and_differ():
    x, y, a, b = problem(7)
    bal = got.solve_sample(x, y, a, b, reg=0.05, tol=1e-9)
    unb = got.solve_sample(x, y, a, b, reg=0.05, unbalanced=0.5, tol=1e-9)
    assert unb.marginal_error < 1e-9
    assert unb.value < bal.value  # relaxing the marginals can only lower the cost
    deb = got.solve_sample(x, y, a, b, reg=0.05, debias=True)
    assert deb.potential_aa.shape == (40,) and deb.potential_bb.shape == (30,)
    assert bal.potential_aa is None


def test_float32():
    x, y, a, b = problem(8)
    r64 = got.solve_sample(x, y, a, b, reg=0.1, tol=1e-9)
    r32 = got.solve_sample(x.astype(np.float32), y.astype(np.float32), a.astype(np.float32),
                           b.astype(np.float32), reg=0.1, tol=1e-5)
    assert r32.plan.dtype == np.float32
    assert np.abs(r32.plan - r64.plan).max() < 1e-5


def test_torch_value_gradient_by_finite_differences():
    x, y, a, b = problem(9, 12, 10)
    eps = 0.1
    X = torch.tensor(x, requires_grad=True)
    Y = torch.tensor(y, requires_grad=True)
    A = torch.tensor(a, requires_grad=True)
    res = got.solve_sample(X, Y, A, torch.tensor(b), reg=eps, tol=1e-13)
    assert isinstance(res.value, torch.Tensor) and isinstance(res.plan, torch.Tensor)
    res.value.backward()
    h = 1e-5

    def val(xx, yy, aa):
        return float(got.solve_sample(xx, yy, aa, b, reg=eps, tol=1e-13).value)
    for (i, k) in [(0, 0), (3, 1), (11, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[i, k] += h
        xm[i, k] -= h
        fd = (val(xp, y, a) - val(xm, y, a)) / (2 * h)
        assert abs(X.grad[i, k].item() - fd) < 1e-6, (i, k, X.grad[i, k].item(), fd)
    yp, ym = y.copy(), y.copy()
    yp[2, 1] += h
    ym[2, 1] -= h
    assert abs(Y.grad[2, 1].item() - (val(x, yp, a) - val(x, ym, a)) / (2 * h)) < 1e-6
    # weights: the derivative along a direction keeping the total mass
    dv = np.zeros(12)
    dv[1], dv[5] = 1, -1
    fd = (val(x, y, a + h * dv) - val(x, y, a - h * dv)) / (2 * h)
    assert abs(float(A.grad.numpy() @ dv) - fd) < 1e-6


def test_torch_backward_refused_where_unsupported():
    x, y, _, _ = problem(10, 8, 6)
    X = torch.tensor(x, requires_grad=True)
    res = got.solve_sample(X, torch.tensor(y), cost="euclidean", reg=0.1, debias=True)
    with pytest.raises(geomloss.GeomLossNotImplementedError, match="w.r.t. X_a"):
        res.value.backward()
    A = torch.tensor(np.full(8, 1 / 8), requires_grad=True)
    res = got.solve_sample(x, y, A, cost="euclidean", reg=0.1, unbalanced=0.5)
    with pytest.raises(geomloss.GeomLossNotImplementedError, match="w.r.t. a"):
        res.value.backward()


def test_samples_loss_tol():
    x, y, _, _ = problem(11, 6, 5)
    L = geomloss.SamplesLoss("sinkhorn", blur=0.3, tol=1e-12, debias=False)
    v1 = L(x, y)
    v2 = geomloss.SamplesLoss("sinkhorn", blur=0.3, tol=1e-12, max_iter=100000, debias=False)(x, y)
    fixed = geomloss.SamplesLoss("sinkhorn", blur=0.3, debias=False)(x, y)
    # The converged value equals the OT solver's (halfsqeuclidean is SamplesLoss's p = 2 cost).
    ref = got.solve_sample(x, y, cost="halfsqeuclidean", reg=0.09, tol=1e-12)
    assert abs(v1 - ref.value) < 1e-9 and abs(v2 - v1) < 1e-12
    assert v1 != fixed
    with pytest.raises(geomloss.GeomLossError, match="tol"):
        geomloss.SamplesLoss("sinkhorn", tol=-1)(x, y)


def test_refusals():
    x, y, a, b = problem(12, 5, 4)
    with pytest.raises(geomloss.GeomLossValueError, match="total masses differ"):
        got.solve_sample(x, y, 2 * a, b, reg=0.1)
    with pytest.raises(geomloss.GeomLossValueError, match="b: shape"):
        got.solve_sample(x, y, a, b[:3], reg=0.1)
    with pytest.raises(geomloss.GeomLossNotImplementedError, match="cost"):
        got.solve_sample(x, y, cost=lambda u, v: 0)
    with pytest.raises(geomloss.GeomLossValueError, match="reg"):
        got.solve(np.ones((3, 3)))
    res = got.solve_sample(x, y, reg=0.1)
    with pytest.raises(geomloss.GeomLossValueError, match="plan product"):
        res.plan_operator @ np.ones(5)
