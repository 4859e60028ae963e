"""LAMB: hand-worked steps on every CPU backend, kernels against the reference, layers.

Spec (numopt/rules/lamb.py): Adam's moments, ``u = m̂/(√v̂ + ε) + λθ``, and per layer
``θ ← θ − η (‖θ‖/‖u‖) u`` (ratio 1 when a norm is 0).
"""

from __future__ import annotations

import importlib.util
import itertools
import math

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit

import numopt
from numopt.kernels.cpu import SERIAL_BELOW
from numopt.kernels.reduce import BLOCK

CPU = ["numpy", "serial", "parallel"]
R2 = math.sqrt(2.0)


def tolerance(dtype):
    return {"rtol": 1e-5} if dtype == np.float32 else {"rtol": 1e-13}


# -- values worked by hand ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", CPU)
def test_three_steps_by_hand(backend, dtype):
    """η = 0.1, β1 = β2 = 0.5, λ = 0, θ0 = (3, 4), one layer.

    With λ = 0 the step is ``η ‖θ‖ u/‖u‖``: only u's direction matters, and where all
    |v̂_i| are equal ε scales u uniformly and drops out.
    """
    opt = numopt.Lamb(learning_rate=0.1, beta1=0.5, beta2=0.5, backend=backend)
    x = np.array([3.0, 4.0], dtype)
    # step 1, g = (1, -1): m = (0.5, -0.5), v = (0.5, 0.5); m̂ = m/(1-0.5) = (1, -1),
    # v̂ = v/0.5 = (1, 1); u = (1, -1)/(1+ε), ‖θ‖ = 5 → θ - 0.1·5·(1, -1)/√2
    opt.step(x, np.array([1.0, -1.0], dtype))
    a = 0.5 / R2
    want1 = np.array([3.0 - a, 4.0 + a])
    np.testing.assert_allclose(x, want1, **tolerance(dtype))
    np.testing.assert_allclose(opt.state["m"], [0.5, -0.5], **tolerance(dtype))
    # step 2, g = (-2, -2): m = 0.5·(0.5, -0.5) + 0.5·(-2, -2) = (-0.75, -1.25),
    # v = 0.5·0.5 + 0.5·4 = 2.25 each; m̂ = m/0.75 = (-1, -5/3), v̂ = 2.25/0.75 = 3 each:
    # u ∝ (-3, -5), |(-3, -5)| = √34 → θ + 0.1·‖θ1‖·(3, 5)/√34, ‖θ1‖² = 25 + 2a + 2a²
    opt.step(x, np.array([-2.0, -2.0], dtype))
    norm1 = math.sqrt(25 + 2 * a + 2 * a * a)
    want2 = want1 + 0.1 * norm1 * np.array([3.0, 5.0]) / math.sqrt(34.0)
    np.testing.assert_allclose(x, want2, **tolerance(dtype))
    np.testing.assert_allclose(opt.state["v"], [2.25, 2.25], **tolerance(dtype))
    # step 3, g = 0: m = (-0.375, -0.625), v = 1.125 each; m̂ = m/0.875, v̂ = 1.125/0.875:
    # u ∝ (-3, -5) again → θ + 0.1·‖θ2‖·(3, 5)/√34
    opt.step(x, np.zeros(2, dtype))
    want3 = want2 + 0.1 * np.linalg.norm(want2) * np.array([3.0, 5.0]) / math.sqrt(34.0)
    np.testing.assert_allclose(x, want3, **tolerance(dtype))
    assert x.dtype == dtype and opt.step_count == 3


