"""The compiled loop (``options["compiled"]``) against the Python loop, bit for bit.

Every test runs the same ``minimize`` call twice — ``compiled=True`` and
``compiled=False`` — and compares the whole result (x, jac, fun, x_best, counts,
status, message), the history and what the callbacks saw with ``==``.  The Numba
objectives are cached, so the compiled loops around them are cached as well.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

import numopt
from numopt import schedules

# -- objectives ---------------------------------------------------------------------------


@njit(cache=True)
def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@njit(cache=True)
def rosen_der(x):
    g = np.zeros_like(x)
    a = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * a - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * a
    return g


@njit(cache=True)
def rosen_both(x):
    return rosen(x), rosen_der(x)


@njit(cache=True)
def rosen_inplace(x, grad):
    grad[:] = rosen_der(x)
    return rosen(x)


@njit(cache=True)
def least_squares(w, X, y, scale):
    r = X @ w - y
    return scale * np.mean(r * r)


@njit(cache=True)
def least_squares_grad(w, X, y, scale):
    r = X @ w - y
    return (2.0 * scale / y.size) * (X.T @ r)


@njit(cache=True)
def bowl(x):  # any shape: sum of (i+1) x_i^2 over the flat view
    return np.sum(np.arange(1.0, x.size + 1.0).reshape(x.shape) * x * x)


@njit(cache=True)
def bowl_grad(x):
    return 2.0 * np.arange(1.0, x.size + 1.0).reshape(x.shape) * x


@njit(cache=True)
def blows_up(x):
    return np.sum(x * x) if x[0] < 3.0 else np.inf


@njit(cache=True)
def blows_up_grad(x):
    return -np.ones_like(x)


def data(n=97, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1.0) + 0.1 * rng.standard_normal(n)
    return X, y


# -- helpers ------------------------------------------------------------------------------
FIELDS = ("x", "jac", "x_best")
SCALARS = ("fun", "fun_best", "nit", "nfev", "njev", "status", "success", "message")


def both(fun, x0, *, callback_every=None, **kw):
    """The same call compiled and in Python: (results, what the callbacks saw)."""
    out = []
    kw.setdefault("method", "adam")
    for compiled in (True, False):
        seen = []

        def callback(intermediate_result, seen=seen):
            seen.append((intermediate_result.nit, intermediate_result.fun))
            seen.append(np.array(intermediate_result.x))

        options = {**kw.pop("options", {}), "compiled": compiled}
        if callback_every is not None:
            options["callback_every"] = callback_every
        res = numopt.minimize(
            fun,
            np.copy(x0) if isinstance(x0, np.ndarray) else x0,
            callback=callback if callback_every is not None else None,
            options=options,
            **kw,
        )
        kw["options"] = {k: v for k, v in options.items() if k != "compiled"}
        out.append((res, seen))
    assert out[0][0].compiled is True
    assert out[1][0].compiled is False
    return out


def assert_same(pair):
    (a, seen_a), (b, seen_b) = pair
    for k in FIELDS:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        assert a[k].dtype == b[k].dtype
    for k in SCALARS:
        va, vb = a[k], b[k]
        assert va == vb or (isinstance(va, float) and math.isnan(va) and math.isnan(vb)), k
    assert set(a) == set(b)
    for k in ("epochs", "skipped"):
        assert a.get(k) == b.get(k)
    if "history" in a:
        for k in a.history:
            np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    assert len(seen_a) == len(seen_b)
    for u, v in zip(seen_a, seen_b, strict=True):
        if isinstance(u, tuple):
            assert u == v
        else:
            np.testing.assert_array_equal(u, v)
    return a


X0 = np.array([-1.2, 1.0])
X0_IN = np.array([-1.2, 0.4])  # inside the box of the bounds tests


# -- the same result, bit for bit -----------------------------------------------------------
@pytest.mark.parametrize("method", sorted(m for m, c in numopt.RULES.items() if c.spec.compilable))
def test_every_compilable_rule_matches_the_python_loop(method):
    opts = {"learning_rate": 1e-3, "maxiter": 300, "history": True}
    res = assert_same(both(rosen, X0, method=method, jac=rosen_der, options=opts))
    assert res.nit == 300


@pytest.mark.parametrize(
    ("fun", "jac"), [(rosen, rosen_der), (rosen_both, True), (rosen_inplace, "inplace")]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_objective_form_and_dtype(fun, jac, dtype):
    opts = {"learning_rate": 2e-3, "maxiter": 400, "gtol": 1e-3, "history": True}
    x0 = X0.astype(dtype)
    res = assert_same(both(fun, x0, method="adam", jac=jac, callback_every=37, options=opts))
    assert res.x.dtype == dtype


def test_callbacks_every_iteration_and_stopping():
    seen = []

    def stop_at_50(intermediate_result):
        seen.append(intermediate_result.nit)
        return intermediate_result.nit == 50

    for compiled in (True, False):
        res = numopt.minimize(
            rosen,
            X0,
            method="adam",
            jac=rosen_der,
            callback=stop_at_50,
            options={"compiled": compiled},
        )
        assert (res.status, res.nit) == (99, 50)
    assert seen == list(range(1, 51)) * 2
    assert_same(both(rosen, X0, jac=rosen_der, callback_every=1, options={"maxiter": 60}))


def test_shaped_x0_and_non_data_args():
    x0 = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    opts = {"learning_rate": 0.01, "maxiter": 200, "gtol": 1e-4}
    assert_same(both(bowl, x0, jac=bowl_grad, method="momentum", options=opts))
    X, y = data()
    w0 = np.zeros(X.shape[1])
    assert_same(both(least_squares, w0, args=(X, y, 0.5), jac=least_squares_grad, options=opts))


@pytest.mark.parametrize(
    "make",
    [
        lambda: schedules.cosine_annealing(0.01, decay_steps=150, alpha=0.1),
        lambda: schedules.warmup(schedules.exponential(0.01, 0.5, 40), warmup_steps=20),
        lambda: schedules.ReduceLROnPlateau(0.01, factor=0.5, patience=3),
    ],
    ids=["cosine", "warmup-exponential", "plateau"],
)
def test_schedules_match(make):
    runs = []
    for compiled in (True, False):  # a fresh schedule each: a plateau keeps state
        opts = {"learning_rate": make(), "maxiter": 250, "history": True, "gtol": 0.0}
        res = numopt.minimize(
            rosen, X0, jac=rosen_der, method="rmsprop", options={**opts, "compiled": compiled}
        )
        runs.append((res, []))
    assert_same(runs)


def test_the_plateau_schedule_object_ends_in_the_same_state():
    states = []
    for compiled in (True, False):
        plateau = schedules.ReduceLROnPlateau(0.05, factor=0.5, patience=2, cooldown=1)
        numopt.minimize(
            rosen,
            X0,
            method="adam",
            jac=rosen_der,
            options={"learning_rate": plateau, "maxiter": 120, "compiled": compiled},
        )
        states.append(plateau.state_dict())
    assert states[0] == states[1]


@pytest.mark.parametrize(
    "batching",
    [
        {"batch_size": 10, "epochs": 4, "seed": 3},
        {"batch_size": 10, "epochs": 3, "seed": 1, "drop_last": True},
        {"batch_size": 16, "epochs": 2, "shuffle": False},
        {"batch_size": 8, "maxiter": 30, "seed": 5},
    ],
    ids=["shuffled", "drop-last", "in-order", "maxiter-mid-epoch"],
)
def test_mini_batches_match(batching):
    X, y = data()
    opts = {"learning_rate": 0.05, "history": True, **batching}
    res = assert_same(
        both(
            least_squares,
            np.zeros(X.shape[1]),
            args=(X, y, 1.0),
            jac=least_squares_grad,
            method="sgd",
            options=opts,
        )
    )
    assert res.history["epoch_fun"].size == res.epochs


def test_mini_batches_with_a_plateau_fed_per_epoch():
    X, y = data()
    runs = []
    for compiled in (True, False):
        plateau = schedules.ReduceLROnPlateau(0.2, factor=0.5, patience=0)
        opts = {"learning_rate": plateau, "batch_size": 20, "epochs": 6, "seed": 0}
        res = numopt.minimize(
            least_squares,
            np.zeros(X.shape[1]),
            args=(X, y, 1.0),
            jac=least_squares_grad,
            method="momentum",
            options={**opts, "compiled": compiled},
        )
        runs.append((res, []))
    assert runs[0][0].compiled and not runs[1][0].compiled
    assert_same(runs)


@pytest.mark.parametrize(
    "options",
    [
        {"gtol": 1e-2, "maxiter": 5000},
        {"ftol": 1e-9, "maxiter": 5000, "gtol": 0.0},
        {"xtol": 1e-5, "maxiter": 5000, "gtol": 0.0},
        {"maxfev": 123, "gtol": 0.0},
    ],
    ids=["gtol", "ftol", "xtol", "maxfev"],
)
def test_stopping_rules_match(options):
    opts = {"learning_rate": 0.01, "history": True, **options}
    res = assert_same(both(rosen, X0, jac=rosen_der, options=opts))
    assert res.status in (0, 2, 4, 5)


def test_non_finite_loss_returns_the_best_point_alike():
    opts = {"learning_rate": 0.1, "maxiter": 100}
    res = assert_same(both(blows_up, np.zeros(3), jac=blows_up_grad, method="gd", options=opts))
    assert res.status == 3
    assert "non-finite loss (inf)" in res.message
    assert np.all(np.isfinite(res.x))


def test_maximize_and_disp_match(capsys):
    opts = {"learning_rate": 1e-3, "maxiter": 50, "disp": True}
    both(neg_rosen, X0, jac=neg_rosen_der, options={**opts, "maximize": True})
    lines = capsys.readouterr().out.splitlines()
    half = len(lines) // 2
    # the first line names the loop; the table and the summary are the same
    assert (lines[0], lines[half]) == ("compiled loop", "Python loop (compiled=False)")
    assert lines[1:half] == lines[half + 1 :]
    assert lines[1].split() == ["iter", "f", "max|g|", "lr"]


@njit(cache=True)
def neg_rosen(x):
    return -rosen(x)


@njit(cache=True)
def neg_rosen_der(x):
    return -rosen_der(x)


def test_checkpoint_and_resume_in_either_loop(tmp_path):
    """Stop a compiled run, resume it compiled or in Python: the uninterrupted run's bits."""
    X, y = data()
    kw = {"args": (X, y, 1.0), "jac": least_squares_grad, "method": "adam"}
    base = {"learning_rate": 0.05, "batch_size": 10, "epochs": 3, "seed": 7}
    full = numopt.minimize(least_squares, np.zeros(4), options={**base, "compiled": False}, **kw)
    path = tmp_path / "run.npz"
    part = numopt.minimize(
        least_squares,
        np.zeros(4),
        options={**base, "maxiter": 13, "checkpoint": path, "compiled": True},
        **kw,
    )
    assert part.nit == 13
    for compiled in (True, False):
        rest = numopt.minimize(
            least_squares,
            np.zeros(4),
            options={**base, "resume": path, "compiled": compiled},
            **kw,
        )
        np.testing.assert_array_equal(rest.x, full.x)
        assert rest.nit == full.nit


