"""How the fixtures of this folder were made: checkpoints in numopt's first format.

Run with numopt at commit 87608d0 (format ``numopt-checkpoint-1``) on the path::

    python tests/data/checkpoint-v1/make.py tests/data/checkpoint-v1

Each case stops a run (``<name>.npz``), resumes it with that same version and saves
what the resumed run returned (``<name>.expected.npz``).  The test
``tests/loop/test_checkpoint.py`` resumes the same files with today's numopt and
compares, bit for bit.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from scipy.optimize import rosen, rosen_der

import numopt
from numopt import schedules


def lsq(w, X, y):
    r = X @ w - y
    return 0.5 * r @ r / len(y), X.T @ r / len(y)


def main(out: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.standard_normal(60)

    def plateau():
        return schedules.ReduceLROnPlateau(0.2, patience=0, factor=0.5)

    batches = {"batch_size": 16, "epochs": 6, "seed": 3, "history": True}
    cases = {
        "adam_full": (
            rosen, np.array([-1.2, 1.0]), {"jac": rosen_der, "method": "adam"},
            {"learning_rate": 0.01, "maxiter": 50, "history": True, "ftol": 1e-12},
            {"learning_rate": 0.01, "maxiter": 120, "history": True, "ftol": 1e-12},
        ),
        "sgd_plateau": (
            lsq, np.zeros(3), {"jac": True, "method": "sgd", "args": (X, y)},
            {"learning_rate": plateau(), **batches, "maxiter": 9},
            {"learning_rate": plateau(), **batches},
        ),
        "bounded_lookahead_xtol": (
            rosen, np.array([-1.2, 1.0], np.float32),
            {"jac": rosen_der, "method": "momentum", "bounds": [(-1.0, 0.8), (None, 0.9)]},
            {"learning_rate": 1e-3, "maxiter": 30, "lookahead": 3, "xtol": 1e-9},
            {"learning_rate": 1e-3, "maxiter": 70, "lookahead": 3, "xtol": 1e-9},
        ),
    }  # fmt: skip
    for name, (fun, x0, kw, first, then) in cases.items():
        path = f"{out}/{name}.npz"
        numopt.minimize(fun, x0.copy(), options={**first, "checkpoint": path}, **kw)
        res = numopt.minimize(fun, x0.copy(), options={**then, "resume": path}, **kw)
        scalars = ("fun", "nit", "nfev", "njev", "status", "message", "fun_best")
        meta = {k: res[k] for k in scalars} | {"epochs": res.get("epochs")}
        expected = {"x": res.x, "x_best": res.x_best, "jac": res.jac}
        expected |= {f"history_{k}": v for k, v in (res.get("history") or {}).items()}
        np.savez(f"{out}/{name}.expected.npz", meta=np.array(json.dumps(meta)), **expected)


if __name__ == "__main__":
    main(sys.argv[1])
