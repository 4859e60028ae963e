"""numopt.minimize: convergence, x0 and dtypes, jac modes, SciPy's interface, bad input.

Mini-batches are tested in tests/problem/test_batching.py, how a run ends in
tests/loop/test_status.py, callbacks, display and history in tests/loop/test_hooks.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from minimize_problems import X_STAR, least_squares_data, quad, quad_grad
from scipy.optimize import rosen, rosen_der

import numopt

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


# -- x0 and dtypes -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_throughout(dtype):
    seen = set()

    def fun(x):
        seen.add(x.dtype)
        return float(np.sum((x - 1.0) ** 2))

    res = numopt.minimize(
        fun,
        np.zeros((2, 3), dtype),
        method="adam",
        jac=lambda x: 2 * (x - 1.0),
        options={"learning_rate": 0.1},
    )
    assert seen == {np.dtype(dtype)}
    assert res.x.dtype == dtype and res.x.shape == (2, 3) and res.jac.shape == (2, 3)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-4)


def test_integer_x0_is_converted_to_float64():
    res = numopt.minimize(quad, [0, 0, 0], method="adam", jac=quad_grad, options={"maxiter": 5})
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

    numopt.minimize(fun, x0, method="adam", jac=quad_grad, options={"maxiter": 3})
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
        lambda x: (quad(x), quad_grad(x)),
        np.zeros(3),
        method="adam",
        jac=True,
        options={"maxiter": 10, "gtol": 0},
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
    # (the custom method with bounds: tests/front/test_minimize_bounds.py)
    # a Hessian: ignored with SciPy's warning, as by minimize (tests/front/test_scipy_keywords.py)
    with pytest.warns(RuntimeWarning, match=r"Method adam does not use Hessian information"):
        scipy.optimize.minimize(
            quad, np.zeros(3), jac=quad_grad, method=numopt.methods.adam, hess=lambda x: x,
            options={"maxiter": 2},
        )  # fmt: skip
    assert sorted(numopt.methods.__all__) == sorted([*numopt.RULES, "lbfgsb"])


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
        dict(method="newton-cg"),
        ValueError,
        r"unknown method 'newton-cg'; valid methods: \[.*'adam'",
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
    call = {"fun": _bad_fun, "x0": np.zeros(3), "jac": lambda x, *a: quad_grad(x), "method": "adam"}
    call.update(kwargs)
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


def test_nested_lists_are_one_array_as_in_scipy():
    res = numopt.minimize(
        lambda x: float(np.sum((x - 1.0) ** 2)),
        [[0.0, 0.0], [0.0, 0.0]],
        method="adam",
        jac=lambda x: 2 * (x - 1.0),
        options={"learning_rate": 0.1},
    )
    assert isinstance(res.x, np.ndarray) and res.x.shape == (2, 2)
