"""The least-squares problem of the checkpoint and mini-batch tests: 40 rows, 3 features.

``loss(w, X, y)`` returns the mean squared residual over two and its gradient
(``jac=True``); ``X``, ``Y`` are the data, drawn once from a fixed seed.
"""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.standard_normal(40)


def loss(w, X, y):
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)
