"""``minimize_many`` with L-BFGS-B (the default method): each row is ``minimize``'s.

Two compiled loops serve the whole file: the exponential-decay fits with
``jac="inplace"`` and per-problem data and weights (unbounded), and the Rosenbrock
function with ``jac`` a function, under bounds (shared, per problem, or infinite).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from many_objectives import decay_inplace, rosen, rosen_grad
from many_reference import T, assert_rows_equal, decay_data, reference, split_args
from scipy.optimize import Bounds, OptimizeWarning

import numopt

M = 8
X0, Y, W = decay_data(M)
ARGS = (T, Y, W)
ARGS_OF = split_args(ARGS, (1, 2))


def many(**kw):
    return numopt.minimize_many(decay_inplace, X0, args=ARGS, jac="inplace", **kw)


def test_default_method_equals_minimize_compiled_bit_for_bit():
    """The central property against ``minimize``'s own compiled loop (the default)."""
    res = many()
    assert res.compiled is True and res.method == "l-bfgs-b"
    refs = reference(decay_inplace, X0, ARGS_OF, jac="inplace", compiled="auto")
    assert all(r.compiled for r in refs)
    assert_rows_equal(res, refs)
    assert res.success.all()
    # the problems are really different: they stop at different iterations
    assert len(set(res.nit.tolist())) > 2
    # the fits reach the noise level (σ = 0.01 on 50 points): ½·Σr² ≈ w · 0.0025
    assert np.all(res.fun < W * 0.5 * T.size * 0.03**2)


@pytest.mark.parametrize("method", ["l-bfgs", "L-BFGS-B", "lbfgs"])
def test_method_aliases_are_the_default_method(method):
    res = many(method=method)
    assert res.method == "l-bfgs-b" and res.compiled
    assert_rows_equal(res, reference(decay_inplace, X0, ARGS_OF, jac="inplace"))


#: options -> the status every row, or some row, must end with (the stopping test seen)
STOPPING = {
    "ftol": ({"ftol": 1e-4}, 4),
    "xtol": ({"xtol": 1e-3, "ftol": 0.0}, 5),
    "maxiter": ({"maxiter": 5}, 1),
    "maxfun": ({"maxfun": 12}, 2),
    "maxfev": ({"maxfev": 12}, 2),
    "gtol-tight": ({"gtol": 1e-12, "ftol": 0.0, "maxiter": 60}, 9),
    "gtol-loose": ({"gtol": 1e-2, "ftol": 0.0}, 0),
}


@pytest.mark.parametrize("case", sorted(STOPPING))
def test_stopping_tests_apply_to_each_problem(case):
    options, status = STOPPING[case]
    res = many(options=options)
    refs = reference(decay_inplace, X0, ARGS_OF, jac="inplace", options=options)
    assert_rows_equal(res, refs)
    assert status in res.status


def test_tol_sets_gtol_and_ftol():
    """As SciPy's L-BFGS-B, and as minimize: tol is both tolerances."""
    res = many(tol=1e-3)
    refs = reference(decay_inplace, X0, ARGS_OF, jac="inplace", tol=1e-3)
    assert_rows_equal(res, refs)
    assert np.array_equal(res.nit, many(options={"gtol": 1e-3, "ftol": 1e-3}).nit)


def test_options_are_not_modified():
    options = {"maxiter": 7, "ftol": 0.0}
    many(options=options)
    assert options == {"maxiter": 7, "ftol": 0.0}


# -- Rosenbrock under bounds (jac a function) -------------------------------------------------
N = 4
RNG = np.random.default_rng(7)
STARTS = RNG.uniform(-2.0, 2.0, size=(10, N))


def rosen_many(x0, bounds, **kw):
    return numopt.minimize_many(rosen, x0, jac=rosen_grad, bounds=bounds, **kw)


