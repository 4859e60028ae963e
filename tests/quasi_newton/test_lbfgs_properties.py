"""Properties of L-BFGS-B on random strictly convex quadratics in random boxes.

``f(x) = x'Ax/2 - b'x`` with ``A = B B' + cI`` (symmetric positive definite, c ≥ 0.1)
has exactly one minimiser over any box, characterised by the KKT conditions: the
projected gradient ``P(x - g) - x`` vanishes.  For every drawn problem — 1 to 8
variables, each bound finite or infinite on either side — numopt's result satisfies
them and has SciPy's minimum.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, minimize

import numopt

# Tight tolerances: the runs go to the minimiser (the properties hold there, not at a
# point a loose test stops at), the same for both libraries.  (Not ftol = 0: numopt
# reads it as "off" and a run stalled by rounding then spins to maxfun, where SciPy's
# test "f did not decrease" stops it; see test_lbfgs_behaviour.py.)
OPTIONS = {"gtol": 1e-10, "ftol": 1e-15}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    """One BLAS thread for the tiny matrix products (see test_problem_set.py)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _side(finite: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(None), finite)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 8))
    entry = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)
    B = np.array(draw(st.lists(entry, min_size=n * n, max_size=n * n))).reshape(n, n)
    c = draw(st.floats(0.1, 1.0))
    A = B @ B.T + c * np.eye(n)
    b = np.array(draw(st.lists(st.floats(-5.0, 5.0), min_size=n, max_size=n)))
    lo = [draw(_side(st.floats(-3.0, 0.0))) for _ in range(n)]
    hi = [draw(_side(st.floats(0.0, 3.0))) for _ in range(n)]
    lo = np.array([-np.inf if v is None else v for v in lo])
    hi = np.array([np.inf if v is None else v for v in hi])
    x0 = np.clip(np.array(draw(st.lists(st.floats(-4.0, 4.0), min_size=n, max_size=n))), lo, hi)
    return A, b, lo, hi, x0


def _quadratic(A, b):
    def fun(x):
        return float(0.5 * x @ A @ x - b @ x)

    def jac(x):
        return A @ x - b

    return fun, jac


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_kkt_conditions_and_scipys_minimum(problem):
    A, b, lo, hi, x0 = problem
    fun, jac = _quadratic(A, b)
    res = numopt.minimize(
        fun,
        x0.copy(),
        jac=jac,
        method="l-bfgs-b",
        bounds=Bounds(lo, hi),
        options={**OPTIONS, "compiled": False},
    )
    ref = minimize(
        fun, x0.copy(), jac=jac, method="L-BFGS-B", bounds=Bounds(lo, hi), options=OPTIONS
    )
    x = res.x
    assert np.all(lo <= x) and np.all(x <= hi)
    g = jac(x)
    # the size of the problem's numbers; a stop by ftol = 1e-15 leaves a gradient up to
    # ~sqrt(2 L Δf) ~ 1e-7 of it (measured at most 9e-9 over 3000 drawn problems)
    scale = 1.0 + np.abs(A).sum(axis=1).max() * max(1.0, np.abs(x).max()) + np.abs(b).max()
    projected = np.clip(x - g, lo, hi) - x
    assert np.max(np.abs(projected)) <= 1e-7 * scale, (res.message, projected)
    # SciPy's minimum, to 1e-8 relative (plus rounding of f's terms near f = 0;
    # measured at most 4e-15 relative)
    assert abs(res.fun - ref.fun) <= 1e-8 * abs(ref.fun) + 1e-12 * scale**2
    assert res.status in (0, 4, 9), res.message  # converged, or stalled by rounding
    # the same algorithm: no more iterations than SciPy's (with every variable fixed
    # SciPy returns at once, without a count)
    assert res.nit <= 1.5 * ref.get("nit", 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(1, 12))
def test_every_iterate_decreases_f_and_stays_in_the_box(problem, maxcor):
    A, b, lo, hi, x0 = problem
    fun, jac = _quadratic(A, b)
    values = [fun(x0)]

    def check(intermediate_result):
        x = intermediate_result.x
        assert np.all(lo <= x) and np.all(x <= hi)
        values.append(intermediate_result.fun)

    numopt.minimize(
        fun,
        x0.copy(),
        jac=jac,
        method="l-bfgs-b",
        bounds=Bounds(lo, hi),
        callback=check,
        options={"maxcor": maxcor, "compiled": False},
    )
    # each accepted step satisfies sufficient decrease: f never goes up
    assert all(b <= a for a, b in itertools.pairwise(values))
