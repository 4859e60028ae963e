"""Averages of the point: numopt.EMA, numopt.Polyak, numopt.Averaged, minimize's ``average``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rule_table import as_matrices

import numopt
from numopt.kernels.cpu import SERIAL_BELOW

RULES = sorted(numopt.RULES)

points = st.integers(1, 12).flatmap(
    lambda t: hnp.arrays(np.float64, (t, 3), elements=st.floats(-100, 100))
)


# -- the formulas, by hand ----------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(xs=points, beta=st.floats(0.0, 0.999))
def test_debiased_ema_is_the_normalised_weighted_sum(xs, beta):
    ema = numopt.EMA(beta)
    for x in xs:
        ema.update(x)
    t = len(xs)
    weights = (1 - beta) * beta ** np.arange(t - 1, -1, -1) / (1 - beta**t)
    want = weights @ xs if beta > 0 else xs[-1]
    np.testing.assert_allclose(
        ema.average, want, rtol=1e-12, atol=1e-12 * np.abs(xs).max() + np.finfo(float).tiny
    )  # (subnormal inputs keep fewer digits)


@settings(max_examples=60, deadline=None)
@given(xs=points, beta=st.floats(0.0, 0.999))
def test_torch_style_ema_starts_at_the_first_point(xs, beta):
    ema = numopt.EMA(beta, debias=False)
    for x in xs:
        ema.update(x)
    t = len(xs)
    want = beta ** (t - 1) * xs[0]
    for i in range(1, t):
        want = want + (1 - beta) * beta ** (t - 1 - i) * xs[i]
    np.testing.assert_allclose(
        ema.average, want, rtol=1e-12, atol=1e-12 * np.abs(xs).max() + np.finfo(float).tiny
    )  # (subnormal inputs keep fewer digits)
    # and step by step, the same arithmetic as the kernel: a ← β a + (1-β) x
    a = xs[0].copy()
    for x in xs[1:]:
        a = beta * a + (1 - beta) * x
    np.testing.assert_array_equal(ema.average, a)


def test_ema_matches_torch_and_optax():
    torch = pytest.importorskip("torch")
    optax = pytest.importorskip("optax")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    xs = np.random.default_rng(0).standard_normal((20, 4))
    model = torch.nn.Linear(4, 1, bias=False)
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    ours = numopt.EMA(0.9, debias=False)
    for x in xs:
        with torch.no_grad():
            model.weight.copy_(torch.tensor(x[None, :]))
        averaged.update_parameters(model)
        ours.update(x)
    theirs = averaged.module.weight.detach().numpy()[0].astype(np.float64)
    np.testing.assert_allclose(ours.average, theirs, rtol=1e-6)  # torch keeps float32

    transform = optax.ema(0.9, debias=True)
    state = transform.init(np.zeros(4))
    debiased = numopt.EMA(0.9)
    for x in xs:
        out, state = transform.update(x, state)
        debiased.update(x)
    np.testing.assert_allclose(debiased.average, np.asarray(out), rtol=1e-5)  # optax float32


@settings(max_examples=60, deadline=None)
@given(xs=points, start=st.integers(0, 4))
def test_polyak_is_the_running_mean(xs, start):
    avg = numopt.Polyak(start=start)
    for x in xs:
        avg.update(x)
    assert avg.seen == len(xs) and avg.count == max(0, len(xs) - start)
    if avg.count == 0:
        assert avg.average is None
        return
    np.testing.assert_allclose(avg.average, xs[start:].mean(axis=0), rtol=1e-12, atol=1e-11)
    # the kernel's arithmetic exactly: a ← a + (x - a) / (n + 1), a_1 = x_1
    a = xs[start].copy()
    for n, x in enumerate(xs[start + 1 :], 1):
        a = a + (x - a) / (n + 1)
    np.testing.assert_array_equal(avg.average, a)


def test_hand_values():
    ema, torch_style, polyak = numopt.EMA(0.5), numopt.EMA(0.5, debias=False), numopt.Polyak()
    for v in (2.0, 4.0, 8.0):
        for avg in (ema, torch_style, polyak):
            avg.update(np.array([v]))
    # debiased: (0.25·2 + 0.5·4 + 1·8)·0.5/(1 - 0.125) = 6; torch: 0.25·2 + 0.25·4 + 0.5·8
    assert ema.average[0] == 6.0
    assert torch_style.average[0] == 5.5
    assert polyak.average[0] == pytest.approx(14 / 3, rel=1e-15)


def test_ema_start_skips_points():
    ema = numopt.EMA(0.5, start=2)
    for v in (100.0, 100.0, 2.0, 4.0):
        ema.update(np.array([v]))
    assert (ema.seen, ema.count) == (4, 2)
    assert ema.average[0] == pytest.approx((0.5 * 2 + 4) * 0.5 / 0.75)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["ema", "ema-torch", "polyak"])
def test_kernels_agree_across_backends_and_with_the_reference(kind, dtype):
    n = SERIAL_BELOW + 3
    xs = np.random.default_rng(2).standard_normal((6, n)).astype(dtype)
    out = {}
    for backend in ("serial", "parallel", "numpy"):
        if kind == "polyak":
            avg = numopt.Polyak(backend=backend)
        else:
            avg = numopt.EMA(0.9, debias=kind == "ema", backend=backend)
        for x in xs:
            avg.update(x)
        out[backend] = avg.average
        assert out[backend].dtype == dtype
    np.testing.assert_array_equal(out["serial"], out["numpy"])
    np.testing.assert_array_equal(out["parallel"], out["numpy"])


def test_shapes_and_memory_order_are_kept():
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    avg = numopt.Polyak()
    avg.update(x)
    avg.update(2 * x)
    np.testing.assert_array_equal(avg.average, 1.5 * x)
    with pytest.raises(ValueError, match="built for shape"):
        avg.update(np.zeros(4))


def test_tracker_state_dict_round_trip():
    xs = np.random.default_rng(0).standard_normal((8, 5))
    a = numopt.EMA(0.8, start=1)
    for x in xs[:4]:
        a.update(x)
    sd = a.state_dict()
    assert {k: v for k, v in sd.items() if k != "mean"} == {
        "average": "ema",
        "start": 1,
        "decay": 0.8,
        "debias": True,
        "seen": 4,
        "count": 3,
        "order": "C",
    }
    b = numopt.EMA(0.8, start=1)
    b.load_state_dict(sd)
    for x in xs[4:]:
        a.update(x)
        b.update(x)
    np.testing.assert_array_equal(a.average, b.average)
    with pytest.raises(ValueError, match=r"saved with decay=0\.8; this EMA has decay=0\.9"):
        numopt.EMA(0.9, start=1).load_state_dict(sd)
    with pytest.raises(ValueError, match="saved with average='ema'; this Polyak"):
        numopt.Polyak(start=1).load_state_dict(sd)
    with pytest.raises(ValueError, match="count > 0 but no 'mean'"):
        numopt.EMA(0.8, start=1).load_state_dict({k: v for k, v in sd.items() if k != "mean"})


# -- the wrapper ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ema", "polyak"])
@pytest.mark.parametrize("method", RULES)
def test_averaged_feeds_every_update_of_every_rule(method, kind):
    make = (lambda: numopt.EMA(0.7)) if kind == "ema" else numopt.Polyak
    gs = as_matrices(method, np.random.default_rng(4).standard_normal((7, 9)))
    wrapped = numopt.Averaged(numopt.RULES[method](learning_rate=0.01), make())
    plain, tracker = numopt.RULES[method](learning_rate=0.01), make()
    x, y = as_matrices(method, np.ones(9), np.ones(9))
    for g in gs:
        wrapped.step(x, g)
        plain.step(y, g)
        tracker.update(y)
    np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(wrapped.average, tracker.average)
    assert wrapped.step_count == wrapped.averager.count == 7


def test_averaged_over_multisteps_averages_updates_only():
    opt = numopt.Averaged(numopt.MultiSteps(numopt.GD(1.0), 2), numopt.Polyak())
    x = np.zeros(1)
    for g in (1.0, 1.0, 2.0, 2.0):  # x: 0, -1, -1, -3
        opt.step(x, np.array([g]))
    assert opt.averager.count == 2 and opt.average[0] == -2.0


def test_averaged_state_dict_round_trip():
    gs = np.random.default_rng(1).standard_normal((10, 3))
    a, x = numopt.Averaged(numopt.Adam(0.1), numopt.EMA(0.5)), np.zeros(3)
    for g in gs[:5]:
        a.step(x, g)
    sd = a.state_dict()
    assert set(sd["state"]) == {"m", "v", "average_mean"}
    b, y = numopt.Averaged(numopt.Adam(0.1), numopt.EMA(0.5)), x.copy()
    b.load_state_dict(sd)
    for g in gs[5:]:
        a.step(x, g)
        b.step(y, g)
    np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.average, b.average)
    with pytest.raises(ValueError, match="saved by Averaged with average='ema'"):
        numopt.Averaged(numopt.Adam(0.1), numopt.Polyak()).load_state_dict(sd)


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: numopt.EMA(1.0), ValueError, "decay must satisfy 0 <= decay < 1"),
        (lambda: numopt.EMA(debias=1), TypeError, "debias must be True or False"),
        (lambda: numopt.Polyak(start=-1), ValueError, "start must be an integer >= 0"),
        (lambda: numopt.Polyak(backend="gpu"), ValueError, "backend must be one of"),
        (lambda: numopt.Averaged(numopt.GD(), "ema"), TypeError, "average must be a numopt.EMA"),
        (lambda: numopt.EMA().update([1.0, 2.0]), TypeError, "x must be a numpy.ndarray"),
        (
            lambda: numopt.EMA().update(np.zeros((4, 4))[:, 0]),
            ValueError,
            "x is not contiguous",
        ),
    ],
)
def test_bad_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_a_used_average_is_refused():
    ema = numopt.EMA()
    ema.update(np.zeros(2))
    with pytest.raises(ValueError, match="average must be fresh"):
        numopt.Averaged(numopt.GD(), ema)


# -- minimize: average="ema" / "polyak" ---------------------------------------------------
A = np.array([3.0, 1.0, 0.2])


def quad(x):
    return 0.5 * float(x @ (A * x)), A * x


@pytest.mark.parametrize(
    ("options", "make"),
    [
        ({"average": "polyak"}, lambda: numopt.Polyak()),
        ({"average": "ema"}, lambda: numopt.EMA(0.999)),
        (
            {"average": "ema", "ema_decay": 0.9, "ema_debias": False},
            lambda: numopt.EMA(0.9, debias=False),
        ),
        ({"average": "polyak", "average_start": 5}, lambda: numopt.Polyak(start=5)),
    ],
)
def test_minimize_x_average_is_the_average_of_the_updates(options, make):
    res = numopt.minimize(
        quad,
        np.ones(3),
        jac=True,
        method="momentum",
        options={"learning_rate": 0.1, "maxiter": 30, "gtol": 0.0, **options},
    )
    x, opt, avg = np.ones(3), numopt.Momentum(learning_rate=0.1), make()
    for _ in range(30):
        opt.step(x, quad(x)[1])
        avg.update(x)
    np.testing.assert_array_equal(res.x, x)  # x stays the last point
    np.testing.assert_array_equal(res.x_average, avg.average)
    assert not np.array_equal(res.x_average, res.x)


def test_x_average_is_structured_like_x0_and_is_x_before_any_point():
    def fun(p):
        return 0.5 * float(p["w"] @ p["w"] + p["b"] @ p["b"]), {"w": p["w"], "b": p["b"]}

    x0 = {"w": np.ones(2), "b": np.ones(1)}
    res = numopt.minimize(
        fun, x0, method="adam", jac=True, options={"maxiter": 3, "average": "ema"}
    )
    assert set(res.x_average) == {"w", "b"} and res.x_average["b"].shape == (1,)
    late = numopt.minimize(
        fun,
        x0,
        method="adam",
        jac=True,
        options={"maxiter": 3, "average": "polyak", "average_start": 10},
    )
    np.testing.assert_array_equal(late.x_average["w"], late.x["w"])
    assert late.x_average["w"] is not late.x["w"]
    plain = numopt.minimize(fun, x0, method="adam", jac=True, options={"maxiter": 3})
    assert "x_average" not in plain


@pytest.mark.parametrize(
    ("options", "error", "pattern"),
    [
        ({"average": "swa"}, ValueError, "average must be one of 'ema', 'polyak'"),
        ({"ema_decay": 0.9}, ValueError, "ema_decay needs average='ema'"),
        ({"average": "polyak", "ema_debias": False}, ValueError, "ema_debias needs average='ema'"),
        ({"average_start": 3}, ValueError, "average_start needs average"),
        ({"average": "ema", "ema_decay": 1.5}, ValueError, "ema_decay must satisfy"),
    ],
)
def test_bad_options(options, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.minimize(quad, np.ones(3), method="adam", jac=True, options=options)


@pytest.mark.parametrize("kind", ["ema", "polyak"])
@pytest.mark.parametrize("batched", [False, True])
def test_checkpoint_resume_is_bit_exact(kind, batched, tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((24, 3))
    y = X @ np.array([1.0, -2.0, 0.5])

    def loss(w, X, y):
        r = X @ w - y
        return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)

    options = {"learning_rate": 0.05, "gtol": 0.0, "average": kind, "average_start": 2}
    if batched:
        options.update(batch_size=5, epochs=4, seed=2)
    else:
        options["maxiter"] = 20
    whole = numopt.minimize(
        loss, np.zeros(3), args=(X, y), jac=True, method="adam", options=options
    )
    path = tmp_path / "run.npz"
    numopt.minimize(
        loss,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method="adam",
        options={**options, "maxiter": 7, "checkpoint": path},
    )
    resumed = numopt.minimize(
        loss, np.zeros(3), args=(X, y), jac=True, method="adam", options={**options, "resume": path}
    )
    np.testing.assert_array_equal(resumed.x, whole.x)
    np.testing.assert_array_equal(resumed.x_average, whole.x_average)
    other = "polyak" if kind == "ema" else "ema"
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(
            loss,
            np.zeros(3),
            args=(X, y),
            jac=True,
            method="adam",
            options={**options, "average": other, "resume": path},
        )