@pytest.mark.parametrize("backend", CPU)
def test_weight_decay_by_hand(backend):
    # η = 0.1, β1 = β2 = 0.5, λ = 0.5, θ = (3, 4), g = (1, -1): k = 1/(1+ε) with ε = 1e-6,
    # u = k(1, -1) + 0.5·(3, 4) = (k + 1.5, 2 - k); r = 5/‖u‖; θ - 0.1·r·u
    opt = numopt.Lamb(learning_rate=0.1, beta1=0.5, beta2=0.5, weight_decay=0.5, backend=backend)
    x = opt.step(np.array([3.0, 4.0]), np.array([1.0, -1.0]))
    k = 1 / (1 + 1e-6)
    u = np.array([k + 1.5, 2 - k])
    np.testing.assert_allclose(x, np.array([3.0, 4.0]) - 0.1 * 5 / np.hypot(*u) * u, rtol=1e-14)


@pytest.mark.parametrize("backend", CPU)
def test_each_layer_has_its_own_ratio_by_hand(backend):
    # layers (2, 3): θ = (3, 4 | 1, 0, 0), g = (1, -1 | 2, 2, 2), η = 0.1, defaults β, ε.
    # First step: m̂ = g, v̂ = g², u_i = g_i/(|g_i| + ε): layer 1 as in the first test,
    # layer 2 u ∝ (1, 1, 1), ‖θ‖ = 1 → (1, 0, 0) - 0.1·(1, 1, 1)/√3
    opt = numopt.Lamb(learning_rate=0.1, layers=[2, 3], backend=backend)
    x = opt.step(np.array([3.0, 4.0, 1.0, 0.0, 0.0]), np.array([1.0, -1.0, 2.0, 2.0, 2.0]))
    a, b = 0.5 / R2, 0.1 / math.sqrt(3.0)
    np.testing.assert_allclose(x, [3 - a, 4 + a, 1 - b, -b, -b], rtol=1e-14)
    # one layer for all: u = (k1, -k1, k2, k2, k2) with k1 = 1/(1+ε), k2 = 2/(2+ε) (ε no
    # longer drops out), ‖θ‖ = √26 → θ - 0.1·(√26/‖u‖)·u, about 0.1·√(26/5) per entry
    one = numopt.Lamb(learning_rate=0.1, backend=backend)
    y = one.step(np.array([3.0, 4.0, 1.0, 0.0, 0.0]), np.array([1.0, -1.0, 2.0, 2.0, 2.0]))
    k1, k2 = 1 / (1 + 1e-6), 2 / (2 + 1e-6)
    u = np.array([k1, -k1, k2, k2, k2])
    want = np.array([3.0, 4.0, 1.0, 0.0, 0.0]) - 0.1 * math.sqrt(26.0) / np.linalg.norm(u) * u
    np.testing.assert_allclose(y, want, rtol=1e-14)


