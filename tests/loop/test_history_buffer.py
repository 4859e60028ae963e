"""``result.history`` is written in place by the loop, in buffers the driver hands it.

A run whose history fills a buffer gets another; the records join them.  These tests
make the buffers tiny so that runs cross several of them, and check the series against
a run that fits in one, in both loops, with a schedule (the learning-rate series), with
line searches, and across a checkpoint's resume.
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
