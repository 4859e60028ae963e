"""The rules of issue 19 resume bit for bit from a state dict (from a checkpoint:
tests/rules/test_more_rules_resume_options.py), converge through ``minimize``, and
Schedule-Free returns its average.

Each rule's step depends on ``t`` beyond its bias corrections (ASGD's decaying η and
its averaging switch, ADOPT's first step and its clip, Adan's first difference), so
the split point is chosen to fall before or across those switches.
"""

from __future__ import annotations

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS
from numba import njit

import numopt

NEW = {
    "asgd": {"learning_rate": 0.05, "lambd": 0.1, "t0": 3.0, "weight_decay": 0.1},
    "adabelief": {"learning_rate": 0.01, "nesterov": True},
    "yogi": {"learning_rate": 0.05, "initial_accumulator_value": 0.3},
    "adan": {"learning_rate": 0.01, "weight_decay": 0.1},
    "adopt": {"learning_rate": 0.01, "beta2": 0.9},
    "ademamix": {"learning_rate": 0.01, "beta3": 0.9, "weight_decay": 0.1},
    "sign_sgd": {"learning_rate": 0.01},
    "signum": {"learning_rate": 0.01, "beta": 0.5},
    "lars": {"learning_rate": 0.5, "trust_coefficient": 0.1, "nesterov": True},
    "schedule_free_sgd": {"learning_rate": 0.05, "weight_decay": 0.1},
    "schedule_free_adamw": {"learning_rate": 0.01, "beta1": 0.8, "weight_lr_power": 1.0},
}


@pytest.mark.parametrize("split", [1, 5])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("method", sorted(NEW))
def test_state_dict_round_trip_mid_run_is_bit_identical(method, backend, split):
    cls, hp = numopt.RULES[method], NEW[method]
    rng = np.random.default_rng(7)
    x0 = rng.standard_normal(19)
    grads = [rng.standard_normal(19) for _ in range(12)]
    whole, x = cls(backend=backend, **hp), x0.copy()
    for g in grads:
        whole.step(x, g)
    first, y = cls(backend=backend, **hp), x0.copy()
    for g in grads[:split]:
        first.step(y, g)
    second = cls(backend=backend)  # default hyperparameters: the dict brings them back
    second.load_state_dict(first.state_dict())
    assert second.hyperparameters == first.hyperparameters
    for g in grads[split:]:
        second.step(y, g)
    np.testing.assert_array_equal(y, x)
    for name in cls.state_names:
        np.testing.assert_array_equal(second.state[name], whole.state[name])


@pytest.mark.parametrize("method", sorted(NEW))
def test_minimize_converges_on_a_quadratic(method):
    """Through the front door, at the defaults but for a halving rate (the sign rules
    hover at a constant one), ASGD's ``lambd=0`` (its shrink moves the fixed point) and
    AdEMAMix's β3 = 0.99 (at 0.9999 its slow momentum outlasts the decaying rate);
    Schedule-Free at a constant rate, as meant."""
    a = np.linspace(0.5, 2.0, 8)

    def fun(x):
        return 0.5 * float(a @ (x - 1) ** 2), a * (x - 1)

    lr = NEW[method]["learning_rate"] * 5
    rate = numopt.schedules.exponential(lr, decay_rate=0.5, transition_steps=300)
    own = {"asgd": {"lambd": 0.0}, "ademamix": {"beta3": 0.99}}.get(method, {})
    options = {"learning_rate": rate, **own}
    if method.startswith("schedule_free"):  # no schedule (its point), and no early stop:
        # the average trails the iterate whose gradient gtol tests
        options = {"learning_rate": lr, "gtol": 0.0}
    res = numopt.minimize(
        fun, np.zeros(8), jac=True, method=method, options={**options, "maxiter": 20000}
    )
    assert res.fun < 1e-6, (res.fun, res.message)


@pytest.mark.parametrize("method", ["schedule_free_sgd", "schedule_free_adamw"])
def test_schedule_free_minimize_returns_the_average(method):
    """``x`` is the averaged point (evaluated once more: ``fun``, ``jac`` are its own),
    ``x_iterate`` the last iterate, as a hand-written loop with ``averaged`` gives them."""
    a = np.linspace(0.5, 2.0, 6)
    calls = []

    def fun(x):
        calls.append(x.copy())
        return 0.5 * float(a @ (x - 1) ** 2), a * (x - 1)

    opts = {"learning_rate": 0.05, "gtol": 0.0, "maxiter": 40}
    res = numopt.minimize(fun, np.zeros(6), jac=True, method=method, options=opts)
    opt, y = numopt.RULES[method](learning_rate=0.05), np.zeros(6)
    for _ in range(40):
        opt.step(y, fun(y)[1])
    np.testing.assert_array_equal(res.x_iterate, y)
    np.testing.assert_array_equal(res.x, opt.averaged(y))
    assert not np.array_equal(res.x, res.x_iterate)
    assert res.fun == fun(res.x)[0] and np.array_equal(res.jac, fun(res.x)[1])
    assert res.nfev == 40 + 1  # before each of the 40 updates, then at the average
    assert res.fun_best <= res.fun


