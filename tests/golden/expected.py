"""Golden data of the original GeomLoss (v0.2.6) and the values libgeomloss must produce.

Shared by the language bindings' test suites (Python here; importable by path
from others, e.g. ``importlib.util.spec_from_file_location``). It needs only
the standard library and NumPy. It never stores numbers: everything is read
from the golden file, whose path is the environment variable
``GEOMLOSS_GOLDEN``, else ``<repo>/../shared/testdata/golden_public.json``.

The rules — the tolerances, the cases that are skipped or must fail, and the
deviations from the reference — are those of ``tests/golden/deviations.json``,
the one source the Go, Python and Julia suites read (see its "about" fields):

* The reference is ``results[reference_backend]`` of each sample case.
* Comparison: ``‖ours − ref‖₂ / max(‖ref‖₂, norm_floor) ≤ tolerance[dtype]``
  (see :func:`rel_error`); the floor makes it absolute for references near 0.
* Losses of ``skip_losses`` are skipped; any other reference error must raise.
* Balanced transport of the ``must_fail.balanced_unequal_mass`` losses whose
  case has one of its tags, or whose masses differ by more than its
  ``mass_rtol``, must raise ("set reach for unbalanced transport").
* Unbalanced (reach not null) ``unbalanced`` losses, potentials false: the
  κ/κ' rescaling and raw-value correction described there.
* potentials true: F and G (reshaped to the cotangent's (N,)/(B, N) layout)
  and the x, y gradients of Σ cot_F·F + Σ cot_G·G, unchanged.
"""

import json
import math
import os
from pathlib import Path

import numpy as np

_REPO = Path(__file__).resolve().parent.parent.parent
_cache = {}

with open(Path(__file__).resolve().parent / "deviations.json") as _f:
    RULES = json.load(_f)
TOLERANCE = RULES["comparison"]["tolerance"]
NORM_FLOOR = RULES["comparison"]["norm_floor"]
_UNEQUAL = RULES["must_fail"]["balanced_unequal_mass"]
MASS_RTOL = _UNEQUAL["mass_rtol"]
_UNBALANCED = RULES["unbalanced"]


def golden_path():
    """The golden file: $GEOMLOSS_GOLDEN, else <repo>/../shared/testdata/golden_public.json."""
    env = os.environ.get("GEOMLOSS_GOLDEN")
    if env:
        return Path(env)
    return _REPO.parent / "shared" / "testdata" / "golden_public.json"


def load(path=None):
    """The parsed golden file (cached per path)."""
    path = Path(path) if path is not None else golden_path()
    key = str(path.resolve()) if path.exists() else str(path)
    if key not in _cache:
        with open(path) as f:
            _cache[key] = json.load(f)
    return _cache[key]


_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def array(obj):
    """A golden Array ({"shape": [...], "data": [...]}) as a float64 NumPy array, or None."""
    if obj is None:
        return None
    data = [(_NONFINITE[v] if isinstance(v, str) else v) for v in obj["data"]]
    return np.asarray(data, dtype=np.float64).reshape(obj["shape"])


def sample_cases(path=None):
    """Every SampleCase of the golden file, in file order."""
    return load(path)["samples"]


def tolerance(dtype):
    """The relative tolerance for a dtype name or NumPy/PyTorch dtype ("float32"/"float64")."""
    name = str(dtype).replace("torch.", "")
    return TOLERANCE[np.dtype(name).name]


def rel_error(got, want, floor=NORM_FLOOR):
    """‖got − want‖₂ / max(‖want‖₂, floor), over all elements (NaN if shapes differ)."""
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        return math.nan
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), floor))


