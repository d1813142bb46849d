#!/usr/bin/python3
"""Peers of the end-to-end benchmark (issue 6), one run per process so that
each reports its own time and peak RSS as a JSON line.

  peers.py torch N PREFIX   PyTorch dense: the computation of GeomLoss's
                            tensorized backend (eps-scaling schedule, dense
                            N×M cost matrices, logsumexp soft-mins, symmetric
                            updates, debiased; gradient of the final
                            extrapolation step by autograd), written from the
                            algorithm spec, not from GeomLoss's code.
  peers.py pot N PREFIX     POT: debiased Sinkhorn divergence from three
                            ot.sinkhorn2(method="sinkhorn_log") solves at
                            reg = blur² = .0025 on the cost |x−y|²/2, torch
                            backend, gradient by autograd (max ITER iterations
                            each, env POT_ITERS, default 100).

  peers.py keops N PREFIX   GeomLoss itself with KeOps on the CPU (its online
                            backend, SamplesLoss("sinkhorn", p=2, blur=.05,
                            scaling=.5), value + gradient w.r.t. x), when a
                            copy is available: GEOMLOSS_REFERENCE names a
                            folder whose sys.path entries (separated by ':')
                            hold the reference `geomloss` and `pykeops` /
                            `keopscore` packages; PYKEOPS_BUILD a build folder
                            for KeOps' compiled formulas (default: a temporary
                            one). The first evaluation compiles KeOps'
                            formulas and is not timed; the best of
                            KEOPS_REPS (default 1) warm evaluations is. No
                            such package is part of this repository.
  peers.py keops-multiscale N PREFIX
                            the same with GeomLoss's multiscale backend
                            (truncate=5, its default cluster_scale), on the
                            clouds of bench/multiscale -dump (y has 2N points).

x and y are read from PREFIX.x / PREFIX.y (float32 little-endian N×3), as
written by bench/e2e -dump.

Every peer runs on PEER_THREADS CPU threads (default: all the machine's
cores, as libgeomloss): Debian's torch would otherwise start with one
OpenMP thread per physical core, which KeOps' CPU code inherits (GeomLoss
multiscale at N = 5000 here: 17.7 s on one thread, 9.4 s on two).
"""
import json
import math
import os
import resource
import sys
import time

THREADS = int(os.environ.get("PEER_THREADS") or os.cpu_count())
os.environ["OMP_NUM_THREADS"] = str(THREADS)  # before torch and KeOps start OpenMP

import numpy as np
import torch

torch.set_num_threads(THREADS)


def load(prefix, n):
    """The clouds x (n points) and y (as many as PREFIX.y holds) in 3D."""
    x = np.fromfile(prefix + ".x", dtype="<f4").reshape(n, 3)
    y = np.fromfile(prefix + ".y", dtype="<f4").reshape(-1, 3)
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def eps_schedule(diameter, blur=0.05, p=2, scaling=0.5):
    start, stop, step = p * math.log(diameter), p * math.log(blur), p * math.log(scaling)
    q = (stop - start) / step
    n = math.ceil(q) if q > 0 else 0
    delta = (start + step) - start
    return [diameter ** p] + [math.exp(start + k * delta) for k in range(n)] + [blur ** p]


def cost(a, b):
    # |a−b|²/2 expanded as GeomLoss's tensorized backend does (a matmul).
    return ((a * a).sum(-1)[:, None] + (b * b).sum(-1)[None, :] - 2 * a @ b.T) / 2


def smin(eps, c, h):
    return -eps * torch.logsumexp(h[None, :] - c / eps, dim=1)


