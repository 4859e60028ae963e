"""``compiled="auto"`` starts a closure's run in the Python loop and moves a long run, or
a function called often enough, to the compiled loop (numopt/loop/switch.py), with the
same result bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numba import njit

import numopt
from numopt.loop import switch
from numopt.loop.loop_cache import RecompileWarning


@njit
def quartic(x, g):
    g[:] = 4.0 * x**3 - 1.0
    return float(np.sum(x**4 - x))


def fit(c, maxiter, **options):
    """A closure per data set, as a helper that fits one data set would define it."""

    @njit
    def loss(x, g):
        r = x - c
        g[:] = 2.0 * r * (1.0 + r * r)
        return float(np.sum(r * r + 0.5 * r**4))

    options = {"maxiter": maxiter, "gtol": 0.0, "learning_rate": 0.01, **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecompileWarning)
        return numopt.minimize(loss, np.zeros(3), jac="inplace", method="adam", options=options)


@pytest.fixture
def cheap_compiles(monkeypatch):
    """A switch as soon as the first chunk ends (compiling is predicted to cost ~nothing)."""
    monkeypatch.setattr(switch, "COMPILE_SECONDS", 1e-9)


def same(a, b):
    assert np.array_equal(a.x, b.x) and a.fun == b.fun
    assert np.array_equal(a.x_best, b.x_best) and a.fun_best == b.fun_best
    assert (a.nit, a.nfev, a.status) == (b.nit, b.nfev, b.status)


def test_a_long_closure_run_switches_and_gives_the_python_loops_bits(cheap_compiles):
    first = fit(np.array([1.0, 2.0, 3.0]), 10)
    assert not first.compiled  # one chunk: the run ended before any switch
    assert "captures values" in first.compiled_reason
    c = np.array([0.5, -1.0, 2.0])
    moved = fit(c, 5000, history=True)
    assert moved.compiled and moved.compiled_reason.startswith("the Python loop ran the first")
    python = fit(c, 5000, history=True, compiled=False)
    whole = fit(c, 5000, history=True, compiled=True)
    same(moved, python)
    same(moved, whole)
    for key in ("fun", "grad_norm", "learning_rate"):
        assert np.array_equal(moved.history[key], python.history[key]), key


def test_a_module_function_compiles_at_once():
    res = numopt.minimize(quartic, np.zeros(3), jac="inplace", method="adam",
                          options={"maxiter": 10})  # fmt: skip
    assert res.compiled and res.compiled_reason is None


def test_a_closure_called_often_compiles_once_its_python_time_passes_compiling(
    monkeypatch,
):
    c = np.array([0.5, -1.0, 2.0])

    @njit
    def loss(x, g):
        r = x - c
        g[:] = 2.0 * r
        return float(np.sum(r * r))

    def run(**options):
        options = {"maxiter": 40, "gtol": 0.0, "learning_rate": 0.01, **options}
        return numopt.minimize(loss, np.zeros(3), jac="inplace", method="adam", options=options)

    first = run()  # its one chunk compiled the objective: not counted as the loop's pace
    assert not first.compiled and switch.spent(loss) == 0.0
    first = run()
    assert not first.compiled and switch.spent(loss) > 0.0
    monkeypatch.setattr(switch, "COMPILE_SECONDS", switch.spent(loss))
    again = run()  # its Python time so far has paid for a compile: compiled from the start
    assert again.compiled and again.compiled_reason is None
    monkeypatch.setattr(switch, "COMPILE_SECONDS", 1e9)
    kept = run()  # the loop is in memory: no reason left to run Python
    assert kept.compiled
    same(first, again)
    same(first, kept)


def test_a_short_run_stays_in_python():
    fit(np.ones(3), 10)
    res = fit(np.full(3, 2.0), 200)
    assert not res.compiled and "a closure?" in res.compiled_reason


def test_the_prediction_needs_a_long_rest():
    class Run:
        planned = 10_000
        state = type("S", (), {"nit": 100, "skipped": 0})()
        objective = type("O", (), {"fun": quartic})()  # no time in Python yet

    # 9 900 updates left at 10 µs each: 0.1 s, not worth 2 s of compiling
    assert not switch.due(Run, 100, 100 * 1e-5)
    # ... at 1 ms each: 9.9 s
    assert switch.due(Run, 100, 100 * 1e-3)
    Run.planned = None  # unbounded: no prediction
    assert not switch.due(Run, 100, 100 * 1e-3)


def test_compiled_false_never_switches(cheap_compiles):
    fit(np.ones(3), 10)
    assert not fit(np.full(3, 2.0), 500, compiled=False).compiled
