"""Gradient clipping (``clip_norm``, ``clip_value``): every rule, every CPU backend.

The definitions: ``clip_value = v`` feeds the rule ``clip(g, -v, v)``; ``clip_norm = c``
feeds it ``g · min(1, c/‖g‖)`` (optax ``clip_by_global_norm``), the norm over the whole
gradient — for a list/dict ``x0`` over all its arrays; both: clamp, then scale by the
clamped gradient's norm.  The fused steps must equal the rule stepped with the
clipped gradient: bit for bit when the definition takes its norm in numopt's order,
to rounding with the exactly rounded norm (math.fsum).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit
from rule_table import as_matrices

import numopt
from numopt.kernels import reduce
from numopt.kernels.cpu import SERIAL_BELOW
from numopt.rules import clipping as _clip

#: One method name per rule class (gd and sgd are one class).
METHODS = sorted({cls: name for name, cls in reversed(numopt.RULES.items())}.values())
CPU = ["numpy", "serial", "parallel"]
SETTINGS = [
    {"clip_norm": 0.5},
    {"clip_value": 0.3},
    {"clip_value": 0.3, "clip_norm": 0.5},
]


def rule(method, backend="auto", **hp):
    return numopt.RULES[method](learning_rate=0.01, backend=backend, **hp)


def problem(n, dtype, steps=3, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    return x0, [(rng.standard_normal(n) * 2.0).astype(dtype) for _ in range(steps)]


def by_definition(g, clip_norm=None, clip_value=None, norm=None):
    """The clipped gradient, written from the definition (a new array)."""
    dt = g.dtype.type
    if clip_value is not None:
        g = np.clip(g, dt(-clip_value), dt(clip_value))
    if clip_norm is not None:
        if norm is None:  # numopt's fixed-order norm: the kernels' bits
            norm = math.sqrt(reduce.sum_squares(g.reshape(-1)))
        g = g * dt(min(1.0, clip_norm / norm) if norm > 0 else 1.0)
    return g


def exact_norm(g) -> float:
    return math.sqrt(math.fsum(float(v) ** 2 for v in np.asarray(g, np.float64)))


def run(opt, x0, grads):
    x = x0.copy()
    for g in grads:
        opt.step(x, g)
    return x


# -- the definitions ----------------------------------------------------------------------
@pytest.mark.parametrize("clip", SETTINGS, ids=lambda c: "+".join(c))
@pytest.mark.parametrize("backend", CPU)
@pytest.mark.parametrize("method", METHODS)
def test_every_rule_equals_the_rule_fed_the_clipped_gradient(method, backend, clip):
    for dtype in (np.float32, np.float64):
        x0, grads = as_matrices(method, *problem(SERIAL_BELOW + 40, dtype))
        got = run(rule(method, backend, **clip), x0, grads)
        want = run(rule(method, backend), x0, [by_definition(g, **clip) for g in grads])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", METHODS)
def test_kernels_match_the_reference_with_clipping(method):
    for clip in SETTINGS:
        for dtype in (np.float32, np.float64):
            x0, grads = as_matrices(method, *problem(300, dtype, seed=5))
            want = run(rule(method, "numpy", **clip), x0, grads)
            for backend in ("serial", "parallel"):
                got = run(rule(method, backend, **clip), x0, grads)
                np.testing.assert_array_max_ulp(got, want, maxulp=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.sampled_from([1, 2, 33, 3000, SERIAL_BELOW + 3]),
    dtype=st.sampled_from([np.float32, np.float64]),
    clip_norm=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**32 - 1),
)
def test_global_norm_clipping_equals_the_definition_with_the_exact_norm(n, dtype, clip_norm, seed):
    x0, grads = problem(n, dtype, seed=seed)
    got = run(numopt.GD(learning_rate=1.0, clip_norm=clip_norm), x0, grads)
    want = x0.copy()
    for g in grads:  # x ← x − g·min(1, c/‖g‖), ‖g‖ exactly rounded
        norm = exact_norm(g)
        want -= g * dtype(min(1.0, clip_norm / norm))
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()))


def test_hand_values():
    # clip_norm = 1, g = (3, 4): ‖g‖ = 5, scale 1/5, x = 0 - 1·(0.6, 0.8)
    x = numopt.GD(learning_rate=1.0, clip_norm=1.0).step(np.zeros(2), np.array([3.0, 4.0]))
    np.testing.assert_allclose(x, [-0.6, -0.8], rtol=1e-15)
    # below the threshold nothing changes: ‖(0.3, 0.4)‖ = 0.5 < 1
    x = numopt.GD(learning_rate=1.0, clip_norm=1.0).step(np.zeros(2), np.array([0.3, 0.4]))
    np.testing.assert_array_equal(x, [-0.3, -0.4])
    # clip_value = 1: g = (3, -0.5, -7) → (1, -0.5, -1)
    x = numopt.GD(learning_rate=1.0, clip_value=1.0).step(np.zeros(3), np.array([3.0, -0.5, -7]))
    np.testing.assert_array_equal(x, [-1.0, 0.5, 1.0])
    # both: g = (9, 4) clamped to ±3 → (3, 3); ‖(3, 3)‖ = 3√2 > 1, so scaled by 1/(3√2)
    # → (1/√2, 1/√2)
    opt = numopt.GD(learning_rate=1.0, clip_value=3.0, clip_norm=1.0)
    x = opt.step(np.zeros(2), np.array([9.0, 4.0]))
    np.testing.assert_allclose(x, [-(0.5**0.5), -(0.5**0.5)], rtol=1e-15)
    # maximize: the step goes up the clipped gradient
    x = numopt.GD(learning_rate=1.0, clip_norm=1.0, maximize=True).step(
        np.zeros(2), np.array([3.0, 4.0])
    )
    np.testing.assert_allclose(x, [0.6, 0.8], rtol=1e-15)


@pytest.mark.parametrize("backend", CPU)
def test_edge_norms(backend):
    # zero gradient: scale 1 (no division by zero)
    x = numopt.GD(learning_rate=1.0, clip_norm=1.0, backend=backend).step(np.ones(2), np.zeros(2))
    np.testing.assert_array_equal(x, [1.0, 1.0])
    # an infinite entry: ‖g‖ = inf, scale 0 → inf·0 = NaN there, 0 elsewhere (the formula)
    with np.errstate(invalid="ignore"):
        x = numopt.GD(learning_rate=1.0, clip_norm=1.0, backend=backend).step(
            np.ones(2), np.array([np.inf, 5.0])
        )
    assert math.isnan(x[0]) and x[1] == 1.0
    # NaN propagates, through both clips
    for clip in SETTINGS:
        opt = numopt.GD(learning_rate=1.0, backend=backend, **clip)
        with np.errstate(invalid="ignore"):
            x = opt.step(np.ones(2), np.array([np.nan, 1.0]))
        assert math.isnan(x[0])


@pytest.mark.parametrize("clip", SETTINGS, ids=lambda c: "+".join(c))
@pytest.mark.parametrize("backend", CPU)
def test_the_gradient_is_not_modified(backend, clip):
    x0, grads = problem(100, np.float64)
    kept = [g.copy() for g in grads]
    run(rule("adam", backend, **clip), x0, grads)
    for g, k in zip(grads, kept, strict=True):
        np.testing.assert_array_equal(g, k)


def test_serial_and_parallel_are_bit_identical_at_any_size():
    for n in (3, SERIAL_BELOW - 1, 5 * SERIAL_BELOW + 7):
        x0, grads = problem(n, np.float32, seed=n)
        a = run(rule("adam", "serial", clip_norm=1.0), x0, grads)
        b = run(rule("adam", "parallel", clip_norm=1.0), x0, grads)
        np.testing.assert_array_equal(a, b)


# -- the hyperparameters --------------------------------------------------------------------
def test_hyperparameters_set_checked_shown_and_saved():
    opt = numopt.Adam(0.1)
    assert "clip_norm" not in opt.hyperparameters and "clip_norm" not in repr(opt)
    assert opt.clip_norm is None and opt.clip_value is None
    opt.clip_norm = 2  # applies from the next step
    assert opt.hyperparameters["clip_norm"] == 2.0 and "clip_norm=2.0" in repr(opt)
    x, g = np.zeros(2), np.array([30.0, 40.0])
    opt.step(x, g)
    sd = opt.state_dict()
    assert sd["hyperparameters"]["clip_norm"] == 2.0
    again = numopt.Adam(0.1)
    again.load_state_dict(sd)
    assert again.clip_norm == 2.0
    y = x.copy()
    opt.step(x, g)
    again.step(y, g)
    np.testing.assert_array_equal(x, y)
    assert eval(repr(opt), vars(numopt)).hyperparameters == opt.hyperparameters
    opt.clip_norm = None  # off again
    assert "clip_norm" not in opt.hyperparameters


@pytest.mark.parametrize("name", _clip.NAMES)
@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        (0, ValueError, "must be > 0"),
        (-1.0, ValueError, "must be > 0"),
        (math.inf, ValueError, "must be finite"),
        (math.nan, ValueError, "must be finite"),
        ("1", TypeError, "must be a real number"),
        (True, TypeError, "must be a real number"),
    ],
)
def test_bad_values(name, value, error, pattern):
    with pytest.raises(error, match=f"{name} {pattern}"):
        numopt.SGD(**{name: value})
    opt = numopt.SGD()
    with pytest.raises(error, match=f"{name} {pattern}"):
        setattr(opt, name, value)
    with pytest.raises(error, match=f"{name} {pattern}"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), method="adam", options={name: value})


def test_switching_clip_value_on_between_steps():
    x0, grads = problem(50, np.float64)
    opt, x = rule("momentum", "serial"), x0.copy()
    opt.step(x, grads[0])
    opt.clip_value = 0.3  # one more factor in the kernel's buffer from now on
    opt.step(x, grads[1])
    ref, y = rule("momentum", "serial"), x0.copy()
    ref.step(y, grads[0])
    ref.step(y, by_definition(grads[1], clip_value=0.3))
    np.testing.assert_array_equal(x, y)


def test_every_rule_takes_them_in_its_signature():
    import inspect

    for cls in set(numopt.RULES.values()):
        params = inspect.signature(cls).parameters
        assert params["clip_norm"].default is None, cls
        assert params["clip_value"].kind is inspect.Parameter.KEYWORD_ONLY, cls


def test_clip_value_variant_reads_the_gradient_through_the_reader_only():
    """The variant is the same body with ``grad`` bound to the clamping reader: the rule's
    arithmetic is untouched (no source rewriting)."""
    from numopt.kernels import element
    from numopt.kernels.generate import element as variant
    from numopt.rules.adam import body

    clipped = variant(body, clip_value=True)
    assert clipped.__code__ is body.__code__
    assert clipped.__globals__["grad"] is element.clipped_grad
    assert variant(body) is body


# -- minimize ------------------------------------------------------------------------------------
def quad(x, a, b):
    """f = ½ Σ a x² − b·x (convex), and its gradient."""
    return 0.5 * float(np.sum(a * x * x)) - float(np.sum(b * x)), a * x - b


def test_minimize_dict_x0_norm_spans_all_arrays():
    # each array's own gradient norm is below 1, the global one is not: (3, 0)/5 and (4,)/5
    def fun(p):
        return 0.0, {"w": np.array([0.6, 0.0]), "b": np.array([0.8])}

    x0 = {"w": np.zeros(2), "b": np.zeros(1)}
    opts = {"learning_rate": 1.0, "maxiter": 1, "gtol": 0.0}
    res = numopt.minimize(fun, x0, jac=True, method="gd", options={**opts, "clip_norm": 0.5})
    np.testing.assert_allclose(res.x["w"], [-0.3, 0.0], rtol=1e-15)
    np.testing.assert_allclose(res.x["b"], [-0.4], rtol=1e-15)


@pytest.mark.parametrize("method", ["gd", "adam", "lamb"])
def test_minimize_dict_x0_equals_the_definition(method):
    rng = np.random.default_rng(2)
    keys = {"w": (3, 4), "b": (4,), "s": ()}
    a = {k: rng.uniform(1, 10, s) for k, s in keys.items()}
    b = {k: rng.standard_normal(s) * 10 for k, s in keys.items()}
    x0 = {k: np.zeros(s) for k, s in keys.items()}

    def fun(p):
        return sum(quad(p[k], a[k], b[k])[0] for k in p), {k: quad(p[k], a[k], b[k])[1] for k in p}

    def fun_clipped(p):  # the definition, over the concatenated arrays
        f, g = fun(p)
        flat = np.concatenate([np.ravel(g[k]) for k in keys])
        scale = min(1.0, 0.5 / math.sqrt(reduce.sum_squares(flat)))
        return f, {k: g[k] * scale for k in keys}

    opts = {"learning_rate": 0.05, "maxiter": 30}
    got = numopt.minimize(fun, x0, jac=True, method=method, options={**opts, "clip_norm": 0.5})
    want = numopt.minimize(fun_clipped, x0, jac=True, method=method, options=opts)
    for k in keys:
        np.testing.assert_array_equal(got.x[k], want.x[k])
    assert got.nit == want.nit == 30
    # res.jac and the stopping test see the gradient before clipping
    np.testing.assert_array_equal(got.jac["b"], fun(got.x)[1]["b"])


@pytest.mark.parametrize("method", ["gd", "adam", "momentum"])
def test_convergence_on_a_convex_quadratic(method):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 10, 50), rng.standard_normal(50) * 100  # |∇f(0)| ≫ clip_norm
    # Adam's steps are ~η whatever the gradient's scale: it needs a decaying rate to settle
    halving = numopt.schedules.exponential(1.0, decay_rate=0.5, transition_steps=300)
    lr = {"gd": 0.1, "adam": halving, "momentum": 0.02}[method]
    res = numopt.minimize(
        quad,
        np.zeros(50),
        args=(a, b),
        jac=True,
        method=method,
        options={"learning_rate": lr, "clip_norm": 1.0, "maxiter": 20000, "gtol": 1e-8},
    )
    assert res.success, res.message
    np.testing.assert_allclose(res.x, b / a, rtol=1e-6)


@njit(cache=True)
def _sphere(x):  # pragma: no cover - compiled
    return 0.5 * np.sum(x * x)


@njit(cache=True)
def _sphere_grad(x):  # pragma: no cover - compiled
    return x.copy()


@pytest.mark.parametrize("clip", SETTINGS, ids=lambda c: "+".join(c))
def test_the_compiled_loop_steps_aside(clip):
    opts = {"learning_rate": 0.1, "maxiter": 50, **clip}
    res = numopt.minimize(_sphere, np.ones(5), method="adam", jac=_sphere_grad, options=opts)
    assert not res.compiled
    with pytest.raises(ValueError, match=r"compiled=True, but .*clip_"):
        numopt.minimize(
            _sphere, np.ones(5), method="adam", jac=_sphere_grad, options={**opts, "compiled": True}
        )


def test_checkpoint_resume_keeps_clipping_bit_for_bit(tmp_path):
    rng = np.random.default_rng(3)
    a, b = rng.uniform(1, 10, 20), rng.standard_normal(20) * 50
    path = tmp_path / "run.npz"
    opts = {"learning_rate": 0.05, "clip_norm": 1.0, "clip_value": 2.0, "gtol": 0.0}
    kw = {"args": (a, b), "jac": True, "method": "adam"}
    numopt.minimize(quad, np.zeros(20), **kw, options={**opts, "maxiter": 30, "checkpoint": path})
    later = numopt.minimize(
        quad, np.zeros(20), **kw, options={**opts, "maxiter": 60, "resume": path}
    )
    whole = numopt.minimize(quad, np.zeros(20), **kw, options={**opts, "maxiter": 60})
    np.testing.assert_array_equal(later.x, whole.x)
    with pytest.raises(ValueError, match="clip_norm"):
        numopt.minimize(
            quad, np.zeros(20), **kw, options={**opts, "clip_norm": 2.0, "resume": path}
        )
