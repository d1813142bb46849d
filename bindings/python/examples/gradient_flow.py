#!/usr/bin/env python3
"""Wasserstein gradient flow in 2D: a point cloud flows onto another one.

Like GeomLoss's gallery example: the points x_i of a source cloud follow
    dx_i/dt = -(1/α_i) ∇_{x_i} S(α, β),    α_i = 1/N,
i.e. plain gradient descent x ← x − dt·N·∇ₓS, where S is the Sinkhorn
divergence (or any SamplesLoss) to a fixed target cloud. The figure shows the
flow at a few times.

    make lib
    PYTHONPATH=bindings/python python3 bindings/python/examples/gradient_flow.py --out flow.png

Uses PyTorch autograd when PyTorch is installed, else the NumPy API
(SamplesLoss.value_and_grad).
"""

import argparse
import time

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.path import Path as Polygon  # noqa: E402

from geomloss import SamplesLoss  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def crescent(n, rng):
    """A crescent (a disc minus an offset disc), on the left."""
    pts = []
    while len(pts) < n:
        p = rng.uniform(-1, 1, size=(4 * n, 2))
        keep = (np.sum(p ** 2, 1) < 1) & (np.sum((p - [0.45, 0.0]) ** 2, 1) > 0.75 ** 2)
        pts.extend(p[keep])
    return 0.3 * np.array(pts[:n]) + [0.32, 0.5]


def heart(n, rng):
    """A filled heart, on the right."""
    t = np.linspace(0, 2 * np.pi, 400)
    outline = np.stack([16 * np.sin(t) ** 3,
                        13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)], 1)
    poly = Polygon(outline)
    pts = []
    while len(pts) < n:
        p = rng.uniform(-17, 17, size=(4 * n, 2))
        pts.extend(p[poly.contains_points(p)])
    return np.array(pts[:n]) / 17 * 0.22 + [0.72, 0.5]


def flow(loss, x0, y, times, dt):
    """Gradient descent on x; returns {t: (positions, loss value)} at the requested times."""
    N = len(x0)
    snaps, t, step = {}, 0.0, 0
    n_steps = int(round(max(times) / dt))
    want = {int(round(s / dt)): s for s in times}
    if torch is not None:
        x = torch.tensor(x0, requires_grad=True)
        yt = torch.tensor(y)
        for step in range(n_steps + 1):
            value = loss(x, yt)
            if step in want:
                snaps[want[step]] = (x.detach().numpy().copy(), float(value))
            if step == n_steps:
                break
            (g,) = torch.autograd.grad(value, [x])
            with torch.no_grad():
                x -= dt * N * g
    else:  # NumPy only
        x = x0.copy()
        for step in range(n_steps + 1):
            value, grads = loss.value_and_grad(x, y, wrt="x")
            if step in want:
                snaps[want[step]] = (x.copy(), float(value))
            if step == n_steps:
                break
            x -= dt * N * grads["x"]
    return snaps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gradient_flow.png", help="PNG file to write")
    ap.add_argument("--loss", default="sinkhorn",
                    choices=["sinkhorn", "hausdorff", "energy", "gaussian", "laplacian"])
    ap.add_argument("--p", type=int, default=2)
    ap.add_argument("--blur", type=float, default=0.02)
    ap.add_argument("--reach", type=float, default=None)
    ap.add_argument("-n", type=int, default=500, help="points per cloud")
    ap.add_argument("--scaling", type=float, default=0.7)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    x0, y = crescent(args.n, rng), heart(args.n, rng)
    loss = SamplesLoss(args.loss, p=args.p, blur=args.blur, reach=args.reach, scaling=args.scaling)
    times = [0.0, 0.25, 0.5, 1.0, 2.0, 5.0]
    t0 = time.perf_counter()
    snaps = flow(loss, x0, y, times, args.dt)
    elapsed = time.perf_counter() - t0

    fig, axes = plt.subplots(2, 3, figsize=(12, 8))
    for ax, t in zip(axes.ravel(), times):
        xt, value = snaps[t]
        ax.scatter(y[:, 0], y[:, 1], s=6, c="tab:red", alpha=0.25, linewidths=0, label="target")
        ax.scatter(xt[:, 0], xt[:, 1], s=6, c="tab:blue", alpha=0.8, linewidths=0, label="x(t)")
        ax.set_title("t = %.2f   S = %.3g" % (t, value))
        ax.set_xlim(0, 1)
        ax.set_ylim(0.15, 0.85)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].legend(loc="lower right", markerscale=3)
    fig.suptitle("Gradient flow of SamplesLoss(%r, p=%d, blur=%g%s), N = M = %d  (%s, %.1f s)"
                 % (args.loss, args.p, args.blur,
                    "" if args.reach is None else ", reach=%g" % args.reach, args.n,
                    "torch" if torch is not None else "numpy", elapsed))
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print("wrote %s: S went from %.4g to %.4g in %d steps (%.1f s, backend %s)"
          % (args.out, snaps[times[0]][1], snaps[times[-1]][1], int(round(times[-1] / args.dt)),
             elapsed, loss.last_run["backend"]))


if __name__ == "__main__":
    main()