def test_periodic_checkpoints_do_not_change_the_run(tmp_path):
    opts = {"maxiter": 100, "checkpoint": tmp_path / "c.npz", "checkpoint_every": 10}
    assert_same(both(rosen, X0, jac=rosen_der, options=opts))


def test_keyboard_interrupt_from_a_callback_stops_with_status_8():
    def interrupt(intermediate_result):
        if intermediate_result.nit == 20:
            raise KeyboardInterrupt

    res = numopt.minimize(
        rosen, X0, method="adam", jac=rosen_der, callback=interrupt, options={"compiled": True}
    )
    assert (res.status, res.nit) == (8, 20)


def test_max_time_stops_a_compiled_run():
    res = numopt.minimize(
        rosen,
        X0,
        method="adam",
        jac=rosen_der,
        options={"compiled": True, "maxiter": 10**9, "gtol": 0.0, "max_time": 0.2},
    )
    assert res.status == 6
    assert res.nit > 0


@pytest.mark.parametrize("method", ["adam", "gd", "rmsprop"])
def test_bounds_match_and_hold(method):
    """Projection inside the update and the projected-gradient gtol, as in the Python loop."""
    inside = []

    def check(intermediate_result):
        inside.append(bool(np.all((intermediate_result.x >= -2) & (intermediate_result.x <= 0.5))))

    bounds = [(-2.0, 0.5), (-2.0, 0.5)]
    opts = {"learning_rate": 0.01, "maxiter": 3000, "gtol": 1e-6, "history": True}
    res = assert_same(both(rosen, X0_IN, jac=rosen_der, method=method, bounds=bounds, options=opts))
    for compiled in (True, False):
        numopt.minimize(
            rosen,
            X0_IN,
            jac=rosen_der,
            method=method,
            bounds=bounds,
            callback=check,
            options={**opts, "compiled": compiled},
        )
    assert all(inside)
    if method == "adam":
        assert res.status == 0
        assert res.x[0] == 0.5  # the constrained minimum lies on the bound


