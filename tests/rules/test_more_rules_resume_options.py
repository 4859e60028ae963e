"""The rules of issue 11 in use: state-dict and checkpoint resumption bit for bit,
Rprop's restrictions, named bad hyperparameters, convergence through ``minimize``."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS

import numopt


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize(
    "cls, hp",
    [
        (numopt.NAdam, {"learning_rate": 0.01}),
        (
            numopt.NAdam,
            {"learning_rate": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        ),
        (numopt.RAdam, {"learning_rate": 0.01, "beta2": 0.9}),
        (numopt.Rprop, {"learning_rate": 0.05, "etas": (0.4, 1.3)}),
        (numopt.Adagrad, {"initial_accumulator_value": 0.5, "lr_decay": 0.1}),
    ],
    ids=["nadam", "nadam-decoupled", "radam", "rprop", "adagrad"],
)
def test_state_dict_round_trip_mid_run_is_bit_identical(cls, hp, backend):
    """A run restored from a state dict (NAdam: its μ product recomputed) ends bit for bit
    where an uninterrupted run does, across RAdam's switch too."""
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(17)
    grads = [rng.standard_normal(17) for _ in range(14)]
    whole, x = cls(backend=backend, **hp), x0.copy()
    for g in grads:
        whole.step(x, g)
    first, y = cls(backend=backend, **hp), x0.copy()
    for g in grads[:5]:
        first.step(y, g)
    second = cls(backend=backend)  # default hyperparameters: the dict brings them back
    second.load_state_dict(first.state_dict())
    assert second.hyperparameters == first.hyperparameters
    for g in grads[5:]:
        second.step(y, g)
    np.testing.assert_array_equal(y, x)
    for name in cls.state_names:
        np.testing.assert_array_equal(second.state[name], whole.state[name])


def test_nadam_mu_product_is_the_running_product_in_order():
    """Π_t is μ_1·μ_2·…·μ_t multiplied left to right, as torch does, whatever the history."""
    from numopt.rules.nadam import mu

    opt = numopt.NAdam(beta1=0.8, momentum_decay=0.01)
    prod = 1.0
    for t in range(1, 200):
        prod *= mu(t, 0.8, 0.01)
        assert opt._mu_product(t) == prod  # advanced from the memo
    fresh = numopt.NAdam(beta1=0.8, momentum_decay=0.01)
    assert fresh._mu_product(199) == prod  # recomputed from 1
    assert opt._mu_product(50) == fresh._mu_product(50)  # going back: recomputed
    opt.beta1 = 0.7  # a new β1: the memo no longer applies
    assert opt._mu_product(3) == mu(1, 0.7, 0.01) * mu(2, 0.7, 0.01) * mu(3, 0.7, 0.01)


#: Options of the rules below beyond η = 0.01 (issue 19's rules: where their step
#: depends on t beyond bias corrections, the resume at step 12 falls across it).
OWN = {
    "rprop": {"etas": (0.4, 1.3), "step_sizes": (1e-9, 1.0)},
    "nadam": {"decoupled_weight_decay": True, "weight_decay": 0.1},
    "asgd": {"lambd": 0.1, "t0": 3.0, "weight_decay": 0.1},
    "adabelief": {"nesterov": True},
    "yogi": {"learning_rate": 0.05, "initial_accumulator_value": 0.3},
    "adan": {"weight_decay": 0.1},
    "adopt": {"beta2": 0.9},
    "ademamix": {"beta3": 0.9, "weight_decay": 0.1},
    "signum": {"beta": 0.5},
    "lars": {"learning_rate": 0.5, "trust_coefficient": 0.1, "nesterov": True},
    "schedule_free_sgd": {"learning_rate": 0.05, "weight_decay": 0.1},
    "schedule_free_adamw": {"beta1": 0.8, "weight_lr_power": 1.0},
}


