"""Gradient accumulation: numopt.MultiSteps and minimize's ``accumulate`` option.

The central property: for plain gradient descent, ``k`` micro-batches of ``B``
samples make the same update as one batch of ``k·B`` samples (the loss being a mean
over the batch).  Bit for bit when every sum is exact (``test_..._exactly``: a loss
whose per-sample gradients are small integers and dyadic steps, so no sum rounds),
and to rounding otherwise (``test_..._to_rounding``: the micro-batch means are
summed in another order than the big batch's matmul).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_table import as_matrices

import numopt
from numopt.kernels.cpu import SERIAL_BELOW

RULES = sorted(numopt.RULES)


def grads(n, count, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(count)]


def mean_by_hand(gs):
    """((g1 + g2) + … + gk) / k in the arrays' dtype: the kernels' order of operations."""
    acc = gs[0].copy()
    for g in gs[1:-1]:
        acc = acc + g
    return (acc + gs[-1]) / gs[0].dtype.type(len(gs)) if len(gs) > 1 else acc


# -- the stateful wrapper ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", RULES)
def test_multisteps_is_the_rule_stepped_with_the_mean_gradient(method, dtype):
    k, updates, n = 3, 4, 37
    x0 = np.random.default_rng(1).standard_normal(n).astype(dtype)
    x0, gs = as_matrices(method, x0, grads(n, k * updates, dtype))
    wrapped, x = numopt.MultiSteps(numopt.RULES[method](learning_rate=0.01), every_k=k), x0.copy()
    plain, y = numopt.RULES[method](learning_rate=0.01), x0.copy()
    for u in range(updates):
        before = x.copy()
        for j in range(k):
            wrapped.step(x, gs[u * k + j])
            if j < k - 1:  # only accumulating: x unchanged, no update counted
                np.testing.assert_array_equal(x, before)
                assert not wrapped.has_updated and wrapped.micro_step == j + 1
        plain.step(y, mean_by_hand(gs[u * k : (u + 1) * k]))
        assert wrapped.has_updated and wrapped.step_count == u + 1
        np.testing.assert_array_equal(x, y)
    assert wrapped.inner.step_count == updates


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_accumulation_kernels_agree_across_backends(dtype):
    n = SERIAL_BELOW + 5  # "auto" would pick the parallel loop
    gs = grads(n, 5, dtype)
    results = {}
    for backend in ("serial", "parallel", "numpy"):
        opt = numopt.MultiSteps(numopt.GD(learning_rate=0.1, backend=backend), every_k=5)
        x = np.zeros(n, dtype)
        for g in gs:
            opt.step(x, g)
        results[backend] = x
    np.testing.assert_array_equal(results["serial"], results["numpy"])
    np.testing.assert_array_equal(results["parallel"], results["numpy"])
    np.testing.assert_array_equal(results["numpy"], -dtype(0.1) * mean_by_hand(gs))


def test_every_k_of_one_is_the_plain_optimizer():
    x, y = np.ones(4), np.ones(4)
    a, b = numopt.MultiSteps(numopt.Adam(0.1), 1), numopt.Adam(0.1)
    for g in grads(4, 5, np.float64):
        a.step(x, g)
        b.step(y, g)
        assert a.has_updated
    np.testing.assert_array_equal(x, y)
    assert a.step_count == 5


def test_multisteps_state_dict_round_trip_mid_accumulation():
    gs = grads(6, 11, np.float64)
    a, x = numopt.MultiSteps(numopt.Adam(0.05), 3), np.zeros(6)
    for g in gs[:4]:  # one update, then one gradient accumulated
        a.step(x, g)
    sd = a.state_dict()
    assert sd["transforms"]["accumulate"] == {
        "every_k": 3,
        "step": 1,
        "micro_step": 1,
        "order": "C",
    }
    assert set(sd["state"]) == {"m", "v", "accumulate_grad"}
    b, y = numopt.MultiSteps(numopt.Adam(0.05), 3), x.copy()
    b.load_state_dict(sd)
    for g in gs[4:]:
        a.step(x, g)
        b.step(y, g)
    np.testing.assert_array_equal(x, y)
    assert (a.step_count, a.micro_step) == (b.step_count, b.micro_step) == (3, 2)
    with pytest.raises(ValueError, match="saved by MultiSteps with every_k=3"):
        numopt.MultiSteps(numopt.Adam(0.05), 4).load_state_dict(sd)
    with pytest.raises(ValueError, match="no 'accumulate' entry"):
        numopt.MultiSteps(numopt.Adam(0.05), 3).load_state_dict(numopt.Adam(0.05).state_dict())


def test_reset_forgets_the_accumulated_gradient():
    opt, x = numopt.MultiSteps(numopt.GD(1.0), 2), np.zeros(2)
    opt.step(x, np.array([100.0, 100.0]))
    opt.reset()
    opt.step(x, np.array([1.0, 1.0]))
    opt.step(x, np.array([3.0, 3.0]))
    np.testing.assert_array_equal(x, [-2.0, -2.0])


def test_hyperparameters_pass_through_to_the_rule():
    opt = numopt.MultiSteps(numopt.Adam(0.1), 2)
    opt.learning_rate = 0.5
    assert opt.inner.learning_rate == 0.5 and opt.learning_rate == 0.5 and opt.name == "adam"
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        opt.learning_rate = -1.0
    with pytest.raises(AttributeError, match=r"MultiSteps.every_k cannot be set"):
        opt.every_k = 3


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: numopt.MultiSteps(numopt.GD(), 0), ValueError, "every_k must be an integer >= 1"),
        (lambda: numopt.MultiSteps(numopt.GD(), 2.0), TypeError, "every_k must be an integer"),
        (lambda: numopt.MultiSteps(numopt.GD, 2), TypeError, "takes an optimizer instance"),
        (lambda: numopt.MultiSteps("adam", 2), TypeError, "wraps a numopt optimizer"),
        (
            lambda: numopt.MultiSteps(numopt.MultiSteps(numopt.GD(), 2), 2),
            ValueError,
            "already a MultiSteps",
        ),
    ],
)
def test_bad_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# -- minimize: accumulate=k ---------------------------------------------------------------
def median_loss(w, Y):
    """Mean over samples of Σ_j |w_j - Y_ij|: per-sample gradients sign(w - Y_i) ∈ {-1, 0, 1}."""
    d = w - Y
    return float(np.abs(d).sum()) / len(Y), np.sign(d).sum(axis=0) / len(Y)


def test_k_micro_batches_of_b_equal_one_batch_of_kb_exactly():
    # the sums of ±1 over batches of powers of two and the dyadic steps are exact in
    # float64: the micro-batch means, their sum and its division by k round nothing
    Y = np.random.default_rng(0).integers(-20, 20, size=(128, 3)).astype(float)
    common = {"learning_rate": 0.25, "epochs": 6, "seed": 7, "history": True}
    big = numopt.minimize(
        median_loss,
        np.zeros(3),
        args=(Y,),
        jac=True,
        method="sgd",
        options={**common, "batch_size": 16},
    )
    small = numopt.minimize(
        median_loss,
        np.zeros(3),
        args=(Y,),
        jac=True,
        method="sgd",
        options={**common, "batch_size": 4, "accumulate": 4},
    )
    assert small.nit == big.nit == 6 * 8
    np.testing.assert_array_equal(small.x, big.x)
    for key in ("fun", "grad_norm", "learning_rate", "epoch_fun"):
        np.testing.assert_array_equal(small.history[key], big.history[key])
    assert small.nfev == 4 * big.nfev - 3  # four evaluations per update, one final


def least_squares(w, X, y):
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 4),
    b=st.integers(1, 5),
    per_epoch=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    method=st.sampled_from(["sgd", "momentum", "adam"]),
)
def test_k_micro_batches_of_b_equal_one_batch_of_kb_to_rounding(k, b, per_epoch, seed, method):
    rng = np.random.default_rng(seed)
    n = k * b * per_epoch
    X = rng.standard_normal((n, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)
    common = {"learning_rate": 0.05, "epochs": 3, "seed": seed}
    big = numopt.minimize(
        least_squares,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method=method,
        options={**common, "batch_size": k * b},
    )
    small = numopt.minimize(
        least_squares,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method=method,
        options={**common, "batch_size": b, "accumulate": k},
    )
    assert small.nit == big.nit == 3 * per_epoch
    np.testing.assert_allclose(small.x, big.x, rtol=1e-12, atol=1e-13)
    assert small.fun == pytest.approx(big.fun, rel=1e-12)


def test_counting_with_a_short_last_group():
    """5 batches per epoch and k=2: updates of 2, 2 and 1 batches (the last one alone)."""
    X = np.arange(20.0).reshape(10, 2) / 10
    y = np.ones(10)
    calls, seen = [], []

    def fun(w, X, y):
        calls.append(len(y))
        return least_squares(w, X, y)

    res = numopt.minimize(
        fun,
        np.zeros(2),
        args=(X, y),
        jac=True,
        method="sgd",
        callback=lambda intermediate_result: seen.append(intermediate_result.nit),
        options={
            "learning_rate": 0.1,
            "batch_size": 2,
            "accumulate": 2,
            "epochs": 2,
            "shuffle": False,
            "history": True,
        },
    )
    assert res.nit == 6 and res.epochs == 2 and res.status == 7
    assert len(res.history["fun"]) == len(res.history["learning_rate"]) == 6
    assert len(res.history["epoch_fun"]) == 2
    assert seen == [1, 2, 3, 4, 5, 6]
    assert res.nfev == 2 * 5 + 1 == len(calls)
    # the same run by hand: the mean gradient of each group of batches
    w, opt = np.zeros(2), numopt.SGD(learning_rate=0.1)
    for _ in range(2):
        for group in ([0, 1], [2, 3], [4]):
            gs = [least_squares(w, X[2 * b : 2 * b + 2], y[2 * b : 2 * b + 2])[1] for b in group]
            opt.step(w, mean_by_hand(gs))
    np.testing.assert_array_equal(res.x, w)


def test_maxiter_counts_updates():
    X, y = np.ones((12, 2)), np.ones(12)
    res = numopt.minimize(
        least_squares,
        np.zeros(2),
        args=(X, y),
        jac=True,
        method="sgd",
        options={"learning_rate": 0.1, "batch_size": 2, "accumulate": 3, "maxiter": 3},
    )
    assert res.nit == 3 and res.status == 1
    assert res.nfev == 3 * 3 + 1


def test_skip_drops_the_whole_group():
    X, y = np.ones((8, 2)), np.ones(8)
    y[2] = np.nan  # the second batch (batch_size 2, no shuffle): group 0 is non-finite
    res = numopt.minimize(
        least_squares,
        np.zeros(2),
        args=(X, y),
        jac=True,
        method="sgd",
        options={
            "learning_rate": 0.1,
            "batch_size": 2,
            "accumulate": 2,
            "epochs": 1,
            "shuffle": False,
            "on_nonfinite": "skip",
        },
    )
    assert res.skipped == 1 and res.nit == 1


@pytest.mark.parametrize(
    ("options", "error", "pattern"),
    [
        ({"accumulate": 2}, ValueError, "accumulate needs batch_size"),
        ({"accumulate": 0, "batch_size": 2}, ValueError, "accumulate must be an integer >= 1"),
        ({"accumulate": True, "batch_size": 2}, TypeError, "accumulate must be an integer"),
    ],
)
def test_bad_options(options, error, pattern):
    X, y = np.ones((8, 2)), np.ones(8)
    with pytest.raises(error, match=pattern):
        numopt.minimize(
            least_squares, np.zeros(2), method="adam", args=(X, y), jac=True, options=options
        )


def test_a_multisteps_object_is_refused_as_method():
    with pytest.raises(ValueError, match=r"method is a MultiSteps: minimize accumulates with"):
        numopt.minimize(
            lambda x: float(x @ x),
            np.ones(2),
            jac=lambda x: 2 * x,
            method=numopt.MultiSteps(numopt.GD(), 2),
        )


@pytest.mark.parametrize("stop", ["maxiter", "interrupt-mid-group"])
@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_checkpoint_resume_is_bit_exact(method, stop, tmp_path):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    options = {
        "learning_rate": numopt.schedules.cosine_annealing(0.05, decay_steps=20),
        "batch_size": 4,
        "accumulate": 3,  # 10 batches per epoch: groups of 3, 3, 3, 1
        "epochs": 4,
        "seed": 1,
        "history": True,
    }
    whole = numopt.minimize(
        least_squares, np.zeros(3), args=(X, y), jac=True, method=method, options=options
    )
    path = tmp_path / "run.npz"
    if stop == "maxiter":
        first = numopt.minimize(
            least_squares,
            np.zeros(3),
            args=(X, y),
            jac=True,
            method=method,
            options={**options, "checkpoint": path, "maxiter": 6},
        )
        assert first.nit == 6
    else:
        calls = [0]

        def interrupted(w, X, y):
            calls[0] += 1
            if calls[0] == 15:  # 2nd micro-batch of update 6 (groups of 3, 3, 3, 1 batches)
                raise KeyboardInterrupt
            return least_squares(w, X, y)

        first = numopt.minimize(
            interrupted,
            np.zeros(3),
            args=(X, y),
            jac=True,
            method=method,
            options={**options, "checkpoint": path},
        )
        assert first.status == 8 and first.nit == 5
    resumed = numopt.minimize(
        least_squares,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method=method,
        options={**options, "resume": path},
    )
    np.testing.assert_array_equal(resumed.x, whole.x)
    assert resumed.nit == whole.nit == 16
    np.testing.assert_array_equal(resumed.history["fun"], whole.history["fun"])
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(
            least_squares,
            np.zeros(3),
            args=(X, y),
            jac=True,
            method=method,
            options={**options, "accumulate": 2, "resume": path},
        )


def test_the_compiled_loop_steps_aside():
    from numba import njit

    @njit
    def fun(w, X, y):
        r = X @ w - y
        return 0.5 * (r @ r) / len(y), X.T @ r / len(y)

    X, y = np.ones((8, 2)), np.ones(8)
    res = numopt.minimize(
        fun,
        np.zeros(2),
        args=(X, y),
        jac=True,
        method="sgd",
        options={"batch_size": 2, "accumulate": 2, "epochs": 1},
    )
    assert res.compiled is False
    with pytest.raises(ValueError, match=r"cannot be compiled: .*transforms.*accumulate"):
        numopt.minimize(
            fun,
            np.zeros(2),
            args=(X, y),
            jac=True,
            method="sgd",
            options={"batch_size": 2, "accumulate": 2, "compiled": True},
        )
