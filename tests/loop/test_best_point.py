"""The best point, written in the update's own pass (issue: minimize's bookkeeping fused).

Above the serial/parallel switch-over the step's kernel writes ``x`` as it was into
the best point on the iterations that improve (the *keeping* variant of the CPU
loops), instead of a copy before the step.  These tests pin what that must not
change: the kernel's step equals the plain kernel's bit for bit and its ``best`` is
``x`` before the step; and a ``minimize`` run's ``x_best``/``fun_best`` are those of
the best point a hand-written loop passes through, whatever ends the run — in the
Python and the compiled loop, bounded or not, below and above the switch-over.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit
from rule_table import BOUNDED_VARIANTS, VARIANTS, make

import numopt
from numopt.kernels.arrays import flat_pair
from numopt.kernels.cpu import SERIAL_BELOW, cpu_loops

N_PARALLEL = 2 * SERIAL_BELOW  # the prange kernels and reductions


# -- the kernel ----------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    dtype=st.sampled_from([np.float32, np.float64]),
    bounded=st.booleans(),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_the_keeping_step_is_the_step_and_keeps_x_before_it(variant, dtype, bounded, seed, data):
    hp = data.draw(VARIANTS[variant][2])
    bounded = bounded and variant in BOUNDED_VARIANTS  # Schedule-Free refuses bounds
    rng = np.random.default_rng(seed)
    n = N_PARALLEL + int(rng.integers(0, 100))
    x0 = rng.standard_normal(n).astype(dtype)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(3)]
    box = None
    if bounded:
        lo, hi = np.full(n, -0.8, dtype), np.full(n, 0.9, dtype)
        x0 = np.clip(x0, lo, hi)
    runs = []
    for keep in (False, True):
        opt = make(variant, "parallel", **hp)
        if bounded:
            opt.bounds = (lo, hi)
        x = x0.copy()
        for g in grads:
            pair = flat_pair(x, g)
            box = None if opt._bounds is None else opt._box_for(pair.layout)
            best = np.full(n, np.nan, dtype) if keep else None
            before = x.copy()
            opt._apply(pair, box, best)
            if keep:
                assert np.array_equal(best, before, equal_nan=True)  # (NaN steps: kept too)
        runs.append((x, [a.copy() for a in opt.state.values()]))
    (xa, sa), (xb, sb) = runs
    assert np.array_equal(xa, xb, equal_nan=True)
    for a, b in zip(sa, sb, strict=True):
        assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("bounded", [False, True])
def test_keeping_loops_have_their_own_cache_entries(bounded):
    from numopt.rules.gd import body

    plain, keeping = cpu_loops(body, bounded=bounded), cpu_loops(body, bounded=bounded, keep=True)
    assert plain.parallel is not keeping.parallel
    assert "keep" in keeping.parallel.py_func.__qualname__
    assert "keep" not in plain.parallel.py_func.__qualname__


# -- minimize ------------------------------------------------------------------------------
@njit(cache=True)
def bumpy(x, g, a):  # pragma: no cover - compiled
    """``Σ aᵢxᵢ²/2``; with :func:`data`'s curvatures a large step first lowers the loss,
    then raises it (GD) or makes it go up and down (Adam)."""
    f = 0.0
    for i in range(x.size):
        f += 0.5 * a[i] * x[i] * x[i]
        g[i] = a[i] * x[i]
    return f


def data(n):
    """``x0`` and curvatures: 5% of the entries too curved for the step (growing slowly
    from near 0), the others converging."""
    rng = np.random.default_rng(n)
    a = np.where(rng.random(n) < 0.05, 4.1, 1.0)
    return np.where(a > 2, 0.01, rng.uniform(-2, 2, n)), a


def replay(rule, x0, a, iterations, lr, bounds=None):
    """The points and losses a hand-written loop passes through (f before each step)."""
    opt = numopt.RULES[rule](lr)
    if bounds is not None:
        opt.bounds = bounds
    x, g = x0.copy(), np.empty_like(x0)
    xs, fs = [], []
    for _ in range(iterations):
        fs.append(bumpy(x, g, a))
        xs.append(x.copy())
        opt.step(x, g)
    fs.append(bumpy(x, g, a))  # the final point, which the result evaluates
    xs.append(x.copy())
    return xs, fs


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
@pytest.mark.parametrize("bounded", [False, True], ids=["free", "bounded"])
@pytest.mark.parametrize("n", [64, N_PARALLEL], ids=["serial", "parallel"])
@pytest.mark.parametrize("rule", ["gd", "adam"])
def test_x_best_is_the_best_point_passed_through(rule, n, bounded, compiled):
    x0, a = data(n)
    lr = 0.5 if rule == "gd" else 0.3
    bounds = (np.full(n, -1.5), np.full(n, 1.7)) if bounded else None
    if bounded:
        x0 = np.clip(x0, *bounds)
    iterations = 25
    xs, fs = replay(rule, x0, a, iterations, lr, bounds)
    assert np.argmin(fs) not in (0, len(fs) - 1), "the problem should have a best point inside"
    res = numopt.minimize(
        bumpy, x0, args=(a,), jac="inplace", method=rule,
        bounds=None if bounds is None else list(zip(*bounds, strict=True)),
        options={"learning_rate": lr, "maxiter": iterations, "gtol": 0.0, "ftol": 0.0,
                 "compiled": compiled},
    )  # fmt: skip
    assert res.compiled == compiled and res.nit == iterations
    best = int(np.argmin(fs))
    assert res.fun_best == fs[best]
    assert np.array_equal(res.x_best, xs[best])
    assert np.array_equal(res.x, xs[-1])


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
@pytest.mark.parametrize("n", [64, N_PARALLEL], ids=["serial", "parallel"])
def test_a_run_that_stops_at_an_improving_point_keeps_it(n, compiled):
    rng = np.random.default_rng(1)
    x0, a = rng.uniform(-0.3, 0.3, n), rng.uniform(0.5, 2.0, n)
    res = numopt.minimize(
        bumpy, x0, args=(a,), jac="inplace", method="gd",
        options={"learning_rate": 0.1, "maxiter": 10_000, "gtol": 1e-6, "compiled": compiled},
    )  # fmt: skip
    assert res.status == 0 and res.compiled == compiled
    assert np.array_equal(res.x_best, res.x) and res.fun_best == res.fun
