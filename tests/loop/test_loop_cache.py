"""The in-process cache of compiled loops: bounded, least recently used first out, and
a warning, once per code, when new function objects of the same code keep compiling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numba import njit

import numopt
from numopt.loop import compiled
from numopt.loop.loop_cache import MAX_LOOPS, LoopCache, RecompileWarning


def closure(c):
    def fun(x):
        return float(np.sum((x - c) ** 2))

    return fun


def test_the_cache_keeps_the_most_recently_used_loops():
    cache = LoopCache("loop", maxsize=3)
    built = []

    def build(k):
        def make():
            built.append(k)
            return f"loop {k}"

        return make

    fun = closure(0.0)
    for k in (1, 2, 3):
        assert cache.get((k,), build(k), fun) == f"loop {k}"
    assert cache.get((1,), build(1), fun) == "loop 1"  # kept, and now the most recent
    cache.get((4,), build(4), fun)  # drops 2, the least recently used
    assert len(cache) == 3 and built == [1, 2, 3, 4]
    cache.get((2,), build(2), fun)
    assert built == [1, 2, 3, 4, 2]
    cache.get((1,), build(1), fun)  # 1 survived: 3 went when 2 came back
    assert built == [1, 2, 3, 4, 2]


def test_a_new_function_object_of_the_same_code_warns_once():
    cache = LoopCache("compiled loop")
    funs = [closure(float(c)) for c in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecompileWarning)
        cache.get(("a",), lambda: 1, funs[0])
        cache.get(("b",), lambda: 2, funs[0])  # the same function, another key: no warning
        assert cache.churn_reason(funs[0]) is None
    with pytest.warns(RecompileWarning, match=r"'fun'.*pass the data through args"):
        assert "a closure?" in cache.churn_reason(funs[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecompileWarning)
        cache.get(("c",), lambda: 3, funs[1])  # compiled=True: once per code, warned
        for fun in funs[2:]:
            assert cache.churn_reason(fun) is not None
        assert cache.churn_reason(closure) is None  # another code, never compiled


def test_auto_runs_closures_in_python_and_warns_once_per_code():
    """Issue 24: a closure per data set compiled a new loop per call (seconds, ~8 MB of
    machine code never given back).  ``auto`` runs a closure's short run in the Python
    loop, with the same result bit for bit, says why, and warns once per code when a
    second function object of the same code comes."""
    assert isinstance(compiled._LOOPS, LoopCache) and compiled._LOOPS.maxsize == MAX_LOOPS

    def fit(c, **options):
        @njit
        def loss(x, g):
            g[:] = 2.0 * (x - c)
            return float(np.sum((x - c) ** 2))

        options = {"maxiter": 30, **options}
        return numopt.minimize(loss, np.zeros(2), jac="inplace", method="adam", options=options)

    first = fit(1.0)
    assert not first.compiled and "captures values" in first.compiled_reason
    with pytest.warns(RecompileWarning, match="'loss'"):
        res = fit(2.0)
    assert not res.compiled and "a closure?" in res.compiled_reason
    ref = fit(2.0, compiled=False)
    np.testing.assert_array_equal(res.x, ref.x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecompileWarning)  # once per code
        assert not fit(3.0).compiled
