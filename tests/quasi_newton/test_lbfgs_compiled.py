"""L-BFGS-B's compiled loop against the loop run from Python, bit for bit.

Each test makes the same ``minimize`` call with ``compiled=True`` and
``compiled=False`` and compares the whole result with ``==``: ``x``, ``jac``,
``fun``, ``x_best``, ``fun_best``, the counts, the status and message, the history
and what the callbacks saw.  All use the extended Rosenbrock objectives of
``njit_objectives`` (one compiled loop per form, dtype and bounds; see there).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
from bounded_problems import BOUNDED
from mgh import problem
from njit_objectives import FORMS, INPLACE
from scipy.optimize import Bounds

import numopt
from numopt.loop.status import Status

ROSENBROCK = problem("rosenbrock").x0
XROSEN_100 = problem("extended_rosenbrock_100").x0
BOXED = {p.name: p for p in BOUNDED if p.inplace is INPLACE}


def both(fun, x0, jac, **kw):
    """The call compiled and from Python; what each run's callback saw."""
    out = []
    for compiled in (True, False):
        seen = []

        def cb(intermediate_result, seen=seen):
            seen.append((intermediate_result.nit, intermediate_result.fun, intermediate_result.x))

        options = {"history": True, **kw.pop("options", {}), "compiled": compiled}
        res = numopt.minimize(
            fun, x0.copy(), jac=jac, method="l-bfgs-b", callback=cb, options=options, **kw
        )
        out.append((res, seen))
        kw["options"] = {k: v for k, v in options.items() if k != "compiled"}
    return out


def assert_same(runs):
    (fast, fast_seen), (slow, slow_seen) = runs
    assert fast.compiled and not slow.compiled
    for key in ("x", "jac", "x_best"):
        assert fast[key].dtype == slow[key].dtype
        np.testing.assert_array_equal(fast[key], slow[key], err_msg=key)
    for key in ("fun", "fun_best", "nit", "nfev", "njev", "status", "message", "success"):
        assert fast[key] == slow[key], key
    assert fast.history.keys() == slow.history.keys()
    for key, series in fast.history.items():
        np.testing.assert_array_equal(series, slow.history[key], err_msg=key)
    assert len(fast_seen) == len(slow_seen)
    for (n1, f1, x1), (n2, f2, x2) in zip(fast_seen, slow_seen, strict=True):
        assert n1 == n2 and f1 == f2
        np.testing.assert_array_equal(x1, x2)
    return slow


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("x0", [ROSENBROCK, XROSEN_100], ids=["n2", "n100"])
def test_each_objective_form(form, x0):
    fun, jac = FORMS[form]
    res = assert_same(both(fun, x0, jac))
    assert res.status in (Status.GTOL, Status.FTOL) and res.fun < 1e-10


def test_the_three_forms_are_one_trajectory():
    """The forms evaluate the same operations: one result, whichever form and loop."""
    results = [assert_same(both(fun, ROSENBROCK, jac)) for fun, jac in FORMS.values()]
    for res in results[1:]:
        np.testing.assert_array_equal(res.x, results[0].x)
        assert (res.nit, res.nfev) == (results[0].nit, results[0].nfev)


@pytest.mark.parametrize("name", sorted(BOXED))
def test_bounded_float64(name):
    p = BOXED[name]
    res = assert_same(both(INPLACE, p.x0, "inplace", bounds=p.bounds))
    lb, ub = np.broadcast_to(p.bounds.lb, p.n), np.broadcast_to(p.bounds.ub, p.n)
    assert np.all(lb <= res.x) and np.all(res.x <= ub)


FLOAT32 = {
    "rosenbrock_box": (BOXED["rosenbrock_box"].x0, BOXED["rosenbrock_box"].bounds),
    "extended_rosenbrock_10_mixed": (
        BOXED["extended_rosenbrock_10_mixed"].x0,
        BOXED["extended_rosenbrock_10_mixed"].bounds,
    ),
    # infinite bounds: the unbounded algorithm (the two-loop recursion) in float32
    "extended_rosenbrock_10_free": (problem("extended_rosenbrock_10").x0, Bounds(-np.inf, np.inf)),
}


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_float32(name):
    x0, bounds = FLOAT32[name]
    res = assert_same(both(INPLACE, x0.astype(np.float32), "inplace", bounds=bounds))
    assert res.x.dtype == np.float32 and res.jac.dtype == np.float32
    assert np.all(np.isfinite(res.x)) and res.nit > 5


STOPS = {
    Status.MAXITER: {"maxiter": 7},
    Status.MAXFEV: {"maxfun": 12},
    Status.LINE_SEARCH: {"maxls": 1},  # the first search fails along steepest descent
    Status.FTOL: {"ftol": 1e-4, "gtol": 0.0},
    Status.GTOL: {"gtol": 1e-3},
}


