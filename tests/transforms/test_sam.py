"""SAM (Foret et al. 2021) and ASAM (Kwon et al. 2021): by hand, across backends, in
minimize, and against optax.contrib.sam (skipped without the ``peers`` extra)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt
from numopt.kernels.cpu import SERIAL_BELOW

A = np.array([3.0, 1.0, 0.2, 2.0])
B = np.array([1.0, -1.0, 0.5, 2.0])


def quad(x):
    r = x - B
    return 0.5 * float(r @ (A * r)), A * r


def sam_by_hand(x, grad, lr, rho, adaptive, steps):
    """GD with SAM's gradient, written from the papers' formulas in NumPy."""
    x = x.copy()
    for _ in range(steps):
        g = grad(x)
        if adaptive:  # ε = ρ x² g / ‖x g‖
            eps = rho * (x * x) * g / np.linalg.norm(x * g)
        else:  # ε = ρ g / ‖g‖
            eps = rho * g / np.linalg.norm(g)
        x = x - lr * grad(x + eps)
    return x


def test_hand_values():
    x = np.array([3.0, 4.0])  # f = ‖x‖²: g = 2x = (6, 8), ‖g‖ = 10
    opt = numopt.SAM(numopt.GD(learning_rate=0.1), rho=0.5)
    np.testing.assert_allclose(opt.perturb(x, 2 * x), [3.3, 4.4], rtol=1e-15)
    np.testing.assert_allclose(opt.step(x, 2 * x), [3 - 0.66, 4 - 0.88], rtol=1e-15)
    assert opt.step_count == 1 and opt.inner.step_count == 1
    # ASAM: x = (1, 2), g = (3, 1): x g = (3, 2), ‖x g‖ = √13; ε = ρ (1·3, 4·1)/√13
    x = np.array([1.0, 2.0])
    opt = numopt.SAM(numopt.GD(learning_rate=1.0), rho=1.0, adaptive=True)
    opt.perturb(x, np.array([3.0, 1.0]))
    np.testing.assert_allclose(x, [1 + 3 / math.sqrt(13), 2 + 4 / math.sqrt(13)], rtol=1e-15)
    opt.step(x, np.array([0.5, 0.25]))
    np.testing.assert_array_equal(x, [0.5, 1.75])  # back at (1, 2), then the GD step


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(1e-3, 0.3),
    rho=st.floats(1e-3, 1.0),
    adaptive=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_gd_with_sam_is_the_papers_update(lr, rho, adaptive, seed):
    x0 = np.random.default_rng(seed).standard_normal(4) + 0.1
    opt, x = numopt.SAM(numopt.GD(learning_rate=lr), rho=rho, adaptive=adaptive), x0.copy()
    for _ in range(6):
        opt.perturb(x, quad(x)[1])
        opt.step(x, quad(x)[1])
    want = sam_by_hand(x0, lambda v: quad(v)[1], lr, rho, adaptive, 6)
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_agree_across_backends(dtype, adaptive):
    n = SERIAL_BELOW + 7
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(n).astype(dtype)
    gs = rng.standard_normal((10, n)).astype(dtype)
    out = {}
    for backend in ("serial", "parallel", "numpy"):
        opt = numopt.SAM(numopt.Adam(0.01, backend=backend), rho=0.1, adaptive=adaptive)
        x, climbed = x0.copy(), []
        for g0, g1 in zip(gs[::2], gs[1::2], strict=True):
            opt.perturb(x, g0)
            climbed.append(x.copy())
            opt.step(x, g1)
        out[backend] = (x, climbed)
    for backend in ("serial", "parallel"):
        np.testing.assert_array_equal(out[backend][0], out["numpy"][0])
        np.testing.assert_array_equal(out[backend][1], out["numpy"][1])


def test_the_point_comes_back_bit_for_bit_and_stays_in_the_bounds():
    x0 = np.array([0.1, 0.3, 1e-17, 2.0 / 3.0])
    inner = numopt.GD(learning_rate=1.0)
    inner.bounds = (0.0, 0.35)
    opt, x = numopt.SAM(inner, rho=0.25), x0.copy()
    opt.perturb(x, np.array([1.0, 1.0, -1.0, 1.0]))
    assert np.all((x >= 0.0) & (x <= 0.35))  # clamped into the box
    opt.step(x, np.zeros(4))  # back to the point as it was, then a zero step
    np.testing.assert_array_equal(x[:3], x0[:3])
    assert x[3] == 0.35  # (GD's own step clamps the entry that was outside)


def test_a_zero_gradient_climbs_nowhere():
    opt, x = numopt.SAM(numopt.GD(learning_rate=0.1), rho=0.5), np.array([1.0, 2.0])
    opt.perturb(x, np.zeros(2))
    np.testing.assert_array_equal(x, [1.0, 2.0])
    opt.step(x, np.ones(2))
    np.testing.assert_array_equal(x, [0.9, 1.9])


def test_misuse_is_named():
    opt, x = numopt.SAM(numopt.Adam(0.1)), np.ones(3)
    with pytest.raises(ValueError, match=r"call opt.perturb\(x, g\) first"):
        opt.step(x, np.ones(3))
    opt.perturb(x, np.ones(3))
    with pytest.raises(ValueError, match="perturb was called twice"):
        opt.perturb(x, np.ones(3))
    with pytest.raises(ValueError, match="state_dict between perturb and step"):
        opt.state_dict()
    opt.step(x, np.ones(3))
    assert opt.state_dict()["transforms"]["sam"] == {"rho": 0.05, "adaptive": False, "step": 1}


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: numopt.SAM(numopt.GD(), rho=0.0), ValueError, "rho must be"),
        (lambda: numopt.SAM(numopt.GD(), rho=-1.0), ValueError, "rho must be"),
        (lambda: numopt.SAM(numopt.GD(), adaptive=1), TypeError, "adaptive must be"),
        (lambda: numopt.SAM(numopt.Adam), TypeError, "pass e.g. numopt.Adam"),
        (lambda: numopt.SAM(numopt.SAM(numopt.GD())), ValueError, "already a SAM"),
        (lambda: numopt.SAM(numopt.LBFGS()), TypeError, "wraps a numopt optimizer"),
        (
            lambda: numopt.ParamGroups(numopt.SAM(numopt.Adam()), [{"params": [0]}]),
            ValueError,
            "put SAM around the groups",
        ),
        (
            lambda: numopt.ParamGroups(
                numopt.Adam(), [{"params": [0], "optimizer": numopt.SAM(numopt.AdamW())}]
            ),
            ValueError,
            r"param_groups\[0\]\['optimizer'\] is wrapped in SAM",
        ),
    ],
)
def test_bad_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_state_dict_round_trip():
    gs = np.random.default_rng(2).standard_normal((12, 4))
    a, x = numopt.SAM(numopt.Momentum(0.05), rho=0.2), np.ones(4)
    for g0, g1 in zip(gs[:6:2], gs[1:6:2], strict=True):
        a.perturb(x, g0)
        a.step(x, g1)
    b, y = numopt.SAM(numopt.Momentum(0.05), rho=0.2), x.copy()
    b.load_state_dict(a.state_dict())
    for g0, g1 in zip(gs[6::2], gs[7::2], strict=True):
        for opt, v in ((a, x), (b, y)):
            opt.perturb(v, g0)
            opt.step(v, g1)
    np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match=r"with rho=0\.2; this one has rho=0\.3"):
        numopt.SAM(numopt.Momentum(0.05), rho=0.3).load_state_dict(a.state_dict())


def test_attributes():
    opt = numopt.SAM(numopt.Adam(0.1), rho=0.2, adaptive=True)
    assert (opt.rho, opt.adaptive, opt.name, opt.learning_rate) == (0.2, True, "adam", 0.1)
    with pytest.raises(AttributeError, match=r"SAM\.rho cannot be set"):
        opt.rho = 0.1
    assert repr(opt).startswith("SAM(Adam(") and "rho=0.2, adaptive=True" in repr(opt)


# -- minimize: options={"sam": rho} ---------------------------------------------------------
def test_minimize_is_the_stateful_loop():
    options = {"learning_rate": 0.1, "maxiter": 30, "gtol": 0.0, "sam": 0.05}
    res = numopt.minimize(quad, np.zeros(4), jac=True, method="adam", options=options)
    opt, x = numopt.SAM(numopt.Adam(0.1), rho=0.05), np.zeros(4)
    for _ in range(30):
        opt.perturb(x, quad(x)[1])
        opt.step(x, quad(x)[1])
    np.testing.assert_array_equal(res.x, x)
    assert (res.nit, res.nfev, res.njev) == (30, 61, 61)  # two per update, one at the end
    f, g = quad(res.x)
    assert res.fun == f
    np.testing.assert_array_equal(res.jac, g)  # at x, not at the climbed point
    as_method = numopt.minimize(
        quad,
        np.zeros(4),
        jac=True,
        method=numopt.SAM(numopt.Adam(0.1), rho=0.05),
        options={"maxiter": 30, "gtol": 0.0},
    )
    np.testing.assert_array_equal(as_method.x, x)
    assert "sam" in res.compiled_reason or "Numba" in res.compiled_reason


def test_minimize_adaptive_and_bounds_evaluate_inside_the_box():
    seen = []

    def fun(x):
        seen.append(x.copy())
        return quad(x)

    bounds = [(-0.5, 0.9)] * 4
    res = numopt.minimize(
        fun,
        np.full(4, 0.2),
        jac=True,
        method="sgd",
        bounds=bounds,
        options={
            "learning_rate": 0.1,
            "maxiter": 20,
            "gtol": 0.0,
            "sam": 0.3,
            "sam_adaptive": True,
        },
    )
    assert res.nfev == len(seen) == 41
    points = np.array(seen)
    assert np.all((points >= -0.5) & (points <= 0.9))
    assert np.any(points == 0.9) and np.any(points == -0.5)  # (the box was reached)
    # a climbed point differs from the iterate evaluated just before it
    assert not np.array_equal(points[1], points[0])


def test_the_second_evaluation_sees_the_same_mini_batch():
    X = np.random.default_rng(3).standard_normal((20, 4))
    y = X @ B
    batches = []

    def loss(w, X, y):
        batches.append(X.copy())
        r = X @ w - y
        return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)

    res = numopt.minimize(
        loss,
        np.zeros(4),
        args=(X, y),
        jac=True,
        method="sgd",
        options={"learning_rate": 0.1, "batch_size": 6, "epochs": 2, "seed": 0, "sam": 0.1},
    )
    assert res.nit == 8
    for first, second in zip(batches[0:16:2], batches[1:16:2], strict=True):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(batches[0], batches[2])


def test_an_interrupt_in_the_second_evaluation_returns_the_iterate():
    calls = []

    def fun(x):
        calls.append(x.copy())
        if len(calls) == 6:  # the climbed point of the third update
            raise KeyboardInterrupt
        return quad(x)

    res = numopt.minimize(
        fun, np.zeros(4), jac=True, method="adam", options={"learning_rate": 0.1, "sam": 0.1}
    )
    assert res.status == 8 and res.nit == 2  # interrupted
    np.testing.assert_array_equal(res.x, calls[4])  # the iterate, not the climbed point


def test_checkpoint_resume_is_bit_exact(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((24, 3))
    y = X @ np.array([1.0, -2.0, 0.5])

    def loss(w, X, y):
        r = X @ w - y
        return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)

    options = {"learning_rate": 0.05, "gtol": 0.0, "sam": 0.1, "batch_size": 5, "epochs": 3}
    kw = {"args": (X, y), "jac": True, "method": "nadam"}
    whole = numopt.minimize(loss, np.zeros(3), **kw, options={**options, "seed": 2})
    path = tmp_path / "run.npz"
    numopt.minimize(
        loss, np.zeros(3), **kw, options={**options, "seed": 2, "maxiter": 7, "checkpoint": path}
    )
    resumed = numopt.minimize(loss, np.zeros(3), **kw, options={**options, "resume": path})
    np.testing.assert_array_equal(resumed.x, whole.x)
    assert resumed.nfev == whole.nfev
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(loss, np.zeros(3), **kw, options={**options, "sam": 0.2, "resume": path})


@pytest.mark.parametrize(
    ("options", "method", "error", "pattern"),
    [
        ({"sam": 0.0}, "adam", ValueError, "sam must be"),
        ({"sam": "big"}, "adam", TypeError, "sam must be"),
        ({"sam_adaptive": True}, "adam", ValueError, "sam_adaptive needs sam"),
        ({"sam": 0.1, "sam_adaptive": "yes"}, "adam", TypeError, "sam_adaptive must be"),
        ({"sam": 0.1}, "l-bfgs-b", ValueError, "takes no transforms"),
    ],
)
def test_bad_options(options, method, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.minimize(quad, np.ones(4), method=method, jac=True, options=options)


def test_structured_x0_takes_the_global_norm():
    def fun(p):
        fa, ga = quad(np.concatenate([p["a"], p["b"]]))
        return fa, {"a": ga[:2], "b": ga[2:]}

    opts = {"learning_rate": 0.1, "maxiter": 10, "gtol": 0.0, "sam": 0.2}
    res = numopt.minimize(fun, {"a": np.zeros(2), "b": np.zeros(2)}, jac=True, method="sgd",
                          options=opts)  # fmt: skip
    flat = numopt.minimize(quad, np.zeros(4), jac=True, method="sgd", options=opts)
    np.testing.assert_array_equal(np.concatenate([res.x["a"], res.x["b"]]), flat.x)


# -- against optax.contrib.sam --------------------------------------------------------------
N, STEPS = 24, 300


def noisy_problem(seed=3):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 3.0, N)
    b = rng.standard_normal(N)
    noise = 0.3 * rng.standard_normal((2 * STEPS, N))
    return rng.standard_normal(N) * 2.0, lambda x, t: a * (x - b) + noise[t]


OUTER = {
    "sgd": (lambda: numopt.SGD(learning_rate=0.05), lambda o: o.sgd(0.05)),
    "momentum": (
        lambda: numopt.Momentum(learning_rate=0.05, beta=0.9, nesterov=True),
        lambda o: o.sgd(0.05, momentum=0.9, nesterov=True),
    ),
    "adam": (lambda: numopt.Adam(learning_rate=0.02), lambda o: o.adam(0.02)),
    "adamw": (
        lambda: numopt.AdamW(learning_rate=0.02, weight_decay=0.1),
        lambda o: o.adamw(0.02, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("backend", ["numpy", "serial", "parallel"])
@pytest.mark.parametrize("rho", [0.05, 0.5])
@pytest.mark.parametrize("outer", sorted(OUTER))
def test_300_steps_match_optax(outer, rho, backend):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    x0, grad = noisy_problem()
    make_numopt, make_optax = OUTER[outer]
    inner = make_numopt()
    inner.backend = backend
    opt, x = numopt.SAM(inner, rho=rho), x0.copy()
    for t in range(STEPS):
        opt.perturb(x, grad(x, 2 * t))
        opt.step(x, grad(x, 2 * t + 1))
    with jax.enable_x64(True):
        adv = optax.chain(optax.contrib.normalize(), optax.sgd(rho))
        tx = optax.contrib.sam(make_optax(optax), adv, sync_period=2)
        p = jax.numpy.asarray(x0)
        state = tx.init(p)
        for t in range(2 * STEPS):  # the climb and the update are two calls in optax
            g = jax.numpy.asarray(grad(np.asarray(p), t))
            updates, state = tx.update(g, state, p)
            p = optax.apply_updates(p, updates)
        want = np.asarray(p)
    assert want.dtype == np.float64
    np.testing.assert_allclose(x, want, rtol=1e-10, atol=1e-12)


def test_a_non_finite_climbed_point_stops_at_the_iterate_or_skips_the_batch():
    calls = []

    def fun(x):
        calls.append(x.copy())
        f, g = quad(x)
        return (math.nan, g) if len(calls) == 4 else (f, g)  # the climbed point of update 2

    res = numopt.minimize(
        fun, np.zeros(4), jac=True, method="adam", options={"learning_rate": 0.1, "sam": 0.1}
    )
    assert res.status == 3 and res.nit == 1
    assert "SAM's climbed point, iteration 1" in res.message
    np.testing.assert_array_equal(res.x, calls[2])  # the finite iterate, not stepped
    assert np.all(np.isfinite(res.x))

    X = np.random.default_rng(3).standard_normal((20, 4))
    y = X @ B
    count = [0]

    def loss(w, X, y):
        count[0] += 1
        r = X @ w - y
        bad = count[0] == 4  # the climbed point of the second batch
        return (math.inf if bad else 0.5 * float(r @ r) / len(y)), X.T @ r / len(y)

    options = {"learning_rate": 0.1, "batch_size": 5, "epochs": 1, "seed": 0, "sam": 0.1,
               "on_nonfinite": "skip", "history": True}  # fmt: skip
    res = numopt.minimize(loss, np.zeros(4), args=(X, y), jac=True, method="sgd", options=options)
    assert res.skipped == 1 and res.nit == 3 and res.status == 7  # 4 batches, 1 skipped
    # the history holds updates: the skipped batch's loss is not in it
    assert len(res.history["fun"]) == len(res.history["grad_norm"]) == 3
    assert len(res.history["learning_rate"]) == 3
    assert np.all(np.isfinite(res.x))
