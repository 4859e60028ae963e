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
    with pytest.warns(RecompileWarning, match=r"'fun'.*pass the data through args"):
        cache.get(("c",), lambda: 3, funs[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecompileWarning)
        for k, fun in enumerate(funs[2:]):  # once per code
            cache.get(("d", k), lambda: 4, fun)
        cache.get(("e",), lambda: 5, closure)  # another code, seen once


def test_minimize_warns_for_closures_and_keeps_memory_bounded():
    assert isinstance(compiled._LOOPS, LoopCache) and compiled._LOOPS.maxsize == MAX_LOOPS

    def fit(c):
        @njit
        def loss(x, g):
            g[:] = 2.0 * (x - c)
            return float(np.sum((x - c) ** 2))

        return numopt.minimize(
            loss, np.zeros(2), jac="inplace", method="gd", options={"maxiter": 3}
        )

    res = fit(1.0)
    assert res.compiled
    with pytest.warns(RecompileWarning, match="'loss'"):
        res = fit(2.0)
    assert res.compiled and len(compiled._LOOPS) <= MAX_LOOPS
