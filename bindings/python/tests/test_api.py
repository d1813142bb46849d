"""The SamplesLoss API: call forms, shapes, dtypes, errors, NumPy/PyTorch agreement, autograd plumbing."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import geomloss
from geomloss import SamplesLoss

from conftest import PKG_ROOT, REPO


def clouds(N=30, M=40, D=3, B=None, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    lead = () if B is None else (B,)
    x = rng.random(lead + (N, D)).astype(dtype)
    y = (rng.random(lead + (M, D)) * 0.8 + 0.3).astype(dtype)
    a = rng.random(lead + (N,)).astype(dtype) + 0.1
    b = rng.random(lead + (M,)).astype(dtype) + 0.1
    a /= a.sum(axis=-1, keepdims=True)
    b /= b.sum(axis=-1, keepdims=True)
    return a, x, b, y


def T(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


# ---------------------------------------------------------------- call forms

def test_module_and_defaults():
    L = SamplesLoss()
    assert isinstance(L, torch.nn.Module)
    assert (L.loss, L.p, L.blur, L.reach, L.diameter, L.scaling, L.truncate) == (
        "sinkhorn", 2, 0.05, None, None, 0.5, 5)
    assert (L.cost, L.kernel, L.cluster_scale, L.debias, L.potentials, L.verbose, L.backend) == (
        None, None, None, True, False, False, "auto")
    assert "sinkhorn" in repr(L)


def test_call_forms_agree():
    _, x, _, y = clouds()
    L = SamplesLoss(blur=0.1)
    u_a, u_b = np.full(30, 1 / 30), np.full(40, 1 / 40)
    v2 = L(x, y)
    v4 = L(u_a, x, u_b, y)
    v6 = L(None, u_a, x, None, u_b, y)
    assert np.shape(v2) == ()
    assert v2 > 0
    assert v4 == pytest.approx(v2, rel=1e-12)
    assert v6 == pytest.approx(v2, rel=1e-12)


def test_bad_arity():
    a, x, b, y = clouds()
    L = SamplesLoss()
    with pytest.raises(ValueError, match="2 arguments"):
        L(x)
    with pytest.raises(ValueError):
        L(a, x, b)
    with pytest.raises(ValueError, match="weights a and b must both be given"):
        L(np.zeros(30, dtype=np.int64), None, x, np.zeros(40, dtype=np.int64), b, y)
    # labelled calls: test_labels.py


def test_custom_cost_and_kernel_formula_strings_not_implemented():
    # Callables are supported (test_custom.py); KeOps formula strings are not.
    with pytest.raises(NotImplementedError, match="cost"):
        SamplesLoss(cost="SqDist(X,Y)")
    with pytest.raises(NotImplementedError, match="kernel"):
        SamplesLoss("gaussian", kernel="Exp(-SqDist(X,Y))")


# ---------------------------------------------------------------- shapes

def test_weight_layouts_agree():
    a, x, b, y = clouds()
    L = SamplesLoss(blur=0.1)
    v = L(a, x, b, y)
    assert L(a[:, None], x, b[:, None], y) == pytest.approx(v, rel=1e-13)
    ab, xb, bb, yb = clouds(B=3)
    Lb = SamplesLoss(blur=0.1, diameter=2.0)
    vb = Lb(ab, xb, bb, yb)
    assert vb.shape == (3,)
    np.testing.assert_allclose(Lb(ab[..., None], xb, bb[..., None], yb), vb, rtol=1e-13)
    # batched = item by item (with a fixed diameter: the estimate is joint over the batch)
    for i in range(3):
        assert vb[i] == pytest.approx(Lb(ab[i], xb[i], bb[i], yb[i]), rel=1e-12)


@pytest.mark.parametrize("args, message", [
    (lambda a, x, b, y: (x[0], y[0]), "x must be a \\(N, D\\) or \\(B, N, D\\)"),
    (lambda a, x, b, y: (x[None, None], y[None, None]), "x must be a"),
    (lambda a, x, b, y: (x, y[None]), "x has 2 dimensions"),
    (lambda a, x, b, y: (x, np.concatenate([y, y[:, :1]], axis=1)), "y has 4 columns but x has 3"),
    (lambda a, x, b, y: (a, x, b[:, None, None], y), "a has 1 dimensions"),
    (lambda a, x, b, y: (a[:-1], x, b, y), "a \\(weights of x\\) has 29 elements but x has 30 points"),
    (lambda a, x, b, y: (a, x, b[:-1], y), "b \\(weights of y\\) has 39 elements"),
    (lambda a, x, b, y: (np.stack([a, a], 1), x, np.stack([b, b], 1), y), "must be \\(N,\\) or \\(N, 1\\)"),
])
def test_shape_errors(args, message):
    L = SamplesLoss()
    for conv in (np.asarray, torch.tensor):
        with pytest.raises(ValueError, match=message):
            L(*[conv(t) for t in args(*clouds())])


def test_batched_shape_errors():
    a, x, b, y = clouds(B=2)
    L = SamplesLoss()
    with pytest.raises(ValueError, match="y has batch size 1 but x has 2"):
        L(x, y[:1])
    with pytest.raises(ValueError, match="batch size 3 but x has 2"):
        L(np.concatenate([a, a[:1]]), x, np.concatenate([b, b[:1]]), y)
    with pytest.raises(ValueError, match="must be \\(B, N\\) or \\(B, N, 1\\)"):
        L(a[..., None].repeat(2, -1), x, b[..., None].repeat(2, -1), y)


# ---------------------------------------------------------------- library errors

@pytest.mark.parametrize("kwargs, inputs, exc, message", [
    (dict(), lambda a, x, b, y: (2 * a, x, b, y), ValueError, "set reach for unbalanced transport"),
    (dict(blur=-1.0), None, ValueError, "blur: must be a positive finite number"),
    (dict(blur=0.0), None, ValueError, "blur"),
    (dict(scaling=1.5), None, ValueError, "scaling: must lie in \\(0, 1\\)"),
    (dict(p=3), None, ValueError, "p: must be 1 or 2"),
    (dict(p=1.5), None, ValueError, "p: must be 1 or 2"),
    (dict(loss="hausdorff", reach=0.5), None, ValueError, "reach"),
    (dict(), lambda a, x, b, y: (-a, x, b, y), ValueError, "negative"),
    (dict(), lambda a, x, b, y: (0 * a, x, b, y), ValueError, "all weights of batch item 0 are zero"),
    (dict(), lambda a, x, b, y: (a, np.where(x > 0.9, np.nan, x), b, y), ValueError, "x: element \\d+ is not finite"),
])
def test_library_errors_carry_message(kwargs, inputs, exc, message):
    a, x, b, y = clouds()
    args = inputs(a, x, b, y) if inputs else (a, x, b, y)
    L = SamplesLoss(**kwargs)
    with pytest.raises(exc, match=message) as e1:
        L(*args)
    assert isinstance(e1.value, geomloss.GeomLossError)
    with pytest.raises(exc, match=message):
        L(*[T(t) for t in args])


def test_unknown_names_raise_keyerror_and_valueerror():
    _, x, _, y = clouds()
    for kw, name in ((dict(loss="wasserstein"), "loss"), (dict(backend="keops"), "backend")):
        with pytest.raises(KeyError) as e:
            SamplesLoss(**kw)(x, y)
        assert isinstance(e.value, ValueError)
        assert str(e.value).startswith(name) and "unknown" in str(e.value)


def test_kernel_losses_accept_signed_weights():
    a, x, b, y = clouds()
    v = SamplesLoss("gaussian", blur=0.5)(a - a.mean(), x, b, y)
    assert np.isfinite(v)


def test_tensorized_memory_cap_is_memory_error():
    # The tensorized backend refuses B*N*M above its cap; online has no such cap.
    rng = np.random.default_rng(1)
    x = rng.random((12000, 1)).astype(np.float32)
    y = rng.random((12000, 1)).astype(np.float32)
    with pytest.raises(MemoryError, match="online"):
        SamplesLoss("energy", backend="tensorized")(x, y)


# ---------------------------------------------------------------- NumPy

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_dtype_preserved(dtype):
    a, x, b, y = clouds(dtype=dtype)
    v = SamplesLoss(blur=0.1)(a, x, b, y)
    assert isinstance(v, dtype) and v.dtype == dtype and v.shape == ()
    F, G = SamplesLoss(blur=0.1, potentials=True)(a[:, None], x, b[:, None], y)
    assert F.dtype == dtype and G.dtype == dtype
    assert F.shape == (30, 1) and G.shape == (40, 1)
    vb = SamplesLoss(blur=0.1)(*clouds(B=2, dtype=dtype))
    assert vb.dtype == dtype and vb.shape == (2,)


def test_numpy_other_dtypes():
    a, x, b, y = clouds()
    ref = SamplesLoss("energy")(a.astype(np.float32), x.astype(np.float32), b.astype(np.float32),
                                y.astype(np.float32))
    v16 = SamplesLoss("energy")(a.astype(np.float16), x.astype(np.float16), b.astype(np.float16),
                                y.astype(np.float16))
    assert v16.dtype == np.float16
    xi, yi = (10 * x).astype(np.int64), (10 * y).astype(np.int64)
    vi = SamplesLoss("energy")(xi, yi)
    assert vi.dtype == np.float64
    assert vi == pytest.approx(SamplesLoss("energy")(xi.astype(float), yi.astype(float)), rel=1e-14)
    assert float(v16) == pytest.approx(float(ref), rel=1e-2)
    # lists work too
    assert SamplesLoss("energy")(x.tolist(), y.tolist()) == pytest.approx(
        SamplesLoss("energy")(x, y), rel=1e-14)


def test_numpy_non_contiguous():
    a, x, b, y = clouds()
    xt = np.asfortranarray(x)
    ys = np.repeat(y, 2, axis=0)[::2]
    xw = np.concatenate([x, x], axis=1)[:, ::2]  # strided columns... a different cloud
    L = SamplesLoss(blur=0.1)
    assert not xt.flags.c_contiguous and not ys.flags.c_contiguous
    assert L(a, xt, b, ys) == L(a, x, b, y)
    assert L(a, xw, b, y) == L(a, np.ascontiguousarray(xw), b, y)
    assert L(a[::-1], x[::-1], b, y) == pytest.approx(L(a, x, b, y), rel=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(p=1, blur=0.2), dict(reach=0.5, debias=False), dict(loss="energy"),
    dict(loss="gaussian", blur=0.3), dict(loss="laplacian", blur=0.3), dict(loss="hausdorff"),
])
def test_numpy_equals_torch(kwargs):
    a, x, b, y = clouds(B=2)
    L = SamplesLoss(**kwargs)
    v_np = L(a, x, b, y)
    ta, tx, tb, ty = (T(t, True) for t in (a, x, b, y))
    v_t = L(ta, tx, tb, ty)
    np.testing.assert_array_equal(v_np, v_t.detach().numpy())
    gx, gy, ga, gb = torch.autograd.grad(v_t.sum(), [tx, ty, ta, tb])
    value, grads = L.value_and_grad(a, x, b, y, wrt=("x", "y", "a", "b"))
    np.testing.assert_array_equal(value, v_np)
    for k, g in zip("xyab", (gx, gy, ga, gb)):
        np.testing.assert_array_equal(grads[k], g.numpy())
    Lp = SamplesLoss(potentials=True, **kwargs)
    for u, v in zip(Lp(a, x, b, y), Lp(T(a), T(x), T(b), T(y))):
        np.testing.assert_array_equal(u, v.numpy())


def test_value_and_grad_cotangent():
    a, x, b, y = clouds(B=3)
    L = SamplesLoss(blur=0.2)
    v, g1 = L.value_and_grad(a, x, b, y, wrt="x")
    w = np.array([1.0, -2.0, 0.5])
    _, gw = L.value_and_grad(a, x, b, y, wrt="x", cotangent=w)
    np.testing.assert_allclose(gw["x"], g1["x"] * w[:, None, None], rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="four-argument"):
        L.value_and_grad(x, y, wrt="a")


# ---------------------------------------------------------------- PyTorch

def test_torch_shapes_and_dtypes():
    a, x, b, y = clouds()
    L = SamplesLoss(blur=0.1)
    v = L(T(x), T(y))
    assert isinstance(v, torch.Tensor) and v.shape == () and v.dtype == torch.float64
    v32 = L(T(x).float(), T(y).float())
    assert v32.dtype == torch.float32
    assert float(v32) == pytest.approx(float(v), rel=1e-4)
    ab, xb, bb, yb = clouds(B=4)
    vb = L(T(ab), T(xb), T(bb), T(yb))
    assert vb.shape == (4,)
    F, G = SamplesLoss(potentials=True)(T(a)[:, None], T(x), T(b)[:, None], T(y))
    assert F.shape == (30, 1) and G.shape == (40, 1)
    F, G = SamplesLoss(potentials=True)(T(a), T(x), T(b), T(y))
    assert F.shape == (30,) and G.shape == (40,)
    F, G = SamplesLoss(potentials=True)(T(x), T(y))
    assert F.shape == (30,) and G.shape == (40,)
    F, G = SamplesLoss(potentials=True)(T(xb), T(yb))
    assert F.shape == (4, 30) and G.shape == (4, 40)
    # mixed NumPy / torch inputs go the torch way
    assert isinstance(L(x, T(y)), torch.Tensor)


def test_torch_only_needed_gradients():
    a, x, b, y = clouds()
    tx, ty = T(x, True), T(y)
    v = SamplesLoss(blur=0.1)(tx, ty)
    v.backward()
    assert tx.grad is not None and tx.grad.shape == (30, 3) and ty.grad is None
    assert torch.isfinite(tx.grad).all() and tx.grad.abs().sum() > 0
    # weights (N, 1): the gradient has the weights' shape
    ta = T(a[:, None], True)
    v = SamplesLoss(blur=0.1)(ta, T(x), T(b[:, None]), T(y))
    (ga,) = torch.autograd.grad(v, [ta])
    assert ga.shape == (30, 1)


def test_torch_no_grad_and_detached():
    _, x, _, y = clouds()
    tx = T(x, True)
    with torch.no_grad():
        v = SamplesLoss()(tx, T(y))
    assert not v.requires_grad
    v = SamplesLoss()(T(x), T(y))
    assert not v.requires_grad


def test_torch_grad_output_scales_per_batch_item():
    a, x, b, y = clouds(B=3)
    L = SamplesLoss(blur=0.2, reach=0.7)
    tx, ta = T(x, True), T(a, True)
    v = L(ta, tx, T(b), T(y))
    gx1, ga1 = torch.autograd.grad(v.sum(), [tx, ta], retain_graph=True)
    w = torch.tensor([2.0, 0.0, -1.5], dtype=torch.float64)
    gxw, gaw = torch.autograd.grad((v * w).sum(), [tx, ta])
    torch.testing.assert_close(gxw, gx1 * w[:, None, None], rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(gaw, ga1 * w[:, None], rtol=1e-12, atol=1e-15)


def test_torch_value_gradient_matches_finite_differences():
    # Sinkhorn gradients are exact at convergence only: anneal slowly (scaling
    # 0.99) to a blur where the loop converges fast (cf. test_gradcheck.py).
    a, x, b, y = clouds(N=8, M=9, D=2)
    L = SamplesLoss(blur=0.5, scaling=0.99, diameter=2.0)
    tx = T(x, True)
    v = L(T(a), tx, T(b), T(y))
    (g,) = torch.autograd.grad(v * 3.0, [tx])
    h = 1e-6
    d = np.random.default_rng(3).standard_normal(x.shape)
    fd = 3.0 * (L(a, x + h * d, b, y) - L(a, x - h * d, b, y)) / (2 * h)
    assert float((g.numpy() * d).sum()) == pytest.approx(fd, rel=5e-3)


def test_torch_potentials_backward_uses_cotangents():
    # GeomLoss differentiates the potentials through the final extrapolation
    # step only (the loop's f, g held fixed), so F, G's "gradients" are not
    # their total derivatives and finite differences do not apply (the golden
    # tests check them against GeomLoss). Here: the backward pass sends the
    # right cotangents to the library, i.e. the result is linear in (cot_F,
    # cot_G), an unused output counts as a zero cotangent, and the value's
    # cotangent is zero (not ones).
    a, x, b, y = clouds(N=10, M=12, D=2, B=2)
    L = SamplesLoss(blur=0.3, potentials=True)
    rng = np.random.default_rng(5)
    cF, cG = T(rng.standard_normal((2, 10))), T(rng.standard_normal((2, 12)))

    def grads(S_of):
        tx, ty = T(x, True), T(y, True)
        F, G = L(T(a), tx, T(b), ty)
        return torch.autograd.grad(S_of(F, G), [tx, ty], allow_unused=True)

    both = grads(lambda F, G: (F * cF).sum() + (G * cG).sum())
    onlyF = grads(lambda F, G: (F * cF).sum())
    onlyG = grads(lambda F, G: (G * cG).sum())
    twiceF = grads(lambda F, G: (F * (2 * cF)).sum())
    zero = grads(lambda F, G: (F * 0).sum())
    for k in range(2):
        torch.testing.assert_close(both[k], onlyF[k] + onlyG[k], rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(twiceF[k], 2 * onlyF[k], rtol=1e-12, atol=1e-14)
        assert zero[k].abs().max() == 0
    # GeomLoss's convention (ALGORITHMS.md §7.0): F is differentiated through
    # C(x, y.detach()) only, G through C(y, x.detach()).
    assert onlyF[0].abs().max() > 0 and onlyF[1].abs().max() == 0
    assert onlyG[1].abs().max() > 0 and onlyG[0].abs().max() == 0
    # the F cotangent of batch item 0 set to zero: item 0's points get no gradient
    cF1 = cF.clone()
    cF1[0] = 0
    g1 = grads(lambda F, G: (F * cF1).sum())
    assert g1[0][0].abs().max() == 0 and g1[0][1].abs().max() > 0


def test_torch_non_contiguous_and_half():
    a, x, b, y = clouds()
    tx = torch.tensor(np.asfortranarray(x)).t().contiguous().t()  # column-major storage
    assert not tx.is_contiguous()
    L = SamplesLoss(blur=0.1)
    assert float(L(tx, T(y))) == float(L(T(x), T(y)))
    v16 = L(T(x).half(), T(y).half())
    assert v16.dtype == torch.float16


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_torch_cuda_round_trip():
    a, x, b, y = clouds()
    tx = T(x).cuda().requires_grad_()
    v = SamplesLoss(blur=0.1)(tx, T(y).cuda())
    assert v.device.type == "cuda"
    v.backward()
    assert tx.grad.device.type == "cuda"
    assert float(v) == pytest.approx(float(SamplesLoss(blur=0.1)(x, y)), rel=1e-12)


# ---------------------------------------------------------------- misc

def test_verbose_prints_progress(capsys):
    _, x, _, y = clouds()
    SamplesLoss(blur=0.05, verbose=True)(x, y)
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.startswith("[geomloss] sinkhorn:")]
    assert len(lines) >= 3, out
    assert lines[-1].split(":")[1].strip().split("/")[0] == lines[-1].split("/")[1]
    SamplesLoss(blur=0.05)(x, y)
    assert capsys.readouterr().out == ""


def test_last_run_report():
    _, x, _, y = clouds()
    L = SamplesLoss(backend="online")
    L(x, y)
    assert L.last_run["backend"] == "online" and L.last_run["device"] == "cpu"
    L.backend = "auto"
    L(x, y)
    # auto picks the fastest exact backend for the engine: online on the CPU
    assert L.last_run["backend"] == "online"


def test_threads_agree_with_serial():
    problems = [clouds(seed=s) for s in range(8)]
    L = SamplesLoss(blur=0.05)
    serial = [L(*p) for p in problems]
    results = [None] * len(problems)

    def work(i):
        results[i] = SamplesLoss(blur=0.05)(*problems[i])

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(problems))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results == serial


def _run_python(code, env_extra):
    env = {k: v for k, v in os.environ.items() if k != "GEOMLOSS_LIBRARY"}
    env.update(env_extra)
    env["PYTHONPATH"] = str(PKG_ROOT)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd="/")


def test_library_discovery_order(tmp_path):
    # The checkout's dist/lib is found with no setting.
    assert os.path.realpath(geomloss.find_library()) == os.path.realpath(geomloss.library_path())
    r = _run_python("import geomloss; print(geomloss.find_library())", {})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(REPO / "dist" / "lib" / "libgeomloss.so")
    # GEOMLOSS_LIBRARY wins, as a file or a directory ...
    lib = os.path.realpath(REPO / "dist" / "lib" / "libgeomloss.so")
    r = _run_python("import geomloss; print(geomloss.library_path())", {"GEOMLOSS_LIBRARY": lib})
    assert r.returncode == 0 and r.stdout.strip() == lib, r.stderr
    r = _run_python("import geomloss; print(geomloss.find_library())",
                    {"GEOMLOSS_LIBRARY": str(REPO / "dist" / "lib")})
    assert r.stdout.strip() == str(REPO / "dist" / "lib" / "libgeomloss.so"), r.stderr
    # ... and a wrong one is an error, not a silent fallback.
    r = _run_python("import geomloss, numpy as np; geomloss.SamplesLoss()(np.ones((2,2)), np.ones((2,2)))",
                    {"GEOMLOSS_LIBRARY": str(tmp_path / "nope.so")})
    assert r.returncode != 0 and "LibraryNotFoundError" in r.stderr and "nope.so" in r.stderr


def test_library_loads_in_a_plain_process():
    # `import torch; from geomloss import SamplesLoss` in a process started
    # without any glibc tunable (build/test-python.sh may set one to test the
    # rest of the suite when this fails).
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "GEOMLOSS_LIBRARY")}
    if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(PKG_ROOT)
    code = ("import torch, numpy as np\nfrom geomloss import SamplesLoss\n"
            "print(float(SamplesLoss()(torch.ones(3, 2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64))))")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr[-1500:]
    assert float(r.stdout) > 0


def test_numpy_only_without_torch():
    # PyTorch is optional: with `import torch` failing, SamplesLoss works on NumPy arrays.
    code = ("import sys; sys.modules['torch'] = None\n"
            "import numpy as np, geomloss\n"
            "L = geomloss.SamplesLoss(blur=0.1)\n"
            "assert not hasattr(L, 'parameters')\n"
            "v, g = L.value_and_grad(np.eye(3), np.eye(3)[::-1] + 1.0, wrt='x')\n"
            "assert v == L(np.eye(3), np.eye(3)[::-1] + 1.0) and g['x'].shape == (3, 3)\n"
            "print(float(v))")
    env = dict(os.environ)
    if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(PKG_ROOT)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr[-1500:]
    assert float(r.stdout) > 0