@pytest.mark.parametrize("status", sorted(STOPS), ids=lambda s: Status(s).name)
@pytest.mark.parametrize("bounded", [False, True], ids=["free", "boxed"])
def test_every_stop(status, bounded):
    p = BOXED["extended_rosenbrock_10_mixed"] if bounded else problem("extended_rosenbrock_10")
    res = assert_same(both(INPLACE, p.x0, "inplace", bounds=p.bounds, options=STOPS[status]))
    assert res.status == status, res.message


def test_a_callback_that_stops_the_run():
    def stop(intermediate_result):
        return intermediate_result.nit == 9

    runs = [
        numopt.minimize(
            INPLACE,
            XROSEN_100.copy(),
            jac="inplace",
            method="l-bfgs-b",
            callback=stop,
            options={"compiled": compiled},
        )
        for compiled in (True, False)
    ]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert [(r.status, r.nit, r.nfev) for r in runs] == [(99, 9, runs[1].nfev)] * 2


def test_disp_and_callback_every(capsys):
    outputs = []
    for compiled in (True, False):
        numopt.minimize(
            INPLACE,
            XROSEN_100.copy(),
            jac="inplace",
            method="l-bfgs-b",
            options={"disp": True, "maxiter": 30, "compiled": compiled},
        )
        outputs.append(capsys.readouterr().out.split("\n", 1))
    # the first line names the loop; the table and the summary are the same
    assert [o[0] for o in outputs] == ["compiled loop", "Python loop (compiled=False)"]
    assert outputs[0][1] == outputs[1][1] and "Iterations: 30" in outputs[0][1]
    runs = both(INPLACE, XROSEN_100, "inplace", options={"callback_every": 4})
    assert_same(runs)
    assert [nit for nit, _, _ in runs[0][1]] == list(range(4, runs[0][0].nit + 1, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_step_pointer_names_the_types_the_loop_calls_it_with(dtype):
    """The compiled loop calls L-BFGS-B's step through its address; the check number
    the context carries (computed in Python) is the one the loop computes for its own
    argument types, and a wrong one is refused, not called."""
    from numba import njit

    from numopt.loop import intrinsics
    from numopt.loop.compiled import _advance
    from numopt.quasi_newton import lbfgsb, method, workspace

    x = np.array([-1.2, 1.0], dtype)
    g = np.zeros_like(x)
    work = workspace.new(x.size, 10, 20)
    lbfgsb.initialize(work, x, x[:0], x[:0])
    address, check = method.step_pointer(work, x, g, x[:0], x[:0])
    assert method.step_pointer(work, x, g, x[:0], x[:0]) == (address, check)

    @njit
    def loop_side(w, x, g, f, lo, hi, code):
        return intrinsics.signature_check((w, x, g, f, lo, hi, code))

    assert loop_side(work, x, g, 1.0, x[:0], x[:0], lbfgsb.START) == check

    # _advance, the compiled loop's service, called apart: right check, wrong check
    advance = njit(_advance.py_func)
    Ctx = collections.namedtuple("Ctx", "lo hi step")
    f = 24.2  # Rosenbrock at (-1.2, 1), with its gradient
    g[:] = [-215.6, -88.0]
    start = x.copy()
    assert advance(Ctx(x[:0], x[:0], (address, check)), work, x, g, f, lbfgsb.START) == (
        lbfgsb.EVALUATE
    )
    assert not np.array_equal(x, start)  # the line search's first trial point
    with pytest.raises(TypeError, match="other argument types"):
        advance(Ctx(x[:0], x[:0], (address, check + 1)), work, x, g, f, lbfgsb.EVALUATE)


@pytest.mark.parametrize("compiled", [False, True])
def test_without_bounds_the_free_step_gives_the_full_steps_bits(monkeypatch, compiled):
    """Without bounds L-BFGS-B runs ``free_step``, its step with the box's code left
    out (half the first compilation); ``step``, forced to run there instead, makes the
    same iterations to the same bits.  With bounds, ``step``."""
    from numopt.quasi_newton import lbfgsb, method

    x0 = np.array([-1.2, 1.0])
    assert lbfgsb.step_for(x0[:0]) is lbfgsb.free_step
    assert lbfgsb.step_for(np.full(2, -np.inf)) is lbfgsb.step

    def run():
        options = {"compiled": compiled, "history": True}
        return numopt.minimize(INPLACE, x0.copy(), jac="inplace", method="l-bfgs", options=options)

    free = run()
    assert free.success and free.compiled == compiled
    monkeypatch.setattr(lbfgsb, "step_for", lambda lo: lbfgsb.step)
    monkeypatch.setattr(method, "_COMPILED", {})  # the step compiled for each run, by types
    full = run()
    assert (full.nit, full.nfev, full.fun) == (free.nit, free.nfev, free.fun)
    assert full.x.tobytes() == free.x.tobytes()
    assert np.array_equal(full.history["learning_rate"], free.history["learning_rate"])
