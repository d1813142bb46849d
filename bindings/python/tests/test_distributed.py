"""geomloss.distributed.pairwise on a Dask LocalCluster of 2 worker processes.

The matrix of 6 measures (different sizes, some weighted) computed by tasks
on the cluster equals the serial one bit for bit; each worker process loaded
the library exactly once although it ran several tasks; the serial matrix is
symmetric with zeros on the diagonal up to Sinkhorn's debiasing round-off,
and its entries are the plain SamplesLoss values.
"""

import numpy as np
import pytest

from distributed import Client, LocalCluster

from geomloss import SamplesLoss
from geomloss.distributed import pairwise, worker_info


def _measures():
    rng = np.random.default_rng(7)
    ms = []
    for k in range(6):
        n = 20 + 7 * k
        x = rng.random((n, 3)) + 0.1 * k
        if k % 2:
            a = rng.random(n) + 0.5
            ms.append((a / a.sum(), x))
        else:
            ms.append(x)
    return ms


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=50)
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_serial_matrix():
    ms = _measures()
    Dm = pairwise(ms, "sinkhorn", blur=0.1)
    assert Dm.shape == (6, 6) and Dm.dtype == np.float64
    assert np.array_equal(Dm, Dm.T)
    x1, x2 = ms[2], ms[3][1]
    b = ms[3][0]
    ref = SamplesLoss("sinkhorn", blur=0.1)(np.full(len(x1), 1 / len(x1)), x1, b, x2)
    assert Dm[2, 3] == float(ref)
    assert np.all(np.abs(np.diag(Dm)) < 1e-6)
    off = Dm[~np.eye(6, dtype=bool)]
    assert np.all(off > 1e-4)
    assert np.array_equal(np.diag(pairwise(ms, "sinkhorn", blur=0.1, diagonal=False)), np.zeros(6))


@pytest.mark.parametrize("loss,opts", [("sinkhorn", {"blur": 0.1}), ("gaussian", {"blur": 0.3}),
                                       ("sinkhorn", {"blur": 0.05, "reach": 0.5})])
def test_cluster_equals_serial(client, loss, opts):
    ms = _measures()
    serial = pairwise(ms, loss, **opts)
    dist = pairwise(ms, loss, client=client, block=3, **opts)
    assert np.array_equal(serial, dist)


def test_workers_load_the_library_once(client):
    ms = _measures()
    pairwise(ms, "energy", client=client, block=1)      # 21 tasks over 2 processes
    pairwise(ms, "sinkhorn", client=client, block=2, blur=0.2)
    info = client.run(worker_info)
    assert len(info) == 2
    pids = {pid for pid, _, _ in info.values()}
    assert len(pids) == 2                               # two worker processes
    assert all(loads == 1 and path for _, loads, path in info.values()), info


def test_errors_raise_before_sending(client):
    ms = _measures()
    with pytest.raises(ValueError, match="blur"):
        pairwise(ms, "sinkhorn", client=client, blur=-1)
    with pytest.raises(ValueError, match="dimensions"):
        pairwise([np.zeros((3, 2)), np.zeros((4, 3))], client=client)
    with pytest.raises(ValueError, match=r"measures\[1\]"):
        pairwise([np.zeros((3, 2)), np.zeros(4)])
    with pytest.raises(ValueError, match="reach"):  # the library's error comes back from a worker
        pairwise([(np.full(3, 1.0), np.zeros((3, 2))), np.ones((4, 2))], client=client)
