"""Mini-batches through minimize (numopt.problem.batching).

SGD against lstsq, one batch of every sample against full batch, seeds and
``drop_last``, what reaches ``fun``, ``data_args``, the plateau schedule on epoch
means, callbacks per update, non-finite batches (stop or skip), and the same bits
on every backend and thread count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from minimize_problems import least_squares_data, ls_grad, ls_loss, quad, quad_grad

import numopt


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
        method="adam",
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
        method="adam",
        args=(X, y, weights),
        options={"batch_size": 10, "epochs": 2, "data_args": [0, 1]},
    )
    assert res.nit == 6


def test_plateau_schedule_is_driven_by_the_epoch_mean_loss_with_batches():
    X, y = least_squares_data(n=40)
    plateau = numopt.schedules.ReduceLROnPlateau(0.05, factor=0.1, patience=0)
    res = numopt.minimize(
        lambda w, X, y: 1.0,
        np.zeros(4),
        method="adam",
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
        method="adam",
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
        method="adam",
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
        method="adam",
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
    # the loss on all the data includes the NaN row: the mean over the finite batches
    assert res.status == 7 and res.success and np.isfinite(res.fun)
    with pytest.raises(ValueError, match="on_nonfinite='skip' needs batch_size"):
        numopt.minimize(
            quad, np.zeros(3), method="adam", jac=quad_grad, options={"on_nonfinite": "skip"}
        )
    with pytest.raises(ValueError, match="on_nonfinite must be one of 'stop', 'skip'"):
        numopt.minimize(
            quad, np.zeros(3), method="adam", jac=quad_grad, options={"on_nonfinite": "ignore"}
        )


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
