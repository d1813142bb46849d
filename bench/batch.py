#!/usr/bin/python3
"""Batch benchmark (issue 12, item 5): the shape of a loss inside a training
loop — B pairs of small clouds (default 32 × (500 vs 500), D = 3, float32),
Sinkhorn p=2 blur=.05 scaling=.5 debiased, value + gradient w.r.t. x — with
libgeomloss (Python binding, backend auto, torch autograd) against PyTorch
dense batched (GeomLoss's tensorized computation, written from the spec as in
bench/peers.py, with --torch-threads CPU threads, default 2) in the same run.

  bench/batch.py [--B 32] [--n 500] [--reps 5]

Prints one JSON line per implementation (best of reps) and the ratio.
Needs dist/lib/libgeomloss.so (make lib).
"""
import argparse
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bindings", "python"))
os.environ.setdefault("GEOMLOSS_LIBRARY", os.path.join(os.path.dirname(HERE), "dist", "lib", "libgeomloss.so"))
from peers import eps_schedule  # noqa: E402


def bcost(a, b):
    return ((a * a).sum(-1)[:, :, None] + (b * b).sum(-1)[:, None, :] - 2 * a @ b.transpose(1, 2)) / 2


def bsmin(eps, c, h):
    return -eps * torch.logsumexp(h[:, None, :] - c / eps, dim=2)


def torch_dense_batch(x, y):
    B, n, m = x.shape[0], x.shape[1], y.shape[1]
    a, b = torch.full((B, n), 1.0 / n), torch.full((B, m), 1.0 / m)
    la, lb = a.log(), b.log()
    x = x.clone().requires_grad_(True)
    xd = x.detach()
    with torch.no_grad():
        pts = torch.cat([xd.reshape(-1, 3), y.reshape(-1, 3)])
        diam = float((pts.max(0).values - pts.min(0).values).norm())
        eps_list = eps_schedule(diam)
        cxy, cyx, cxx, cyy = bcost(xd, y), bcost(y, xd), bcost(xd, xd), bcost(y, y)
        e = eps_list[0]
        g, f, faa, gbb = bsmin(e, cyx, la), bsmin(e, cxy, lb), bsmin(e, cxx, la), bsmin(e, cyy, lb)
        for e in eps_list:
            ft, gt = bsmin(e, cxy, lb + g / e), bsmin(e, cyx, la + f / e)
            fat, gbt = bsmin(e, cxx, la + faa / e), bsmin(e, cyy, lb + gbb / e)
            f, g, faa, gbb = (f + ft) / 2, (g + gt) / 2, (faa + fat) / 2, (gbb + gbt) / 2
    e = eps_list[-1]
    F = bsmin(e, bcost(x, y), lb + g / e)
    Faa = bsmin(e, bcost(x, xd), la + faa / e)
    with torch.no_grad():
        G, Gbb = bsmin(e, cyx, la + f / e), bsmin(e, cyy, lb + gbb / e)
    loss = ((a * (F - Faa)).sum(1) + (b * (G - Gbb)).sum(1)).sum()
    (gx,) = torch.autograd.grad(loss, x)
    return float(loss), gx


def ours(x, y):
    from geomloss import SamplesLoss
    xr = x.clone().requires_grad_(True)
    v = SamplesLoss("sinkhorn", p=2, blur=0.05, scaling=0.5, backend="auto")(xr, y)
    (gx,) = torch.autograd.grad(v.sum(), xr)
    return float(v.sum()), gx


def best(fn, x, y, reps):
    t = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        val, g = fn(x, y)
        t = min(t, time.perf_counter() - t0)
    return t, val, g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=32)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--torch-threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.torch_threads)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(args.B, args.n, 3, generator=gen)
    y = torch.randn(args.B, args.n, 3, generator=gen) * 0.1 + torch.tensor([0.7, 0.5, 0.5])
    print(f"load: {os.getloadavg()}", flush=True)
    t_ours, v_ours, g_ours = best(ours, x, y, args.reps)
    t_torch, v_torch, g_torch = best(torch_dense_batch, x, y, args.reps)
    rel = float((g_ours - g_torch).norm() / g_torch.norm())
    for impl, t, v in (("libgeomloss-auto", t_ours, v_ours), ("torch-dense-batched", t_torch, v_torch)):
        print(json.dumps({"impl": impl, "B": args.B, "n": args.n, "seconds": t, "value_sum": v,
                          "torch_threads": torch.get_num_threads()}))
    print(f"ratio torch/libgeomloss: {t_torch / t_ours:.1f}x  (gradient rel. difference {rel:.2e}; load {os.getloadavg()})")


if __name__ == "__main__":
    main()
