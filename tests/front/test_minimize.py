"""numopt.minimize: convergence, mini-batches, jac modes, callbacks, statuses, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import rosen, rosen_der

import numopt
from numopt.loop.status import Status

# -- problems ------------------------------------------------------------------------
A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])  # SPD
B = np.array([1.0, -2.0, 0.5])
X_STAR = np.linalg.solve(A, B)


def quad(x):
    return 0.5 * x @ A @ x - B @ x


def quad_grad(x):
    return A @ x - B


def least_squares_data(n=600, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + 0.1 * rng.standard_normal(n)
    return X, y


def ls_loss(w, X, y):
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y)


def ls_grad(w, X, y):
    return X.T @ (X @ w - y) / len(y)


# -- convergence of every rule -------------------------------------------------------
QUAD_OPTIONS = {
    "gd": {"learning_rate": 0.2},
    "sgd": {"learning_rate": 0.2},
    "momentum": {"learning_rate": 0.05, "beta": 0.8},
    "nesterov": {"learning_rate": 0.05, "beta": 0.8, "nesterov": True},
    "rmsprop": {"learning_rate": 0.01, "eps_placement": "outside"},
    "adam": {"learning_rate": 0.05},
    "adamw": {"learning_rate": 0.05, "weight_decay": 0.0},
}


@pytest.mark.parametrize("case", sorted(QUAD_OPTIONS))
def test_every_rule_reaches_the_minimum_of_a_convex_quadratic(case):
    method = "momentum" if case == "nesterov" else case
    options = {**QUAD_OPTIONS[case], "maxiter": 20000, "gtol": 1e-8}
    if method == "rmsprop":  # constant-η RMSprop hovers: decay η, stop on ftol
        options["learning_rate"] = lambda k: 0.01 / (1 + k / 200)
        options["maxiter"] = 40000
    res = numopt.minimize(quad, np.zeros(3), method=method, jac=quad_grad, options=options)
    tol = 1e-4 if method == "rmsprop" else 1e-6
    np.testing.assert_allclose(res.x, X_STAR, atol=tol)
    assert res.fun == pytest.approx(quad(X_STAR), abs=tol)


ROSEN = {  # method: (options, tolerance on x)
    "gd": ({"learning_rate": 1e-3, "maxiter": 40000}, 1e-3),
    "momentum": ({"learning_rate": 2e-4, "beta": 0.9, "maxiter": 20000}, 1e-3),
    "rmsprop": ({"learning_rate": lambda k: 1e-2 / (1 + k / 500), "maxiter": 40000}, 2e-2),
    "adam": ({"learning_rate": 2e-2, "maxiter": 20000}, 1e-3),
    "adamw": ({"learning_rate": 2e-2, "weight_decay": 0.0, "maxiter": 20000}, 1e-3),
}


@pytest.mark.parametrize("method", sorted(ROSEN))
def test_every_rule_reaches_the_minimum_of_rosenbrock(method):
    options, tol = ROSEN[method]
    res = numopt.minimize(rosen, [-1.2, 1.0], method=method, jac=rosen_der, options=options)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=tol)
    assert res.fun < 1e-3


def test_method_name_is_case_insensitive():
    res = numopt.minimize(quad, np.zeros(3), method="AdAm", jac=quad_grad)
    assert res.method == "adam"


# -- mini-batches --------------------------------------------------------------------
def test_minibatch_sgd_matches_lstsq():
    X, y = least_squares_data()
    want = np.linalg.lstsq(X, y, rcond=None)[0]
    res = numopt.minimize(
        ls_loss,
        np.zeros(4),
        args=(X, y),
        jac=ls_grad,
        method="sgd",
        options={
            "learning_rate": lambda k: 0.1 / (1 + k / 100),
            "batch_size": 20,
            "epochs": 60,
            "seed": 0,
        },
    )
    assert res.success and res.status == 7 and res.epochs == 60
    assert res.nit == 60 * 30
    np.testing.assert_allclose(res.x, want, atol=2e-3)
    assert res.fun == pytest.approx(ls_loss(res.x, X, y))  # evaluated on all the data


def test_full_batch_equals_one_batch_of_all_samples():
    X, y = least_squares_data(n=64)
    common = {"learning_rate": 0.1, "maxiter": 50, "gtol": 0.0}
    full = numopt.minimize(
        ls_loss, np.zeros(4), args=(X, y), jac=ls_grad, method="gd", options=common
    )
    batched = numopt.minimize(
        ls_loss,
        np.zeros(4),
        args=(X, y),
        jac=ls_grad,
        method="gd",
        options={**common, "batch_size": 64, "shuffle": False},
    )
    np.testing.assert_array_equal(full.x, batched.x)
    shuffled = numopt.minimize(
        ls_loss,
        np.zeros(4),
        args=(X, y),
        jac=ls_grad,
        method="gd",
        options={**common, "batch_size": 64, "seed": 3},
    )
    np.testing.assert_allclose(full.x, shuffled.x, rtol=1e-12)  # only summation order differs


def _sgd_run(seed, **extra):
    X, y = least_squares_data(n=100)
    options = {"learning_rate": 0.05, "batch_size": 7, "epochs": 3, "seed": seed, **extra}
    return numopt.minimize(
        ls_loss, np.zeros(4), args=(X, y), jac=ls_grad, method="adam", options=options
    )


def test_same_seed_same_bits_other_seed_other_path():
    a, b, c = _sgd_run(1), _sgd_run(1), _sgd_run(2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_drop_last_and_update_counts():
    res = _sgd_run(0, drop_last=True)
    assert res.nit == 3 * (100 // 7)
    res = _sgd_run(0)
    assert res.nit == 3 * math.ceil(100 / 7)


def test_batches_reach_fun_and_non_data_args_pass_through():
    X, y = least_squares_data(n=30)
    seen = []

    def fun(w, X, y, scale, tag):
        seen.append((X.shape[0], y.shape[0], scale, tag))
        return ls_loss(w, X, y) * scale

    def jac(w, X, y, scale, tag):
        return ls_grad(w, X, y) * scale

    numopt.minimize(
        fun,
        np.zeros(4),
        args=(X, y, 2.0, "tag"),
        jac=jac,
        options={"batch_size": 8, "epochs": 1, "seed": 0},
    )
    assert [s[0] for s in seen[:-1]] == [8, 8, 8, 6]
    assert all(s[0] == s[1] and s[2:] == (2.0, "tag") for s in seen)
    assert seen[-1][0] == 30  # the final evaluation uses all the data


def test_data_args_selects_which_arrays_are_sampled():
    X, y = least_squares_data(n=30)
    weights = np.ones(4)  # an array argument that is not data

    def fun(w, X, y, weights):
        assert weights.shape == (4,)
        return ls_loss(w * weights, X, y)

    res = numopt.minimize(
        fun,
        np.zeros(4),
        args=(X, y, weights),
        options={"batch_size": 10, "epochs": 2, "data_args": [0, 1]},
    )
    assert res.nit == 6


# -- x0 and dtypes -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_throughout(dtype):
    seen = set()

    def fun(x):
        seen.add(x.dtype)
        return float(np.sum((x - 1.0) ** 2))

    res = numopt.minimize(
        fun, np.zeros((2, 3), dtype), jac=lambda x: 2 * (x - 1.0), options={"learning_rate": 0.1}
    )
    assert seen == {np.dtype(dtype)}
    assert res.x.dtype == dtype and res.x.shape == (2, 3) and res.jac.shape == (2, 3)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-4)


def test_integer_x0_is_converted_to_float64():
    res = numopt.minimize(quad, [0, 0, 0], jac=quad_grad, options={"maxiter": 5})
    assert res.x.dtype == np.float64


@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
def test_structured_x0_comes_back_in_its_structure(kind):
    target = [np.ones((2, 2)), np.full(3, -2.0)]

    def fun(p):
        leaves = list(p.values()) if isinstance(p, dict) else list(p)
        return sum(float(np.sum((a - t) ** 2)) for a, t in zip(leaves, target, strict=True))

    def jac(p):
        leaves = list(p.values()) if isinstance(p, dict) else list(p)
        grads = [2 * (a - t) for a, t in zip(leaves, target, strict=True)]
        return {"w": grads[0], "b": grads[1]} if isinstance(p, dict) else type(p)(grads)

    zeros = [np.zeros((2, 2)), np.zeros(3)]
    x0 = (
        {"w": zeros[0], "b": zeros[1]}
        if kind == "dict"
        else {"list": list, "tuple": tuple}[kind](zeros)
    )
    res = numopt.minimize(
        fun, x0, jac=jac, method="adam", options={"learning_rate": 0.1, "maxiter": 3000}
    )
    assert type(res.x) is type(x0)
    leaves = list(res.x.values()) if kind == "dict" else list(res.x)
    for a, t in zip(leaves, target, strict=True):
        np.testing.assert_allclose(a, t, atol=1e-4)
    if kind == "dict":
        assert list(res.x) == ["w", "b"]
    res = numopt.minimize(fun, x0, method="adam", options={"learning_rate": 0.1, "maxiter": 50})
    assert type(res.x) is type(x0)  # finite differences over the structure


def test_x0_and_args_are_not_modified_and_fun_sees_read_only_views():
    x0 = np.array([1.0, 2.0, 3.0])
    keep = x0.copy()

    def fun(x):
        with pytest.raises(ValueError, match="read-only"):
            x[0] = 5.0
        return quad(x)

    numopt.minimize(fun, x0, jac=quad_grad, options={"maxiter": 3})
    np.testing.assert_array_equal(x0, keep)


# -- jac modes -----------------------------------------------------------------------
@pytest.mark.parametrize("jac", [None, "2-point", "3-point"])
def test_finite_differences_converge_and_are_counted(jac):
    res = numopt.minimize(
        quad, np.zeros(3), jac=jac, method="adam", options={"learning_rate": 0.05, "maxiter": 20}
    )
    per_iteration = 1 + (6 if jac == "3-point" else 3)
    assert res.njev == 21
    assert res.nfev == 21 * per_iteration
    res = numopt.minimize(
        quad,
        np.zeros(3),
        jac=jac,
        method="gd",
        options={"learning_rate": 0.2, "maxiter": 5000, "gtol": 1e-6},
    )
    np.testing.assert_allclose(res.x, X_STAR, atol=1e-5)


def test_jac_true_counts_one_evaluation_for_both():
    res = numopt.minimize(
        lambda x: (quad(x), quad_grad(x)), np.zeros(3), jac=True, options={"maxiter": 10, "gtol": 0}
    )
    assert res.nfev == res.njev == 11


def test_scipy_accepts_numopt_methods_and_gives_the_same_result():
    options = {"learning_rate": 0.02, "maxiter": 500}
    ours = numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method="adam", options=options)
    theirs = scipy.optimize.minimize(
        rosen, [-1.2, 1.0], jac=rosen_der, method=numopt.methods.adam, options=options
    )
    np.testing.assert_array_equal(ours.x, theirs.x)
    assert theirs.nit == ours.nit == 500
    res = scipy.optimize.minimize(
        quad,
        np.zeros(3),
        jac=quad_grad,
        method=numopt.methods.gd,
        tol=1e-7,
        options={"learning_rate": 0.2},
    )
    assert res.status == 0
    np.testing.assert_allclose(res.x, X_STAR, atol=1e-6)
    # (the custom method with bounds: tests/problem/test_bounds.py)
    with pytest.raises(ValueError, match="hess is not used"):
        scipy.optimize.minimize(quad, np.zeros(3), method=numopt.methods.adam, hess=lambda x: x)
    assert sorted(numopt.methods.__all__) == sorted(numopt.RULES)


def test_an_optimizer_object_as_method_keeps_its_state():
    opt = numopt.Adam(learning_rate=0.05)
    numopt.minimize(
        quad, np.zeros(3), method=opt, jac=quad_grad, options={"maxiter": 10, "gtol": 0}
    )
    assert opt.step_count == 10
    with pytest.raises(
        ValueError, match=r"unknown option\(s\) \['beta1'\] for an optimizer object"
    ):
        numopt.minimize(quad, np.zeros(3), method=opt, options={"beta1": 0.5})


# -- callbacks -----------------------------------------------------------------------
def test_new_style_callback_gets_intermediate_results():
    seen = []

    def cb(intermediate_result):
        seen.append((intermediate_result.nit, intermediate_result.fun, intermediate_result.x))

    res = numopt.minimize(
        quad, np.zeros(3), jac=quad_grad, callback=cb, options={"maxiter": 5, "gtol": 0}
    )
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5]
    for _, f, x in seen:
        assert f == pytest.approx(quad(x))
    assert seen[-1][2] is not res.x and np.array_equal(seen[-1][2], res.x)


def test_legacy_callback_gets_copies_and_lists_of_callbacks_all_run():
    xs, calls = [], []
    res = numopt.minimize(
        quad,
        np.zeros(3),
        jac=quad_grad,
        callback=[xs.append, lambda xk: calls.append(1)],
        options={"maxiter": 4, "gtol": 0},
    )
    assert len(xs) == len(calls) == 4
    assert not np.array_equal(xs[0], xs[-1])  # copies, not one aliased buffer
    np.testing.assert_array_equal(xs[-1], res.x)


def _raise_stop(intermediate_result):
    raise StopIteration


@pytest.mark.parametrize(
    ("callback", "message"),
    [(lambda xk: True, "returned True"), (_raise_stop, "raised `StopIteration`")],
)
def test_callback_stops_the_run(callback, message):
    res = numopt.minimize(quad, np.zeros(3), jac=quad_grad, callback=callback)
    assert res.status == 99 and not res.success and res.nit == 1
    assert message in res.message


# -- statuses ------------------------------------------------------------------------
def _interrupt_after(n):
    count = [0]

    def fun(x):
        count[0] += 1
        if count[0] > n:
            raise KeyboardInterrupt
        return quad(x)

    return fun


STATUS_CASES = {
    0: dict(fun=quad, options={"learning_rate": 0.2, "gtol": 1e-6}),
    1: dict(fun=quad, options={"maxiter": 3}),
    2: dict(fun=quad, options={"maxfev": 4}),
    3: dict(fun=lambda x: quad(x) if x[0] < 0.1 else math.nan, options={"learning_rate": 0.05}),
    4: dict(fun=quad, options={"learning_rate": 0.2, "ftol": 1e-9, "gtol": 0}),
    5: dict(fun=quad, options={"learning_rate": 0.2, "xtol": 1e-9, "gtol": 0}),
    6: dict(fun=quad, options={"max_time": 0.0}),
    8: dict(fun=_interrupt_after(5), options={}),
}


@pytest.mark.parametrize("status", sorted(STATUS_CASES))
def test_each_stopping_rule_has_its_own_status(status):
    case = STATUS_CASES[status]
    res = numopt.minimize(
        case["fun"], np.zeros(3), jac=quad_grad, method="gd", options=case["options"]
    )
    assert res.status == status, res.message
    assert res.success == (status in (0, 4, 5))
    assert res.message == Status(status).message() or status in (3,)
    assert np.all(np.isfinite(res.x))


def test_distinct_messages():
    messages = [s.message() for s in Status if s not in (Status.NONFINITE, Status.CALLBACK)]
    assert len(set(messages)) == len(messages)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_non_finite_loss_returns_the_best_finite_point():
    res = numopt.minimize(
        rosen, [-1.2, 1.0], method="gd", jac=rosen_der, options={"learning_rate": 1.0}
    )
    assert res.status == 3 and not res.success
    assert "non-finite loss" in res.message and "iteration" in res.message
    np.testing.assert_array_equal(res.x, [-1.2, 1.0])  # the best point seen
    assert res.fun == pytest.approx(rosen(np.array([-1.2, 1.0])))


def test_non_finite_gradient_is_named():
    res = numopt.minimize(
        quad, np.zeros(3), jac=lambda x: np.array([np.nan, 0, 0]), options={"maxiter": 3}
    )
    assert res.status == 3 and "non-finite gradient" in res.message and "iteration 0" in res.message


def test_keyboard_interrupt_returns_the_point_so_far():
    res = numopt.minimize(_interrupt_after(10), np.zeros(3), jac=quad_grad, method="adam")
    assert res.status == 8 and "KeyboardInterrupt" in res.message
    assert res.nit == 10 and np.all(np.isfinite(res.x))  # x0..x9 evaluated, x10 interrupted


# -- display, progress, history ----------------------------------------------------
def test_disp_prints_a_table_and_the_message(capsys):
    numopt.minimize(quad, np.zeros(3), jac=quad_grad, options={"disp": True, "maxiter": 20})
    out = capsys.readouterr().out
    assert "iter" in out and "max|g|" in out and "Maximum number of iterations" in out
    assert out.count("\n") < 25


def test_progress_bar_uses_tqdm_or_says_what_is_missing():
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="tqdm"):
            numopt.minimize(quad, np.zeros(3), jac=quad_grad, options={"progress": True})
    else:
        res = numopt.minimize(
            quad, np.zeros(3), jac=quad_grad, options={"progress": True, "maxiter": 10}
        )
        assert res.nit == 10


def test_history_records_every_update():
    res = numopt.minimize(
        quad,
        np.zeros(3),
        jac=quad_grad,
        options={
            "history": True,
            "maxiter": 7,
            "gtol": 0,
            "learning_rate": lambda k: 0.1 / (k + 1),
        },
    )
    h = res.history
    assert len(h["fun"]) == len(h["grad_norm"]) == 8 and len(h["learning_rate"]) == 7
    np.testing.assert_allclose(h["learning_rate"], [0.1 / (k + 1) for k in range(7)])
    assert h["fun"][-1] == res.fun


def test_tol_sets_gtol():
    loose = numopt.minimize(
        quad, np.zeros(3), jac=quad_grad, method="gd", tol=1e-2, options={"learning_rate": 0.2}
    )
    tight = numopt.minimize(
        quad, np.zeros(3), jac=quad_grad, method="gd", tol=1e-8, options={"learning_rate": 0.2}
    )
    assert loose.status == tight.status == 0 and loose.nit < tight.nit


# -- bad input -----------------------------------------------------------------------
X_BAD, Y_BAD = least_squares_data(n=10)
BAD = [
    # (id, kwargs for minimize, exception, message regex)
    ("fun not callable", dict(fun=3.0), TypeError, "fun must be callable"),
    (
        "fun returns a vector",
        dict(fun=lambda x: x),
        TypeError,
        r"fun must return a real scalar.*shape \(3,\)",
    ),
    ("fun returns a string", dict(fun=lambda x: "1"), TypeError, "fun must return a real scalar"),
    (
        "fun returns a tuple without jac=True",
        dict(fun=lambda x: (1.0, x), jac=quad_grad),
        TypeError,
        "real scalar",
    ),
    (
        "jac=True but fun returns a float",
        dict(jac=True),
        TypeError,
        r"with jac=True, fun must return a tuple \(f, g\)",
    ),
    ("jac wrong shape", dict(jac=lambda x: np.ones(4)), ValueError, r"jac returned shape \(4,\)"),
    (
        "jac complex",
        dict(jac=lambda x: np.ones(3, complex)),
        TypeError,
        "jac must return real numbers",
    ),
    ("jac bad string", dict(jac="5-point"), ValueError, "jac must be a callable, True"),
    ("NaN in x0", dict(x0=np.array([0.0, np.nan, 0.0])), ValueError, "x0 contains NaN"),
    ("inf in x0", dict(x0=np.array([0.0, np.inf, 0.0])), ValueError, "x0 contains NaN or infinity"),
    ("complex x0", dict(x0=np.zeros(3, complex)), TypeError, "x0 must hold real numbers"),
    ("float16 x0", dict(x0=np.zeros(3, np.float16)), TypeError, "x0 has dtype float16"),
    ("string x0", dict(x0="abc"), TypeError, "x0 must be an array of real numbers"),
    ("empty x0", dict(x0=np.zeros(0)), ValueError, "x0 is empty"),
    (
        "mixed dtypes in x0",
        dict(x0=[np.zeros(2, np.float32), np.zeros(1)]),
        TypeError,
        "give them one dtype",
    ),
    (
        "negative learning rate",
        dict(options={"learning_rate": -0.1}),
        ValueError,
        "learning_rate must be > 0",
    ),
    ("beta1 out of range", dict(options={"beta1": 1.0}), ValueError, "beta1 must satisfy"),
    (
        "unknown option",
        dict(options={"learnin_rate": 0.1}),
        ValueError,
        r"unknown option\(s\) \['learnin_rate'\].*valid options",
    ),
    (
        "option of another rule",
        dict(method="gd", options={"beta1": 0.9}),
        ValueError,
        r"unknown option\(s\) \['beta1'\] for method 'gd'",
    ),
    ("options not a dict", dict(options=[("maxiter", 3)]), TypeError, "options must be a dict"),
    (
        "unknown method",
        dict(method="lbfgs"),
        ValueError,
        r"unknown method 'lbfgs'; valid methods: \[.*'adam'",
    ),
    ("method of a wrong type", dict(method=3), TypeError, "method must be a name"),
    (
        "negative maxiter",
        dict(options={"maxiter": -1}),
        ValueError,
        "maxiter must be an integer >= 0",
    ),
    ("float maxiter", dict(options={"maxiter": 10.5}), TypeError, "maxiter must be an integer"),
    ("negative gtol", dict(options={"gtol": -1.0}), ValueError, "gtol must be >= 0"),
    ("disp not bool", dict(options={"disp": "yes"}), TypeError, "disp must be True or False"),
    ("callback not callable", dict(callback=5), TypeError, "callback must be callable"),
    (
        "epochs without batch_size",
        dict(options={"epochs": 2}),
        ValueError,
        "epochs needs batch_size",
    ),
    ("seed without batch_size", dict(options={"seed": 2}), ValueError, "set batch_size too"),
    (
        "batch_size 0",
        dict(args=(X_BAD, Y_BAD), options={"batch_size": 0}),
        ValueError,
        r"batch_size must be between 1 and the number of samples \(10\)",
    ),
    (
        "batch_size > N",
        dict(args=(X_BAD, Y_BAD), options={"batch_size": 11}),
        ValueError,
        "batch_size must be between 1",
    ),
    (
        "batch_size float",
        dict(args=(X_BAD, Y_BAD), options={"batch_size": 2.0}),
        TypeError,
        "batch_size must be an integer",
    ),
    (
        "batch_size without data",
        dict(options={"batch_size": 2}),
        ValueError,
        "args holds no data array",
    ),
    (
        "mismatched data lengths",
        dict(args=(X_BAD, Y_BAD[:-1]), options={"batch_size": 2}),
        ValueError,
        r"args\[0\] has 10, args\[1\] has 9",
    ),
    (
        "data_args out of range",
        dict(args=(X_BAD, Y_BAD), options={"batch_size": 2, "data_args": [0, 5]}),
        ValueError,
        "data_args must hold positions",
    ),
    (
        "data_args names a scalar",
        dict(args=(X_BAD, 1.0), options={"batch_size": 2, "data_args": [1]}),
        TypeError,
        r"args\[1\] is named in data_args",
    ),
]


def _bad_fun(w, *args):
    return quad(w)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_a_clear_error(kwargs, exc, match):
    call = {"fun": _bad_fun, "x0": np.zeros(3), "jac": lambda x, *a: quad_grad(x), **kwargs}
    with pytest.raises(exc, match=match):
        numopt.minimize(**call)


# -- schedules -----------------------------------------------------------------------
def test_schedule_objects_set_the_learning_rate_of_each_update():
    sched = numopt.schedules.step_decay(0.1, step_size=3, gamma=0.5)
    res = numopt.minimize(
        quad,
        np.zeros(3),
        jac=quad_grad,
        method="gd",
        options={"learning_rate": sched, "maxiter": 7, "gtol": 0, "history": True},
    )
    np.testing.assert_allclose(res.history["learning_rate"], [0.1] * 3 + [0.05] * 3 + [0.025])


def test_plateau_schedule_is_driven_by_the_loss_each_iteration_full_batch():
    plateau = numopt.schedules.ReduceLROnPlateau(0.5, factor=0.5, patience=2)
    # a loss that never improves after the first evaluation
    res = numopt.minimize(
        lambda x: 1.0,
        np.zeros(3),
        jac=lambda x: np.ones(3),
        method="gd",
        options={"learning_rate": plateau, "maxiter": 8, "gtol": 0, "history": True},
    )
    lrs = res.history["learning_rate"]
    assert lrs[0] == 0.5 and lrs[-1] < 0.5  # reduced after `patience` bad iterations
    assert list(lrs[:3]) == [0.5, 0.5, 0.5]


def test_plateau_schedule_is_driven_by_the_epoch_mean_loss_with_batches():
    X, y = least_squares_data(n=40)
    plateau = numopt.schedules.ReduceLROnPlateau(0.05, factor=0.1, patience=0)
    res = numopt.minimize(
        lambda w, X, y: 1.0,
        np.zeros(4),
        args=(X, y),
        jac=lambda w, X, y: np.zeros(4),
        options={"learning_rate": plateau, "batch_size": 10, "epochs": 3, "history": True},
    )
    lrs = res.history["learning_rate"]
    assert len(res.history["epoch_fun"]) == 3
    # epoch 0 sets the best loss, epoch 1 (no improvement, patience 0) reduces
    assert list(lrs[:8]) == [0.05] * 8 and lrs[8] == pytest.approx(0.005)


def test_callbacks_see_every_update_with_minibatches_too():
    X, y = least_squares_data(n=20)
    seen = []
    res = numopt.minimize(
        ls_loss,
        np.zeros(4),
        args=(X, y),
        jac=ls_grad,
        callback=lambda intermediate_result: seen.append(intermediate_result.nit),
        options={"batch_size": 5, "epochs": 2, "seed": 0},
    )
    assert res.nit == 8 and seen == list(range(1, 9))


# -- non-finite batches: stop (default) or skip --------------------------------------
def _data_with_a_bad_row():
    X, y = least_squares_data(n=40)
    X = X.copy()
    X[17, 2] = np.nan  # one sample poisons every batch it falls in
    return X, y


def test_a_non_finite_batch_stops_the_run_by_default():
    X, y = _data_with_a_bad_row()
    res = numopt.minimize(
        ls_loss,
        np.zeros(4),
        args=(X, y),
        jac=ls_grad,
        options={"batch_size": 8, "epochs": 3, "seed": 0},
    )
    assert res.status == 3 and "non-finite loss" in res.message
    assert np.all(np.isfinite(res.x))


def test_on_nonfinite_skip_drops_the_batch_and_goes_on():
    X, y = _data_with_a_bad_row()
    res = numopt.minimize(
        ls_loss,
        np.zeros(4),
        args=(X, y),
        jac=ls_grad,
        options={
            "batch_size": 8,
            "epochs": 3,
            "seed": 0,
            "on_nonfinite": "skip",
            "learning_rate": 0.05,
        },
    )
    assert res.skipped == 3 and res.nit == 3 * 5 - 3  # one bad batch per epoch
    assert np.all(np.isfinite(res.x))
    assert res.status == 3  # the final loss on all the data includes the NaN row: best point
    with pytest.raises(ValueError, match="on_nonfinite='skip' needs batch_size"):
        numopt.minimize(quad, np.zeros(3), jac=quad_grad, options={"on_nonfinite": "skip"})
    with pytest.raises(ValueError, match="on_nonfinite must be one of 'stop', 'skip'"):
        numopt.minimize(quad, np.zeros(3), jac=quad_grad, options={"on_nonfinite": "ignore"})


def test_same_bits_whatever_the_backend_and_thread_count():
    import numba

    X, y = least_squares_data(n=300)
    runs = []
    before = numba.get_num_threads()
    try:
        for backend, threads in [
            ("serial", 1),
            ("parallel", 1),
            ("parallel", numba.config.NUMBA_NUM_THREADS),
        ]:
            numba.set_num_threads(threads)
            res = numopt.minimize(
                ls_loss,
                np.zeros(4),
                args=(X, y),
                jac=ls_grad,
                method="adamw",
                options={"batch_size": 32, "epochs": 2, "seed": 5, "backend": backend},
            )
            runs.append(res.x)
    finally:
        numba.set_num_threads(before)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)


def test_nested_lists_are_one_array_as_in_scipy():
    res = numopt.minimize(
        lambda x: float(np.sum((x - 1.0) ** 2)),
        [[0.0, 0.0], [0.0, 0.0]],
        jac=lambda x: 2 * (x - 1.0),
        options={"learning_rate": 0.1},
    )
    assert isinstance(res.x, np.ndarray) and res.x.shape == (2, 2)
