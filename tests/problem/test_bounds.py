"""``bounds=`` in SciPy's forms, laid out over the flat ``x`` (numopt.problem.bounds).

Pairs with ``None``, ``scipy.optimize.Bounds``, an array of pairs, scalars that
broadcast; bounds over the flattened list ``x0`` or per array for a dict ``x0``;
cast to ``x``'s dtype; and every bad form named.  The problem is tests/box_problem.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from box_problem import HI, LO, SOLUTION, A, C, fg, pairs
from scipy.optimize import Bounds

import numopt
from numopt.problem import bounds as _bounds
from numopt.problem.structure import Structure


@pytest.mark.parametrize(
    "bounds",
    [
        [(None, 1.0), (-1.0, None), (None, None), (0.0, 1.0)],
        Bounds([-np.inf, -1.0, -np.inf, 0.0], [1.0, np.inf, np.inf, 1.0]),
        Bounds([None, -1.0, None, 0.0], [1.0, None, None, 1.0]),
        np.array([[-np.inf, 1.0], [-1.0, np.inf], [-np.inf, np.inf], [0.0, 1.0]]),
    ],
    ids=["pairs", "Bounds", "Bounds-None", "array"],
)
def test_mixed_none_bounds(bounds):
    res = numopt.minimize(
        fg,
        np.zeros(4),
        jac=True,
        method="adam",
        bounds=bounds,
        options={"learning_rate": 0.05, "maxiter": 5000, "gtol": 1e-7},
    )
    want = np.array([1.0, -1.0, 0.5, 1.0])  # C with x0 <= 1, x1 >= -1, x3 in [0, 1]
    np.testing.assert_allclose(res.x, want, atol=1e-6)
    assert res.status == 0


def test_scalar_bounds_broadcast_and_shaped_x0():
    x0 = np.zeros((2, 2))

    def f(x):
        r = x - C.reshape(2, 2)
        return 0.5 * float(np.sum(A.reshape(2, 2) * r * r)), A.reshape(2, 2) * r

    res = numopt.minimize(
        f, x0, jac=True, method="gd", bounds=Bounds(-1.0, 1.0), options={"learning_rate": 0.3}
    )
    np.testing.assert_allclose(res.x, np.clip(C, -1, 1).reshape(2, 2), atol=1e-6)
    # a Bounds whose arrays have x0's shape, read in x0's (C) order
    res = numopt.minimize(
        f,
        x0,
        jac=True,
        method="gd",
        bounds=Bounds(LO.reshape(2, 2), HI.reshape(2, 2)),
        options={"learning_rate": 0.3},
    )
    np.testing.assert_allclose(res.x, SOLUTION.reshape(2, 2), atol=1e-6)


def test_list_x0_takes_bounds_over_the_flattened_x0():
    def f(xs):
        x = np.concatenate(xs)
        v, g = fg(x)
        return v, [g[:3], g[3:]]

    res = numopt.minimize(
        f,
        [np.zeros(3), np.zeros(1)],
        jac=True,
        method="gd",
        bounds=pairs(),
        options={"learning_rate": 0.3},
    )
    assert isinstance(res.x, list)
    np.testing.assert_allclose(np.concatenate(res.x), SOLUTION, atol=1e-6)


def test_dict_x0_takes_bounds_per_array():
    def f(d):
        x = np.concatenate([d["w"].ravel(), d["b"]])
        v, g = fg(x)
        return v, {"w": g[:3].reshape(3, 1), "b": g[3:]}

    x0 = {"w": np.zeros((3, 1)), "b": np.zeros(1)}
    # per array: w's bounds broadcast from a column of its shape, b bounded above only
    res = numopt.minimize(
        f,
        x0,
        jac=True,
        method="gd",
        bounds={"w": (LO[:3].reshape(3, 1), 1.0), "b": (None, 1.0)},
        options={"learning_rate": 0.3, "gtol": 1e-10},
    )
    np.testing.assert_allclose(res.x["w"].ravel(), SOLUTION[:3], atol=1e-6)
    np.testing.assert_allclose(res.x["b"], [1.0], atol=1e-6)
    # a missing key is unbounded; the flat SciPy forms work for a dict x0 too
    res = numopt.minimize(
        f,
        x0,
        jac=True,
        method="gd",
        bounds={"w": Bounds(-1, 1)},
        options={"learning_rate": 0.3, "gtol": 1e-10},
    )
    np.testing.assert_allclose(res.x["b"], C[3:], atol=1e-6)
    res = numopt.minimize(
        f, x0, jac=True, method="gd", bounds=pairs(), options={"learning_rate": 0.3, "gtol": 1e-10}
    )
    np.testing.assert_allclose(res.x["w"].ravel(), SOLUTION[:3], atol=1e-6)


def test_bounds_are_cast_to_x_dtype():
    box = _bounds.for_structure([(0.1, 0.3)], Structure(np.zeros(1, np.float32)))
    assert box.lo.dtype == np.float32 and box.lo[0] == np.float32(0.1)
    res = numopt.minimize(
        lambda x: (float(x[0]), np.ones(1, np.float32)),
        np.array([0.2], np.float32),
        jac=True,
        method="gd",
        bounds=[(0.1, 0.3)],
        options={"learning_rate": 0.1},
    )
    assert res.x[0] == np.float32(0.1) and res.status == 0


@pytest.mark.parametrize(
    ("bounds", "error", "pattern"),
    [
        ([(0, 1)] * 3, ValueError, r"bounds has 3 \(lo, hi\) pairs but x0 has 4 elements"),
        (
            [(0, 1), (0, 1), (2, 1), (0, 1)],
            ValueError,
            "lower bound 2.0 > upper bound 1.0 at index 2",
        ),
        ([(0, 1), (0, 1), (0, np.nan), (0, 1)], ValueError, r"bounds\[2\]\[1\] contains NaN"),
        ([(0, 1), (0, 1), (0, 1), 5], TypeError, r"bounds\[3\] must be a pair \(lo, hi\)"),
        ([(0, 1), (0, 1), (0, 1), ("a", 1)], TypeError, r"bounds\[3\]\[0\] must be None"),
        ([(0, 1), (0, 1), (0, 1), ([0, 1], 1)], TypeError, r"bounds\[3\]\[0\] must be a number"),
        ((0, 1), ValueError, r"bounds has 2 \(lo, hi\) pairs .* or scipy.optimize.Bounds"),
        ([(0, 1), 0, 1, 2], TypeError, r"bounds\[1\] must be a pair"),
        (Bounds(np.zeros(3), 1), ValueError, "bounds.lb has 3 elements but x0 has 4"),
        (Bounds(0, np.ones(5)), ValueError, "bounds.lb has 5 elements but x0 has 4"),
        ("0,1", TypeError, "bounds must be a scipy.optimize.Bounds, a sequence"),
        (3.0, TypeError, "bounds must be a scipy.optimize.Bounds, a sequence"),
        ({"w": (0, 1)}, TypeError, "bounds is a dict, which needs a dict x0"),
    ],
)
def test_minimize_bad_bounds(bounds, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.minimize(fg, np.zeros(4), method="adam", jac=True, bounds=bounds)


def test_dict_x0_bad_bounds():
    x0 = {"w": np.zeros(3), "b": np.zeros(1)}
    with pytest.raises(ValueError, match=r"bounds has keys \['v'\] that x0 lacks"):
        numopt.minimize(fg, x0, method="adam", jac=True, bounds={"v": (0, 1)})
    with pytest.raises(ValueError, match=r"x0\['w'\]'s shape \(3,\)"):
        numopt.minimize(fg, x0, method="adam", jac=True, bounds={"w": (np.zeros(2), 1)})
    with pytest.raises(TypeError, match=r"bounds\['b'\] must be a pair"):
        numopt.minimize(fg, x0, method="adam", jac=True, bounds={"b": 1.0})


def test_float32_overflowing_bound_is_an_error():
    with pytest.raises(ValueError, match="the upper bound 1e\\+40 overflows float32"):
        numopt.minimize(
            fg, np.zeros(4, np.float32), method="adam", jac=True, bounds=Bounds(0, 1e40)
        )
