"""POT oracle for the OT solver tests (ot_pot_test.go).

Reads a JSON list of problems on stdin, solves each with POT's converged
log-domain Sinkhorn (balanced: ot.sinkhorn(method="sinkhorn_log"); unbalanced:
ot.unbalanced.sinkhorn_unbalanced on the cost C - eps*(log a + log b), which
turns POT's entropy sum(P log P - P) into libgeomloss's KL(P | a x b)), and
writes, per problem: the plan, its products with the given V and U, its
marginals, the barycentric maps, <P, C> and the primal value
<P,C> + eps KL(P | a x b) (+ rho KL(P1 | a) + rho KL(P^T 1 | b) unbalanced).
"""
import json
import sys

import numpy as np
import ot


def kl(p, q):
    p, q = np.asarray(p), np.asarray(q)
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / q[m])) - p.sum() + q.sum())


out = []
for pb in json.load(sys.stdin):
    a, b = np.array(pb["a"]), np.array(pb["b"])
    n, m = len(a), len(b)
    if pb.get("c") is not None:
        C = np.array(pb["c"]).reshape(n, m)
        x = y = None
    else:
        d = pb["d"]
        x, y = np.array(pb["x"]).reshape(n, d), np.array(pb["y"]).reshape(m, d)
        C = ot.dist(x, y, metric="sqeuclidean")
        if pb["cost"] == "euclidean":
            C = np.sqrt(C)
        elif pb["cost"] == "halfsqeuclidean":
            C = C / 2
    eps = pb["reg"]
    rho = pb.get("rho")
    if rho is None:
        P = ot.sinkhorn(a, b, C, eps, method="sinkhorn_log", numItermax=50000, stopThr=1e-14)
    else:
        Cp = C - eps * (np.log(a)[:, None] + np.log(b)[None, :])
        P = ot.unbalanced.sinkhorn_unbalanced(a, b, Cp, eps, rho, method="sinkhorn", numItermax=50000, stopThr=1e-15)
    V = np.array(pb["v"]).reshape(m, -1)
    U = np.array(pb["u"]).reshape(n, -1)
    lin = float(np.sum(P * C))
    val = lin + eps * kl(P, np.outer(a, b))
    if rho is not None:
        val += rho * kl(P.sum(1), a) + rho * kl(P.sum(0), b)
    r = {"plan": P.ravel().tolist(), "pv": (P @ V).ravel().tolist(), "ptu": (P.T @ U).ravel().tolist(),
         "ra": P.sum(1).tolist(), "rb": P.sum(0).tolist(), "linear": lin, "value": val}
    if x is not None:
        r["ab"] = ((P @ y) / P.sum(1)[:, None]).ravel().tolist()
        r["ba"] = ((P.T @ x) / P.sum(0)[:, None]).ravel().tolist()
    out.append(r)
json.dump(out, sys.stdout)
