"""`make wheel` gives a wheel that a fresh venv installs with a plain `pip install`.

Builds the wheel with build/wheel.sh (into a temporary directory), creates a
throw-away virtual environment (``--system-site-packages``: NumPy and PyTorch
come from Debian, nothing is downloaded), installs it with

    python -m pip install libgeomloss-X.Y.Z-py3-none-<platform>.whl

and no other flag, then runs every ```python block of README.md's "Use from
Python" section verbatim from a directory outside the checkout, with no
PYTHONPATH / GEOMLOSS_LIBRARY: the package imports as `geomloss` from the venv
and loads the library bundled inside it.
"""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(os.environ.get("GEOMLOSS_TEST_INSTALLED") == "1",
                                reason="already testing an installed copy")


def _env():
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "GEOMLOSS_LIBRARY", "VIRTUAL_ENV", "PYTHONHOME")}


def readme_python_snippets():
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Use from Python"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.S | re.M)
    assert blocks, "README's Python section has no python block"
    return blocks


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    env = _env()
    env["GEOMLOSS_WHEEL_DIR"] = str(out)
    r = subprocess.run(["bash", str(REPO / "build" / "wheel.sh")], cwd=REPO, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    whls = list(out.glob("*.whl"))
    assert len(whls) == 1, whls
    return whls[0]


def test_wheel_contents(wheel):
    # distribution libgeomloss (not GeomLoss's `geomloss`), any Python 3, one platform
    assert re.fullmatch(r"libgeomloss-\d+\.\d+\.\d+-py3-none-linux_x86_64\.whl", wheel.name), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "geomloss/_lib/libgeomloss.so" in names
    assert "geomloss/__init__.py" in names
    assert not [n for n in names if n.endswith((".c", ".go", ".pyc"))], names


def test_fresh_venv_installs_wheel_and_runs_readme(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    r = subprocess.run([py, "-m", "pip", "install", str(wheel)], cwd=tmp_path, env=_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    for k, block in enumerate(readme_python_snippets()):
        script = work / ("snippet%d.py" % k)
        script.write_text(block + "\nimport geomloss, json\nprint(json.dumps({'file': geomloss.__file__, "
                          "'lib': geomloss.library_path(), 'version': geomloss.__version__}))\n")
        r = subprocess.run([py, script.name], cwd=work, env=_env(), capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, "README python block %d failed:\n%s\n%s" % (k, block, r.stderr)
        info = json.loads(r.stdout.strip().splitlines()[-1])
        pkg = Path(info["file"]).resolve().parent
        assert venv.resolve() in pkg.parents, info      # the installed copy, not the checkout
        assert Path(info["lib"]).resolve() == (pkg / "_lib" / "libgeomloss.so").resolve(), info
    r = subprocess.run([py, "-m", "pip", "show", "libgeomloss"], env=_env(), capture_output=True,
                       text=True)
    assert r.returncode == 0 and "Name: libgeomloss" in r.stdout, r.stdout + r.stderr