def test_bounds_with_mini_batches_match():
    X, y = data()
    opts = {"learning_rate": 0.05, "batch_size": 10, "epochs": 2, "seed": 2}
    assert_same(
        both(
            least_squares,
            np.zeros(4),
            args=(X, y, 1.0),
            jac=least_squares_grad,
            bounds=[(0.0, 1.5)] * 4,
            options=opts,
        )
    )


# -- when it cannot compile ---------------------------------------------------------------
def python_rosen(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"fun": python_rosen, "jac": rosen_der}, "fun is not a Numba"),
        ({"jac": lambda x: rosen_der(x)}, "jac is a Python callable"),
        ({"jac": None}, "finite differences"),
        ({"x0": (np.array([-1.2]), np.array([1.0]))}, "list/tuple/dict"),
        ({"options": {"learning_rate": lambda step: 1e-3}}, "learning rate cannot be compiled"),
    ],
    ids=["python-fun", "python-jac", "finite-differences", "list-x0", "callable-lr"],
)
def test_uncompilable_runs_fall_back_or_say_why(kw, reason):
    call = {"fun": rosen, "x0": X0, "jac": rosen_der, "method": "adam", "options": {}, **kw}
    options = {"maxiter": 5, **call.pop("options")}
    if isinstance(call["x0"], tuple):
        call["fun"], call["jac"] = list_rosen, list_rosen_der
    res = numopt.minimize(**call, options=options)
    assert res.compiled is False
    with pytest.raises(ValueError, match=f"compiled=True, but .*{reason}"):
        numopt.minimize(**call, options={**options, "compiled": True})