def rosen_reference(x0, bounds_of, **kw):
    return reference(rosen, x0, lambda i: (), jac=rosen_grad, bounds_of=bounds_of, **kw)


@pytest.mark.parametrize(
    "bounds",
    [
        [(-1.5, 1.5)] * N,
        Bounds(-1.5, 1.5),
        Bounds(np.full(N, -1.5), np.array([1.5, 1.5, 0.5, 1.5])),
        [(-1.5, None), (None, 1.5), (-1.5, 1.5), (-np.inf, 1.5)],
    ],
    ids=["pairs", "scalar-Bounds", "vector-Bounds", "pairs-with-None"],
)
def test_shared_bounds_every_form_minimize_takes(bounds):
    with pytest.warns(OptimizeWarning, match="clipped") as caught:
        res = rosen_many(STARTS, bounds)
    assert sum(issubclass(w.category, OptimizeWarning) for w in caught) == 1
    assert res.compiled
    refs = rosen_reference(STARTS, lambda i: bounds, compiled="auto")
    assert_rows_equal(res, refs)
    assert np.all(res.x >= -1.5) and np.all(res.x <= 1.5)


def test_per_problem_bounds_some_optima_outside_their_box():
    """One box per problem (``lb`` of shape (M, 1) broadcast, ``ub`` (M, n)): the
    problems whose box excludes the optimum (1, …, 1) stop on their upper bound."""
    m = len(STARTS)
    lb = np.linspace(-2.0, -1.0, m)[:, None]
    ub = np.full((m, N), 2.0)
    ub[::3, 1] = 0.5  # every third problem: x[1] <= 0.5, so the optimum is outside
    ub[1, :] = 0.25
    x0 = STARTS.copy()
    x0[2] = [3.0, -3.0, 0.0, 0.0]  # outside its box: clipped, one warning for all
    bounds = Bounds(lb, ub)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rosen_many(x0, bounds)
    assert [w.category for w in caught] == [OptimizeWarning]
    refs = rosen_reference(x0, lambda i: Bounds(np.broadcast_to(lb[i], N), ub[i]))
    assert_rows_equal(res, refs)
    assert np.all(res.x >= lb) and np.all(res.x <= ub)
    outside = ub.min(axis=1) < 1.0
    assert np.allclose(res.x[~outside], 1.0, atol=1e-3)
    assert not np.allclose(res.x[outside], 1.0, atol=1e-2)
    assert np.all(res.x[outside].max(axis=1) <= ub[outside].max(axis=1))
    # the first coordinate under x[1] <= 0.5 sits where the bound stops the valley
    assert np.all(np.isclose(res.x[::3, 1], 0.5))


def test_per_problem_bounds_equal_shared_bounds_when_every_box_is_the_same():
    lb, ub = np.full((len(STARTS), N), -1.5), np.full((len(STARTS), N), 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        per = rosen_many(STARTS, Bounds(lb, ub))
        shared = rosen_many(STARTS, [(-1.5, 1.5)] * N)
    for name in ("x", "fun", "jac", "nit", "nfev", "status"):
        assert np.array_equal(per[name], shared[name]), name


def test_infinite_bounds_multistart():
    """Infinite bounds: the unbounded algorithm, from starting points all over."""
    bounds = [(None, None)] * N
    res = rosen_many(STARTS, bounds, options={"gtol": 1e-8})
    assert_rows_equal(res, rosen_reference(STARTS, lambda i: bounds, options={"gtol": 1e-8}))
    assert res.success.all()
    # Rosenbrock in 4-D has a second local minimum near (-0.78, 0.61, 0.38, 0.14)
    near_one = np.all(np.abs(res.x - 1.0) < 1e-3, axis=1)
    assert near_one.sum() >= len(STARTS) // 2


def test_no_warning_when_every_start_is_inside():
    x0 = np.clip(STARTS, -1.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rosen_many(x0, [(-1.5, 1.5)] * N, options={"maxiter": 3})
