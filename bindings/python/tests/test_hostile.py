"""Hostile inputs found in issue 11, each a regression test (Python binding).

* complex inputs raise TypeError (they used to warn and drop the imaginary part);
* torch integer tensors are computed in float64, NumPy's rule (they were float32);
* second derivatives raise instead of being silently zero
  (torch.autograd.functional.hessian returned all zeros);
* ``threads=`` on SamplesLoss, as in C and Julia;
* ``geomloss.__version__`` is the package's and the library's version.
"""

import re

import numpy as np
import pytest
import torch

import geomloss
from geomloss import SamplesLoss

from conftest import PKG_ROOT, REPO


def _clouds(N=12, M=9, D=2, seed=3):
    rng = np.random.default_rng(seed)
    return rng.random((N, D)), rng.random((M, D)) + 0.2


@pytest.mark.parametrize("which", ["x", "y", "a", "b"])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_complex_inputs_raise_type_error(which, kind):
    x, y = _clouds()
    a, b = np.full(12, 1 / 12), np.full(9, 1 / 9)
    args = {"a": a, "x": x, "b": b, "y": y}
    args[which] = args[which] + 0.5j
    if kind == "torch":
        args = {k: torch.from_numpy(np.asarray(v)) for k, v in args.items()}
    with pytest.raises(TypeError, match=r"^%s: complex" % which):
        SamplesLoss(blur=0.1)(args["a"], args["x"], args["b"], args["y"])
    if kind == "numpy" and which in ("x", "y"):
        with pytest.raises(TypeError, match="complex"):
            SamplesLoss(blur=0.1).value_and_grad(args["x"], args["y"])


def test_torch_integer_tensors_are_float64():
    x, y = _clouds()
    xi, yi = torch.from_numpy((10 * x).astype(np.int64)), torch.from_numpy((10 * y).astype(np.int32))
    v = SamplesLoss("energy")(xi, yi)
    assert v.dtype == torch.float64
    ref = SamplesLoss("energy")(xi.numpy(), yi.numpy())  # NumPy: float64
    assert ref.dtype == np.float64
    assert float(v) == float(ref)
    # float32 weights with integer points: float32 wins (a float dtype is present)
    a = torch.full((12,), 1 / 12, dtype=torch.float32)
    b = torch.full((9,), 1 / 9, dtype=torch.float32)
    assert SamplesLoss("energy")(a, xi, b, yi).dtype == torch.float32


@pytest.mark.parametrize("loss", ["sinkhorn", "gaussian"])
def test_hessian_raises_instead_of_zeros(loss):
    x, y = _clouds(N=5, M=4)
    X = torch.tensor(x, requires_grad=True)
    Y = torch.tensor(y)
    L = SamplesLoss(loss, blur=0.5)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        torch.autograd.functional.hessian(lambda z: L(z, Y), X)
    # an explicit double backward fails the same way
    g, = torch.autograd.grad(L(X, Y), X, create_graph=True)
    assert g.requires_grad
    with pytest.raises(NotImplementedError, match="second derivatives"):
        g.sum().backward()
    # ... while create_graph=True alone still gives the right first derivative
    g0, = torch.autograd.grad(L(X, Y), X)
    assert torch.equal(g.detach(), g0)


def test_hessian_of_potentials_raises():
    x, y = _clouds(N=5, M=4)
    X = torch.tensor(x, requires_grad=True)
    Y = torch.tensor(y)
    L = SamplesLoss(blur=0.5, potentials=True)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        torch.autograd.functional.hessian(lambda z: L(z, Y)[0].sum(), X)


def test_threads_option():
    x, y = _clouds(N=300, M=200, D=3)
    X = torch.tensor(x, requires_grad=True)
    ref = SamplesLoss(blur=0.05)(X, torch.tensor(y))
    gref, = torch.autograd.grad(ref, X)
    for t in (1, 2, 0, None):
        L = SamplesLoss(blur=0.05, threads=t)
        v = L(X, torch.tensor(y))
        g, = torch.autograd.grad(v, X)
        assert float(v) == float(ref) and torch.equal(g, gref), t  # bit for bit
        assert L(x, y) == SamplesLoss(blur=0.05)(x, y)
    for bad in (-1, 65537, 2**70):
        with pytest.raises(ValueError, match="threads"):
            SamplesLoss(threads=bad)(x, y)
    for bad in (1.5, "2", True):
        with pytest.raises(ValueError, match="threads"):
            SamplesLoss(threads=bad)(x, y)


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", geomloss.__version__)
    assert geomloss.__version__ == geomloss.library_version()
    header = (REPO / "include" / "geomloss.h").read_text()
    assert '#define GEOMLOSS_VERSION_STRING "%s"' % geomloss.__version__ in header
    pyproject = (PKG_ROOT / "pyproject.toml").read_text()
    assert re.search(r'^version = "%s"$' % re.escape(geomloss.__version__), pyproject, re.M)
