"""Evaluators of the four data-fitting problems of MGH used by ``mgh.py``.

Problems 9 (Gaussian), 12 (Box three-dimensional), 18 (Biggs EXP6) and 20 (Watson) of
Moré, Garbow and Hillstrom, ACM TOMS 7(1):17–41, 1981, as sums of squared residuals:
NumPy ``fun``/``jac`` and ``numba.njit(cache=True)`` ``inplace`` versions.  The
problems themselves (starting points, minima) are assembled in ``mgh.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# --- 9. Gaussian (n = 3, m = 15) ---------------------------------------------------

_GAUSS_T = (8.0 - np.arange(1.0, 16.0)) / 2.0
# y_i of MGH (symmetric about i = 8)
_GAUSS_Y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989])
_GAUSS_Y = np.concatenate([_GAUSS_Y, _GAUSS_Y[-2::-1]])


def _gauss_fun(x: np.ndarray) -> float:
    d = _GAUSS_T - x[2]
    r = x[0] * np.exp(-0.5 * x[1] * d * d) - _GAUSS_Y
    return float(r @ r)


def _gauss_jac(x: np.ndarray) -> np.ndarray:
    d = _GAUSS_T - x[2]
    e = np.exp(-0.5 * x[1] * d * d)
    r = x[0] * e - _GAUSS_Y
    return 2.0 * np.array([r @ e, r @ (-0.5 * x[0] * e * d * d), r @ (x[0] * x[1] * e * d)])


@njit(cache=True)
def _gauss_inplace(x, g):
    f = 0.0
    g[0] = 0.0
    g[1] = 0.0
    g[2] = 0.0
    for i in range(15):
        d = (7.0 - i) / 2.0 - x[2]
        e = math.exp(-0.5 * x[1] * d * d)
        r = x[0] * e - _GAUSS_Y[i]
        f += r * r
        g[0] += 2.0 * r * e
        g[1] += 2.0 * r * (-0.5 * x[0] * e * d * d)
        g[2] += 2.0 * r * (x[0] * x[1] * e * d)
    return f


# --- 18. Biggs EXP6 (n = 6, m = 13) ------------------------------------------------

_BIGGS_T = np.arange(1.0, 14.0) / 10.0
_BIGGS_Y = np.exp(-_BIGGS_T) - 5.0 * np.exp(-10.0 * _BIGGS_T) + 3.0 * np.exp(-4.0 * _BIGGS_T)


def _biggs_parts(x: np.ndarray) -> tuple[np.ndarray, ...]:
    t = _BIGGS_T
    e1, e2, e5 = np.exp(-t * x[0]), np.exp(-t * x[1]), np.exp(-t * x[4])
    return x[2] * e1 - x[3] * e2 + x[5] * e5 - _BIGGS_Y, e1, e2, e5


def _biggs_fun(x: np.ndarray) -> float:
    r = _biggs_parts(x)[0]
    return float(r @ r)


def _biggs_jac(x: np.ndarray) -> np.ndarray:
    r, e1, e2, e5 = _biggs_parts(x)
    t = _BIGGS_T
    cols = [-t * x[2] * e1, t * x[3] * e2, e1, -e2, -t * x[5] * e5, e5]
    return 2.0 * np.array([r @ c for c in cols])


@njit(cache=True)
def _biggs_inplace(x, g):
    f = 0.0
    for j in range(6):
        g[j] = 0.0
    for i in range(1, 14):
        t = i / 10.0
        y = math.exp(-t) - 5.0 * math.exp(-10.0 * t) + 3.0 * math.exp(-4.0 * t)
        e1, e2, e5 = math.exp(-t * x[0]), math.exp(-t * x[1]), math.exp(-t * x[4])
        r = x[2] * e1 - x[3] * e2 + x[5] * e5 - y
        f += r * r
        g[0] += 2.0 * r * (-t * x[2] * e1)
        g[1] += 2.0 * r * (t * x[3] * e2)
        g[2] += 2.0 * r * e1
        g[3] += 2.0 * r * (-e2)
        g[4] += 2.0 * r * (-t * x[5] * e5)
        g[5] += 2.0 * r * e5
    return f


# --- 20. Watson (2 <= n <= 31, m = 31) ---------------------------------------------

_WATSON_T = np.arange(1.0, 30.0) / 29.0


def _watson_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = x.size
    # p[i, j] = t_i^j by repeated multiplication (the order of the compiled loop)
    p = np.cumprod(np.column_stack([np.ones(29)] + [_WATSON_T] * (n - 1)), axis=1)
    s2 = p @ x
    s1 = p[:, : n - 1] @ (np.arange(1.0, n) * x[1:])
    return s1 - s2 * s2 - 1.0, s2, p


def _watson_fun(x: np.ndarray) -> float:
    r = _watson_parts(x)[0]
    t1 = x[1] - x[0] ** 2 - 1.0
    return float(r @ r + x[0] ** 2 + t1 * t1)


def _watson_jac(x: np.ndarray) -> np.ndarray:
    n = x.size
    r, s2, p = _watson_parts(x)
    jr = -2.0 * s2[:, None] * p
    jr[:, 1:] += np.arange(1.0, n) * p[:, : n - 1]
    g = 2.0 * (jr.T @ r)
    t1 = x[1] - x[0] ** 2 - 1.0
    g[0] += x[0] * (2.0 - 4.0 * t1)
    g[1] += 2.0 * t1
    return g


@njit(cache=True)
def _watson_inplace(x, g):
    n = x.size
    f = 0.0
    for j in range(n):
        g[j] = 0.0
    for i in range(1, 30):
        ti = i / 29.0
        s1 = 0.0
        s2 = 0.0
        q = 0.0  # t_i^(j-1)
        p = 1.0  # t_i^j
        for j in range(n):
            s1 += j * q * x[j]
            s2 += p * x[j]
            q = p
            p *= ti
        r = s1 - s2 * s2 - 1.0
        f += r * r
        q = 0.0
        p = 1.0
        for j in range(n):
            g[j] += 2.0 * r * (j * q - 2.0 * s2 * p)
            q = p
            p *= ti
    t1 = x[1] - x[0] ** 2 - 1.0
    g[0] += x[0] * (2.0 - 4.0 * t1)
    g[1] += 2.0 * t1
    return f + x[0] ** 2 + t1 * t1


# --- 12. Box three-dimensional (n = 3, m = 10) -------------------------------------

_BOX_T = np.arange(1.0, 11.0) / 10.0
_BOX_C = np.exp(-_BOX_T) - np.exp(-10.0 * _BOX_T)


def _box_fun(x: np.ndarray) -> float:
    r = np.exp(-_BOX_T * x[0]) - np.exp(-_BOX_T * x[1]) - _BOX_C * x[2]
    return float(r @ r)


def _box_jac(x: np.ndarray) -> np.ndarray:
    e1, e2 = np.exp(-_BOX_T * x[0]), np.exp(-_BOX_T * x[1])
    r = e1 - e2 - _BOX_C * x[2]
    return 2.0 * np.array([r @ (-_BOX_T * e1), r @ (_BOX_T * e2), -(r @ _BOX_C)])


@njit(cache=True)
def _box_inplace(x, g):
    f = 0.0
    g[0] = 0.0
    g[1] = 0.0
    g[2] = 0.0
    for i in range(1, 11):
        t = i / 10.0
        c = math.exp(-t) - math.exp(-10.0 * t)
        e1, e2 = math.exp(-t * x[0]), math.exp(-t * x[1])
        r = e1 - e2 - c * x[2]
        f += r * r
        g[0] += 2.0 * r * (-t * e1)
        g[1] += 2.0 * r * (t * e2)
        g[2] += -2.0 * r * c
    return f
