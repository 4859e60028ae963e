"""The fused bounded CPU loops and the projected gradient's norm.

The bounded CPU loops must equal the unbounded step followed by ``np.clip``, bit for
bit, and have their own cache entries; the projected gradient's norm (the stopping
test under bounds) must equal its NumPy definition on any thread count.
``minimize(bounds=...)`` is tested in tests/front/test_minimize_bounds.py, the
forms of ``bounds=`` in tests/problem/test_bounds.py, ``opt.bounds`` in
tests/rules/test_stateful_bounds.py.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from box_problem import fg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_table import BOUNDED_VARIANTS, VARIANTS, make

import numopt
from numopt.kernels.cpu import SERIAL_BELOW, cpu_loops
from numopt.kernels.norms import inf_norm, projected_grad_norm


def bounded_loops(body):
    """The serial and parallel bounded loops of an element body."""
    return cpu_loops(body, bounded=True)


# -- the kernels ---------------------------------------------------------------------------
def problem(seed, n, dtype, steps=5):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    grads = [(rng.standard_normal(n) * 3).astype(dtype) for _ in range(steps)]
    lo = np.where(rng.random(n) < 0.2, -np.inf, -0.5 - rng.random(n)).astype(dtype)
    hi = np.where(rng.random(n) < 0.2, np.inf, 0.5 + rng.random(n)).astype(dtype)
    x0 = np.clip(x0, lo, hi)
    return x0, grads, lo, hi


def run_steps(variant, backend, hp, x0, grads, bounds=None, clip_after=None):
    """Steps of a fresh optimizer: with ``bounds`` set, or followed by np.clip."""
    opt = make(variant, backend, **hp)
    if bounds is not None:
        opt.bounds = bounds
    x = x0.copy()
    for g in grads:
        opt.step(x, g)
        if clip_after is not None:
            np.clip(x, *clip_after, out=x)
    return x, [a.copy() for a in opt.state.values()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(BOUNDED_VARIANTS),
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.sampled_from([0, 1, 7, 33, 300, SERIAL_BELOW + 5]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_bounded_kernels_equal_the_step_then_clip(variant, dtype, n, seed, data):
    hp = data.draw(VARIANTS[variant][2])
    x0, grads, lo, hi = problem(seed, n, dtype)
    # NumPy reference then np.clip: the contract, to the kernels' usual 4 ulps
    want, _ = run_steps(variant, "numpy", hp, x0, grads, clip_after=(lo, hi))
    for backend in ("serial", "parallel"):
        # the unbounded kernel then np.clip: the fused clamp must change no bit
        exact, exact_state = run_steps(variant, backend, hp, x0, grads, clip_after=(lo, hi))
        got, got_state = run_steps(variant, backend, hp, x0, grads, bounds=(lo, hi))
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, exact)
        for a, b in zip(got_state, exact_state, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_max_ulp(got, want, maxulp=4)
        # inside the box, but for a NaN (a diverged entry is not clamped: it stays visible)
        assert np.all(np.isnan(got) | ((got >= lo) & (got <= hi)))
    # the NumPy backend with bounds is the reference followed by np.clip
    got, _ = run_steps(variant, "numpy", hp, x0, grads, bounds=(lo, hi))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("variant", BOUNDED_VARIANTS)
def test_bounded_serial_and_parallel_are_bit_identical(variant):
    x0, grads, lo, hi = problem(3, 3 * SERIAL_BELOW + 1, np.float64)
    serial, _ = run_steps(variant, "serial", {}, x0, grads, bounds=(lo, hi))
    parallel, _ = run_steps(variant, "parallel", {}, x0, grads, bounds=(lo, hi))
    np.testing.assert_array_equal(serial, parallel)


def test_clamp_is_np_clip_on_signed_zeros_and_keeps_nan():
    from numopt.rules.gd import body

    theta = np.array([-0.0, 0.0, 0.5, 0.5, 0.5])
    g = np.array([0.0, 0.0, np.nan, np.inf, -np.inf])
    lo = np.array([0.0, -0.0, 0.0, 0.0, 0.0])
    hi = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    want = np.clip(theta - 1.0 * g, lo, hi)
    c = np.array([1.0, 0.0, np.inf, 1.0])  # η, λ, clip_value, sign
    for loop in bounded_loops(body):
        x = theta.copy()
        loop(x, g, np.empty((0, 5)), c, lo, hi)
        np.testing.assert_array_equal(x, want)
        assert np.array_equal(np.signbit(x), np.signbit(want))
        assert math.isnan(x[2])  # NaN is not clamped: divergence stays visible


def test_by_hand_gd_step_is_clamped():
    opt = numopt.GD(learning_rate=0.5, backend="serial")
    opt.bounds = (np.array([0.0, -1.0, -np.inf]), 1.0)
    x = np.array([0.2, 0.0, 3.0])
    opt.step(x, np.array([1.0, 4.0, 2.0]))  # unbounded: [-0.3, -2.0, 2.0]
    np.testing.assert_array_equal(x, [0.0, -1.0, 1.0])


def test_unbounded_path_is_unchanged(monkeypatch):
    """No bounds: the unbounded loops run, and bounds of ±inf give the same bits."""
    x0, grads, _, _ = problem(5, 100, np.float64)
    want, _ = run_steps("adam", "serial", {}, x0, grads)
    got, _ = run_steps("adam", "serial", {}, x0, grads, bounds=(None, None))
    np.testing.assert_array_equal(got, want)

    real = cpu_loops

    def refuse(body, clip_value=False, bounded=False):
        if bounded:
            raise AssertionError("the bounded loops ran without bounds")
        return real(body, clip_value, bounded)

    monkeypatch.setattr("numopt.kernels.launch.cpu_loops", refuse)
    opt = numopt.Adam(backend="serial")
    opt.bounds = (0, 1)
    opt.bounds = None  # removed: back to the unbounded loop
    x = x0.copy()
    for g in grads:
        opt.step(x, g)
    np.testing.assert_array_equal(x, want)
    res = numopt.minimize(fg, np.zeros(4), method="adam", jac=True, options={"maxiter": 5})
    assert res.nit == 5


def test_one_signature_per_dtype():
    from numopt.rules.adam import body

    loops = bounded_loops(body)
    for dtype in (np.float32, np.float64):
        opt = numopt.Adam(backend="serial")
        opt.bounds = (-1, 1)
        for _ in range(3):
            opt.step(np.zeros(4, dtype), np.ones(4, dtype))
    assert len(loops.serial.signatures) == 2


def test_cpu_bounds_module_is_separate_from_the_unbounded_loops():
    """The bounded loops have their own cache entries (qualified names)."""
    from numopt.rules.adam import body

    names = {f.py_func.__qualname__ for f in (*bounded_loops(body), *cpu_loops(body))}
    assert len(names) == 4
    assert all("_bounded_" in n for n in (f.py_func.__qualname__ for f in bounded_loops(body)))


# -- the projected gradient's norm ------------------------------------------------------------
def projected_reference(x, g, lo, hi):
    """``max|P(x - g) - x|`` computed as ``min(|g|, room)`` in NumPy."""
    room = np.where(g > 0, x - lo, hi - x)
    return float(np.max(np.minimum(np.abs(g), room), initial=0.0))


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.sampled_from([0, 1, 5, 100, SERIAL_BELOW + 3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_projected_grad_norm_matches_numpy(dtype, n, seed):
    rng = np.random.default_rng(seed)
    x0, grads, lo, hi = problem(seed, n, dtype, steps=1)
    at_bound = rng.random(n) < 0.3
    x = np.where(at_bound & (rng.random(n) < 0.5) & np.isfinite(lo), lo, x0)
    x = np.where(at_bound & np.isfinite(hi), hi, x).astype(dtype)
    x = np.clip(x, lo, hi)
    g = grads[0]
    got = projected_grad_norm(x, g, lo, hi)
    assert got == projected_reference(x, g, lo, hi)
    # the definition, up to the rounding of x - g
    if n:
        naive = float(np.max(np.abs(np.clip(x - g, lo, hi) - x)))
        eps = float(np.finfo(dtype).eps)
        slack = 4 * eps * float(np.max(np.abs(x)) + np.max(np.abs(g)))
        assert got == pytest.approx(naive, rel=0, abs=slack)
    # infinite bounds: exactly max|g|
    inf = np.full(n, np.inf, dtype)
    assert projected_grad_norm(x, g, -inf, inf) == inf_norm(g)
    # maximize: the step goes along +g
    assert projected_grad_norm(x, g, lo, hi, sign=-1.0) == projected_reference(x, -g, lo, hi)


def test_projected_grad_norm_by_hand_and_non_finite():
    x, lo, hi = np.array([0.0, 0.5, 1.0, 0.9]), np.zeros(4), np.ones(4)
    # at lo pushed down: 0; interior: |g|; at hi pushed up: 0; 0.1 from hi pushed up: 0.1
    assert projected_grad_norm(x, np.array([2.0, -0.3, -7.0, -5.0]), lo, hi) == pytest.approx(0.3)
    assert projected_grad_norm(x, np.array([2.0, 0.0, -7.0, -5.0]), lo, hi) == pytest.approx(0.1)
    for bad in (np.nan, np.inf, -np.inf):  # hidden behind a bound, still reported
        assert math.isnan(projected_grad_norm(x, np.array([bad, 0.0, 0.0, 0.0]), lo, hi))
        big = np.zeros(SERIAL_BELOW + 1)
        big[-1] = bad
        assert math.isnan(projected_grad_norm(big, big.copy(), big - 1, big + 1))
    assert math.isnan(projected_grad_norm(np.array([np.nan]), np.ones(1), lo[:1], hi[:1]))
    assert projected_grad_norm(x[:0], x[:0], lo[:0], hi[:0]) == 0.0


def test_projected_grad_norm_is_the_same_for_any_thread_count():
    x0, grads, lo, hi = problem(11, 3 * SERIAL_BELOW, np.float64, steps=1)
    before = numba.get_num_threads()
    try:
        got = set()
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            got.add(projected_grad_norm(x0, grads[0], lo, hi))
    finally:
        numba.set_num_threads(before)
    assert len(got) == 1
