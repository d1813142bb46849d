#!/usr/bin/env python3
"""Wasserstein barycenters in 2D: images transported onto each other and blended.

Like GeomLoss's gallery example "Wasserstein barycenters in 2D", on densities
(images) rather than samples:

1. transport: a density ρ starts as a disc and descends the Sinkhorn
   divergence S(ρ, b) to a ring (mirror descent on the simplex; ImagesLoss,
   gradients through torch autograd);
2. interpolation: the barycenters of the disc and the ring with weights
   (1 − t, t) (ImagesBarycenter) — the displacement interpolation from one
   image to the other;
3. the barycenters of four shapes (disc, ring, square, cross) with bilinear
   weights on a 5×5 grid, each shape in a corner.

    make lib
    PYTHONPATH=bindings/python python3 bindings/python/examples/images_barycenters.py --out bary.png

It prints what the test (tests/test_example.py) checks: the divergence
before and after the descent, and the interpolation's centroids.
"""

import argparse
import time

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from geomloss import ImagesLoss, ImagesBarycenter  # noqa: E402


def shapes(n):
    """Four densities of mass 1 on an n×n grid: disc, ring, square, cross."""
    u = (np.arange(n) + 0.5) / n
    X, Y = np.meshgrid(u, u, indexing="ij")
    r = np.hypot(X - 0.5, Y - 0.5)
    disc = r < 0.22
    ring = (r > 0.25) & (r < 0.36)
    square = (np.abs(X - 0.5) < 0.2) & (np.abs(Y - 0.5) < 0.2)
    cross = ((np.abs(X - 0.5) < 0.07) | (np.abs(Y - 0.5) < 0.07)) & (np.abs(X - 0.5) < 0.35) & \
        (np.abs(Y - 0.5) < 0.35)
    out = []
    for s in (disc, ring, square, cross):
        d = s.astype(np.float64) + 1e-9  # strictly positive: log-densities stay finite
        out.append(d / d.sum())
    return out


def transport(a, b, steps, lr):
    """Mirror descent of S(ρ, b) over densities of mass 1, from ρ = a:
    ρ ← ρ·exp(−lr·∇ρS) / Z, the gradient from ImagesLoss through torch
    autograd. Returns five frames and the divergences along the way."""
    loss = ImagesLoss(p=2, scaling=0.7)
    target = torch.tensor(b)[None, None]
    rho = torch.tensor(a)[None, None]
    frames, values = [], []
    for it in range(steps + 1):
        r = rho.clone().requires_grad_(True)
        S = loss(r, target).sum()
        values.append(S.item())
        if it % max(1, steps // 4) == 0:
            frames.append(rho[0, 0].numpy().copy())
        if it == steps:
            break
        g, = torch.autograd.grad(S, [r])
        rho = rho * torch.exp(-lr * g)
        rho = rho / rho.sum()
    return frames[:5], values


def centroid(d):
    n = d.shape[0]
    u = np.arange(n)
    m = d.sum()
    return (d.sum(1) * u).sum() / m, (d.sum(0) * u).sum() / m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="images_barycenters.png")
    ap.add_argument("-n", type=int, default=64, help="image side (any length)")
    ap.add_argument("--steps", type=int, default=40, help="descent steps of the transport")
    ap.add_argument("--lr", type=float, default=30.0, help="mirror-descent step")
    args = ap.parse_args()
    n = args.n
    disc, ring, square, cross = shapes(n)
    # the ring moved to the lower right, so that the transport also translates
    ring_moved = np.roll(np.roll(ring, n // 8, 0), n // 8, 1)
    t0 = time.time()

    frames, values = transport(disc, ring_moved, args.steps, args.lr)
    print("transport: S went from %.6g to %.6g in %d steps" % (values[0], values[-1], args.steps))

    ts = np.linspace(0, 1, 5)
    pair = np.stack([disc, ring_moved])[None]
    interp = [ImagesBarycenter(pair, np.array([[1 - t, t]]))[0, 0] for t in ts]
    cents = [centroid(d) for d in interp]
    print("interpolation centroids (rows): " + " ".join("%.3f" % c[0] for c in cents))

    four = np.stack([disc, ring, square, cross])[None]
    grid = []
    for i, s in enumerate(np.linspace(0, 1, 5)):
        row = []
        for j, t in enumerate(np.linspace(0, 1, 5)):
            w = np.array([[(1 - s) * (1 - t), (1 - s) * t, s * (1 - t), s * t]])
            row.append(ImagesBarycenter(four, w)[0, 0])
        grid.append(row)
    print("computed %d barycenters of %d×%d images in %.2f s" % (5 + 25, n, n, time.time() - t0))

    fig, axes = plt.subplots(7, 5, figsize=(10, 14))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for j, f in enumerate(frames):
        axes[0, j].imshow(f, cmap="Blues")
    axes[0, 0].set_ylabel("transport\n(ImagesLoss)")
    for j, (t, d) in enumerate(zip(ts, interp)):
        axes[1, j].imshow(d, cmap="Greens")
        axes[1, j].set_title("t = %.2f" % t, fontsize=8)
    axes[1, 0].set_ylabel("interpolation\n(ImagesBarycenter)")
    for i in range(5):
        for j in range(5):
            axes[2 + i, j].imshow(grid[i][j], cmap="Purples")
    axes[2, 0].set_ylabel("barycenters of\nfour shapes")
    fig.suptitle("libgeomloss: Wasserstein barycenters in 2D (%d×%d images)" % (n, n))
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
