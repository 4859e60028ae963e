"""``minimize_many``'s compiled driver: callbacks, Ctrl-C, ``max_time``, threads, NaN rows.

Every case runs the exponential-decay fits of ``test_many_lbfgsb.py`` (L-BFGS-B,
``jac="inplace"``), whose compiled loop is already built, and compares rows with
``minimize`` on each problem alone where there is a reference to compare with.
"""

from __future__ import annotations

import os
import signal
import time

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from many_objectives import decay_inplace
from many_reference import (
    T,
    assert_results_equal,
    assert_rows_equal,
    decay_data,
    reference,
    split_args,
)

import numopt

M = 8
X0, Y, W = decay_data(M)
ARGS = (T, Y, W)
ARGS_OF = split_args(ARGS, (1, 2))


def many(x0=X0, args=ARGS, **kw):
    return numopt.minimize_many(decay_inplace, x0, args=args, jac="inplace", **kw)


# -- callbacks ------------------------------------------------------------------------------
def test_callback_sees_the_running_problems_in_lockstep():
    seen = []

    def cb(intermediate_result):
        r = intermediate_result
        seen.append((r.nit, r.problems.copy(), r.x.copy(), r.fun.copy()))

    full = many()
    res = many(callback=cb)
    assert_results_equal(res, full)  # watching changes nothing
    assert [s[0] for s in seen] == list(range(1, int(full.nit.max()) + 1))
    for nit, problems, x, f in seen:
        # the problems still running at iteration nit: those that end at or after it
        np.testing.assert_array_equal(problems, np.flatnonzero(full.nit >= nit))
        assert x.shape == (problems.size, 3) and f.shape == (problems.size,)
    # the last sight of each problem is its final point
    for i in range(M):
        nit, problems, x, f = seen[int(full.nit[i]) - 1]
        row = int(np.flatnonzero(problems == i)[0])
        np.testing.assert_array_equal(x[row], full.x[i])


def test_callback_every_and_the_legacy_form():
    xs = []
    res = many(callback=lambda xk: xs.append(xk.copy()), options={"callback_every": 3})
    assert len(xs) == int(res.nit.max()) // 3
    assert all(x.ndim == 2 and x.shape[1] == 3 for x in xs)


@pytest.mark.parametrize("how", ["true", "stopiteration"])
def test_callback_stops_every_running_problem_where_minimize_stops(how):
    stop_at = 4

    def cb(intermediate_result):
        if intermediate_result.nit == stop_at:
            if how == "true":
                return True
            raise StopIteration

    res = many(callback=cb)
    assert res.status.tolist() == [99] * M
    word = "returned True" if how == "true" else "raised `StopIteration`"
    assert all(word in m for m in res.message)
    refs = [
        numopt.minimize(decay_inplace, X0[i], ARGS_OF(i), None, "inplace", callback=cb)
        for i in range(M)
    ]
    assert_rows_equal(res, refs)
    assert res.nit.tolist() == [stop_at] * M


# -- Ctrl-C and max_time --------------------------------------------------------------------
def test_ctrl_c_stops_the_running_problems_with_their_points():
    full = many()
    stop_at = int(full.nit.min()) + 2  # some problems have ended by then

    def cb(intermediate_result):
        if intermediate_result.nit == stop_at:
            os.kill(os.getpid(), signal.SIGINT)  # deferred: seen after the callbacks

    res = many(callback=cb)
    ended = full.nit < stop_at
    assert ended.any() and not ended.all()
    assert res.status[~ended].tolist() == [8] * int((~ended).sum())
    assert res.nit[~ended].tolist() == [stop_at] * int((~ended).sum())
    assert all(res.message[i].startswith("Interrupted") for i in np.flatnonzero(~ended))
    assert np.isfinite(res.x_best[~ended]).all() and np.isfinite(res.fun[~ended]).all()
    for name in ("x", "fun", "nit", "status"):
        np.testing.assert_array_equal(res[name][ended], full[name][ended])


def test_max_time_stops_every_running_problem():
    x0 = np.tile(X0, (50, 1))
    args = (T, np.tile(Y, (50, 1)), np.tile(W, 50))
    options = {"max_time": 0.2, "learning_rate": 1e-4, "gtol": 0.0, "maxiter": 10**9}
    many(x0, args, method="adam", options={**options, "maxiter": 1})  # compiled (or loaded)
    start = time.perf_counter()
    res = many(x0, args, method="adam", options=options)
    assert time.perf_counter() - start < 5.0
    assert res.status.tolist() == [6] * x0.shape[0]
    assert len(set(res.nit.tolist())) == 1 and res.nit[0] > 10
    assert np.isfinite(res.fun_best).all() and np.all(res.fun_best <= res.fun)
    assert all(m == "Maximum time (max_time) has been exceeded." for m in res.message)


# -- threads --------------------------------------------------------------------------------
def test_results_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(7)
    m = 700  # several blocks of problems
    x0, y, w = decay_data(m, seed=5)
    x0 += 0.01 * rng.standard_normal(x0.shape)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = many(x0, (T, y, w))
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        every = many(x0, (T, y, w))
    finally:
        numba.set_num_threads(before)
    assert_results_equal(one, every)
    assert one.success.all()


# -- problems that fail alone ---------------------------------------------------------------
def test_a_problem_with_nan_data_ends_alone_with_status_3():
    y = Y.copy()
    y[2, 10] = np.nan  # the loss of problem 2 is NaN at its start
    w = W.copy()
    w[5] = np.inf  # and problem 5's is inf
    args = (T, y, w)
    with np.errstate(invalid="ignore", over="ignore"):
        res = many(args=args)
        refs = reference(decay_inplace, X0, split_args(args, (1, 2)), jac="inplace")
    assert_rows_equal(res, refs)
    assert res.status[[2, 5]].tolist() == [3, 3]
    others = np.setdiff1d(np.arange(M), [2, 5])
    assert res.success[others].all()


# -- a property: any subset, any order of problems ------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.integers(0, M - 1), min_size=1, max_size=6),
    shift=st.floats(-0.3, 0.3),
)
def test_any_selection_of_problems_gives_their_rows(rows, shift):
    """Problem i's result depends on problem i only: not on M, the order or the others."""
    rows = np.array(rows)
    x0 = X0[rows] + shift
    res = many(x0, (T, Y[rows], W[rows]))
    full = many(X0 + shift)
    for k, i in enumerate(rows):
        for name in ("x", "fun", "nit", "nfev", "status"):
            np.testing.assert_array_equal(res[name][k], full[name][i], err_msg=name)
