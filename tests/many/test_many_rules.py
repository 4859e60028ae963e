"""``minimize_many`` with the element-wise rules: each row is ``minimize``'s, bit for bit.

The rules with a float learning rate and with schedules, ``maximize``, problems that
diverge (status 3 for them only), the three forms of ``jac``, float32, a problem whose
``x`` is 2-D, and the per-problem and shared arguments.  Every rule runs on the same
exponential-decay fits (``jac="inplace"``, per-problem data ``Y`` and weights ``W``),
so each rule compiles one loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from many_objectives import DECAY_FORMS, decay_inplace, matrix_inplace
from many_reference import T, assert_rows_equal, decay_data, reference, split_args

import numopt
from numopt import schedules

M = 8
X0, Y, W = decay_data(M, seed=1)
ARGS = (T, Y, W)
ARGS_OF = split_args(ARGS, (1, 2))

#: name -> (method, options); maxiter keeps the runs short, gtol lets some stop early.
#: Every rule reaches minimize_many through the one loop generator of minimize (each
#: compiles a loop, seconds): these cover the kinds of state — first and second
#: moments, a momentum buffer with Nesterov, a centred mean, a sign update — and NAdam,
#: whose per-step factors run in Python (problem by problem).
RULES = {
    "adam": ("adam", {"learning_rate": 0.05}),
    "nesterov": ("momentum", {"learning_rate": 0.01, "beta": 0.8, "nesterov": True}),
    "rmsprop-centered": ("rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    "lion": ("lion", {"learning_rate": 0.01}),
    "nadam": ("nadam", {"learning_rate": 0.05}),
}


def many(method, options, fun=decay_inplace, jac="inplace", x0=X0, args=ARGS):
    return numopt.minimize_many(fun, x0, args=args, method=method, jac=jac, options=options)


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_with_a_float_learning_rate(name):
    method, options = RULES[name]
    options = {**options, "maxiter": 150, "gtol": 2e-3}
    res = many(method, options)
    assert res.method == numopt.RULES[method].name or res.method == method
    assert res.compiled is True  # (NAdam's too: its Π_t memo is a row of h per problem)
    refs = reference(decay_inplace, X0, ARGS_OF, method=method, jac="inplace", options=options)
    assert_rows_equal(res, refs)


def test_adam_equals_minimize_compiled_bit_for_bit():
    """The central property against ``minimize``'s own compiled loop (its default)."""
    method, options = RULES["adam"]
    options = {**options, "maxiter": 150, "gtol": 2e-3}
    res = many(method, options)
    refs = reference(
        decay_inplace, X0, ARGS_OF, method=method, jac="inplace", options=options, compiled="auto"
    )
    assert all(r.compiled for r in refs)
    assert_rows_equal(res, refs)
    assert set(res.status.tolist()) == {0, 1}  # some stop on gtol, the others at maxiter


