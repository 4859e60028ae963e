"""How a run with ``on_nonfinite="skip"`` ends (numopt.front.result, issue 20 item 5).

The final loss of a mini-batch run is evaluated on the whole data; when that loss is
not finite only because of rows the run was told to skip, the run keeps its own
status and its last point, and ``fun``/``jac`` are the mean loss and gradient at
``x`` over the batches (one epoch in data order) whose loss is finite.  A run whose
parameters became non-finite, or whose final point has no finite batch at all,
still ends with status 3 and its best point.
"""

from __future__ import annotations

import numpy as np
import pytest
from minimize_problems import least_squares_data, ls_grad, ls_loss

import numopt

BATCH = 10


def _nan_rows():
    X, y = least_squares_data(n=200)
    X = X.copy()
    X[[5, 77, 150], 1] = np.nan  # three bad rows: three bad batches per epoch
    return X, y


def _skip_run(X, y, callback=None, **more):
    return numopt.minimize(
        ls_loss,
        np.zeros(4),
        method="adam",
        args=(X, y),
        jac=ls_grad,
        callback=callback,
        options={
            "batch_size": BATCH,
            "epochs": 20,
            "seed": 0,
            "on_nonfinite": "skip",
            "learning_rate": 0.05,
            **more,
        },
    )


def _finite_batches(x, X, y):
    """The losses and gradients at x of the data-order batches whose loss is finite."""
    out = []
    for lo in range(0, len(y), BATCH):
        Xb, yb = X[lo : lo + BATCH], y[lo : lo + BATCH]
        f = ls_loss(x, Xb, yb)
        if np.isfinite(f):
            out.append((f, ls_grad(x, Xb, yb)))
    return out


def test_a_converged_skipping_run_succeeds_with_its_last_point():
    X, y = _nan_rows()
    seen = []
    res = _skip_run(
        X, y, callback=lambda intermediate_result: seen.append(intermediate_result.x.copy())
    )
    assert res.status == 7 and res.success, res.message
    assert res.skipped > 0 and res.epochs == 20
    np.testing.assert_array_equal(res.x, seen[-1])  # the last point, not rolled back
    np.testing.assert_allclose(res.x, [1, 2, 3, 4], atol=0.05)
    kept = _finite_batches(res.x, X, y)
    assert len(kept) == 20 - 3
    assert res.fun == pytest.approx(np.mean([f for f, _ in kept]), rel=1e-12)
    np.testing.assert_allclose(res.jac, np.mean([g for _, g in kept], axis=0), rtol=1e-10)
    assert "on_nonfinite='skip'" in res.message and "17 of 20 batches" in res.message
    assert res.message.startswith("Completed the requested number of epochs.")


def test_a_skipping_run_stopped_by_maxiter_keeps_status_1():
    X, y = _nan_rows()
    res = _skip_run(X, y, maxiter=50)
    assert res.status == 1 and np.isfinite(res.fun) and np.all(np.isfinite(res.jac))


def test_with_accumulation():
    X, y = _nan_rows()
    res = _skip_run(X, y, accumulate=2)
    assert res.status == 7 and res.success, res.message
    kept = _finite_batches(res.x, X, y)
    assert res.fun == pytest.approx(np.mean([f for f, _ in kept]), rel=1e-12)


def test_finite_data_loss_is_the_whole_data_loss():
    X, y = least_squares_data(n=200)
    res = _skip_run(X, y)
    assert res.status == 7 and res.skipped == 0
    assert res.fun == pytest.approx(ls_loss(res.x, X, y), rel=1e-12)
    assert "on_nonfinite" not in res.message


def _linear(w, a):
    return float(w[0] * np.mean(a))


def _linear_grad(w, a):
    return np.full_like(w, np.mean(a))


def test_non_finite_parameters_still_end_with_status_3_and_the_best_point():
    # SGD with a huge step: x = -1e308 (f finite), then -inf; every later batch skipped
    res = numopt.minimize(
        _linear,
        np.zeros(1),
        method="sgd",
        args=(np.ones(8),),
        jac=_linear_grad,
        options={"batch_size": 4, "epochs": 3, "learning_rate": 1e308, "on_nonfinite": "skip"},
    )
    assert res.status == 3 and not res.success
    assert "returning the best point seen" in res.message
    assert res.x[0] == -1e308 and res.fun == -1e308 and res.skipped == 4


def _cliff(w, a):  # NaN past w = 2.5: the final point has no finite batch at all
    return float("nan") if w[0] > 2.5 else float(-w[0] * np.mean(a))


def _cliff_grad(w, a):
    return np.full_like(w, np.nan if w[0] > 2.5 else -np.mean(a))


def test_no_finite_batch_at_the_final_point_is_status_3():
    res = numopt.minimize(
        _cliff,
        np.zeros(1),
        method="sgd",
        args=(np.ones(8),),
        jac=_cliff_grad,
        options={"batch_size": 4, "epochs": 3, "learning_rate": 1.0, "on_nonfinite": "skip"},
    )
    assert res.status == 3 and not res.success
    assert "every batch" in res.message and "returning the best point seen" in res.message
    assert res.x[0] == 2.0 and res.fun == -2.0
