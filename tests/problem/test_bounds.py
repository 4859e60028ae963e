"""Box bounds: the fused bounded kernels, ``opt.bounds``, ``minimize(bounds=...)``.

The bounded CPU loops must equal the unbounded step followed by ``np.clip``, bit for
bit; every iterate of every rule must lie inside the box; a quadratic whose
unconstrained minimum lies outside must converge to the projected solution, and
stop there on the projected gradient (status 0).
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import pytest
import scipy.optimize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_table import VARIANTS, make
from scipy.optimize import Bounds, OptimizeWarning

import numopt
import numopt.methods
from numopt.kernels.cpu import SERIAL_BELOW, cpu_loops
from numopt.kernels.norms import inf_norm, projected_grad_norm
from numopt.problem import bounds as _bounds
from numopt.problem.structure import Structure


def bounded_loops(body):
    """The serial and parallel bounded loops of an element body."""
    return cpu_loops(body, bounded=True)


# -- the problem: f = ½ Σ a (x − c)², its minimum c outside the box in 3 coordinates ------
A = np.array([1.0, 2.0, 3.0, 0.5])
C = np.array([2.0, -3.0, 0.5, 1.5])
LO = np.array([-1.0, -1.0, -1.0, 0.0])
HI = np.array([1.0, 1.0, 1.0, 1.0])
SOLUTION = np.clip(C, LO, HI)  # separable: the minimum over the box is the projection
ON_BOUNDARY = [0, 1, 3]


def fg(x):
    r = x - C.astype(x.dtype)
    return 0.5 * float(r @ (A * r)), (A * r).astype(x.dtype)


def pairs(lo=LO, hi=HI):
    return list(zip(lo.tolist(), hi.tolist(), strict=True))


#: options under which each rule converges on the problem above
OPTIONS = {
    "gd": {"learning_rate": 0.3},
    "sgd": {"learning_rate": 0.3},
    "momentum": {"learning_rate": 0.05, "beta": 0.8},
    "rmsprop": {"learning_rate": lambda k: 0.01 / (1 + k / 200)},
    "adam": {"learning_rate": 0.05},
    "adamw": {"learning_rate": 0.05, "weight_decay": 0.0},
    "adagrad": {"learning_rate": 0.5},
    "adadelta": {"learning_rate": 1.0},
    "adamax": {"learning_rate": 0.05},
    "nadam": {"learning_rate": 0.05},
    "radam": {"learning_rate": 0.05},
    "rprop": {"learning_rate": 0.05},
    "lion": {"learning_rate": lambda k: 0.01 / (1 + k / 100)},
    "lamb": {"learning_rate": 0.05},
}


def test_every_rule_has_options_here():
    assert set(OPTIONS) == set(numopt.RULES)


def inside(x, lo, hi):
    x = np.asarray(x)
    return bool(np.all(x >= lo.astype(x.dtype)) and np.all(x <= hi.astype(x.dtype)))


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
    variant=st.sampled_from(sorted(VARIANTS)),
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


@pytest.mark.parametrize("variant", sorted(VARIANTS))
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
    res = numopt.minimize(fg, np.zeros(4), jac=True, options={"maxiter": 5})
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


# -- minimize(bounds=...) ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["serial", "parallel"])
@pytest.mark.parametrize("method", sorted(numopt.RULES))
def test_every_iterate_is_inside_the_box(method, backend):
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.x.copy())

    res = numopt.minimize(
        fg,
        np.zeros(4),
        jac=True,
        method=method,
        bounds=pairs(),
        callback=callback,
        options={**OPTIONS[method], "maxiter": 300, "backend": backend},
    )
    assert len(seen) >= min(res.nit, 300) - 1 > 0
    for x in [*seen, res.x, res.x_best]:
        assert inside(x, LO, HI), x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", sorted(numopt.RULES))
def test_converges_to_the_projected_solution(method, dtype):
    gtol = 1e-6 if dtype == np.float64 else 1e-4
    res = numopt.minimize(
        fg,
        np.zeros(4, dtype),
        jac=True,
        method=method,
        bounds=pairs(),
        options={**OPTIONS[method], "maxiter": 20000, "gtol": gtol},
    )
    assert res.x.dtype == dtype
    # the coordinates whose minimum lies outside end exactly on their bound
    np.testing.assert_array_equal(res.x[ON_BOUNDARY], SOLUTION[ON_BOUNDARY].astype(dtype))
    np.testing.assert_allclose(res.x, SOLUTION, atol=1e-4 if dtype == np.float32 else 2e-5)
    if method != "lion":  # Lion's sign steps shrink with its schedule only
        assert res.status == 0 and res.success, res.message


def test_matches_scipy_lbfgsb_on_a_coupled_quadratic():
    H = np.array([[3.0, 1.0, 0.2], [1.0, 2.0, 0.5], [0.2, 0.5, 1.0]])
    b = np.array([4.0, -5.0, 1.0])

    def f(x):
        return 0.5 * x @ H @ x - b @ x

    def grad(x):
        return H @ x - b

    bounds = [(0.0, 1.0), (-1.0, None), (None, 0.5)]
    ref = scipy.optimize.minimize(
        f, np.zeros(3), jac=grad, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-12}
    )
    for method, options in (("gd", {"learning_rate": 0.2}), ("adam", {"learning_rate": 0.02})):
        res = numopt.minimize(
            f,
            np.zeros(3),
            jac=grad,
            method=method,
            bounds=bounds,
            options={**options, "maxiter": 50000, "gtol": 1e-9},
        )
        assert res.status == 0, res.message
        np.testing.assert_allclose(res.x, ref.x, atol=1e-7)


def test_gtol_tests_the_projected_gradient():
    """At the solution max|g| stays large (the bounds hold x back) but the projected
    gradient vanishes: the run stops with status 0."""
    res = numopt.minimize(
        fg,
        np.zeros(4),
        jac=True,
        method="gd",
        bounds=pairs(),
        options={"learning_rate": 0.3, "gtol": 1e-8, "history": True},
    )
    assert res.status == 0 and res.success
    assert np.max(np.abs(res.jac)) > 1.0  # the raw gradient at the solution
    assert projected_grad_norm(res.x, res.jac, LO, HI) <= 1e-8
    # history records the projected norm: at x0 = 0, max|g| = 6 but the box leaves 1
    assert res.history["grad_norm"][-1] <= 1e-8
    assert np.max(np.abs(fg(np.zeros(4))[1])) == 6.0 and res.history["grad_norm"][0] == 1.0


def test_maximize_uses_the_ascent_step():
    """maximize=True steps along +g: the projected gradient is P(x + g) - x."""
    res = numopt.minimize(
        lambda x: (-fg(x)[0], -fg(x)[1]),
        np.zeros(4),
        jac=True,
        method="gd",
        bounds=pairs(),
        options={"learning_rate": 0.3, "maximize": True, "gtol": 1e-10, "maxiter": 200},
    )
    # maximising -f with an ascent step on -f's gradient... is descending f
    assert res.status == 0
    np.testing.assert_allclose(res.x, SOLUTION, atol=1e-9)


def test_x0_outside_is_clipped_with_scipys_warning():
    seen = []
    with pytest.warns(OptimizeWarning, match="Initial guess is not within the specified bounds"):
        res = numopt.minimize(
            fg,
            np.array([5.0, -5.0, 0.0, 0.5]),
            jac=True,
            bounds=pairs(),
            callback=lambda xk: seen.append(xk.copy()),
            options={"learning_rate": 0.05, "maxiter": 3},
        )
    assert all(inside(x, LO, HI) for x in seen) and inside(res.x_best, LO, HI)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside (bounds included): no warning
        numopt.minimize(fg, HI.copy(), jac=True, bounds=pairs(), options={"maxiter": 2})


def test_clipped_x0_is_clipped_like_np_clip():
    x0 = np.array([5.0, -5.0, 0.25, -0.0])
    first = []
    with pytest.warns(OptimizeWarning):
        res = numopt.minimize(
            lambda x: first.append(x.copy()) or fg(x),
            x0,
            jac=True,
            method="gd",
            bounds=pairs(),
            options={"learning_rate": 0.1, "maxiter": 1},
        )
    np.testing.assert_array_equal(first[0], np.clip(x0, LO, HI))
    assert not np.signbit(first[0][3])  # np.clip(-0.0, 0.0, 1.0) is +0.0
    assert res.nit == 1


@pytest.mark.parametrize(
    "bounds",
    [
        [(None, 1.0), (-1.0, None), (None, None), (0.0, 1.0)],
        Bounds([-np.inf, -1.0, -np.inf, 0.0], [1.0, np.inf, np.inf, 1.0]),
        Bounds([None, -1.0, None, 0.0], [1.0, None, None, 1.0]),
        np.array([[-np.inf, 1.0], [-1.0, np.inf], [-np.inf, np.inf], [0.0, 1.0]]),
    ],
    ids=["pairs", "Bounds", "Bounds-None", "array"],
)
def test_mixed_none_bounds(bounds):
    res = numopt.minimize(
        fg,
        np.zeros(4),
        jac=True,
        method="adam",
        bounds=bounds,
        options={"learning_rate": 0.05, "maxiter": 5000, "gtol": 1e-7},
    )
    want = np.array([1.0, -1.0, 0.5, 1.0])  # C with x0 <= 1, x1 >= -1, x3 in [0, 1]
    np.testing.assert_allclose(res.x, want, atol=1e-6)
    assert res.status == 0


def test_scalar_bounds_broadcast_and_shaped_x0():
    x0 = np.zeros((2, 2))

    def f(x):
        r = x - C.reshape(2, 2)
        return 0.5 * float(np.sum(A.reshape(2, 2) * r * r)), A.reshape(2, 2) * r

    res = numopt.minimize(
        f, x0, jac=True, method="gd", bounds=Bounds(-1.0, 1.0), options={"learning_rate": 0.3}
    )
    np.testing.assert_allclose(res.x, np.clip(C, -1, 1).reshape(2, 2), atol=1e-6)
    # a Bounds whose arrays have x0's shape, read in x0's (C) order
    res = numopt.minimize(
        f,
        x0,
        jac=True,
        method="gd",
        bounds=Bounds(LO.reshape(2, 2), HI.reshape(2, 2)),
        options={"learning_rate": 0.3},
    )
    np.testing.assert_allclose(res.x, SOLUTION.reshape(2, 2), atol=1e-6)


def test_list_x0_takes_bounds_over_the_flattened_x0():
    def f(xs):
        x = np.concatenate(xs)
        v, g = fg(x)
        return v, [g[:3], g[3:]]

    res = numopt.minimize(
        f,
        [np.zeros(3), np.zeros(1)],
        jac=True,
        method="gd",
        bounds=pairs(),
        options={"learning_rate": 0.3},
    )
    assert isinstance(res.x, list)
    np.testing.assert_allclose(np.concatenate(res.x), SOLUTION, atol=1e-6)


def test_dict_x0_takes_bounds_per_array():
    def f(d):
        x = np.concatenate([d["w"].ravel(), d["b"]])
        v, g = fg(x)
        return v, {"w": g[:3].reshape(3, 1), "b": g[3:]}

    x0 = {"w": np.zeros((3, 1)), "b": np.zeros(1)}
    # per array: w's bounds broadcast from a column of its shape, b bounded above only
    res = numopt.minimize(
        f,
        x0,
        jac=True,
        method="gd",
        bounds={"w": (LO[:3].reshape(3, 1), 1.0), "b": (None, 1.0)},
        options={"learning_rate": 0.3, "gtol": 1e-10},
    )
    np.testing.assert_allclose(res.x["w"].ravel(), SOLUTION[:3], atol=1e-6)
    np.testing.assert_allclose(res.x["b"], [1.0], atol=1e-6)
    # a missing key is unbounded; the flat SciPy forms work for a dict x0 too
    res = numopt.minimize(
        f,
        x0,
        jac=True,
        method="gd",
        bounds={"w": Bounds(-1, 1)},
        options={"learning_rate": 0.3, "gtol": 1e-10},
    )
    np.testing.assert_allclose(res.x["b"], C[3:], atol=1e-6)
    res = numopt.minimize(
        f, x0, jac=True, method="gd", bounds=pairs(), options={"learning_rate": 0.3, "gtol": 1e-10}
    )
    np.testing.assert_allclose(res.x["w"].ravel(), SOLUTION[:3], atol=1e-6)


def test_bounds_are_cast_to_x_dtype():
    box = _bounds.for_structure([(0.1, 0.3)], Structure(np.zeros(1, np.float32)))
    assert box.lo.dtype == np.float32 and box.lo[0] == np.float32(0.1)
    res = numopt.minimize(
        lambda x: (float(x[0]), np.ones(1, np.float32)),
        np.array([0.2], np.float32),
        jac=True,
        method="gd",
        bounds=[(0.1, 0.3)],
        options={"learning_rate": 0.1},
    )
    assert res.x[0] == np.float32(0.1) and res.status == 0


def test_finite_differences_stay_inside_the_box():
    calls = []

    def f(x):
        calls.append(x.copy())
        if np.any(x < 0):
            return math.nan  # undefined outside the box
        return float(np.sum((x + 1.0) ** 2))

    res = numopt.minimize(
        f,
        np.ones(2),
        jac="3-point",
        method="gd",
        bounds=[(0, None), (0, None)],
        options={"learning_rate": 0.1, "gtol": 1e-6},
    )
    assert res.status == 0, res.message
    np.testing.assert_allclose(res.x, [0.0, 0.0], atol=1e-8)
    assert all(np.all(x >= 0) for x in calls)


def test_non_finite_gradient_is_still_detected():
    def f(x):
        return float(np.sum(x)), np.array([np.nan, -1.0])

    res = numopt.minimize(f, np.zeros(2), jac=True, bounds=[(0, 1), (0, 1)])
    assert res.status == 3 and "gradient" in res.message


def test_scipy_custom_method_passes_bounds_on():
    options = {"learning_rate": 0.05, "maxiter": 5000, "gtol": 1e-8}
    res = scipy.optimize.minimize(
        fg, np.zeros(4), jac=True, method=numopt.methods.adam, bounds=pairs(), options=options
    )
    want = numopt.minimize(fg, np.zeros(4), jac=True, bounds=pairs(), options=options)
    np.testing.assert_array_equal(res.x, want.x)
    res = scipy.optimize.minimize(
        fg, np.zeros(4), jac=True, method=numopt.methods.gd, bounds=Bounds(LO, HI)
    )
    assert inside(res.x, LO, HI)


def test_the_compiled_loop_takes_bounds():
    """Numba objectives run compiled with bounds (the bits are compared in
    tests/loop/test_compiled_equals_python.py)."""
    from numba import njit

    @njit(cache=False)
    def f(x):
        r = x - 2.0
        return 0.5 * np.sum(r * r)

    @njit(cache=False)
    def g(x):
        return x - 2.0

    res = numopt.minimize(f, np.zeros(3), jac=g, bounds=Bounds(-1, 1), options={"maxiter": 5})
    assert res.compiled and inside(res.x, -np.ones(3), np.ones(3))


# -- checkpoints ---------------------------------------------------------------------------
def test_resume_with_bounds_matches_an_uninterrupted_run(tmp_path):
    path = tmp_path / "run.npz"
    opts = {"learning_rate": 0.02, "checkpoint": str(path), "gtol": 0.0}
    numopt.minimize(fg, np.zeros(4), jac=True, bounds=pairs(), options={**opts, "maxiter": 40})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # x0 only gives the shape on resume: no clip warning
        later = numopt.minimize(
            fg,
            np.full(4, 9.0),
            jac=True,
            bounds=pairs(),
            options={**opts, "maxiter": 100, "resume": str(path)},
        )
    whole = numopt.minimize(
        fg, np.zeros(4), jac=True, bounds=pairs(), options={"learning_rate": 0.02, "maxiter": 100}
    )
    np.testing.assert_array_equal(later.x, whole.x)
    assert later.nit == 100


def test_resume_with_other_bounds_is_an_error(tmp_path):
    path = tmp_path / "run.npz"
    opts = {"checkpoint": str(path), "maxiter": 5}
    numopt.minimize(fg, np.zeros(4), jac=True, bounds=pairs(), options=opts)
    resume = {"resume": str(path), "maxiter": 10}
    with pytest.raises(ValueError, match="resume: the checkpoint was made with other bounds"):
        numopt.minimize(fg, np.zeros(4), jac=True, bounds=pairs(hi=HI * 2), options=resume)
    with pytest.raises(ValueError, match="this run has no bounds"):
        numopt.minimize(fg, np.zeros(4), jac=True, options=resume)
    numopt.minimize(fg, np.zeros(4), jac=True, options={**opts, "checkpoint": str(path)})
    with pytest.raises(ValueError, match="made without bounds, this run has bounds"):
        numopt.minimize(fg, np.zeros(4), jac=True, bounds=pairs(), options=resume)


# -- the stateful API -----------------------------------------------------------------------
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_opt_bounds_follow_x_shape_order_and_dtype(order, dtype):
    rng = np.random.default_rng(0)
    lo = -rng.random((3, 4))
    x = np.asarray(rng.standard_normal((3, 4)).clip(lo, 0.5), dtype, order=order)
    g = np.asarray(rng.standard_normal((3, 4)) * 5, dtype, order=order)
    opt = numopt.Adam(learning_rate=0.5, backend="serial")
    opt.bounds = (lo, np.array([0.5, 0.5, 0.5, 0.5]))  # hi broadcast along rows
    assert opt.bounds[1].shape == (4,)
    ref = numopt.Adam(learning_rate=0.5, backend="numpy")
    want = x.copy(order="K")
    for _ in range(3):
        opt.step(x, g)
        ref.step(want, g)
        np.clip(want, lo.astype(dtype), dtype(0.5), out=want)
    assert x.flags.f_contiguous == (order == "F")
    np.testing.assert_array_max_ulp(x, want, maxulp=4)
    assert inside(x, lo, np.full((3, 4), 0.5))


def test_opt_bounds_from_scipy_bounds_and_state_dict():
    opt = numopt.GD(learning_rate=1.0)
    opt.bounds = Bounds(0.0, [1.0, 2.0])
    x = np.array([0.5, 0.5])
    opt.step(x, np.array([-3.0, 3.0]))
    np.testing.assert_array_equal(x, [1.0, 0.0])
    assert "bounds" not in opt.state_dict()
    opt.reset()  # forgets the state, keeps the bounds
    assert opt.bounds is not None


def test_opt_bounds_are_copied_when_set():
    lo = np.zeros(2)
    opt = numopt.GD(learning_rate=1.0)
    opt.bounds = (lo, None)
    lo[:] = -10  # later changes to the caller's array do not reach the optimizer
    x = np.zeros(2)
    opt.step(x, np.ones(2))
    np.testing.assert_array_equal(x, [0.0, 0.0])


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        ((1.0, 0.0), ValueError, r"lower bound 1.0 > upper bound 0.0"),
        ((np.zeros(3), [1.0, -1.0, 1.0]), ValueError, r"upper bound -1.0 at index 1"),
        ((np.nan, 1.0), ValueError, "bounds lower bound contains NaN"),
        ((0.0, [1.0, np.nan]), ValueError, "bounds upper bound contains NaN"),
        ((np.inf, None), ValueError, r"a lower bound is \+inf"),
        ((None, -np.inf), ValueError, "an upper bound is -inf"),
        (("a", 1.0), TypeError, "bounds lower bound must be None, a real number"),
        ((0.0, 1 + 2j), TypeError, "must hold real numbers, got dtype complex128"),
        ((True, 2.0), TypeError, "bounds lower bound must be None, a real number"),
        ((0.0, 1.0, 2.0), TypeError, r"bounds must be a pair \(lo, hi\)"),
        (5.0, TypeError, r"bounds must be a pair \(lo, hi\)"),
        ((np.zeros(2), np.ones(3)), ValueError, "do not broadcast together"),
    ],
)
def test_opt_bounds_bad_values(value, error, pattern):
    opt = numopt.Adam()
    with pytest.raises(error, match=pattern):
        opt.bounds = value
    assert opt.bounds is None  # a refused value changes nothing


def test_opt_bounds_that_do_not_fit_x():
    opt = numopt.Adam()
    opt.bounds = (np.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"shape \(3,\), which does not broadcast to x's shape"):
        opt.step(np.zeros(4), np.ones(4))
    assert opt.step_count == 0
    opt.bounds = (-1e300, 1e300)
    with pytest.raises(ValueError, match="lower bound -1e\\+300 overflows float32"):
        opt.step(np.zeros(2, np.float32), np.ones(2, np.float32))


def test_minimize_refuses_an_optimizer_object_with_bounds():
    opt = numopt.Adam()
    opt.bounds = (0, 1)
    with pytest.raises(ValueError, match="give minimize's bounds as minimize"):
        numopt.minimize(fg, np.zeros(4), jac=True, method=opt)


@pytest.mark.parametrize(
    ("bounds", "error", "pattern"),
    [
        ([(0, 1)] * 3, ValueError, r"bounds has 3 \(lo, hi\) pairs but x0 has 4 elements"),
        (
            [(0, 1), (0, 1), (2, 1), (0, 1)],
            ValueError,
            "lower bound 2.0 > upper bound 1.0 at index 2",
        ),
        ([(0, 1), (0, 1), (0, np.nan), (0, 1)], ValueError, r"bounds\[2\]\[1\] contains NaN"),
        ([(0, 1), (0, 1), (0, 1), 5], TypeError, r"bounds\[3\] must be a pair \(lo, hi\)"),
        ([(0, 1), (0, 1), (0, 1), ("a", 1)], TypeError, r"bounds\[3\]\[0\] must be None"),
        ([(0, 1), (0, 1), (0, 1), ([0, 1], 1)], TypeError, r"bounds\[3\]\[0\] must be a number"),
        ((0, 1), ValueError, r"bounds has 2 \(lo, hi\) pairs .* or scipy.optimize.Bounds"),
        ([(0, 1), 0, 1, 2], TypeError, r"bounds\[1\] must be a pair"),
        (Bounds(np.zeros(3), 1), ValueError, "bounds.lb has 3 elements but x0 has 4"),
        (Bounds(0, np.ones(5)), ValueError, "bounds.lb has 5 elements but x0 has 4"),
        ("0,1", TypeError, "bounds must be a scipy.optimize.Bounds, a sequence"),
        (3.0, TypeError, "bounds must be a scipy.optimize.Bounds, a sequence"),
        ({"w": (0, 1)}, TypeError, "bounds is a dict, which needs a dict x0"),
    ],
)
def test_minimize_bad_bounds(bounds, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.minimize(fg, np.zeros(4), jac=True, bounds=bounds)


def test_dict_x0_bad_bounds():
    x0 = {"w": np.zeros(3), "b": np.zeros(1)}
    with pytest.raises(ValueError, match=r"bounds has keys \['v'\] that x0 lacks"):
        numopt.minimize(fg, x0, jac=True, bounds={"v": (0, 1)})
    with pytest.raises(ValueError, match=r"x0\['w'\]'s shape \(3,\)"):
        numopt.minimize(fg, x0, jac=True, bounds={"w": (np.zeros(2), 1)})
    with pytest.raises(TypeError, match=r"bounds\['b'\] must be a pair"):
        numopt.minimize(fg, x0, jac=True, bounds={"b": 1.0})


def test_float32_overflowing_bound_is_an_error():
    with pytest.raises(ValueError, match="the upper bound 1e\\+40 overflows float32"):
        numopt.minimize(fg, np.zeros(4, np.float32), jac=True, bounds=Bounds(0, 1e40))


def test_cpu_bounds_module_is_separate_from_the_unbounded_loops():
    """The bounded loops have their own cache entries (qualified names)."""
    from numopt.rules.adam import body

    names = {f.py_func.__qualname__ for f in (*bounded_loops(body), *cpu_loops(body))}
    assert len(names) == 4
    assert all("_bounded_" in n for n in (f.py_func.__qualname__ for f in bounded_loops(body)))


def test_benchmark_script_runs(capsys):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bounds.py"
    runpy.run_path(str(script), run_name="bench")["main"](1000, 2)
    out = capsys.readouterr().out
    assert "Adam parallel bounded (fused)" in out and "projected_grad_norm" in out
