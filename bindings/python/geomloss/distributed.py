"""Pairwise divergence matrices over many measures, serially or on a Dask cluster.

    from geomloss.distributed import pairwise
    D = pairwise(measures, loss="sinkhorn", blur=0.05)                # this process
    D = pairwise(measures, loss="sinkhorn", blur=0.05, client=client) # a dask.distributed Client

``measures`` is a sequence of point clouds, each an ``(N_k, D)`` array (uniform
weights) or a pair ``(a_k, x_k)`` of weights ``(N_k,)`` and points; sizes may
differ, the dimension D may not. The result is the symmetric ``(K, K)``
float64 matrix ``D[i, j] = L(m_i, m_j)`` of ``SamplesLoss(loss, **options)``
values. Only the pairs ``i <= j`` are computed (the losses are symmetric)
and mirrored; ``diagonal=False`` skips ``i == j`` and leaves zeros there.

With a ``client``, the pairs are cut into blocks of ``block`` consecutive pairs
(default: about four blocks per worker thread), one task per block. Each
measure is sent to the cluster once (``client.scatter``) and each task gets the
measures of its block; a worker process loads libgeomloss once, on its first
task, and keeps it for all the tasks it runs. A task computes exactly the
library calls the serial path makes, so the matrix is identical bit for bit
to ``client=None``'s (the library is deterministic whatever its thread count).

The workers must be able to ``import geomloss`` and find the library: install
the wheel there (``make wheel``, then ``pip install dist/libgeomloss-*.whl`` on
each worker machine), or set ``PYTHONPATH`` / ``GEOMLOSS_LIBRARY`` for them.
Needs ``dask.distributed`` (Debian: ``python3-distributed``) only when a client
is given.
"""

import math

import numpy as np

from . import _library
from .samples_loss import SamplesLoss


def _measure(k, m):
    """(a or None, x) as C-contiguous float arrays, checking the shapes."""
    if isinstance(m, (tuple, list)) and len(m) == 2:
        a, x = m
        a, x = np.asarray(a), np.asarray(x)
        if a.ndim != 1:
            raise ValueError("measures[%d]: weights must be a vector (N,), got shape %s" % (k, a.shape))
    else:
        a, x = None, np.asarray(m)
    if x.ndim != 2:
        raise ValueError("measures[%d]: points must be an (N, D) array, got shape %s" % (k, x.shape))
    if a is not None and a.shape[0] != x.shape[0]:
        raise ValueError("measures[%d]: %d weights for %d points" % (k, a.shape[0], x.shape[0]))
    return a, x


def _pairs(K, diagonal):
    return [(i, j) for i in range(K) for j in range(i if diagonal else i + 1, K)]


def _one(loss, ma, mb):
    (a, x), (b, y) = ma, mb
    if a is None and b is None:
        v = loss(x, y)
    else:
        a = np.full(x.shape[0], 1.0 / x.shape[0], x.dtype) if a is None else a
        b = np.full(y.shape[0], 1.0 / y.shape[0], y.dtype) if b is None else b
        v = loss(a, x, b, y)
    return float(v)


def _block(options, pairs, measures):
    """The values of one block of pairs: [(i, j, value)].

    ``measures`` maps the indices the block uses to their (a, x). Runs on a
    worker (or in this process): the library is loaded by the first call of
    the process and kept (geomloss._library caches it).
    """
    loss = SamplesLoss(**options)
    return [(i, j, _one(loss, measures[i], measures[j])) for i, j in pairs]


def worker_info():
    """(process id, number of times this process loaded libgeomloss, library path)."""
    import os
    return os.getpid(), _library._loads, _library._lib_path


def _blocks(pairs, size):
    return [pairs[s:s + size] for s in range(0, len(pairs), size)]


def pairwise(measures, loss="sinkhorn", *, client=None, block=None, diagonal=True, **options):
    """The (K, K) matrix of SamplesLoss(loss, **options) between every pair of measures.

    See the module's documentation. ``options`` are SamplesLoss's keyword
    arguments (p, blur, reach, diameter, scaling, debias, backend, threads...);
    ``potentials=True`` is refused (values only). ``block``: pairs per task
    (with a client). Errors of the library are raised as in SamplesLoss.
    """
    if options.get("potentials"):
        raise ValueError("pairwise: potentials=True is not supported (it computes values)")
    options = dict(options, loss=loss)
    SamplesLoss(**options)  # bad options fail here, before anything is sent anywhere
    ms = [_measure(k, m) for k, m in enumerate(measures)]
    K = len(ms)
    if K and len({x.shape[1] for _, x in ms}) != 1:
        raise ValueError("pairwise: measures have different dimensions %s"
                         % sorted({x.shape[1] for _, x in ms}))
    pairs = _pairs(K, diagonal)
    out = np.zeros((K, K), np.float64)
    if not pairs:
        return out
    if client is None:
        results = [_block(options, pairs, dict(enumerate(ms)))]
    else:
        if block is None:
            slots = max(1, sum(client.nthreads().values()))
            block = max(1, math.ceil(len(pairs) / (4 * slots)))
        elif int(block) < 1:
            raise ValueError("pairwise: block must be >= 1, got %r" % (block,))
        # hash=False: fresh keys, so that the release of an earlier call's
        # identical data cannot race with this call's tasks.
        futs = client.scatter(ms, broadcast=False, hash=False)  # each measure sent once
        tasks = []
        for bl in _blocks(pairs, int(block)):
            used = sorted({k for p in bl for k in p})
            tasks.append(client.submit(_block, options, bl, {k: futs[k] for k in used}, pure=False))
        results = client.gather(tasks)
    for res in results:
        for i, j, v in res:
            out[i, j] = out[j, i] = v
    return out
