"""Box-constrained test problems for the L-BFGS-B tests.

Each is a :class:`mgh.Problem` with ``bounds`` (a ``scipy.optimize.Bounds``) and a
starting point inside the box.  The minimisers were derived by hand where the docstring
of the problem's builder says so; ``X_MIN`` holds them.

``BOUNDED`` lists, in order,

(a) ``rosenbrock_box``: Rosenbrock 2-D with the optimum (1, 1) outside the box;
(b) ``extended_rosenbrock_10_mixed``: active and inactive bounds at the solution;
(c) ``extended_rosenbrock_4_one_sided``: each variable bounded on one side only;
(d) ``beale_infinite_mixed``: infinite and finite entries in both ``lb`` and ``ub``;
(e) ``variably_dimensioned_10_fixed``: one fixed variable (``lb == ub``);
(f) ``quadratic_3_boundary``: a convex quadratic solved by hand, on the boundary;
(g) ``extended_rosenbrock_1000_box``: 1000 variables, 200 bounds active.

The extended Rosenbrock function is a sum over pairs (x_{2i-1}, x_{2i}) of
``100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2``.  A bound u < 1 above x_{2i-1}
(or u > 1 below it), with x_{2i} free to reach u², makes the pair's minimum
``(1 - u)^2`` at ``(u, u^2)``: the pair's value is at least ``(1 - x_{2i-1})^2``, and
that is smallest over the allowed x_{2i-1} at u.  The solutions of (a), (b), (c) and
(g) follow.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from mgh import Problem, problem
from numba import njit
from scipy.optimize import Bounds

INF = np.inf

X_MIN: dict[str, np.ndarray] = {}
"""Known minimisers of the bounded problems, by name."""


def _bounded(base: str, name: str, x0, lb, ub, f_min: float, x_min=None) -> Problem:
    p = dataclasses.replace(
        problem(base),
        name=name,
        x0=np.asarray(x0, dtype=np.float64),
        bounds=Bounds(np.asarray(lb, dtype=np.float64), np.asarray(ub, dtype=np.float64)),
        f_min=f_min,
    )
    if x_min is not None:
        X_MIN[name] = np.asarray(x_min, dtype=np.float64)
    return p


def rosenbrock_box() -> Problem:
    """(a) Rosenbrock 2-D on [-1.5, 0.5] x [-0.5, 2], optimum (1, 1) outside.

    The bound x1 <= 0.5 is active: the minimum is f = (1 - 0.5)^2 = 0.25 at
    (0.5, 0.25), where df/dx1 = -1 < 0 pushes against it.  x0 = (-1.2, 1).

    Returns
    -------
    Problem
        The problem.
    """
    return _bounded(
        "rosenbrock", "rosenbrock_box", [-1.2, 1.0], [-1.5, -0.5], [0.5, 2.0], 0.25, [0.5, 0.25]
    )


def extended_rosenbrock_10_mixed() -> Problem:
    """(b) Extended Rosenbrock, n = 10, in [-2, 2]^10 with x1 <= 0.5 and x5 <= 0.8.

    At the solution (0.5, 0.25, 1, 1, 0.8, 0.64, 1, 1, 1, 1) the upper bounds of x1 and
    x5 are active and all other bounds inactive; f = 0.5^2 + 0.2^2 = 0.29.  x0 is the
    standard (-1.2, 1, ...).

    Returns
    -------
    Problem
        The problem.
    """
    ub = np.full(10, 2.0)
    ub[0], ub[4] = 0.5, 0.8
    x_min = [0.5, 0.25, 1, 1, 0.8, 0.64, 1, 1, 1, 1]
    x0 = np.tile([-1.2, 1.0], 5)
    lb = np.full(10, -2.0)
    return _bounded(
        "extended_rosenbrock_10", "extended_rosenbrock_10_mixed", x0, lb, ub, 0.29, x_min
    )


def extended_rosenbrock_4_one_sided() -> Problem:
    """(c) Extended Rosenbrock, n = 4, each variable bounded on one side only.

    x1 >= 1.5 and x4 >= -5 (lower bounds only), x2 <= 10 and x3 <= 0.5 (upper bounds
    only).  The minimum is f = 0.5^2 + 0.5^2 = 0.5 at (1.5, 2.25, 0.5, 0.25), with the
    bounds of x1 and x3 active.  x0 = (2, 1, -1.2, 1).

    Returns
    -------
    Problem
        The problem.
    """
    return _bounded(
        "rosenbrock",  # the extended Rosenbrock evaluators serve any even n
        "extended_rosenbrock_4_one_sided",
        [2.0, 1.0, -1.2, 1.0],
        [1.5, -INF, -INF, -5.0],
        [INF, 10.0, 0.5, INF],
        0.5,
        [1.5, 2.25, 0.5, 0.25],
    )


def beale_infinite_mixed() -> Problem:
    """(d) Beale with ``lb = (-inf, -1)``, ``ub = (2.5, inf)``.

    The optimum (3, 0.5) is cut off by x1 <= 2.5, which is active at the solution
    (2.5, 0.350063494...), f = 0.0727000506535336 (x2 by a 1-D minimisation on the
    face x1 = 2.5; df/dx1 = -0.381 < 0 there).  It is the minimum over the whole
    box: for fixed x2, f is a convex quadratic in x1, so the test
    ``test_beale_bounded_minimum_is_global`` minimises over x1 exactly and scans x2.
    x0 = (1, 1), the standard one.

    Returns
    -------
    Problem
        The problem.
    """
    return _bounded(
        "beale", "beale_infinite_mixed", [1.0, 1.0], [-INF, -1.0], [2.5, INF], 0.0727000506535336
    )


def variably_dimensioned_fixed_minimum() -> tuple[float, np.ndarray]:
    """Minimum of the variably dimensioned function, n = 10, with x1 fixed at 0.

    With d = x - 1 and s = sum_j j d_j, f = sum d_j^2 + s^2 + s^4 (convex in d).
    Fixing d_1 = -1, the stationarity conditions of the others, 2 d_j + j (2 s + 4 s^3)
    = 0, give d_j = -j (s + 2 s^3) for j >= 2; then s = -1 - 384 (s + 2 s^3)
    (sum_{j=2}^{10} j^2 = 384), i.e. 768 s^3 + 385 s + 1 = 0, whose only real root is
    s ~ -0.0025974.  So f = 1 + 384 (s + 2 s^3)^2 + s^2 + s^4.

    Returns
    -------
    f_min : float
        The minimum value.
    x_min : ndarray
        The minimiser.
    """
    roots = np.roots([768.0, 0.0, 385.0, 1.0])
    s = float(roots[np.argmin(np.abs(roots.imag))].real)
    c = s + 2.0 * s**3
    j = np.arange(1.0, 11.0)
    x_min = 1.0 - j * c
    x_min[0] = 0.0
    return 1.0 + 384.0 * c * c + s * s + s**4, x_min


def variably_dimensioned_10_fixed() -> Problem:
    """(e) Variably dimensioned, n = 10, x1 fixed at 0 (``lb[0] == ub[0] == 0``).

    The others are free (infinite bounds).  The minimum is derived in
    :func:`variably_dimensioned_fixed_minimum` (f ~ 1.0025974).  x0 is the standard
    x0_j = 1 - j/10 with x0_1 = 0.

    Returns
    -------
    Problem
        The problem.
    """
    f_min, x_min = variably_dimensioned_fixed_minimum()
    x0 = 1.0 - np.arange(1.0, 11.0) / 10.0
    x0[0] = 0.0
    lb, ub = np.full(10, -INF), np.full(10, INF)
    lb[0] = ub[0] = 0.0
    return _bounded(
        "variably_dimensioned_10", "variably_dimensioned_10_fixed", x0, lb, ub, f_min, x_min
    )


# --- (f) the hand-solved quadratic -------------------------------------------------

QUAD_A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
QUAD_B = np.array([5.25, 1.75, -0.75])
QUAD_X_MIN = np.array([1.0, 0.25, 0.0])
QUAD_F_MIN = -3.34375


def _quad_fun(x: np.ndarray) -> float:
    return float(0.5 * x @ QUAD_A @ x - QUAD_B @ x)


def _quad_jac(x: np.ndarray) -> np.ndarray:
    return QUAD_A @ x - QUAD_B


@njit(cache=True)
def _quad_inplace(x, g):
    f = 0.0
    for i in range(3):
        ax = 0.0
        for j in range(3):
            ax += QUAD_A[i, j] * x[j]
        g[i] = ax - QUAD_B[i]
        f += x[i] * (0.5 * ax - QUAD_B[i])
    return f


def quadratic_3_boundary() -> Problem:
    """(f) f(x) = x'Ax/2 - b'x on [0, 1]^3, solved by hand.

    A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]] (positive definite: leading minors 4, 11,
    18), b = (5.25, 1.75, -0.75).  The solution is x* = (1, 1/4, 0): A x* =
    (4.25, 1.75, 0.25), so the gradient A x* - b = (-1, 0, 1) — x1 at its upper bound
    with df/dx1 < 0, x2 free with df/dx2 = 0, x3 at its lower bound with df/dx3 > 0.
    These are the KKT conditions, sufficient for a strictly convex f, and strict
    complementarity holds.  f* = (x*'Ax*)/2 - b'x* = (4.25 + 0.4375)/2 - 5.6875
    = -3.34375.  x0 = (0.5, 0.5, 0.5).

    Returns
    -------
    Problem
        The problem.
    """
    X_MIN["quadratic_3_boundary"] = QUAD_X_MIN
    return Problem(
        "quadratic_3_boundary",
        np.full(3, 0.5),
        _quad_fun,
        _quad_jac,
        _quad_inplace,
        QUAD_F_MIN,
        Bounds(np.zeros(3), np.ones(3)),
    )


def extended_rosenbrock_1000_box() -> Problem:
    """(g) Extended Rosenbrock, n = 1000, in [-2, 3]^1000 with 200 active bounds.

    For the pairs k = 0, ..., 499 (variables 2k, 2k + 1, 0-based): if k % 5 == 0,
    x_{2k} <= 0.5 (pair minimum 0.25 at (0.5, 0.25)); if k % 5 == 1, x_{2k} >= 1.5
    (pair minimum 0.25 at (1.5, 2.25), x0_{2k} = 2); other pairs reach (1, 1).  So
    f = 200 * 0.25 = 50.  x0 is otherwise the standard (-1.2, 1, ...).

    Returns
    -------
    Problem
        The problem.
    """
    n = 1000
    lb, ub = np.full(n, -2.0), np.full(n, 3.0)
    x0 = np.tile([-1.2, 1.0], n // 2)
    x_min = np.ones(n)
    k = np.arange(n // 2)
    upper, lower = 2 * k[k % 5 == 0], 2 * k[k % 5 == 1]
    ub[upper], x_min[upper], x_min[upper + 1] = 0.5, 0.5, 0.25
    lb[lower], x0[lower], x_min[lower], x_min[lower + 1] = 1.5, 2.0, 1.5, 2.25
    return _bounded(
        "extended_rosenbrock_1000", "extended_rosenbrock_1000_box", x0, lb, ub, 50.0, x_min
    )


BOUNDED: list[Problem] = [
    rosenbrock_box(),
    extended_rosenbrock_10_mixed(),
    extended_rosenbrock_4_one_sided(),
    beale_infinite_mixed(),
    variably_dimensioned_10_fixed(),
    quadratic_3_boundary(),
    extended_rosenbrock_1000_box(),
]