@pytest.mark.parametrize("backend", CPU)
def test_zero_norms_give_ratio_one(backend):
    # θ = 0: ‖θ‖ = 0 → r = 1: θ = -0.1·(1, -1)/(1 + ε)
    x = numopt.Lamb(learning_rate=0.1, backend=backend).step(np.zeros(2), np.array([1.0, -1.0]))
    np.testing.assert_allclose(x, [-0.1 / (1 + 1e-6), 0.1 / (1 + 1e-6)], rtol=1e-15)
    # g = 0 at the first step: u = 0 → r = 1, θ unchanged (no 0/0)
    x = numopt.Lamb(learning_rate=0.1, backend=backend).step(np.array([3.0, 4.0]), np.zeros(2))
    np.testing.assert_array_equal(x, [3.0, 4.0])
    # an empty layer between two others changes nothing
    opt = numopt.Lamb(learning_rate=0.1, layers=[2, 0, 3], backend=backend)
    want = numopt.Lamb(learning_rate=0.1, layers=[2, 3], backend=backend)
    x0, g = np.arange(1.0, 6.0), np.array([1.0, -1.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(opt.step(x0.copy(), g), want.step(x0.copy(), g))


# -- kernels against the reference ------------------------------------------------------------
def split(n, cuts):
    points = sorted({0, n, *(c % (n + 1) for c in cuts)})
    return [b - a for a, b in itertools.pairwise(points)] or [0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.one_of(st.sampled_from([0, 1, 5, BLOCK + 1, SERIAL_BELOW + 5]), st.integers(0, 400)),
    cuts=st.lists(st.integers(0, 10**6), max_size=3),
    dtype=st.sampled_from([np.float32, np.float64]),
    hp=st.fixed_dictionaries(
        {
            "learning_rate": st.floats(1e-4, 1.0),
            "beta1": st.floats(0.0, 0.999),
            "beta2": st.floats(0.0, 0.999),
            "eps": st.floats(1e-8, 1e-2),
            "weight_decay": st.floats(0.0, 0.2),
            "maximize": st.booleans(),
        }
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernels_equal_the_reference_bit_for_bit(n, cuts, dtype, hp, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    grads = [(rng.standard_normal(n) * 10.0 ** rng.integers(-3, 3)).astype(dtype) for _ in range(4)]
    layers = split(n, cuts)
    results = {}
    for backend in CPU:
        opt, x = numopt.Lamb(**hp, layers=layers, backend=backend), x0.copy()
        for g in grads:
            opt.step(x, g)
        results[backend] = (x, opt.state["m"].copy(), opt.state["v"].copy())
    for backend in ("serial", "parallel"):
        for got, want in zip(results[backend], results["numpy"], strict=True):
            np.testing.assert_array_equal(got, want)


def test_thread_count_changes_no_bit_with_layers():
    rng = np.random.default_rng(4)
    n = 5 * BLOCK + 3
    x0, g = rng.standard_normal(n), rng.standard_normal(n)
    before, runs = numba.get_num_threads(), []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            opt, x = numopt.Lamb(0.01, layers=[BLOCK + 1, 3 * BLOCK, BLOCK + 2]), x0.copy()
            for _ in range(3):
                opt.step(x, g)
            runs.append(x)
    finally:
        numba.set_num_threads(before)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)


def test_bounds_equal_the_step_then_clip():
    rng = np.random.default_rng(8)
    n = SERIAL_BELOW + 9
    x0, g = rng.standard_normal(n), rng.standard_normal(n)
    lo, hi = -0.5 * np.ones(n), np.full(n, 0.7)
    for backend in CPU:
        bounded, plain = (numopt.Lamb(0.5, layers=[10, n - 10], backend=backend) for _ in "ab")
        bounded.bounds = (lo, hi)
        x, y = np.clip(x0, lo, hi), np.clip(x0, lo, hi)
        for _ in range(2):
            bounded.step(x, g)
            plain.step(y, g)
            np.clip(y, lo, hi, out=y)
        np.testing.assert_array_equal(x, y)


@pytest.mark.skipif(importlib.util.find_spec("optax") is None, reason="optax is not installed")
def test_matches_optax_lamb():
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((3, 4)).astype(np.float32), "b": rng.standard_normal(4)}
    params["b"] = params["b"].astype(np.float32)
    grads = [{k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()}]
    grads *= 3
    tx = optax.lamb(0.05, weight_decay=0.1)
    p = {k: jnp.asarray(v) for k, v in params.items()}
    state = tx.init(p)
    for g in grads:
        updates, state = tx.update({k: jnp.asarray(v) for k, v in g.items()}, state, p)
        p = optax.apply_updates(p, updates)
    opt = numopt.Lamb(0.05, weight_decay=0.1, layers=[12, 4])
    x = np.concatenate([params["w"].ravel(), params["b"]])
    for g in grads:
        opt.step(x, np.concatenate([g["w"].ravel(), g["b"]]))
    np.testing.assert_allclose(x[:12].reshape(3, 4), np.asarray(p["w"]), rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(x[12:], np.asarray(p["b"]), rtol=2e-6, atol=1e-6)


# -- minimize ------------------------------------------------------------------------------------
def test_minimize_takes_each_array_of_x0_as_a_layer():
    rng = np.random.default_rng(1)
    x0 = {"w": rng.standard_normal((3, 5)), "b": rng.standard_normal(5), "s": np.float64(2.0)}
    target = {k: rng.standard_normal(np.shape(v)) for k, v in x0.items()}

    def fun(p):
        return 0.0, {k: p[k] - target[k] for k in p}

    res = numopt.minimize(
        fun, x0, jac=True, method="lamb", options={"learning_rate": 0.05, "maxiter": 7}
    )
    # the same steps by hand: one flat buffer, layers 15, 5, 1
    opt = numopt.Lamb(0.05, layers=[15, 5, 1])
    x = np.concatenate([np.ravel(x0[k]) for k in x0])
    t = np.concatenate([np.ravel(target[k]) for k in x0])
    for _ in range(7):
        opt.step(x, x - t)
    np.testing.assert_array_equal(np.concatenate([np.ravel(res.x[k]) for k in x0]), x)


def test_convergence_on_a_convex_quadratic():
    rng = np.random.default_rng(0)
    a = {"w": rng.uniform(1, 10, (5, 4)), "b": rng.uniform(1, 10, 4)}
    b = {k: rng.standard_normal(v.shape) * 10 for k, v in a.items()}

    def fun(p):  # f = Σ ½ a x² − b x per array: convex, minimum at b/a
        f = sum(0.5 * float(np.sum(a[k] * p[k] ** 2)) - float(np.sum(b[k] * p[k])) for k in p)
        return f, {k: a[k] * p[k] - b[k] for k in p}

    # each step moves a layer by η‖θ‖: a decaying η lets it settle
    lr = numopt.schedules.exponential(0.5, decay_rate=0.5, transition_steps=300)
    x0 = {k: np.ones_like(v) for k, v in a.items()}
    res = numopt.minimize(
        fun, x0, jac=True, method="lamb", options={"learning_rate": lr, "maxiter": 20000}
    )
    assert res.success, res.message
    for k in a:
        np.testing.assert_allclose(res.x[k], b[k] / a[k], rtol=1e-5)


@njit(cache=True)
def _sphere(x):  # pragma: no cover - compiled
    return 0.5 * np.sum(x * x)


@njit(cache=True)
def _sphere_grad(x):  # pragma: no cover - compiled
    return x.copy()


def test_the_compiled_loop_steps_aside():
    res = numopt.minimize(_sphere, np.ones(5), jac=_sphere_grad, method="lamb")
    assert not res.compiled
    with pytest.raises(ValueError, match="'lamb' takes 2 passes per step"):
        numopt.minimize(
            _sphere, np.ones(5), jac=_sphere_grad, method="lamb", options={"compiled": True}
        )


# -- the layers setting ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layers", "error", "pattern"),
    [
        ([1, 2], ValueError, r"layers \[1, 2\] sum to 3 elements but x has 4"),
        ([5, -1], ValueError, r"layers\[1\] must be an integer >= 0"),
        ([2.0, 2], TypeError, r"layers\[0\] must be an integer >= 0"),
        ([], ValueError, "layers is empty"),
        ("22", TypeError, "layers must be None or a sequence"),
        (4, TypeError, "layers must be None or a sequence"),
    ],
)
def test_bad_layers(layers, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.Lamb(layers=layers).step(np.ones(4), np.ones(4))
    with pytest.raises(error, match=pattern):
        numopt.minimize(
            lambda x: float(x @ x), np.ones(4), method="lamb", options={"layers": layers}
        )


def test_layers_attribute_and_repr():
    opt = numopt.Lamb(0.1)
    assert opt.layers is None and "layers" not in repr(opt)
    opt.layers = np.array([2, 2])
    assert opt.layers == (2, 2) and "layers=[2, 2]" in repr(opt)
    assert eval(repr(opt), vars(numopt)).layers == (2, 2)
    assert "layers" not in opt.hyperparameters and "layers" not in opt.state_dict()
    assert opt.spec.passes is not None  # two passes, not one element body
