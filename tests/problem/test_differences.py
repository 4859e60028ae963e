"""Finite differences (numopt.problem.differences) against SciPy's approx_derivative."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen
from scipy.optimize._numdiff import approx_derivative  # the reference: SciPy's own steps

from numopt.problem import differences


def _counted(fun):
    calls = []

    def wrapped(z):
        calls.append(1)
        return fun(z)

    return wrapped, calls


@pytest.mark.parametrize("method", differences.METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.floats(-5, 5), min_size=2, max_size=6),
    bound=st.sampled_from([None, 0.5, 1e-9, 0.0]),
    step=st.sampled_from([None, 1e-8, 1e-3, 1e-30]),
)
def test_the_gradient_is_scipys_bit_for_bit(method, dtype, x, bound, step):
    """Relative steps (SciPy's default) and absolute ones (L-BFGS-B's ``eps``; 1e-30
    is lost in ``x + h`` and falls back to the relative step)."""
    x = np.array(x, dtype)
    if bound is None:
        lo, hi = -np.inf, np.inf
    else:  # a box around x with some coordinates on or next to a bound
        lo = np.asarray(x, float) - np.where(np.arange(x.size) % 2 == 0, bound, 1.0)
        hi = np.asarray(x, float) + np.where(np.arange(x.size) % 3 == 0, bound, 2.0)

    def fun(z):
        return float(rosen(np.asarray(z, float)))

    f0 = fun(x)
    ours, calls = _counted(fun)
    got = differences.gradient(ours, x.copy(), f0, method, (lo, hi), step)
    want = approx_derivative(
        lambda z: fun(z.astype(dtype, copy=False)), x.copy(), method=method, f0=f0,
        bounds=(lo, hi), abs_step=step,
    )  # fmt: skip
    np.testing.assert_array_equal(got, want)
    assert len(calls) == x.size * (1 if method == "2-point" else 2)


def test_steps_stay_inside_the_bounds():
    x = np.array([0.0, 1.0, 0.5])
    seen = []

    def fun(z):
        seen.append(z.copy())
        return float(z @ z)

    differences.gradient(fun, x, fun(x), "3-point", (np.zeros(3), np.ones(3)))
    assert all(np.all((z >= 0) & (z <= 1)) for z in seen)