SCHEDULES = {
    "cosine-momentum": (
        "momentum",
        lambda: schedules.cosine_annealing(0.02, decay_steps=100, alpha=0.1),
    ),
    "warmup-cosine-adam": (
        "adam",
        lambda: schedules.warmup(schedules.cosine_annealing(0.1, decay_steps=80), 10),
    ),
    "plateau-adam": (
        "adam",
        lambda: schedules.ReduceLROnPlateau(0.1, factor=0.5, patience=3),
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_rule_with_a_schedule(name):
    method, make = SCHEDULES[name]
    schedule = make()
    before = schedule.state_dict()
    options = {"learning_rate": schedule, "maxiter": 120, "gtol": 1e-3}
    res = many(method, options)
    assert res.compiled
    # the problems share nothing through the schedule: the user's object is untouched
    assert schedule.state_dict() == before
    # each reference run starts from the schedule's first state, as it would alone
    refs = reference(decay_inplace, X0, ARGS_OF, method=method, jac="inplace", options=options)
    assert_rows_equal(res, refs)


def test_plateau_schedule_reduces_per_problem():
    """A plateau schedule's state is per problem: its reductions differ between them,
    so a problem's result depends only on its own losses (here: run alone vs among
    others)."""
    make = SCHEDULES["plateau-adam"][1]
    options = {"maxiter": 120, "gtol": 1e-3}
    res = many("adam", {**options, "learning_rate": make()})
    alone = many("adam", {**options, "learning_rate": make()}, x0=X0[3:4], args=(T, Y[3:4], W[3:4]))
    for name in ("x", "fun", "nit", "nfev", "status"):
        assert np.array_equal(res[name][3], alone[name][0]), name


@pytest.mark.parametrize("name", ["adam", "nesterov"])
def test_maximize(name):
    """``maximize=True`` on ``-w·loss`` (negative weights) is minimizing ``w·loss``."""
    method, options = RULES[name]
    options = {**options, "maxiter": 100, "gtol": 1e-3}
    args = (T, Y, -W)
    up = many(method, {**options, "maximize": True}, args=args)
    refs = reference(
        decay_inplace,
        X0,
        split_args(args, (1, 2)),
        method=method,
        jac="inplace",
        options={**options, "maximize": True},
    )
    assert_rows_equal(up, refs)
    down = many(method, options)
    np.testing.assert_array_equal(up.x, down.x)
    np.testing.assert_array_equal(up.fun, -down.fun)


def test_diverging_problems_stop_alone_with_their_best_point():
    """Large weights make momentum's fixed step unstable for two problems: they end
    with status 3 and their best point, the others run on as alone."""
    w = W.copy()
    w[[1, 4]] = 20.0
    args = (T, Y, w)
    options = {"learning_rate": 0.01, "maxiter": 300}
    with np.errstate(over="ignore", invalid="ignore"):
        res = many("momentum", options, args=args)
        refs = reference(
            decay_inplace, X0, split_args(args, (1, 2)), method="momentum", jac="inplace",
            options=options,
        )  # fmt: skip
    assert_rows_equal(res, refs)
    bad = res.status == 3
    assert bad.tolist() == [i in (1, 4) for i in range(M)]
    assert np.all(res.nit[bad] > 10)  # diverged after a while, not at the start
    assert np.all(res.nit[~bad] < res.nit[bad].max() + 200)
    np.testing.assert_array_equal(res.x[bad], res.x_best[bad])
    assert np.isfinite(res.x[bad]).all() and np.isfinite(res.fun[bad]).all()
    assert np.isnan(res.jac[bad]).all() and np.isfinite(res.jac[~bad]).all()
    np.testing.assert_array_equal(res.fun[bad], res.fun_best[bad])
    for i in np.flatnonzero(bad):
        assert res.message[i].startswith("Stopped: non-finite loss")
        assert "returning the best point seen" in res.message[i]
    assert res.success[~bad].all() and not res.success[bad].any()


@pytest.mark.parametrize("form", sorted(DECAY_FORMS))
def test_the_three_forms_of_jac(form):
    fun, jac = DECAY_FORMS[form]
    options = {"learning_rate": 0.05, "maxiter": 80}
    res = many("adam", options, fun=fun, jac=jac)
    assert res.compiled
    refs = reference(fun, X0, ARGS_OF, method="adam", jac=jac, options=options)
    assert_rows_equal(res, refs)
    # the three forms make the same floating-point operations: one trajectory
    inplace = many("adam", options)
    for name in ("x", "fun", "jac", "nit", "nfev", "njev"):
        assert np.array_equal(res[name], inplace[name]), name


def test_float32():
    x0 = X0.astype(np.float32)
    options = {"learning_rate": 0.05, "maxiter": 100, "gtol": 1e-3}
    res = many("adam", options, x0=x0)
    assert res.compiled
    assert res.x.dtype == res.jac.dtype == res.x_best.dtype == np.float32
    refs = reference(decay_inplace, x0, ARGS_OF, method="adam", jac="inplace", options=options)
    assert_rows_equal(res, refs)
    assert not np.array_equal(res.x, many("adam", options).x.astype(np.float32))


def test_shared_scalar_argument():
    """A Python float in ``args`` is shared: every problem gets it, as one weight per
    problem of that same value gives."""
    options = {"learning_rate": 0.05, "maxiter": 60}
    args = (T, Y, 1.5)
    res = many("adam", options, args=args)
    assert res.compiled
    refs = reference(
        decay_inplace, X0, split_args(args, (1,)), method="adam", jac="inplace", options=options
    )
    assert_rows_equal(res, refs)
    per_problem = many("adam", options, args=(T, Y, np.full(M, 1.5)))
    for name in ("x", "fun", "jac", "nit", "nfev"):
        assert np.array_equal(res[name], per_problem[name]), name


# -- a problem whose x is 2-D: x0 of shape (M, 3, 2), data blocks of shape (M, 10, 2) ---------
K, C = 3, 2
RNG = np.random.default_rng(5)
A = RNG.standard_normal((10, K))
TRUE_W = RNG.standard_normal((6, K, C))
B = np.einsum("ik,mkc->mic", A, TRUE_W) + 0.01 * RNG.standard_normal((6, 10, C))
W0 = RNG.standard_normal((6, K, C))


@pytest.mark.parametrize("method", ["adam", "rmsprop"])
def test_two_dimensional_x_and_three_dimensional_data(method):
    options = {"learning_rate": 0.05, "maxiter": 400, "gtol": 1e-4}
    res = numopt.minimize_many(
        matrix_inplace, W0, args=(A, B), method=method, jac="inplace", options=options
    )
    assert res.compiled
    assert res.x.shape == res.jac.shape == res.x_best.shape == W0.shape
    refs = reference(
        matrix_inplace, W0, split_args((A, B), (1,)), method=method, jac="inplace",
        options=options,
    )  # fmt: skip
    assert refs[0].x.shape == (K, C)
    assert_rows_equal(res, refs)
    if method == "adam":
        assert np.abs(res.x - TRUE_W).max() < 0.05