class Expected:
    """What the library must return for one sample case.

    status: "ok", "error" (the call must raise) or "skip" (reason says why).
    Inputs (float64, the library's layout): x (N, D) or (B, N, D); y alike;
    a (N,) or (B, N); b alike; weights_given says whether to call L(a, x, b, y)
    (else L(x, y), a and b then hold the uniform weights the reference used).
    Cotangents: cot_value (shape () or (B,)) or cot_F, cot_G ((N,)/(B, N)).
    Expected outputs: value (() or (B,)) or F, G ((N,)/(B, N)); grad: dict
    x, y, a, b -> array or None (None: not compared / not requested).
    """

    def __init__(self, case):
        self.case = case
        self.id = case["id"]
        self.params = dict(case["params"])
        self.loss = self.params["loss"]
        self.potentials = bool(self.params["potentials"])
        self.batched = bool(case["batched"])
        self.weights_given = bool(case["weights_given"])
        self.B = case["B"] if self.batched else 1
        self.N, self.M, self.D = case["N"], case["M"], case["D"]
        inp = case["inputs"]
        self.x, self.y = array(inp["x"]), array(inp["y"])
        self.a, self.b = array(inp["a"]), array(inp["b"])
        cot = case["cotangent"]
        self.cot_value = array(cot.get("value"))
        self.cot_F, self.cot_G = array(cot.get("F")), array(cot.get("G"))
        self.status, self.reason = "ok", ""
        self.value = self.F = self.G = None
        self.grad = {"x": None, "y": None, "a": None, "b": None}
        self._resolve()

    def samples_loss_kwargs(self):
        """Keyword arguments of SamplesLoss for this case (backend excluded)."""
        p = self.params
        return dict(loss=p["loss"], p=p["p"], blur=p["blur"], reach=p["reach"],
                    diameter=p["diameter"], scaling=p["scaling"], truncate=p["truncate"],
                    cluster_scale=p["cluster_scale"], debias=p["debias"],
                    potentials=p["potentials"])

    def masses(self):
        """Per-item total masses (mα, mβ) as two (B,) arrays."""
        a = self.a.reshape(self.B, self.N)
        b = self.b.reshape(self.B, self.M)
        return a.sum(axis=1), b.sum(axis=1)

    def unequal_masses(self):
        ma, mb = self.masses()
        return bool(np.any(np.abs(ma - mb) > MASS_RTOL * np.maximum(np.abs(ma), np.abs(mb))))

    def _resolve(self):
        ref = self.case["results"][RULES["reference_backend"]]
        p = self.params
        if self.loss in RULES["skip_losses"]:
            self.status, self.reason = "skip", "%s: %s" % (self.loss, RULES["skip_losses"][self.loss])
            return
        if ref["status"] == "error" and RULES["must_fail"]["reference_error"]:
            self.status = "error"
            self.reason = "the reference raises %s" % ref.get("error_type")
            return
        if ref["status"] != "ok":
            self.status, self.reason = "skip", "reference status %r" % ref["status"]
            return
        if (self.loss in _UNEQUAL["losses"] and p["reach"] is None
                and (set(_UNEQUAL["tags"]) & set(self.case["tags"]) or self.unequal_masses())):
            self.status = "error"
            self.reason = "balanced transport with unequal masses"
            return
        grad = ref.get("grad") or {}
        g = {k: array(grad.get(k)) for k in ("x", "y", "a", "b")}
        if self.potentials:
            self.F = array(ref["F"]).reshape(self.cot_F.shape)
            self.G = array(ref["G"]).reshape(self.cot_G.shape)
            self.grad = {"x": g["x"], "y": g["y"], "a": None, "b": None}
            return
        value = array(ref["value"]).reshape(self.B)
        if self.loss in _UNBALANCED["losses"] and p["reach"] is not None:
            q = p["p"]
            eps, rho = p["blur"] ** q, p["reach"] ** q
            kappa = rho + _UNBALANCED["kappa_eps"] * eps
            kappa2 = rho + _UNBALANCED["kappa2_eps"] * eps
            ratio = kappa2 / kappa
            for k in ("x", "y"):
                if g[k] is not None:
                    g[k] = g[k] * ratio
            if p["debias"]:
                for k in ("a", "b"):
                    if g[k] is not None:
                        g[k] = g[k] * ratio
            else:
                ma, mb = self.masses()
                value = value + eps * (_UNBALANCED["value_mass_product"] * ma * mb
                                       + _UNBALANCED["value_mass_sum"] * (ma + mb))
                if g["a"] is not None:
                    ga = g["a"].reshape(self.B, self.N)
                    ga = rho + eps * mb[:, None] - kappa2 * (1 - ga / kappa)
                    g["a"] = ga.reshape(self.a.shape)
                if g["b"] is not None:
                    gb = g["b"].reshape(self.B, self.M)
                    gb = rho + eps * ma[:, None] - kappa2 * (1 - gb / kappa)
                    g["b"] = gb.reshape(self.b.shape)
        self.value = value if self.batched else value.reshape(())
        if not self.weights_given:
            g["a"] = g["b"] = None
        self.grad = g


