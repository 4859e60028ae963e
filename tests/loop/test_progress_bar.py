"""The progress bar (numopt.loop.hooks.progress_bar, numopt.loop.driver, issue 20 item 6):
it starts where a resumed run resumes, shows the loss, the epoch and the learning rate,
stays on screen at the end unless ``{"leave": False}``, and takes tqdm's keywords."""

from __future__ import annotations

import io

import numpy as np
import pytest
from minimize_problems import least_squares_data, ls_grad, ls_loss, quad, quad_grad

import numopt

pytest.importorskip("tqdm")

X, Y = least_squares_data(n=200)


def _batched(progress, **more):
    options = {"batch_size": 20, "epochs": 6, "seed": 0, "learning_rate": 0.05, **more}
    if progress is not None:
        options["progress"] = progress
    return numopt.minimize(
        ls_loss, np.zeros(4), method="adam", args=(X, Y), jac=ls_grad, options=options
    )


def _frames(text):
    """The bar's successive renderings (tqdm rewrites its line after a carriage return)."""
    return [f for f in text.replace("\n", "\r").split("\r") if f.strip()]


def test_postfix_shows_loss_epoch_and_learning_rate():
    out = io.StringIO()
    _batched({"file": out})
    last = _frames(out.getvalue())[-1]
    assert "60/60" in last and "loss=" in last and "epoch=6/6" in last and "lr=0.05" in last


def test_loss_is_the_epochs_mean_batch_loss():
    out = io.StringIO()
    res = _batched({"file": out}, history=True)
    last = _frames(out.getvalue())[-1]
    loss = float(last.split("loss=")[1].split(",")[0])
    assert loss == pytest.approx(res.history["epoch_fun"][-1], rel=1e-3)


def test_full_batch_postfix_has_no_epoch():
    out = io.StringIO()
    numopt.minimize(
        quad,
        np.zeros(3),
        method="adam",
        jac=quad_grad,
        options={"progress": {"file": out}, "maxiter": 30, "gtol": 0, "learning_rate": 0.1},
    )
    last = _frames(out.getvalue())[-1]
    assert "30/30" in last and "loss=" in last and "lr=0.1" in last and "epoch" not in last


def test_the_bar_stays_by_default_and_leave_false_removes_it(capsys):
    _batched(True)
    err = capsys.readouterr().err  # tqdm writes to stderr by default
    assert err.endswith("\n") and "60/60" in _frames(err)[-1]
    out = io.StringIO()
    _batched({"file": out, "leave": False})
    text = out.getvalue()  # cleared: its last rendering is blanks, and no new line
    assert not text.endswith("\n") and text.rstrip("\r").split("\r")[-1].strip() == ""


def test_tqdm_keywords_pass_through():
    out = io.StringIO()
    _batched({"file": out, "desc": "fit", "unit": "step"})
    last = _frames(out.getvalue())[-1]
    assert last.startswith("fit:") and "step/s" in last


def test_a_resumed_bar_starts_at_the_resumed_update(tmp_path):
    path = tmp_path / "run.npz"
    first = _batched(None, checkpoint=path, maxiter=25)
    assert first.nit == 25
    out = io.StringIO()
    resumed = _batched({"file": out}, resume=path)
    frames = _frames(out.getvalue())
    assert "25/60" in frames[0] and "60/60" in frames[-1]
    assert not any(" 0/60" in f for f in frames)
    np.testing.assert_array_equal(resumed.x, _batched(None).x)  # the bar changes nothing


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        (1, TypeError, "progress must be True, False or a dict of tqdm keywords, got 1"),
        ("yes", TypeError, "progress must be True, False or a dict of tqdm keywords"),
        ({1: True}, TypeError, "progress's keys must be tqdm's keyword names, got 1"),
    ],
)
def test_bad_progress_values(value, error, pattern):
    with pytest.raises(error, match=pattern):
        _batched(value)
