"""``minimize_many`` with objectives the compiled loop cannot run: ``minimize`` per problem.

Python objectives (and Numba ones with finite differences, or ``compiled=False``) run
``minimize`` on each problem in turn: ``res.compiled`` is False and each row is
``minimize``'s.  Callbacks need the compiled loop; Ctrl-C and ``max_time`` stop the
problems not yet run.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from many_objectives import decay, decay_inplace
from many_reference import (
    T,
    assert_results_equal,
    assert_rows_equal,
    decay_data,
    reference,
    split_args,
)
from scipy.optimize import Bounds

import numopt
from numopt import schedules

M = 5
X0, Y, W = decay_data(M, seed=2)
ARGS = (T, Y, W)
ARGS_OF = split_args(ARGS, (1, 2))


def py_decay(p, t, y, w):
    r = p[0] * np.exp(-p[1] * t) + p[2] - y
    return w * 0.5 * float(r @ r)


def py_decay_grad(p, t, y, w):
    e = np.exp(-p[1] * t)
    r = p[0] * e + p[2] - y
    return w * np.array([r @ e, -(r * p[0] * t) @ e, r.sum()])


BOXES = Bounds(np.zeros((M, 1)), np.array([[2.0, 1.0, 0.5]] * M))


@pytest.mark.filterwarnings("ignore:Initial guess:scipy.optimize.OptimizeWarning")
@pytest.mark.parametrize("bounds", [None, [(0.0, 5.0)] * 3, BOXES], ids=["none", "shared", "per"])
@pytest.mark.parametrize("jac", [py_decay_grad, None], ids=["jac", "differences"])
def test_python_objective_lbfgsb(jac, bounds):
    res = numopt.minimize_many(py_decay, X0, args=ARGS, jac=jac, bounds=bounds)
    assert res.compiled is False and res.method == "l-bfgs-b"
    if isinstance(bounds, Bounds):
        bounds_of = lambda i: Bounds(bounds.lb[i], bounds.ub[i])  # noqa: E731
    else:
        bounds_of = lambda i: bounds  # noqa: E731
    refs = reference(py_decay, X0, ARGS_OF, jac=jac, bounds_of=bounds_of, compiled=None)
    assert_rows_equal(res, refs)


@pytest.mark.parametrize("method", ["adam", "momentum"])
def test_python_objective_rules(method):
    options = {"learning_rate": 0.01, "maxiter": 60}
    res = numopt.minimize_many(
        py_decay, X0, args=ARGS, jac=py_decay_grad, method=method, options=options
    )
    assert res.compiled is False
    refs = reference(
        py_decay, X0, ARGS_OF, method=method, jac=py_decay_grad, options=options, compiled=None
    )
    assert_rows_equal(res, refs)


def test_numba_objective_with_finite_differences_runs_in_python():
    res = numopt.minimize_many(decay, X0, args=ARGS, jac="2-point", options={"maxiter": 20})
    assert res.compiled is False
    refs = reference(decay, X0, ARGS_OF, jac="2-point", options={"maxiter": 20}, compiled=None)
    assert_rows_equal(res, refs)


def test_compiled_false_equals_the_compiled_run():
    """``options["compiled"]=False``: ``minimize``'s Python loop per problem, which
    gives the compiled problems' results bit for bit."""
    compiled = numopt.minimize_many(decay_inplace, X0, args=ARGS, jac="inplace")
    python = numopt.minimize_many(
        decay_inplace, X0, args=ARGS, jac="inplace", options={"compiled": False}
    )
    assert compiled.compiled is True and python.compiled is False
    assert_results_equal(compiled, python)


def test_compiled_true_with_a_python_objective_is_an_error():
    with pytest.raises(ValueError, match=r"compiled=True, but these problems cannot be compiled"):
        numopt.minimize_many(py_decay, X0, args=ARGS, jac=py_decay_grad, options={"compiled": True})
    with pytest.raises(ValueError, match=r"compiled=True.*finite differences"):
        numopt.minimize_many(decay, X0, args=ARGS, jac="2-point", options={"compiled": True})


def test_compiled_true_with_numba_objectives_is_fine():
    res = numopt.minimize_many(
        decay_inplace, X0, args=ARGS, jac="inplace", options={"compiled": True, "maxiter": 3}
    )
    assert res.compiled is True


def test_callback_with_a_python_objective_is_an_error():
    with pytest.raises(ValueError, match=r"callback needs the compiled loop"):
        numopt.minimize_many(py_decay, X0, args=ARGS, jac=py_decay_grad, callback=lambda x: None)
    # Schedule-Free's factors are computed in Python: no compiled loop, no callback either
    with pytest.raises(ValueError, match=r"callback.*schedule_free_sgd"):
        numopt.minimize_many(
            decay_inplace, X0, args=ARGS, jac="inplace", method="schedule_free_sgd",
            callback=lambda x: None,
        )  # fmt: skip


def test_python_objective_with_a_plateau_schedule_starts_each_problem_afresh():
    options = {"learning_rate": schedules.ReduceLROnPlateau(0.05, factor=0.5, patience=3)}
    options["maxiter"] = 100
    res = numopt.minimize_many(
        py_decay, X0, args=ARGS, jac=py_decay_grad, method="adam", options=options
    )
    assert res.compiled is False
    refs = reference(
        py_decay, X0, ARGS_OF, method="adam", jac=py_decay_grad, options=options, compiled=None
    )
    assert_rows_equal(res, refs)


def _interrupting(at_call):
    calls = [0]

    def fun(p, t, y, w):
        calls[0] += 1
        if calls[0] == at_call:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: seen after this evaluation
        return py_decay(p, t, y, w)

    return fun, calls


def test_ctrl_c_stops_the_problem_running_and_those_not_started():
    full = numopt.minimize_many(py_decay, X0, args=ARGS, jac=py_decay_grad)
    fun, _ = _interrupting(full.nfev[:2].sum() + 5)  # in problem 2's run
    res = numopt.minimize_many(fun, X0, args=ARGS, jac=py_decay_grad)
    assert res.compiled is False
    assert res.status.tolist() == [full.status[0], full.status[1], 8, 8, 8]
    for name in ("x", "fun", "nit", "nfev"):
        assert np.array_equal(res[name][:2], full[name][:2]), name
    assert 0 < res.nit[2] < full.nit[2] and np.isfinite(res.x_best[2]).all()
    # not started: the starting point, unevaluated
    np.testing.assert_array_equal(res.x[3:], X0[3:])
    np.testing.assert_array_equal(res.x_best[3:], X0[3:])
    assert res.nit[3:].tolist() == [0, 0] and res.nfev[3:].tolist() == [0, 0]
    assert np.isnan(res.fun[3:]).all() and np.isnan(res.jac[3:]).all()
    assert all(m.startswith("Interrupted") for m in res.message[2:])
    assert not res.success[2:].any()


def test_max_time_stops_the_problem_running_and_those_not_started():
    def slow(p, t, y, w):
        time.sleep(0.005)
        return py_decay(p, t, y, w)

    start = time.perf_counter()
    res = numopt.minimize_many(
        slow, X0, args=ARGS, jac=py_decay_grad, options={"max_time": 0.05, "gtol": 0.0}
    )
    assert time.perf_counter() - start < 5.0
    assert res.status.tolist() == [6] * M
    assert res.nfev[0] > 0 and res.nfev[1:].tolist() == [0] * (M - 1)
    assert all(m == "Maximum time (max_time) has been exceeded." for m in res.message)
