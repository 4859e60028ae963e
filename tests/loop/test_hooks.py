"""What a run reports as it goes (numopt.loop.hooks, numopt.loop.history): new-style
and legacy callbacks, a callback that stops the run, the disp table, the progress
bar, ``result.history``."""

from __future__ import annotations

import numpy as np
import pytest
from minimize_problems import quad, quad_grad

import numopt


# -- callbacks -----------------------------------------------------------------------
def test_new_style_callback_gets_intermediate_results():
    seen = []

    def cb(intermediate_result):
        seen.append((intermediate_result.nit, intermediate_result.fun, intermediate_result.x))

    res = numopt.minimize(
        quad,
        np.zeros(3),
        method="adam",
        jac=quad_grad,
        callback=cb,
        options={"maxiter": 5, "gtol": 0},
    )
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5]
    for _, f, x in seen:
        assert f == pytest.approx(quad(x))
    assert seen[-1][2] is not res.x and np.array_equal(seen[-1][2], res.x)


def test_legacy_callback_gets_copies_and_lists_of_callbacks_all_run():
    xs, calls = [], []
    res = numopt.minimize(
        quad,
        np.zeros(3),
        method="adam",
        jac=quad_grad,
        callback=[xs.append, lambda xk: calls.append(1)],
        options={"maxiter": 4, "gtol": 0},
    )
    assert len(xs) == len(calls) == 4
    assert not np.array_equal(xs[0], xs[-1])  # copies, not one aliased buffer
    np.testing.assert_array_equal(xs[-1], res.x)


def _raise_stop(intermediate_result):
    raise StopIteration


@pytest.mark.parametrize(
    ("callback", "message"),
    [(lambda xk: True, "returned True"), (_raise_stop, "raised `StopIteration`")],
)
def test_callback_stops_the_run(callback, message):
    res = numopt.minimize(quad, np.zeros(3), method="adam", jac=quad_grad, callback=callback)
    assert res.status == 99 and not res.success and res.nit == 1
    assert message in res.message


# -- display, progress, history ----------------------------------------------------
def test_disp_prints_a_table_and_the_message(capsys):
    numopt.minimize(
        quad, np.zeros(3), method="adam", jac=quad_grad, options={"disp": True, "maxiter": 20}
    )
    out = capsys.readouterr().out
    assert "iter" in out and "max|g|" in out and "Maximum number of iterations" in out
    assert out.count("\n") < 25


def test_progress_bar_uses_tqdm_or_says_what_is_missing():
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="tqdm"):
            numopt.minimize(
                quad, np.zeros(3), method="adam", jac=quad_grad, options={"progress": True}
            )
    else:
        res = numopt.minimize(
            quad,
            np.zeros(3),
            method="adam",
            jac=quad_grad,
            options={"progress": True, "maxiter": 10},
        )
        assert res.nit == 10


def test_history_records_every_update():
    res = numopt.minimize(
        quad,
        np.zeros(3),
        method="adam",
        jac=quad_grad,
        options={
            "history": True,
            "maxiter": 7,
            "gtol": 0,
            "learning_rate": lambda k: 0.1 / (k + 1),
        },
    )
    h = res.history
    assert len(h["fun"]) == len(h["grad_norm"]) == 8 and len(h["learning_rate"]) == 7
    np.testing.assert_allclose(h["learning_rate"], [0.1 / (k + 1) for k in range(7)])
    assert h["fun"][-1] == res.fun