def test_schedule_free_stateful_resume_needs_its_weights():
    opt = numopt.ScheduleFreeSGD(learning_rate=0.1)
    x = np.ones(3)
    opt.step(x, np.ones(3))
    sd = opt.state_dict()
    assert sd["averaging"] == {"max_learning_rate": 0.1, "weight_sum": 0.1**2}
    del sd["averaging"]
    with pytest.raises(ValueError, match="averaging"):
        numopt.ScheduleFreeSGD().load_state_dict(sd)


def test_schedule_free_average_of_a_structure_comes_from_minimize():
    """The stateful ``averaged`` takes the stepped array; a list/dict is refused, naming
    what to do (``minimize`` returns the average structured like ``x0``)."""
    with pytest.raises(TypeError, match="minimize returns the average"):
        numopt.ScheduleFreeSGD().averaged([np.ones(2)])

    def fun(p):
        return float(np.sum(p["a"] ** 2) + np.sum(p["b"] ** 2)), {"a": 2 * p["a"], "b": 2 * p["b"]}

    x0 = {"a": np.ones(2), "b": np.ones((2, 2))}
    res = numopt.minimize(
        fun, x0, jac=True, method="schedule_free_sgd", options={"learning_rate": 0.1, "maxiter": 9}
    )
    assert set(res.x) == set(res.x_iterate) == {"a", "b"}
    assert res.x["b"].shape == (2, 2)
    assert not np.array_equal(res.x["a"], res.x_iterate["a"])


def test_schedule_free_says_where_gtol_was_met_and_names_a_wrong_shape():
    res = numopt.minimize(
        lambda x: float(x @ x),
        np.ones(3),
        jac=lambda x: 2 * x,
        method="schedule_free_sgd",
        options={"learning_rate": 0.1, "maxiter": 2000},
    )
    assert res.success and res.message.endswith(
        "below gtol at the last iterate (x_iterate); x is the average the run built from it."
    )
    assert np.abs(2 * res.x_iterate).max() < 1e-5 < np.abs(2 * res.x).max()
    opt = numopt.ScheduleFreeAdamW()
    opt.step(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"x has shape \(5,\) but this optimizer steps .* \(4,\)"):
        opt.averaged(np.ones(5))


@njit
def _squares(x, g):
    g[:] = 2.0 * (x - 1.0)
    return float(((x - 1.0) ** 2).sum())


@pytest.mark.parametrize("compiled", [False, True])
def test_asgd_minimize_returns_its_average_ax(compiled):
    fun = _squares

    def on_a_dict(p):
        flat = np.concatenate([p["a"], p["b"].ravel()])
        g = np.empty(6)
        f = fun(flat, g)
        return f, {"a": g[:2], "b": g[2:].reshape(2, 2)}

    options = {"learning_rate": 0.05, "t0": 3, "maxiter": 20, "gtol": 0.0}
    flat = numopt.minimize(fun, np.zeros(6), jac="inplace", method="asgd",
                           options={**options, "compiled": compiled})  # fmt: skip
    assert flat.compiled is compiled
    opt, x = numopt.ASGD(learning_rate=0.05, t0=3), np.zeros(6)
    for _ in range(20):
        g = np.empty(6)
        fun(x, g)
        opt.step(x, g)
    np.testing.assert_array_equal(flat.x_average, opt.state["ax"])
    np.testing.assert_array_equal(flat.x, x)
    assert not np.array_equal(flat.x_average, flat.x)  # averaging started at t0 + 2
    res = numopt.minimize(on_a_dict, {"a": np.zeros(2), "b": np.zeros((2, 2))}, jac=True,
                          method="asgd", options=options)  # fmt: skip
    got = np.concatenate([res.x_average["a"], res.x_average["b"].ravel()])
    np.testing.assert_array_equal(got, opt.state["ax"])
    before = numopt.minimize(fun, np.zeros(6), jac="inplace", method="asgd",
                             options={**options, "maxiter": 0})  # fmt: skip
    np.testing.assert_array_equal(before.x_average, before.x)
