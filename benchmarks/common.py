"""Shared pieces of the asv suite: the rule list, problems, optional imports.

Benchmark modules must import without optional extras (asv reports a bare "failed
to import the benchmark suite" otherwise: airspeed-velocity/asv#1453), so torch and
CUDA are probed here and a ``setup`` raises ``NotImplementedError`` to skip.
"""

from __future__ import annotations

import numpy as np

import numopt


def rules() -> list[str]:
    """One method name per distinct rule class (``"sgd"`` is ``"gd"`` fed batches)."""
    seen, names = set(), []
    for name, cls in numopt.RULES.items():
        if cls not in seen:
            seen.add(cls)
            names.append(name)
    return names


def cuda_available() -> bool:
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:  # numba-cuda missing, no driver, ...
        return False


#: A learning rate per rule that converges on the problems below (found by trying).
LEARNING_RATE = {"gd": 1e-3, "momentum": 2e-4, "rmsprop": 1e-3, "adam": 2e-2, "adamw": 2e-2}


def quadratic(n: int, seed: int = 0):
    """A dense SPD quadratic ``0.5 x'Ax - b'x`` with its gradient and minimiser."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, n)) / np.sqrt(n)
    a = q @ q.T + np.eye(n)
    b = rng.standard_normal(n)

    def fun(x):
        return 0.5 * float(x @ (a @ x)) - float(b @ x)

    def jac(x):
        return a @ x - b

    return fun, jac, np.linalg.solve(a, b)


def logistic_data(n: int = 20000, d: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ w))).astype(float)
    return X, y


def logistic(w, X, y):
    """Mean logistic loss and gradient (``jac=True``)."""
    z = X @ w
    f = float(np.mean(np.logaddexp(0.0, z) - y * z))
    return f, X.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
