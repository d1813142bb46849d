"""Every sample case of the golden file through SamplesLoss on PyTorch tensors.

Values (or potentials) and torch.autograd.grad with the recorded cotangents,
against the reference's tensorized result after the project's documented
deviations (tests/golden/expected.py), with backend="auto" and "online", in
float64 (tolerance 1e-6) and float32 (2e-4).
"""

import pytest
import torch

from conftest import load_expected
from geomloss import SamplesLoss

E = load_expected()
CASES = E.expected_cases()  # fails loudly (collection error) when the golden file is missing


def _tensor(a, dtype, grad=False):
    return torch.tensor(a, dtype=dtype, requires_grad=grad)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("backend", ["auto", "online"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(case, backend, dtype):
    if case.status == "skip":
        pytest.skip(case.reason)
    L = SamplesLoss(**case.samples_loss_kwargs(), backend=backend)
    x = _tensor(case.x, dtype, True)
    y = _tensor(case.y, dtype, True)
    want_ab = case.grad["a"] is not None
    if case.weights_given:
        a, b = _tensor(case.a, dtype, want_ab), _tensor(case.b, dtype, want_ab)
        args, inputs = (a, x, b, y), {"x": x, "y": y}
        if want_ab:
            inputs.update(a=a, b=b)
    else:
        args, inputs = (x, y), {"x": x, "y": y}

    if case.status == "error":
        with pytest.raises(ValueError) as err:
            L(*args)
        if "unequal masses" in case.reason:
            assert "set reach" in str(err.value)
        return

    tol = E.tolerance(dtype)
    failures = []

    def check(name, got, want):
        if tuple(got.shape) != tuple(want.shape):
            failures.append("%s: shape %s, want %s" % (name, tuple(got.shape), want.shape))
            return
        if got.dtype != dtype:
            failures.append("%s: dtype %s, want %s" % (name, got.dtype, dtype))
        e = E.rel_error(got.detach().numpy(), want)
        if not e <= tol:
            failures.append("%s: relative error %.3g > %.3g" % (name, e, tol))

    out = L(*args)
    if case.potentials:
        F, G = out
        check("F", F, case.F)
        check("G", G, case.G)
        S = (F * _tensor(case.cot_F, dtype)).sum() + (G * _tensor(case.cot_G, dtype)).sum()
    else:
        check("value", out, case.value)
        S = (out * _tensor(case.cot_value, dtype)).sum()
    names = [k for k in ("x", "y", "a", "b") if k in inputs and case.grad[k] is not None]
    grads = torch.autograd.grad(S, [inputs[k] for k in names])
    for k, g in zip(names, grads):
        check("grad " + k, g, case.grad[k])
    assert not failures, "; ".join(failures)
