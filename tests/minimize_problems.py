"""Small problems for the minimize tests: a convex quadratic and least squares."""

from __future__ import annotations

import numpy as np

A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])  # SPD
B = np.array([1.0, -2.0, 0.5])
X_STAR = np.linalg.solve(A, B)


def quad(x):
    return 0.5 * x @ A @ x - B @ x


def quad_grad(x):
    return A @ x - B


def least_squares_data(n=600, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + 0.1 * rng.standard_normal(n)
    return X, y


def ls_loss(w, X, y):
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y)


def ls_grad(w, X, y):
    return X.T @ (X @ w - y) / len(y)
