"""bindings/python/examples/gradient_flow.py runs, writes a PNG and reduces the loss."""

import os
import re
import subprocess
import sys

from conftest import PKG_ROOT


def test_gradient_flow_example(tmp_path):
    out = tmp_path / "flow.png"
    env = dict(os.environ)
    if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(PKG_ROOT)
    r = subprocess.run([sys.executable, str(PKG_ROOT / "examples" / "gradient_flow.py"),
                        "--out", str(out), "-n", "150", "--blur", "0.05"],
                       env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20000
    m = re.search(r"S went from (\S+) to (\S+) in", r.stdout)
    assert m, r.stdout
    first, last = float(m.group(1)), float(m.group(2))
    assert 0 < last < 0.05 * first


def test_pairwise_dask_example(tmp_path):
    env = dict(os.environ)
    if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(PKG_ROOT)
    r = subprocess.run([sys.executable, str(PKG_ROOT / "examples" / "pairwise_dask.py"),
                        "-k", "5", "-n", "80", "--check"],
                       env=env, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "identical to the serial matrix: True" in r.stdout, r.stdout
    assert re.search(r"5 measures of 80 points: 15 pairs in \S+ s on 2 workers "
                     r"\(library loads per worker: \[1, 1\]\)", r.stdout), r.stdout
    # the divergence grows with the difference of radii: first row increasing
    rows = [list(map(float, re.findall(r"-?\d+\.\d*", line)))
            for line in r.stdout.splitlines() if line.strip().startswith("[")]
    first = rows[0]
    assert len(first) == 5 and all(u < v for u, v in zip(first[1:], first[2:])), rows


def test_match_clouds_example(tmp_path):
    """examples/match_clouds.py converges, writes a PNG, and its links carry a large share of the mass."""
    out = tmp_path / "match.png"
    env = dict(os.environ)
    if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(PKG_ROOT)
    r = subprocess.run([sys.executable, str(PKG_ROOT / "examples" / "match_clouds.py"),
                        "--out", str(out), "-n", "60", "-m", "50", "--links", "120", "--reg", "0.01"],
                       env=env, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20000
    m = re.search(r"(\d+) iterations, marginal error (\S+)", r.stdout)
    assert m and float(m.group(2)) < 1e-9, r.stdout
    m = re.search(r"the 120 strongest links carry (\S+)% of the mass", r.stdout)
    assert m and float(m.group(1)) > 30, r.stdout  # a uniform plan: 120/3000 = 4 %


def test_images_barycenters_example(tmp_path):
    """examples/images_barycenters.py: writes a PNG, the descent reduces S five-fold,
    and the interpolation's centroids move evenly from the disc's to the ring's."""
    out = tmp_path / "bary.png"
    env = dict(os.environ)
    if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(PKG_ROOT)
    r = subprocess.run([sys.executable, str(PKG_ROOT / "examples" / "images_barycenters.py"),
                        "--out", str(out), "-n", "32", "--steps", "20"],
                       env=env, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20000
    m = re.search(r"transport: S went from (\S+) to (\S+) in 20 steps", r.stdout)
    assert m, r.stdout
    assert 0 < float(m.group(2)) < 0.2 * float(m.group(1))
    m = re.search(r"interpolation centroids \(rows\): (.*)", r.stdout)
    rows = [float(v) for v in m.group(1).split()]
    # disc centred at 15.5, ring moved by 32 // 8 = 4 rows: 19.5; even steps of 1
    assert abs(rows[0] - 15.5) < 0.1 and abs(rows[-1] - 19.5) < 0.1
    assert all(abs((v - u) - 1.0) < 0.1 for u, v in zip(rows, rows[1:])), rows
