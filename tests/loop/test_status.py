"""How a run ends (numopt.loop.status): one status per stopping rule, each its own
message; a non-finite loss or gradient, named, returns the best finite point;
Ctrl-C returns the point so far."""

from __future__ import annotations

import math

import numpy as np
import pytest
from minimize_problems import quad, quad_grad
from scipy.optimize import rosen, rosen_der

import numopt
from numopt.loop.status import Status


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
        quad,
        np.zeros(3),
        method="adam",
        jac=lambda x: np.array([np.nan, 0, 0]),
        options={"maxiter": 3},
    )
    assert res.status == 3 and "non-finite gradient" in res.message and "iteration 0" in res.message


def test_keyboard_interrupt_returns_the_point_so_far():
    res = numopt.minimize(_interrupt_after(10), np.zeros(3), jac=quad_grad, method="adam")
    assert res.status == 8 and "KeyboardInterrupt" in res.message
    assert res.nit == 10 and np.all(np.isfinite(res.x))  # x0..x9 evaluated, x10 interrupted