def expected(case):
    """The Expected outcome of a SampleCase (a dict from sample_cases())."""
    return Expected(case)


def expected_cases(path=None):
    """[Expected(case) for every sample case]."""
    return [Expected(c) for c in sample_cases(path)]


# ---- images and volumes (ImageCase) ---------------------------------------------------------
#
# The rules of the image cases (as core/grid's golden test): the reference is
# "result"; blur null means 1/n; the same unbalanced deviations as the sample
# cases (κ' = ρ + ε for the weight gradients; the raw unbalanced value is the
# true entropic OT value); potentials true: F and G, no gradients. Cases where
# the reference raises (status "error": a large blur, scaling below 0.5) are
# answered by libgeomloss (status "beyond": no reference numbers to compare).


def image_cases(path=None):
    """Every ImageCase of the golden file, in file order."""
    return load(path)["images"]


class ExpectedImage:
    """What sinkhorn_divergence must return for one image case.

    status: "ok" or "beyond" (the reference raises; libgeomloss answers).
    a, b: (B, 1, n, ...) float64; kwargs: sinkhorn_divergence's keyword
    arguments; cot_value (B,); value (B,), grad_a, grad_b (shaped like a), or
    F, G with potentials.
    """

    def __init__(self, case):
        self.case = case
        self.id = case["id"]
        p = dict(case["params"])
        self.params = p
        self.potentials = bool(p["potentials"])
        self.B, self.n, self.dim = case["B"], case["n"], case["dim"]
        self.a, self.b = array(case["inputs"]["a"]), array(case["inputs"]["b"])
        self.kwargs = dict(p=p["p"], blur=p["blur"], reach=p["reach"], scaling=p["scaling"],
                           debias=p["debias"], potentials=p["potentials"])
        cot = case["cotangent"]
        self.cot_value = array(cot.get("value"))
        r = case["result"]
        self.value = self.F = self.G = self.grad_a = self.grad_b = None
        if r["status"] != "ok":
            self.status = "beyond"
            return
        self.status = "ok"
        if self.potentials:
            self.F, self.G = array(r["F"]).reshape(self.a.shape), array(r["G"]).reshape(self.a.shape)
            return
        value = array(r["value"]).reshape(self.B)
        ga, gb = array(r["grad"]["a"]).reshape(self.a.shape), array(r["grad"]["b"]).reshape(self.a.shape)
        if p["reach"] is not None:
            q = p["p"]
            blur = p["blur"] if p["blur"] is not None else 1.0 / self.n
            eps, rho = blur ** q, p["reach"] ** q
            kappa, kappa2 = rho + eps / 2, rho + eps
            if p["debias"]:
                ga, gb = ga * (kappa2 / kappa), gb * (kappa2 / kappa)
            else:
                ma = self.a.reshape(self.B, -1).sum(axis=1)
                mb = self.b.reshape(self.B, -1).sum(axis=1)
                value = value + eps * ma * mb - eps / 2 * (ma + mb)
                shp = (self.B,) + (1,) * (self.a.ndim - 1)
                ga = rho + eps * mb.reshape(shp) - kappa2 * (1 - ga / kappa)
                gb = rho + eps * ma.reshape(shp) - kappa2 * (1 - gb / kappa)
        self.value, self.grad_a, self.grad_b = value, ga, gb


def expected_image_cases(path=None):
    """[ExpectedImage(case) for every image case]."""
    return [ExpectedImage(c) for c in image_cases(path)]
