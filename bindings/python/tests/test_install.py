"""The pip-installed package works outside the repository.

Creates a throw-away virtual environment (``python3 -m venv
--system-site-packages``, so NumPy/PyTorch come from the system), installs
the package with the documented offline command

    python3 -m pip install --no-build-isolation ./bindings/python

(plus --no-index --no-deps: nothing is downloaded), then, from a directory
outside the checkout and with no PYTHONPATH / GEOMLOSS_LIBRARY, checks that the
installed package loads its own bundled copy of libgeomloss, computes the same
numbers as the checkout, and passes the API test-suite.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import PKG_ROOT, REPO

pytestmark = pytest.mark.skipif(os.environ.get("GEOMLOSS_TEST_INSTALLED") == "1",
                                reason="already testing an installed copy")


def _env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "GEOMLOSS_LIBRARY", "VIRTUAL_ENV", "PYTHONHOME")}
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("venv")
    py = root / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root)], check=True)
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-deps", "--disable-pip-version-check", "-q", "./bindings/python"],
                       cwd=REPO, env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # pip builds in the source tree: leave no build products behind.
    for d in (PKG_ROOT / "build", PKG_ROOT / "geomloss.egg-info"):
        shutil.rmtree(d, ignore_errors=True)
    return py


SCRIPT = r"""
import json, sys
import numpy as np, torch, geomloss
rng = np.random.default_rng(0)
x = torch.tensor(rng.random((40, 3)), requires_grad=True)
y = torch.tensor(rng.random((30, 3)))
v = geomloss.SamplesLoss("sinkhorn", blur=0.1)(x, y)
v.backward()
print(json.dumps({"file": geomloss.__file__, "lib": geomloss.library_path(),
                  "value": float(v), "grad": float(x.grad.abs().sum())}))
"""


def test_installed_package_is_self_contained(venv, tmp_path):
    r = subprocess.run([str(venv), "-c", SCRIPT], cwd=tmp_path, env=_env(),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import json
    out = json.loads(r.stdout.strip().splitlines()[-1])
    site = Path(venv).parent.parent
    pkg = Path(out["file"]).resolve().parent
    assert site.resolve() in pkg.parents, out  # imported from the venv, not the checkout
    assert Path(out["lib"]).resolve() == (pkg / "_lib" / "libgeomloss.so").resolve(), out
    # Pure Python + the bundled library: no compiled extension module.
    files = sorted(p.name for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert [f for f in files if not f.endswith(".py")] == ["libgeomloss.so"], files
    # Same numbers as the checkout.
    import torch
    from geomloss import SamplesLoss
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.random((40, 3)), requires_grad=True)
    y = torch.tensor(rng.random((30, 3)))
    v = SamplesLoss("sinkhorn", blur=0.1)(x, y)
    v.backward()
    assert out["value"] == float(v)
    assert out["grad"] == float(x.grad.abs().sum())


def test_installed_package_passes_api_tests(venv, tmp_path):
    env = _env()
    env["GEOMLOSS_TEST_INSTALLED"] = "1"
    r = subprocess.run([str(venv), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(PKG_ROOT / "tests" / "test_api.py"), "-k", "not discovery and not plain_process"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout
