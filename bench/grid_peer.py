#!/usr/bin/python3
"""Peer of bench/grid (issue 13) in the same run: GeomLoss 0.2.6's
sinkhorn_divergence for images/volumes (the reference's pyramid, schedule,
jumps and symmetric loop, transcribed from docs/algorithms.md §6 and its
code structure) with KeOps' separable soft-min replaced by dense
torch.logsumexp passes — the reference's O(n^(d+1)) algorithm on PyTorch CPU.
float32, value + gradient w.r.t. a (autograd, which the envelope structure
makes the final potentials), on the densities bench/grid -dump DIR wrote (so
the values can be compared). One JSON line per shape: best wall time of the
repetitions, CPU time, peak RSS, load average.

  go run ./bench/grid -dump DIR -shapes S; bench/grid_peer.py DIR S [REPS]
"""
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn


def density(path, shape):
    return torch.tensor(np.fromfile(path, dtype="<f4").reshape(shape))[None, None]


def softmin(eps, h):
    n = h.shape[-1]
    x = torch.arange(n, dtype=h.dtype) / n
    C = (x[:, None] - x[None, :]) ** 2 / 2 / eps
    d = h.dim() - 2
    for ax in range(d - 1, -1, -1):  # last axis first
        h = h.movedim(2 + ax, -1)
        h = torch.logsumexp(h[..., None, :] - C, dim=-1)
        h = h.movedim(-1, 2 + ax)
    return -eps * h


def pyramid(I):
    d = I.dim() - 2
    pool = Fn.avg_pool2d if d == 2 else Fn.avg_pool3d
    I_s = [I]
    for _ in range(int(math.log2(I.shape[-1]))):
        I = (2 ** d) * pool(I, 2)
        I_s.append(I)
    return I_s[::-1][1:]


def log_dens(a):
    l = a.log()
    l[a <= 0] = -10000.0
    return l


def upsample(I):
    return Fn.interpolate(I, scale_factor=2, mode="bilinear" if I.dim() == 4 else "trilinear", align_corners=False)


def eps_list(p, diameter, blur, scaling):
    return [diameter ** p] + [math.exp(e) for e in np.arange(p * math.log(diameter), p * math.log(blur), p * math.log(scaling))] + [blur ** p]


def sinkhorn_divergence(a, b):
    n = a.shape[-1]
    blur, p = 1 / n, 2
    with torch.no_grad():
        a_logs, b_logs = list(map(log_dens, pyramid(a))), list(map(log_dens, pyramid(b)))
        eps_s = eps_list(p, 1, blur, 0.5)
        scales = [1 / x.shape[-1] for x in a_logs]
        cur = scales.pop(0)
        jumps = []
        for i, e in enumerate(eps_s[1:]):
            if cur ** p > e:
                jumps.append(i + 1)
                cur = scales.pop(0)
        k = 0
        e = eps_s[0]
        g, f = softmin(e, a_logs[0]), softmin(e, b_logs[0])
        faa, gbb = softmin(e, a_logs[0]), softmin(e, b_logs[0])
        last = True
        for i, e in enumerate(eps_s):
            al, bl = a_logs[k], b_logs[k]
            ft, gt = softmin(e, bl + g / e), softmin(e, al + f / e)
            fat, gbt = softmin(e, al + faa / e), softmin(e, bl + gbb / e)
            f, g, faa, gbb = (f + ft) / 2, (g + gt) / 2, (faa + fat) / 2, (gbb + gbt) / 2
            if i in jumps:
                if i == len(eps_s) - 1:
                    last = False
                f, g, faa, gbb = upsample(f), upsample(g), upsample(faa), upsample(gbb)
                k += 1
        if last:
            al, bl = a_logs[k], b_logs[k]
            f, g = softmin(e, bl + g / e), softmin(e, al + f / e)
            faa, gbb = softmin(e, al + faa / e), softmin(e, bl + gbb / e)
    return (a * (f - faa)).sum() + (b * (g - gbb)).sum()


def main():
    d = sys.argv[1]
    shapes = sys.argv[2] if len(sys.argv) > 2 else "64x64,128x128,256x256,32x32x32,64x64x64"
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(os.cpu_count())
    for s in shapes.split(","):
        shape = [int(v) for v in s.split("x")]
        a = density(os.path.join(d, s + ".a"), shape).requires_grad_(True)
        b = density(os.path.join(d, s + ".b"), shape)
        best, cpu = math.inf, 0.0
        for _ in range(reps):
            c0, t0 = time.process_time(), time.perf_counter()
            v = sinkhorn_divergence(a, b)
            (ga,) = torch.autograd.grad(v, [a])
            best = min(best, time.perf_counter() - t0)
            cpu += time.process_time() - c0
        print(json.dumps({"shape": s, "peer": "torch dense separable (reference algorithm)", "seconds": best,
                          "cpu_seconds": cpu / reps, "value": float(v),
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "loadavg": open("/proc/loadavg").read().split()[0]}), flush=True)


main()
