"""Lookahead (Zhang et al. 2019): slow and fast weights, by hand and around every rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_table import as_matrices

import numopt
from numopt.kernels.cpu import SERIAL_BELOW

RULES = sorted(numopt.RULES)


@settings(max_examples=50, deadline=None)
@given(
    k=st.integers(1, 6),
    alpha=st.floats(0.05, 1.0),
    lr=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**16),
)
def test_slow_and_fast_weights_after_k_steps_by_hand(k, alpha, lr, seed):
    """GD from φ0: after k steps θ_k = φ0 - η Σ g; then φ1 = φ0 + α(θ_k - φ0) and θ = φ1."""
    rng = np.random.default_rng(seed)
    phi0 = rng.standard_normal(4)
    gs = rng.standard_normal((2 * k, 4))
    opt, x = numopt.Lookahead(numopt.GD(learning_rate=lr), k=k, alpha=alpha), phi0.copy()
    for j, g in enumerate(gs[:k]):
        opt.step(x, g)
        if j < k - 1:  # fast weights move, the slow ones wait
            np.testing.assert_allclose(
                x, phi0 - lr * gs[: j + 1].sum(axis=0), rtol=1e-12, atol=1e-12
            )
            np.testing.assert_array_equal(opt.slow, phi0)
    fast = phi0 - lr * gs[:k].sum(axis=0)
    phi1 = phi0 + alpha * (fast - phi0)  # = φ0 - α η Σ g
    np.testing.assert_allclose(opt.slow, phi1, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, opt.slow)  # θ ← φ
    for g in gs[k:]:
        opt.step(x, g)
    phi2 = phi1 - alpha * lr * gs[k:].sum(axis=0)
    np.testing.assert_allclose(x, phi2, rtol=1e-11, atol=1e-11)
    assert opt.step_count == 2 * k


def test_hand_values():
    opt, x = numopt.Lookahead(numopt.GD(learning_rate=0.5), k=2, alpha=0.25), np.array([2.0])
    opt.step(x, np.array([1.0]))  # fast 1.5
    assert x[0] == 1.5 and opt.slow[0] == 2.0
    opt.step(x, np.array([1.0]))  # fast 1.0, slow 2 + 0.25 (1 - 2) = 1.75
    assert x[0] == 1.75 and opt.slow[0] == 1.75


def lookahead_by_hand(method, x0, gs, k, alpha):
    """The rule on x, and every k steps slow ← slow + α (x - slow), x ← slow, in x's dtype."""
    opt, x = numopt.RULES[method](learning_rate=0.01), x0.copy()
    slow, a = x0.copy(), x0.dtype.type(alpha)
    for t, g in enumerate(gs, 1):
        opt.step(x, g)
        if t % k == 0:
            slow = slow + a * (x - slow)
            x[:] = slow
    return x, slow


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", RULES)
def test_lookahead_around_every_rule(method, dtype):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(11).astype(dtype)
    gs = rng.standard_normal((10, 11)).astype(dtype)
    x0, gs = as_matrices(method, x0, gs)
    opt, x = numopt.Lookahead(numopt.RULES[method](learning_rate=0.01), k=3, alpha=0.3), x0.copy()
    for g in gs:
        opt.step(x, g)
    want_x, want_slow = lookahead_by_hand(method, x0, gs, 3, 0.3)
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(opt.slow, want_slow)
    assert opt.slow.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_agree_across_backends(dtype):
    n = SERIAL_BELOW + 7
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(n).astype(dtype)
    gs = rng.standard_normal((5, n)).astype(dtype)
    out = {}
    for backend in ("serial", "parallel", "numpy"):
        opt, x = numopt.Lookahead(numopt.Adam(0.01, backend=backend), k=2, alpha=0.4), x0.copy()
        for g in gs:
            opt.step(x, g)
        out[backend] = (x, opt.slow)
    for backend in ("serial", "parallel"):
        np.testing.assert_array_equal(out[backend][0], out["numpy"][0])
        np.testing.assert_array_equal(out[backend][1], out["numpy"][1])


def test_state_dict_round_trip_mid_period():
    gs = np.random.default_rng(2).standard_normal((12, 4))
    a, x = numopt.Lookahead(numopt.Momentum(0.05), k=5), np.ones(4)
    for g in gs[:7]:
        a.step(x, g)
    sd = a.state_dict()
    assert sd["transforms"]["lookahead"] == {"k": 5, "alpha": 0.5, "step": 7, "order": "C"}
    b, y = numopt.Lookahead(numopt.Momentum(0.05), k=5), x.copy()
    b.load_state_dict(sd)
    for g in gs[7:]:
        a.step(x, g)
        b.step(y, g)
    np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.slow, b.slow)
    with pytest.raises(ValueError, match=r"with alpha=0\.5; this one has alpha=0\.6"):
        numopt.Lookahead(numopt.Momentum(0.05), k=5, alpha=0.6).load_state_dict(sd)
    no_slow = {**sd, "state": {"v": sd["state"]["v"]}}
    with pytest.raises(ValueError, match=r"need its arrays \['slow'\]"):
        numopt.Lookahead(numopt.Momentum(0.05), k=5).load_state_dict(no_slow)


