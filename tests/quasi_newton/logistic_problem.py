"""L2-regularised logistic regression on scikit-learn's breast-cancer data.

``LOGISTIC`` is a :class:`mgh.Problem` with ``args = (X, y, lam)``:

* X: the 569 x 30 features of ``sklearn.datasets.load_breast_cancer``, standardised
  column by column (mean 0, population standard deviation 1, i.e. ``ddof=0``),
  float64, C-contiguous;
* y: the labels, 0.0 or 1.0;
* lam = 1e-2.

The variables are ``x = (w, b)``: 30 weights then the intercept b (n = 31), and

    f(x) = mean_i [log(1 + exp(z_i)) - y_i z_i] + lam/2 * ||w||^2,   z = X w + b,

the mean log-loss plus a penalty that EXCLUDES the intercept.  The log-loss is
evaluated stably (``np.logaddexp(0, z)``; ``max(z, 0) + log1p(exp(-|z|))`` in the
compiled version).  f is strongly convex in w and strictly convex in b, so its minimum
is unique; ``f_min`` was computed by Newton's method with the exact Hessian to a
gradient norm below 1e-15 and is checked in ``test_problem_set.py``.  x0 = 0
(f(x0) = log 2).

When scikit-learn is missing, ``LOGISTIC`` is None and ``SKIP_REASON`` says why.
"""

from __future__ import annotations

import math

import numpy as np
from mgh import Problem
from numba import njit
from scipy.special import expit

LAM = 1e-2
F_MIN = 0.0995913754847055


def logistic_fun(x: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> float:
    """Regularised mean log-loss.

    Parameters
    ----------
    x : ndarray, shape (d + 1,)
        Weights, then the intercept.
    X : ndarray, shape (m, d)
        Features.
    y : ndarray, shape (m,)
        Labels, 0 or 1.
    lam : float
        Penalty weight (the intercept is not penalised).

    Returns
    -------
    float
        f(x).
    """
    w = x[:-1]
    z = X @ w + x[-1]
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * (w @ w))


def logistic_jac(x: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Gradient of :func:`logistic_fun`.

    Parameters
    ----------
    x, X, y, lam
        As for :func:`logistic_fun`.

    Returns
    -------
    ndarray, shape (d + 1,)
        The gradient.
    """
    w = x[:-1]
    e = expit(X @ w + x[-1]) - y
    m = y.size
    return np.concatenate([X.T @ e / m + lam * w, [np.sum(e) / m]])


def logistic_hess(x: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Hessian of :func:`logistic_fun` (for the Newton reference solution).

    Parameters
    ----------
    x, X, y, lam
        As for :func:`logistic_fun`.

    Returns
    -------
    ndarray, shape (d + 1, d + 1)
        The Hessian.
    """
    p = expit(X @ x[:-1] + x[-1])
    Xb = np.column_stack([X, np.ones(y.size)])
    H = Xb.T @ (Xb * (p * (1.0 - p))[:, None]) / y.size
    H[:-1, :-1] += lam * np.eye(X.shape[1])
    return H


@njit(cache=True)
def logistic_inplace(x, g, X, y, lam):
    """Compiled :func:`logistic_fun` and :func:`logistic_jac` in one pass.

    Parameters
    ----------
    x : ndarray, shape (d + 1,)
        Weights, then the intercept.
    g : ndarray, shape (d + 1,)
        Output: the gradient is written here.
    X, y, lam
        As for :func:`logistic_fun`.

    Returns
    -------
    float
        f(x).
    """
    m, d = X.shape
    for j in range(d + 1):
        g[j] = 0.0
    loss = 0.0
    for i in range(m):
        z = x[d]
        for j in range(d):
            z += X[i, j] * x[j]
        loss += max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y[i] * z
        if z >= 0.0:
            e = 1.0 / (1.0 + math.exp(-z)) - y[i]
        else:
            ez = math.exp(z)
            e = ez / (1.0 + ez) - y[i]
        for j in range(d):
            g[j] += e * X[i, j]
        g[d] += e
    pen = 0.0
    for j in range(d):
        g[j] = g[j] / m + lam * x[j]
        pen += x[j] * x[j]
    g[d] /= m
    return loss / m + 0.5 * lam * pen


def breast_cancer_data() -> tuple[np.ndarray, np.ndarray]:
    """Standardised breast-cancer features and 0/1 labels.

    Returns
    -------
    X : ndarray, shape (569, 30)
        Features, each column with mean 0 and (population) standard deviation 1.
    y : ndarray, shape (569,)
        Labels as float64.

    Raises
    ------
    ImportError
        If scikit-learn is not installed.
    """
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = np.asarray(data.data, dtype=np.float64)
    X = np.ascontiguousarray((X - X.mean(axis=0)) / X.std(axis=0))
    return X, np.asarray(data.target, dtype=np.float64)


def _make() -> tuple[Problem | None, str]:
    try:
        X, y = breast_cancer_data()
    except ImportError as exc:  # pragma: no cover - scikit-learn is in the test extra
        return None, f"scikit-learn is not installed ({exc}); LOGISTIC is unavailable"
    x0 = np.zeros(X.shape[1] + 1)
    problem = Problem(
        "logistic_breast_cancer",
        x0,
        logistic_fun,
        logistic_jac,
        logistic_inplace,
        F_MIN,
        args=(X, y, LAM),
    )
    return problem, ""


LOGISTIC, SKIP_REASON = _make()
