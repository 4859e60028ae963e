"""Moré–Garbow–Hillstrom unconstrained test problems for the L-BFGS(-B) tests.

Source: J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing unconstrained
optimization software", ACM TOMS 7(1):17–41, 1981 ("MGH" below, problem numbers as in
the paper).  The definitions and standard starting points were checked against the
authors' own MINPACK test routines (``objfcn``/``grdfcn``/``initpt``, Argonne, 1980)
and, where SciPy has them, against SciPy's benchmark copies of the Moré–Wild set
(``benchmarks/benchmarks/cutest/dfovec.py``; note that SciPy starts Watson at 0.5,
MGH at 0 — here MGH's).

Every problem has three evaluators with one calling convention:

* ``fun(x, *args) -> float``      vectorised NumPy,
* ``jac(x, *args) -> ndarray``    vectorised NumPy,
* ``inplace(x, g, *args) -> float`` a ``numba.njit(cache=True)`` function that writes
  the gradient into ``g`` and returns f.

``f_min`` is the value of the minimum that a descent method reaches from ``x0``: MGH's
value, with the digits beyond MGH's six computed here (SciPy's L-BFGS-B at gtol 1e-12,
then Newton steps with a finite-difference Hessian, to a gradient norm below 1e-14).
The comments at ``UNCONSTRAINED`` say where that is not the global minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from mgh_data_fitting import (
    _biggs_fun,
    _biggs_inplace,
    _biggs_jac,
    _box_fun,
    _box_inplace,
    _box_jac,
    _gauss_fun,
    _gauss_inplace,
    _gauss_jac,
    _watson_fun,
    _watson_inplace,
    _watson_jac,
)
from numba import njit
from scipy.optimize import Bounds


@dataclass(frozen=True, eq=False)
class Problem:
    """One test problem.

    Parameters
    ----------
    name : str
        Unique name, e.g. ``"extended_rosenbrock_100"``.
    x0 : ndarray
        Standard starting point (stored read-only; copy it before changing it).
    fun : callable
        ``fun(x, *args) -> float``, NumPy.
    jac : callable
        ``jac(x, *args) -> ndarray``, NumPy.
    inplace : callable
        ``inplace(x, g, *args) -> float``, Numba; writes the gradient into ``g``.
    f_min : float or None
        Value of the minimum reached from ``x0``; None where none is known.
    bounds : scipy.optimize.Bounds or None
        Box constraints; None for an unconstrained problem.
    args : tuple
        Extra arguments of ``fun``, ``jac`` and ``inplace``.
    """

    name: str
    x0: np.ndarray
    fun: Callable[..., float]
    jac: Callable[..., np.ndarray]
    inplace: Callable[..., float]
    f_min: float | None = None
    bounds: Bounds | None = None
    args: tuple = field(default=())

    def __post_init__(self) -> None:
        x0 = np.array(self.x0, dtype=np.float64)
        x0.flags.writeable = False
        object.__setattr__(self, "x0", x0)

    @property
    def n(self) -> int:
        """Number of variables."""
        return self.x0.size


# --- 1, 21. Rosenbrock / extended Rosenbrock (n even; n = 2 is Rosenbrock) ----------


def _xrosen_fun(x: np.ndarray) -> float:
    xo, xe = x[0::2], x[1::2]
    t = xe - xo * xo
    return float(np.sum(100.0 * t * t + (1.0 - xo) ** 2))


def _xrosen_jac(x: np.ndarray) -> np.ndarray:
    xo, xe = x[0::2], x[1::2]
    t = xe - xo * xo
    g = np.empty_like(x, dtype=np.float64)
    g[0::2] = -400.0 * xo * t - 2.0 * (1.0 - xo)
    g[1::2] = 200.0 * t
    return g


@njit(cache=True)
def _xrosen_inplace(x, g):
    f = 0.0
    for j in range(0, x.size, 2):
        t = x[j + 1] - x[j] * x[j]
        s = 1.0 - x[j]
        f += 100.0 * t * t + s * s
        g[j] = -400.0 * x[j] * t - 2.0 * s
        g[j + 1] = 200.0 * t
    return f


# --- 5. Beale (n = 2, m = 3) -------------------------------------------------------

_BEALE_Y = np.array([1.5, 2.25, 2.625])
_BEALE_P = np.array([1.0, 2.0, 3.0])


def _beale_fun(x: np.ndarray) -> float:
    r = _BEALE_Y - x[0] * (1.0 - x[1] ** _BEALE_P)
    return float(r @ r)


def _beale_jac(x: np.ndarray) -> np.ndarray:
    r = _BEALE_Y - x[0] * (1.0 - x[1] ** _BEALE_P)
    d1 = -(1.0 - x[1] ** _BEALE_P)
    d2 = x[0] * _BEALE_P * x[1] ** (_BEALE_P - 1.0)
    return 2.0 * np.array([r @ d1, r @ d2])


@njit(cache=True)
def _beale_inplace(x, g):
    f = 0.0
    g[0] = 0.0
    g[1] = 0.0
    y = (1.5, 2.25, 2.625)
    for i in range(3):
        p = i + 1.0
        r = y[i] - x[0] * (1.0 - x[1] ** p)
        f += r * r
        g[0] += 2.0 * r * (-(1.0 - x[1] ** p))
        g[1] += 2.0 * r * (x[0] * p * x[1] ** (p - 1.0))
    return f


# --- 13. Powell singular (n = 4) ---------------------------------------------------


def _powell_fun(x: np.ndarray) -> float:
    a, b = x[0] + 10.0 * x[1], x[2] - x[3]
    c, d = x[1] - 2.0 * x[2], x[0] - x[3]
    return float(a * a + 5.0 * b * b + c**4 + 10.0 * d**4)


def _powell_jac(x: np.ndarray) -> np.ndarray:
    a, b = x[0] + 10.0 * x[1], x[2] - x[3]
    c, d = x[1] - 2.0 * x[2], x[0] - x[3]
    return np.array(
        [
            2.0 * a + 40.0 * d**3,
            20.0 * a + 4.0 * c**3,
            10.0 * b - 8.0 * c**3,
            -10.0 * b - 40.0 * d**3,
        ]
    )


@njit(cache=True)
def _powell_inplace(x, g):
    a, b = x[0] + 10.0 * x[1], x[2] - x[3]
    c, d = x[1] - 2.0 * x[2], x[0] - x[3]
    g[0] = 2.0 * a + 40.0 * d**3
    g[1] = 20.0 * a + 4.0 * c**3
    g[2] = 10.0 * b - 8.0 * c**3
    g[3] = -10.0 * b - 40.0 * d**3
    return a * a + 5.0 * b * b + c**4 + 10.0 * d**4


# --- 14. Wood (n = 4, m = 6) -------------------------------------------------------


def _wood_fun(x: np.ndarray) -> float:
    s1, s2, s3 = x[1] - x[0] ** 2, 1.0 - x[0], x[1] - 1.0
    t1, t2, t3 = x[3] - x[2] ** 2, 1.0 - x[2], x[3] - 1.0
    return float(
        100.0 * s1**2 + s2**2 + 90.0 * t1**2 + t2**2 + 10.0 * (s3 + t3) ** 2 + (s3 - t3) ** 2 / 10.0
    )


def _wood_jac(x: np.ndarray) -> np.ndarray:
    s1, s2, s3 = x[1] - x[0] ** 2, 1.0 - x[0], x[1] - 1.0
    t1, t2, t3 = x[3] - x[2] ** 2, 1.0 - x[2], x[3] - 1.0
    return np.array(
        [
            -2.0 * (200.0 * x[0] * s1 + s2),
            200.0 * s1 + 20.2 * s3 + 19.8 * t3,
            -2.0 * (180.0 * x[2] * t1 + t2),
            180.0 * t1 + 20.2 * t3 + 19.8 * s3,
        ]
    )


@njit(cache=True)
def _wood_inplace(x, g):
    s1, s2, s3 = x[1] - x[0] ** 2, 1.0 - x[0], x[1] - 1.0
    t1, t2, t3 = x[3] - x[2] ** 2, 1.0 - x[2], x[3] - 1.0
    g[0] = -2.0 * (200.0 * x[0] * s1 + s2)
    g[1] = 200.0 * s1 + 20.2 * s3 + 19.8 * t3
    g[2] = -2.0 * (180.0 * x[2] * t1 + t2)
    g[3] = 180.0 * t1 + 20.2 * t3 + 19.8 * s3
    return (
        100.0 * s1**2 + s2**2 + 90.0 * t1**2 + t2**2 + 10.0 * (s3 + t3) ** 2 + (s3 - t3) ** 2 / 10.0
    )


# --- 4. Brown badly scaled (n = 2, m = 3) ------------------------------------------


def _brown_fun(x: np.ndarray) -> float:
    t1, t2, t3 = x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0
    return float(t1 * t1 + t2 * t2 + t3 * t3)


def _brown_jac(x: np.ndarray) -> np.ndarray:
    t1, t2, t3 = x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0
    return np.array([2.0 * (t1 + x[1] * t3), 2.0 * (t2 + x[0] * t3)])


@njit(cache=True)
def _brown_inplace(x, g):
    t1, t2, t3 = x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0
    g[0] = 2.0 * (t1 + x[1] * t3)
    g[1] = 2.0 * (t2 + x[0] * t3)
    return t1 * t1 + t2 * t2 + t3 * t3


# --- 26. Trigonometric (n = m) -----------------------------------------------------


def _trig_terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = x.size
    j = np.arange(1.0, n + 1.0)
    c = np.cos(x)
    return n + j - np.sin(x) - np.sum(c) - j * c, j


def _trig_fun(x: np.ndarray) -> float:
    t, _ = _trig_terms(x)
    return float(t @ t)


def _trig_jac(x: np.ndarray) -> np.ndarray:
    t, j = _trig_terms(x)
    s = np.sin(x)
    return 2.0 * ((j * s - np.cos(x)) * t + s * np.sum(t))


@njit(cache=True)
def _trig_inplace(x, g):
    n = x.size
    s1 = 0.0
    for j in range(n):
        s1 += math.cos(x[j])
    f = 0.0
    s2 = 0.0
    for j in range(n):
        jj = j + 1.0
        cj, sj = math.cos(x[j]), math.sin(x[j])
        t = n + jj - sj - s1 - jj * cj
        f += t * t
        s2 += t
        g[j] = (jj * sj - cj) * t
    for j in range(n):
        g[j] = 2.0 * (g[j] + math.sin(x[j]) * s2)
    return f


# --- 7. Helical valley (n = 3, m = 3) ----------------------------------------------

_TWO_PI = 2.0 * math.pi


def _helical_theta_py(x1: float, x2: float) -> float:
    # MGH's θ: arctan(x2/x1)/2π for x1 > 0, + 1/2 for x1 < 0, sign(x2)/4 for x1 = 0.
    if x1 > 0.0:
        return math.atan(x2 / x1) / _TWO_PI
    if x1 < 0.0:
        return math.atan(x2 / x1) / _TWO_PI + 0.5
    return math.copysign(0.25, x2)


_helical_theta = njit(cache=True)(_helical_theta_py)


def _helical_fun(x: np.ndarray) -> float:
    t = x[2] - 10.0 * _helical_theta_py(x[0], x[1])
    r = np.hypot(x[0], x[1])
    return float(100.0 * (t * t + (r - 1.0) ** 2) + x[2] ** 2)


def _helical_jac(x: np.ndarray) -> np.ndarray:
    t = x[2] - 10.0 * _helical_theta_py(x[0], x[1])
    arg = x[0] ** 2 + x[1] ** 2
    r = np.sqrt(arg)
    s1 = 10.0 * t / (_TWO_PI * arg)
    return np.array(
        [
            200.0 * (x[0] - x[0] / r + x[1] * s1),
            200.0 * (x[1] - x[1] / r - x[0] * s1),
            2.0 * (100.0 * t + x[2]),
        ]
    )


@njit(cache=True)
def _helical_inplace(x, g):
    t = x[2] - 10.0 * _helical_theta(x[0], x[1])
    arg = x[0] ** 2 + x[1] ** 2
    r = math.sqrt(arg)
    s1 = 10.0 * t / (_TWO_PI * arg)
    g[0] = 200.0 * (x[0] - x[0] / r + x[1] * s1)
    g[1] = 200.0 * (x[1] - x[1] / r - x[0] * s1)
    g[2] = 2.0 * (100.0 * t + x[2])
    return 100.0 * (t * t + (r - 1.0) ** 2) + x[2] ** 2


# --- 2. Freudenstein and Roth (n = 2, m = 2) ---------------------------------------


def _froth_fun(x: np.ndarray) -> float:
    f1 = -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1]
    f2 = -29.0 + x[0] + ((1.0 + x[1]) * x[1] - 14.0) * x[1]
    return float(f1 * f1 + f2 * f2)


def _froth_jac(x: np.ndarray) -> np.ndarray:
    f1 = -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1]
    f2 = -29.0 + x[0] + ((1.0 + x[1]) * x[1] - 14.0) * x[1]
    d1 = (10.0 - 3.0 * x[1]) * x[1] - 2.0
    d2 = (3.0 * x[1] + 2.0) * x[1] - 14.0
    return np.array([2.0 * (f1 + f2), 2.0 * (f1 * d1 + f2 * d2)])


@njit(cache=True)
def _froth_inplace(x, g):
    f1 = -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1]
    f2 = -29.0 + x[0] + ((1.0 + x[1]) * x[1] - 14.0) * x[1]
    d1 = (10.0 - 3.0 * x[1]) * x[1] - 2.0
    d2 = (3.0 * x[1] + 2.0) * x[1] - 14.0
    g[0] = 2.0 * (f1 + f2)
    g[1] = 2.0 * (f1 * d1 + f2 * d2)
    return f1 * f1 + f2 * f2


# --- 25. Variably dimensioned (m = n + 2) ------------------------------------------


def _vardim_fun(x: np.ndarray) -> float:
    d = x - 1.0
    s = np.arange(1.0, x.size + 1.0) @ d
    return float(d @ d + s * s + s**4)


def _vardim_jac(x: np.ndarray) -> np.ndarray:
    d = x - 1.0
    j = np.arange(1.0, x.size + 1.0)
    s = j @ d
    return 2.0 * d + j * (2.0 * s + 4.0 * s**3)


@njit(cache=True)
def _vardim_inplace(x, g):
    s = 0.0
    q = 0.0
    for j in range(x.size):
        s += (j + 1.0) * (x[j] - 1.0)
        q += (x[j] - 1.0) ** 2
    c = 2.0 * s + 4.0 * s**3
    for j in range(x.size):
        g[j] = 2.0 * (x[j] - 1.0) + (j + 1.0) * c
    return q + s * s + s**4


# --- the problem set ---------------------------------------------------------------


def _mgh(name: str, x0, evaluators: tuple, f_min: float | None) -> Problem:
    return Problem(name, np.asarray(x0, dtype=np.float64), *evaluators, f_min=f_min)


_XROSEN = (_xrosen_fun, _xrosen_jac, _xrosen_inplace)

UNCONSTRAINED: list[Problem] = [
    # MGH 1 and 21 (n = 10, 100, 1000): f = 0 at (1, ..., 1).
    _mgh("rosenbrock", [-1.2, 1.0], _XROSEN, 0.0),
    *(_mgh(f"extended_rosenbrock_{n}", np.tile([-1.2, 1.0], n // 2), _XROSEN, 0.0)
      for n in (10, 100, 1000)),
    # MGH 5: f = 0 at (3, 0.5).
    _mgh("beale", [1.0, 1.0], (_beale_fun, _beale_jac, _beale_inplace), 0.0),
    # MGH 13 (n = 4): f = 0 at the origin, where the Hessian is singular.
    _mgh("powell_singular", [3.0, -1.0, 0.0, 1.0],
         (_powell_fun, _powell_jac, _powell_inplace), 0.0),
    # MGH 14: f = 0 at (1, 1, 1, 1).  A saddle point with f = 7.87697 lies on the way
    # from x0 (near (-0.968, 0.947, -0.970, 0.951)); SciPy's L-BFGS-B with its default
    # tolerances stops near it (f = 7.876955), with tighter ones it goes on to 0.
    _mgh("wood", [-3.0, -1.0, -3.0, -1.0], (_wood_fun, _wood_jac, _wood_inplace), 0.0),
    # MGH 4: f = 0 at (1e6, 2e-6).
    _mgh("brown_badly_scaled", [1.0, 1.0], (_brown_fun, _brown_jac, _brown_inplace), 0.0),
    # MGH 26 (n = 10): MGH list f = 0; from x0 = (1/n, ..., 1/n) descent methods reach
    # the local minimum f = 2.79506e-5 (value computed here, not stated in MGH).
    _mgh("trigonometric_10", np.full(10, 0.1), (_trig_fun, _trig_jac, _trig_inplace),
         2.79505612188e-5),
    # MGH 7: f = 0 at (1, 0, 0).
    _mgh("helical_valley", [-1.0, 0.0, 0.0],
         (_helical_fun, _helical_jac, _helical_inplace), 0.0),
    # MGH 2: f = 0 at (5, 4); from x0 descent methods reach MGH's local minimum
    # f = 48.9842... at (11.41..., -0.8968...).
    _mgh("freudenstein_roth", [0.5, -2.0], (_froth_fun, _froth_jac, _froth_inplace),
         48.98425367924),
    # MGH 12 (m = 10): f = 0 at (1, 10, 1), (10, 1, -1) and wherever x1 = x2, x3 = 0.
    _mgh("box_3d", [0.0, 10.0, 20.0], (_box_fun, _box_jac, _box_inplace), 0.0),
    # MGH 25 (n = 10): f = 0 at (1, ..., 1).
    _mgh("variably_dimensioned_10", 1.0 - np.arange(1.0, 11.0) / 10.0,
         (_vardim_fun, _vardim_jac, _vardim_inplace), 0.0),
    # MGH 9: f = 1.12793e-8.
    _mgh("gaussian", [0.4, 1.0, 0.0], (_gauss_fun, _gauss_jac, _gauss_inplace),
         1.12793276962e-8),
    # MGH 18 (m = 13): f = 5.65565e-3 (MGH's value); f = 0 at (1, 10, 1, 5, 4, 3).  x0
    # has x1 = x5 and x3 = x6, a symmetry the gradient keeps, so gradient methods stay
    # on that subspace and converge to its minimum, MGH's 5.65565e-3 — a saddle point
    # of the full problem (one negative Hessian eigenvalue, about -0.0098).
    _mgh("biggs_exp6", [1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
         (_biggs_fun, _biggs_jac, _biggs_inplace), 5.65564992550e-3),
    # MGH 20 (n = 6): f = 2.28767e-3.  x0 = 0 as in MGH (SciPy's Moré–Wild copy: 0.5).
    _mgh("watson_6", np.zeros(6), (_watson_fun, _watson_jac, _watson_inplace),
         2.28767005355e-3),
]  # fmt: skip


def problem(name: str) -> Problem:
    """Return the problem of ``UNCONSTRAINED`` called ``name``.

    Parameters
    ----------
    name : str
        The problem's name.

    Returns
    -------
    Problem
        The problem.

    Raises
    ------
    KeyError
        If no problem has that name.
    """
    for p in UNCONSTRAINED:
        if p.name == name:
            return p
    raise KeyError(name)
