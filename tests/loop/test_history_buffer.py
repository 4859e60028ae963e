"""``result.history`` is written in place by the loop, in buffers the driver hands it.

A run whose history fills a buffer gets another; the records join them.  These tests
make the buffers tiny so that runs cross several of them, and check the series against
a run that fits in one, in both loops, with a schedule (the learning-rate series), with
line searches, across a checkpoint's resume and with SAM's skipped batches (which must
leave no value: at most one per update).  A run that stops early keeps a copy of its
values, not the buffer sized for its planned run.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

import numopt
from numopt.loop import driver


@njit(cache=True)
def quartic(x, grad):
    grad[:] = 4.0 * (x - 1.0) ** 3 + 0.1 * x
    return np.sum((x - 1.0) ** 4) + 0.05 * np.sum(x * x)


def _run(compiled, **options):
    return numopt.minimize(
        quartic,
        np.array([3.0, -2.0, 0.5]),
        jac="inplace",
        method=options.pop("method", "adam"),
        options={"history": True, "compiled": compiled, "gtol": 0, **options},
    )


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize(
    "options",
    [
        {"maxiter": 40, "learning_rate": 0.05},
        {"maxiter": 40, "learning_rate": numopt.schedules.cosine_annealing(0.05, 40)},
        {"maxiter": 25, "method": "l-bfgs", "gtol": 1e-12},
    ],
    ids=["adam", "adam-cosine", "lbfgs"],
)
def test_runs_across_buffers_record_what_one_buffer_records(monkeypatch, compiled, options):
    whole = _run(compiled, **dict(options))
    monkeypatch.setattr(driver, "HISTORY_CAPACITY", 3)
    pieces = _run(compiled, **dict(options))
    assert whole.nit == pieces.nit > 3
    assert set(whole.history) == set(pieces.history)
    for name, values in whole.history.items():
        assert values.dtype == np.float64
        np.testing.assert_array_equal(pieces.history[name], values, err_msg=name)
    assert len(whole.history["fun"]) == whole.nit + 1  # every point, the final one included
    assert len(whole.history["learning_rate"]) == whole.nit


def test_the_history_of_one_run_is_not_written_over_by_the_next():
    first = _run(True, maxiter=30, learning_rate=0.05)
    kept = {k: v.copy() for k, v in first.history.items()}
    _run(True, maxiter=30, learning_rate=0.2)
    for name, values in kept.items():
        np.testing.assert_array_equal(first.history[name], values, err_msg=name)


def test_a_resumed_run_joins_the_saved_history(tmp_path, monkeypatch):
    monkeypatch.setattr(driver, "HISTORY_CAPACITY", 4)
    path = tmp_path / "run.npz"
    whole = _run(True, maxiter=30, learning_rate=0.05)
    _run(True, maxiter=12, learning_rate=0.05, checkpoint=str(path))
    resumed = numopt.minimize(
        quartic,
        np.array([3.0, -2.0, 0.5]),
        jac="inplace",
        method="adam",
        options={
            "history": True,
            "compiled": True,
            "gtol": 0,
            "maxiter": 30,
            "learning_rate": 0.05,
            "resume": str(path),
        },
    )
    assert resumed.nit == whole.nit
    for name, values in whole.history.items():
        np.testing.assert_array_equal(resumed.history[name], values, err_msg=name)


def test_a_run_that_stops_early_keeps_its_values_not_the_buffer():
    early = _run(True, maxiter=10_000, learning_rate=0.05, gtol=1e-3)
    assert 3 < early.nit < 5_000 and early.success  # (gtol)
    for name, values in early.history.items():
        assert values.flags.owndata, name  # a copy: the buffer, sized for 10 000, is gone
    full = _run(True, maxiter=40, learning_rate=0.05)
    assert not full.history["fun"].flags.owndata  # the buffer's row itself: no copy


def _sam_loss_with_bad_climbs(w, X, y, count=[0]):  # noqa: B006 - a call counter
    count[0] += 1
    r = X @ w - y
    bad = count[0] % 6 == 4  # some of SAM's climbed points
    return (np.inf if bad else 0.5 * float(r @ r) / len(y)), X.T @ r / len(y)


def test_sam_skipped_batches_leave_no_value_and_no_overflow(monkeypatch):
    X = np.random.default_rng(3).standard_normal((40, 4))
    y = X @ np.array([1.0, -1.0, 0.5, 2.0])
    options = {"learning_rate": 0.05, "batch_size": 2, "epochs": 3, "seed": 0, "sam": 0.1,
               "on_nonfinite": "skip", "history": True, "compiled": False}  # fmt: skip

    def run():
        _sam_loss_with_bad_climbs.__defaults__[0][0] = 0
        return numopt.minimize(
            _sam_loss_with_bad_climbs, np.zeros(4), args=(X, y), jac=True, method="sgd",
            options=options,
        )  # fmt: skip

    whole = run()
    monkeypatch.setattr(driver, "HISTORY_CAPACITY", 3)
    pieces = run()
    assert whole.skipped == pieces.skipped > 0 and whole.nit == pieces.nit > 3
    for name in ("fun", "grad_norm", "learning_rate"):
        assert len(whole.history[name]) == whole.nit, name  # one value per update
        np.testing.assert_array_equal(pieces.history[name], whole.history[name], err_msg=name)