@pytest.mark.parametrize(
    "method",
    [
        *("adagrad", "adadelta", "adamax", "nadam", "radam", "rprop", "lion", "asgd"),
        *("adabelief", "yogi", "adan", "adopt", "ademamix", "sign_sgd", "signum", "lars"),
        *("schedule_free_sgd", "schedule_free_adamw"),
    ],
)
def test_minimize_checkpoint_resume_is_bit_identical(method, tmp_path):
    """Stopped by maxiter, saved, resumed: the same x as one run (Rprop's tuples go
    through the checkpoint's JSON as lists; Schedule-Free's averaging weights too)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    a = a @ a.T + np.eye(6)
    b = rng.standard_normal(6)

    def fun(x):
        return 0.5 * x @ a @ x - b @ x, a @ x - b

    options = {"learning_rate": 0.01, "gtol": 0.0, "maxiter": 30, **OWN.get(method, {})}
    whole = numopt.minimize(fun, np.zeros(6), jac=True, method=method, options=options)
    path = tmp_path / "run.npz"
    numopt.minimize(
        fun,
        np.zeros(6),
        jac=True,
        method=method,
        options={**options, "maxiter": 12, "checkpoint": path},
    )
    resumed = numopt.minimize(
        fun, np.zeros(6), jac=True, method=method, options={**options, "resume": path}
    )
    assert resumed.nit == whole.nit == 30
    np.testing.assert_array_equal(resumed.x, whole.x)
    np.testing.assert_array_equal(resumed.x_best, whole.x_best)


def test_rprop_is_full_batch_only():
    X, y = np.ones((10, 2)), np.ones(10)

    def loss(w, X, y):
        r = X @ w - y
        return float(r @ r), 2 * X.T @ r

    with pytest.raises(ValueError, match=r"'rprop' is full-batch only.*batch_size"):
        numopt.minimize(
            loss, np.zeros(2), args=(X, y), jac=True, method="rprop", options={"batch_size": 5}
        )
    with pytest.raises(ValueError, match="full-batch only"):
        numopt.minimize(
            loss,
            np.zeros(2),
            args=(X, y),
            jac=True,
            method=numopt.Rprop(),
            options={"batch_size": 5},
        )
    res = numopt.minimize(
        loss,
        np.zeros(2),
        args=(X, y),
        jac=True,
        method="rprop",
        options={"maxiter": 5000, "step_sizes": (1e-12, 50.0)},
    )
    assert res.success


def test_rprop_learning_rate_is_a_number():
    with pytest.raises(TypeError, match="learning_rate must be a number for Rprop"):
        numopt.Rprop(numopt.schedules.exponential(0.1, decay_rate=0.5, transition_steps=10))
    opt = numopt.Rprop(0.1)
    with pytest.raises(TypeError, match="learning_rate must be a number for Rprop"):
        opt.learning_rate = lambda k: 0.1
    opt.learning_rate = 0.2  # a number is fine: the initial step size (until the first step)
    assert opt.learning_rate == 0.2


@pytest.mark.parametrize(
    "cls, name, value, exc, pattern",
    [
        (numopt.Rprop, "etas", (1.2, 0.5), ValueError, "0 < eta_minus < 1 < eta_plus"),
        (numopt.Rprop, "etas", (0.5, 1.0), ValueError, "0 < eta_minus < 1 < eta_plus"),
        (numopt.Rprop, "etas", 0.5, TypeError, r"etas must be a pair \(eta_minus, eta_plus\)"),
        (numopt.Rprop, "etas", (0.5, 1.2, 2.0), TypeError, "etas must be a pair"),
        (numopt.Rprop, "etas", (0.5, "x"), TypeError, r"etas\[1\] must be a real number"),
        (numopt.Rprop, "step_sizes", (1.0, 0.1), ValueError, "0 < min < max"),
        (numopt.Rprop, "step_sizes", (0.0, 1.0), ValueError, "0 < min < max"),
        (numopt.Rprop, "step_sizes", (1e-6, math.inf), ValueError, r"step_sizes\[1\] must be fini"),
        (numopt.Adadelta, "rho", 1.0, ValueError, "rho must satisfy 0 <= rho < 1"),
        (numopt.Adagrad, "lr_decay", -0.1, ValueError, "lr_decay must be >= 0"),
        (numopt.Adagrad, "initial_accumulator_value", -1.0, ValueError, "must be >= 0"),
        (numopt.NAdam, "momentum_decay", -1e-3, ValueError, "momentum_decay must be >= 0"),
        (numopt.NAdam, "decoupled_weight_decay", 1, TypeError, "must be True or False"),
        (numopt.RAdam, "decoupled_weight_decay", "yes", TypeError, "must be True or False"),
        (numopt.Lion, "beta2", 1.0, ValueError, "beta2 must satisfy"),
        (numopt.Lion, "eps", 1e-8, TypeError, "eps"),  # Lion has no ε
    ],
)
def test_bad_hyperparameters_are_named(cls, name, value, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cls(**{name: value})


def test_pairs_are_normalised_to_tuples_of_floats():
    opt = numopt.Rprop(etas=[0.25, 2], step_sizes=np.array([1e-6, 10.0]).tolist())
    assert opt.etas == (0.25, 2.0) and type(opt.etas[1]) is float
    assert opt.step_sizes == (1e-6, 10.0)
    assert eval(repr(opt), vars(numopt)).hyperparameters == opt.hyperparameters


def test_every_new_rule_converges_on_a_convex_quadratic():
    """minimize reaches max|g| <= 1e-6 on the benchmarks' 100-D quadratic (κ = 10) with
    each rule's tuned settings (benchmarks/common.py)."""
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.common import quadratic, settings

    fun, jac, x_star = quadratic(100)
    for method in ("adagrad", "adadelta", "adamax", "nadam", "radam", "rprop", "lion"):
        res = numopt.minimize(
            fun,
            np.zeros(100),
            jac=jac,
            method=method,
            options={**settings("quadratic", method), "gtol": 1e-6, "maxiter": 20_000},
        )
        assert res.success and res.status == 0, (method, res.message)
        np.testing.assert_allclose(res.x, x_star, atol=1e-5)
