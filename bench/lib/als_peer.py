"""NumPy/SciPy peer of recbridge's implicit ALS (bench/cases/train-als.js): the same algorithm
(Hu, Koren & Volinsky 2008; conjugate-gradient row solves as in Takacs et al. 2011, warm-started,
fixed steps), written the way a NumPy user would: one Python-level loop over rows, vectorised over
each row's entries. Reads the problem from raw little-endian files in a directory, times full
iterations, prints one JSON line.

usage: python3 als_peer.py DIR USERS ITEMS DIM ITERATIONS ALPHA L2 CG_STEPS
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp


def solve_half(x, y, indptr, indices, alpha, l2, cg_steps):
    yty = y.T @ y + l2 * np.eye(y.shape[1], dtype=np.float32)
    for u in range(x.shape[0]):
        s, e = indptr[u], indptr[u + 1]
        yi = y[indices[s:e]]
        conf = np.float32(1 + alpha)
        xu = x[u]
        r = -yty @ xu + (conf - (conf - 1) * (yi @ xu)) @ yi
        p = r.copy()
        rs_old = r @ r
        for _ in range(cg_steps):
            if rs_old < 1e-20:
                break
            ap = yty @ p + ((conf - 1) * (yi @ p)) @ yi
            a = rs_old / (p @ ap)
            xu += a * p
            r -= a * ap
            rs_new = r @ r
            p = r + (rs_new / rs_old) * p
            rs_old = rs_new
        x[u] = xu


def main():
    d, users, items, dim, iterations = sys.argv[1], *map(int, sys.argv[2:6])
    alpha, l2 = float(sys.argv[6]), float(sys.argv[7])
    cg_steps = int(sys.argv[8])
    u = np.fromfile(f"{d}/users.i32", dtype="<i4")
    i = np.fromfile(f"{d}/items.i32", dtype="<i4")
    m = sp.csr_matrix((np.ones(len(u), dtype=np.float32), (u, i)), shape=(users, items))
    m.sum_duplicates()
    mt = m.T.tocsr()
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((users, dim)) * 0.1).astype(np.float32)
    y = (rng.standard_normal((items, dim)) * 0.1).astype(np.float32)
    seconds = []
    for _ in range(iterations):
        t = time.perf_counter()
        solve_half(x, y, m.indptr, m.indices, alpha, l2, cg_steps)
        solve_half(y, x, mt.indptr, mt.indices, alpha, l2, cg_steps)
        seconds.append(time.perf_counter() - t)
    print(json.dumps({"seconds": seconds, "numpy": np.__version__, "scipy": sp.__name__ and __import__("scipy").__version__}))


if __name__ == "__main__":
    main()
