"""The matrix of Sinkhorn divergences between many point clouds, on a Dask cluster.

    PYTHONPATH=bindings/python python3 bindings/python/examples/pairwise_dask.py            # 2 local workers
    python3 pairwise_dask.py --scheduler tcp://scheduler-host:8786 -k 40 -n 2000            # a real cluster

The measures are K noisy circles in 2D with growing radii (so the matrix has a
visible structure: the divergence grows with the difference of radii). With no
--scheduler the script starts a LocalCluster of --workers processes; with one it
connects to that scheduler, whose workers must have the package installed
(pip install dist/libgeomloss-*.whl). It prints the matrix, the time, which
workers ran tasks, and checks the result against the serial computation when
--check is given.
"""

import argparse
import time

import numpy as np
from distributed import Client, LocalCluster

from geomloss.distributed import pairwise, worker_info


def circles(K, n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(K):
        t = rng.random(n) * 2 * np.pi
        r = 0.2 + 0.6 * k / max(K - 1, 1) + 0.01 * rng.standard_normal(n)
        out.append(np.stack([r * np.cos(t), r * np.sin(t)], axis=1))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("-k", type=int, default=8, help="number of measures")
    ap.add_argument("-n", type=int, default=300, help="points per measure")
    ap.add_argument("--blur", type=float, default=0.05)
    ap.add_argument("--block", type=int, default=None, help="pairs per task")
    ap.add_argument("--check", action="store_true", help="compare with the serial matrix")
    args = ap.parse_args()

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        ms = circles(args.k, args.n)
        t0 = time.perf_counter()
        D = pairwise(ms, "sinkhorn", blur=args.blur, client=client, block=args.block)
        dt = time.perf_counter() - t0
        np.set_printoptions(precision=4, suppress=True, linewidth=160)
        print(D)
        info = client.run(worker_info)
        print("%d measures of %d points: %d pairs in %.2f s on %d workers (library loads per worker: %s)"
              % (args.k, args.n, args.k * (args.k + 1) // 2, dt, len(info),
                 sorted(loads for _, loads, _ in info.values())))
        if args.check:
            same = np.array_equal(D, pairwise(ms, "sinkhorn", blur=args.blur))
            print("identical to the serial matrix: %s" % same)
            if not same:
                raise SystemExit(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