@njit(cache=True)
def list_rosen(xs):
    return rosen(np.array([xs[0][0], xs[1][0]]))


@njit(cache=True)
def list_rosen_der(xs):
    g = rosen_der(np.array([xs[0][0], xs[1][0]]))
    return (g[:1].copy(), g[1:].copy())


def test_bad_compiled_and_callback_every_options():
    with pytest.raises(ValueError, match="compiled must be 'auto', True or False"):
        numopt.minimize(rosen, X0, method="adam", jac=rosen_der, options={"compiled": "yes"})
    with pytest.raises(ValueError, match="callback_every"):
        numopt.minimize(rosen, X0, method="adam", jac=rosen_der, options={"callback_every": 0})


def test_inplace_jac_in_the_python_loop_with_a_structure():
    def fg(xs, grads):
        grads["a"][:] = 2 * xs["a"]
        grads["b"][:] = 4 * (xs["b"] - 1)
        return float(np.sum(xs["a"] ** 2) + 2 * np.sum((xs["b"] - 1) ** 2))

    x0 = {"a": np.ones(3), "b": np.zeros((2, 2))}
    res = numopt.minimize(fg, x0, jac="inplace", method="gd", options={"learning_rate": 0.1})
    assert res.success
    np.testing.assert_allclose(res.x["b"], 1.0, atol=1e-5)
    assert res.nfev == res.njev == res.nit + 1
