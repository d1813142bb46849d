"""Match two point clouds with geomloss.ot and draw the transport plan's strongest links.

    PYTHONPATH=bindings/python python3 bindings/python/examples/match_clouds.py --out match.png

Two 2-D clouds (a noisy circle and a shifted ellipse) are matched by entropic
optimal transport, converged to a marginal error below --tol; the script
draws both clouds, the --links heaviest entries of the plan as segments
(opacity ∝ mass) and the barycentric map a → b as arrows, and prints the
value, the iterations and the marginal error, and the share of the plan's
mass those links carry.
"""

import argparse

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from geomloss import ot  # noqa: E402


def clouds(n, m, seed):
    r = np.random.default_rng(seed)
    t = r.uniform(0, 2 * np.pi, n)
    x = np.c_[np.cos(t), np.sin(t)] * 0.35 + r.normal(0, 0.03, (n, 2))
    s = r.uniform(0, 2 * np.pi, m)
    y = np.c_[0.5 * np.cos(s), 0.2 * np.sin(s)] + [0.8, 0.1] + r.normal(0, 0.02, (m, 2))
    return x, y


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=120, help="points in the first cloud")
    p.add_argument("-m", type=int, default=100, help="points in the second cloud")
    p.add_argument("--reg", type=float, default=5e-3, help="ε, in units of |x-y|^2")
    p.add_argument("--tol", type=float, default=1e-9, help="marginal error to converge to")
    p.add_argument("--links", type=int, default=300, help="links to draw")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="match.png")
    args = p.parse_args()

    x, y = clouds(args.n, args.m, args.seed)
    res = ot.solve_sample(x, y, reg=args.reg, tol=args.tol, max_iter=100000)
    P = res.plan  # dense: small clouds
    flat = np.argsort(P, axis=None)[::-1][:args.links]
    ii, jj = np.unravel_index(flat, P.shape)
    share = P[ii, jj].sum() / P.sum()
    print("value %.6g, value_linear %.6g, %d iterations, marginal error %.3g"
          % (res.value, res.value_linear, res.n_iter, res.marginal_error))
    print("the %d strongest links carry %.1f%% of the mass" % (len(flat), 100 * share))

    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    w = P[ii, jj] / P[ii, jj].max()
    for i, j, a in zip(ii, jj, w):
        ax.plot([x[i, 0], y[j, 0]], [x[i, 1], y[j, 1]], color="tab:gray", alpha=float(a), lw=0.8)
    d = res.a_to_b - x
    ax.quiver(x[:, 0], x[:, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy", scale=1,
              color="tab:green", width=0.002, alpha=0.6, label="barycentric map a→b")
    ax.scatter(*x.T, s=12, color="tab:blue", label="x (a)", zorder=3)
    ax.scatter(*y.T, s=12, color="tab:red", label="y (b)", zorder=3)
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("entropic OT plan, ε = %g: the %d strongest links" % (args.reg, len(flat)))
    fig.tight_layout()
    fig.savefig(args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