def test_composes_with_other_transforms_and_bounds():
    inner = numopt.GD(learning_rate=1.0)
    inner.bounds = (-1.0, 1.0)
    opt = numopt.Averaged(numopt.Lookahead(inner, k=2), numopt.Polyak())
    x = np.zeros(3)
    for _ in range(6):
        opt.step(x, np.array([5.0, -5.0, 0.0]))
        assert np.all(np.abs(x) <= 1.0)
    assert opt.bounds == inner.bounds and opt.averager.count == 6
    assert opt.inner.step_count == 6 and opt.inner.inner.step_count == 6


def test_attributes():
    opt = numopt.Lookahead(numopt.Adam(0.1), k=3, alpha=0.2)
    assert (opt.k, opt.alpha, opt.name, opt.learning_rate) == (3, 0.2, "adam", 0.1)
    assert opt.slow is None
    opt.beta1 = 0.5
    assert opt.inner.beta1 == 0.5
    with pytest.raises(AttributeError, match=r"Lookahead.k cannot be set"):
        opt.k = 4
    assert repr(opt).startswith("Lookahead(Adam(") and "k=3, alpha=0.2" in repr(opt)


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: numopt.Lookahead(numopt.GD(), k=0), ValueError, "k must be an integer >= 1"),
        (
            lambda: numopt.Lookahead(numopt.GD(), alpha=0.0),
            ValueError,
            r"alpha must be in \(0, 1\]",
        ),
        (
            lambda: numopt.Lookahead(numopt.GD(), alpha=1.5),
            ValueError,
            r"alpha must be in \(0, 1\]",
        ),
        (lambda: numopt.Lookahead(numopt.Adam), TypeError, "pass e.g. numopt.Adam"),
        (
            lambda: numopt.Lookahead(numopt.Lookahead(numopt.GD())),
            ValueError,
            "already a Lookahead",
        ),
    ],
)
def test_bad_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_another_shape_needs_a_reset():
    opt = numopt.Lookahead(numopt.GD(), k=2)
    opt.step(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="call reset"):
        opt.step(np.zeros(4), np.ones(4))
    opt.reset()
    opt.step(np.zeros(4), np.ones(4))
    assert opt.step_count == 1


# -- minimize: lookahead=k ------------------------------------------------------------------
A = np.array([3.0, 1.0, 0.2])


def quad(x):
    return 0.5 * float(x @ (A * x)), A * x


def test_minimize_lookahead_is_the_wrapper():
    res = numopt.minimize(
        quad,
        np.ones(3),
        jac=True,
        method="adam",
        options={
            "learning_rate": 0.1,
            "maxiter": 25,
            "gtol": 0.0,
            "lookahead": 4,
            "lookahead_alpha": 0.7,
        },
    )
    opt, x = numopt.Lookahead(numopt.Adam(0.1), k=4, alpha=0.7), np.ones(3)
    for _ in range(25):
        opt.step(x, quad(x)[1])
    np.testing.assert_array_equal(res.x, x)
    assert res.nit == 25
    as_method = numopt.minimize(
        quad,
        np.ones(3),
        jac=True,
        method=numopt.Lookahead(numopt.Adam(0.1), k=4, alpha=0.7),
        options={"maxiter": 25, "gtol": 0.0},
    )
    np.testing.assert_array_equal(as_method.x, x)


@pytest.mark.parametrize(
    ("options", "error", "pattern"),
    [
        ({"lookahead": 0}, ValueError, "lookahead must be an integer >= 1"),
        ({"lookahead": 2.5}, TypeError, "lookahead must be an integer"),
        ({"lookahead_alpha": 0.5}, ValueError, "lookahead_alpha needs lookahead"),
        ({"lookahead": 3, "lookahead_alpha": 2.0}, ValueError, r"lookahead_alpha must be in"),
    ],
)
def test_bad_options(options, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.minimize(quad, np.ones(3), method="adam", jac=True, options=options)


@pytest.mark.parametrize("batched", [False, True])
def test_checkpoint_resume_is_bit_exact(batched, tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((24, 3))
    y = X @ np.array([1.0, -2.0, 0.5])

    def loss(w, X, y):
        r = X @ w - y
        return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)

    options = {"learning_rate": 0.05, "gtol": 0.0, "lookahead": 3}
    if batched:
        options.update(batch_size=5, epochs=4, seed=2)
    else:
        options["maxiter"] = 20
    whole = numopt.minimize(
        loss, np.zeros(3), args=(X, y), jac=True, method="nadam", options=options
    )
    path = tmp_path / "run.npz"
    numopt.minimize(
        loss,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method="nadam",
        options={**options, "maxiter": 7, "checkpoint": path},  # mid-period: 7 = 2·3 + 1
    )
    resumed = numopt.minimize(
        loss,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method="nadam",
        options={**options, "resume": path},
    )
    np.testing.assert_array_equal(resumed.x, whole.x)
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(
            loss,
            np.zeros(3),
            args=(X, y),
            jac=True,
            method="nadam",
            options={**options, "lookahead": 4, "resume": path},
        )
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(
            loss,
            np.zeros(3),
            args=(X, y),
            jac=True,
            method="nadam",
            options={**{k: v for k, v in options.items() if k != "lookahead"}, "resume": path},
        )
