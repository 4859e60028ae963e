"""``minimize`` leaves no reference cycle behind: its arrays are freed when it returns.

A cycle through the run (a service closure holding the loop that holds it, a bound
method of the run kept by one of its own attributes) keeps ``x``, ``g``, the best
point and the rule's state alive until Python's cycle collector happens to run — which
it does by counting objects, not bytes.  At 10⁸ parameters each such run held 4 GB;
five calls in a row exhausted a 24 GB machine.  Each case runs once to warm every
cache, then again with the collector off: nothing may be left for it to find.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import numopt


def quadratic(x):
    return 0.5 * float(x @ x), x.copy()


def batch_quadratic(x, batch):
    return 0.5 * float(x @ x) + 0.0 * float(batch.sum()), x.copy()


def value_only(x):
    return 0.5 * float(x @ x)


def dict_quadratic(p):
    f = 0.5 * float(np.sum(p["a"] ** 2) + np.sum(p["b"] ** 2))
    return f, {"a": p["a"].copy(), "b": p["b"].copy()}


N = 20
X0 = np.linspace(1.0, 2.0, N)
BOUNDS = [(0.5, 3.0)] * N
DATA = (np.arange(40.0),)

CASES = {
    "adam": (quadratic, X0, {"jac": True, "method": "adam"}),
    "bounds": (quadratic, X0, {"jac": True, "method": "adam", "bounds": BOUNDS}),
    "bounds-maximize": (
        lambda x: (-0.5 * float(x @ x), -x),
        X0,
        {"jac": True, "method": "adam", "bounds": BOUNDS, "options": {"maximize": True}},
    ),
    "batches": (
        batch_quadratic,
        X0,
        {"jac": True, "method": "sgd", "args": DATA, "options": {"batch_size": 8}},
    ),
    "callback": (
        quadratic,
        X0,
        {"jac": True, "method": "adam", "callback": lambda intermediate_result: None},
    ),
    "differences": (value_only, X0, {"method": "adam"}),
    "history": (quadratic, X0, {"jac": True, "method": "adam", "options": {"history": True}}),
    "lamb": (quadratic, X0, {"jac": True, "method": "lamb"}),
    "nadam": (quadratic, X0, {"jac": True, "method": "nadam"}),
    "l-bfgs-b": (quadratic, X0, {"jac": True, "method": "L-BFGS-B", "bounds": BOUNDS}),
    "lookahead": (
        quadratic,
        X0,
        {"jac": True, "method": numopt.Lookahead(numopt.Adam(1e-2), k=3, alpha=0.5)},
    ),
    "sam": (
        batch_quadratic,
        X0,
        {"jac": True, "method": "sgd", "args": DATA, "options": {"batch_size": 8, "sam": 0.05}},
    ),
    "structured": (
        dict_quadratic,
        {"a": np.ones(3), "b": np.ones((2, 2))},
        {"jac": True, "method": "adam"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_minimize_leaves_no_cycle(case):
    fun, x0, kw = CASES[case]
    kw = {**kw, "options": {"maxiter": 5, **kw.get("options", {})}}
    numopt.minimize(fun, x0, **kw)  # warm: compiled kernels, lazy imports
    gc.collect()
    gc.disable()
    try:
        res = numopt.minimize(fun, x0, **kw)
        assert res.nit >= 1
        del res
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0, f"{case}: minimize left {found} objects in reference cycles"


def test_large_run_memory_is_returned_at_once():
    """The arrays of a finished run are freed when its result is dropped, without a
    collection: the process's arrays do not pile up over calls."""
    import weakref

    gc.disable()
    try:
        holder = {}

        def fun(x):
            holder.setdefault("x", weakref.ref(x))  # the buffer minimize evaluates at
            return 0.5 * float(x @ x), x.copy()

        res = numopt.minimize(fun, np.ones(1000), jac=True, method="adam", options={"maxiter": 3})
        del res
        assert holder["x"]() is None
    finally:
        gc.enable()