def torch_dense(x, y):
    n, m = x.shape[0], y.shape[0]
    a = torch.full((n,), 1.0 / n)
    b = torch.full((m,), 1.0 / m)
    la, lb = a.log(), b.log()
    x = x.clone().requires_grad_(True)
    xd = x.detach()
    with torch.no_grad():
        lo = torch.minimum(xd.min(0).values, y.min(0).values)
        hi = torch.maximum(xd.max(0).values, y.max(0).values)
        diam = float((hi - lo).norm())
        eps_list = eps_schedule(diam)
        cxy, cyx, cxx, cyy = cost(xd, y), cost(y, xd), cost(xd, xd), cost(y, y)
        e = eps_list[0]
        g, f = smin(e, cyx, la), smin(e, cxy, lb)
        faa, gbb = smin(e, cxx, la), smin(e, cyy, lb)
        for e in eps_list:
            ft, gt = smin(e, cxy, lb + g / e), smin(e, cyx, la + f / e)
            fat, gbt = smin(e, cxx, la + faa / e), smin(e, cyy, lb + gbb / e)
            f, g, faa, gbb = (f + ft) / 2, (g + gt) / 2, (faa + fat) / 2, (gbb + gbt) / 2
        del cxy, cyx, cxx
    e = eps_list[-1]
    # Final extrapolation: the only differentiable step (x enters through the
    # first argument of C_xy and C_xx; potentials are detached).
    F = smin(e, cost(x, y), lb + g / e)
    Faa = smin(e, cost(x, xd), la + faa / e)
    with torch.no_grad():
        G = smin(e, cost(y, xd), la + f / e)
        Gbb = smin(e, cyy, lb + gbb / e)
    loss = (a * (F - Faa)).sum() + (b * (G - Gbb)).sum()
    (gx,) = torch.autograd.grad(loss, x)
    return float(loss), float((gx.double() ** 2).sum())


def pot(x, y):
    import ot
    iters = int(os.environ.get("POT_ITERS", "100"))
    n = x.shape[0]
    a = torch.full((n,), 1.0 / n)
    x = x.clone().requires_grad_(True)

    def w(p, q):
        c = ot.dist(p, q) / 2  # squared Euclidean / 2
        return ot.sinkhorn2(a, a, c, 0.0025, method="sinkhorn_log", numItermax=iters, stopThr=1e-9, warn=False)

    loss = w(x, y) - 0.5 * w(x, x) - 0.5 * w(y, y)
    (gx,) = torch.autograd.grad(loss, x)
    return float(loss), float((gx.double() ** 2).sum())


def reference_loss(backend="online"):
    """GeomLoss's SamplesLoss from the copy GEOMLOSS_REFERENCE names (see the
    module doc), imported ahead of anything else called geomloss."""
    ref = os.environ.get("GEOMLOSS_REFERENCE")
    if not ref:
        raise SystemExit("keops peer: set GEOMLOSS_REFERENCE (see bench/peers.py)")
    sys.path[:0] = ref.split(":")
    import pykeops
    import tempfile
    pykeops.set_build_folder(os.environ.get("PYKEOPS_BUILD") or tempfile.mkdtemp(prefix="keops-"))
    from geomloss import SamplesLoss
    return SamplesLoss("sinkhorn", p=2, blur=0.05, scaling=0.5, backend=backend)


def keops(x, y, backend="online"):
    loss_fn = reference_loss(backend)

    def once():
        xg = x.clone().requires_grad_(True)
        t0 = time.perf_counter()
        loss = loss_fn(xg, y)
        (gx,) = torch.autograd.grad(loss, xg)
        return time.perf_counter() - t0, float(loss), float((gx.double() ** 2).sum())

    once()  # compiles the formulas
    best = min(once() for _ in range(int(os.environ.get("KEOPS_REPS", "1"))))
    return best[1], best[2], best[0]


def main():
    which, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    x, y = load(prefix, n)
    t0 = time.perf_counter()
    if which in ("keops", "keops-multiscale"):
        val, g2, el = keops(x, y, "online" if which == "keops" else "multiscale")
    else:
        val, g2 = {"torch": torch_dense, "pot": pot}[which](x, y)
        el = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": which, "n": n, "seconds": el, "value": val, "grad_norm2": g2,
                      "peak_rss_mb": rss, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
