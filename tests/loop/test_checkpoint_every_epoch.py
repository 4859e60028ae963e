"""``checkpoint_every="epoch"`` (issue 20 item 6): a checkpoint at the end of each epoch of
mini-batches, which resumes bit for bit; bad values are errors naming the option."""

from __future__ import annotations

import numpy as np
import pytest
from least_squares import X, Y, loss

import numopt
from numopt.loop import checkpoint


def _crashing(at):
    """``loss`` that raises RuntimeError (no checkpoint at the end) at evaluation ``at``."""
    calls = [0]

    def fun(w, X, y):
        calls[0] += 1
        if calls[0] == at:
            raise RuntimeError("crash")
        return loss(w, X, y)

    return fun


def run(fun=loss, **options):
    options = {"learning_rate": 0.05, "batch_size": 12, "seed": 3, "epochs": 5, **options}
    return numopt.minimize(fun, np.zeros(3), args=(X, Y), jac=True, method="adam", options=options)


@pytest.fixture
def saved(monkeypatch):
    """The (nit, epochs_done) of every checkpoint written."""
    out = []
    real = checkpoint.save

    def spy(path, meta, arrays):
        out.append((meta["loop"]["nit"], meta["loop"]["epochs_done"]))
        real(path, meta, arrays)

    monkeypatch.setattr(checkpoint, "save", spy)
    return out


def test_a_checkpoint_after_each_epoch(tmp_path, saved):
    res = run(checkpoint=tmp_path / "c.npz", checkpoint_every="epoch", epochs=3)
    assert res.nit == 12  # 4 batches per epoch (the last one of 4 samples)
    # the last epoch's checkpoint is the one every run writes at its end (once)
    assert saved == [(4, 1), (8, 2), (12, 3)]


def test_counts_updates_with_accumulation(tmp_path, saved):
    run(checkpoint=tmp_path / "c.npz", checkpoint_every="epoch", epochs=3, accumulate=2)
    assert saved == [(2, 1), (4, 2), (6, 3)]


@pytest.mark.parametrize("crash_at", [7, 14])
def test_a_crash_resumes_from_the_last_epoch_bit_for_bit(tmp_path, crash_at):
    path = tmp_path / "c.npz"
    whole = run()
    with pytest.raises(RuntimeError, match="crash"):
        run(_crashing(crash_at), checkpoint=path, checkpoint_every="epoch")
    meta, _ = checkpoint.load(path)
    epochs_done = (crash_at - 1) // 4  # evaluation k is update k - 1 (4 per epoch)
    assert meta["loop"]["nit"] == 4 * epochs_done and meta["loop"]["epochs_done"] == epochs_done
    resumed = run(resume=path)
    np.testing.assert_array_equal(resumed.x, whole.x)
    assert resumed.nit == whole.nit and resumed.fun == whole.fun and resumed.status == 7


def test_without_epochs_the_run_saves_at_each_epoch_end(tmp_path, saved):
    res = run(checkpoint=tmp_path / "c.npz", checkpoint_every="epoch", epochs=None, maxiter=10)
    assert res.nit == 10 and saved == [(4, 1), (8, 2), (10, 2)]


def test_maxiter_at_an_epoch_end_writes_once(tmp_path, saved):
    res = run(checkpoint=tmp_path / "c.npz", checkpoint_every="epoch", maxiter=8)
    assert res.nit == 8 and res.status == 1 and saved == [(4, 1), (8, 2)]


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        ("epochs", ValueError, "checkpoint_every must be an integer >= 1 or 'epoch', got 'epochs'"),
        (0, ValueError, "checkpoint_every must be an integer >= 1 or 'epoch', got 0"),
        (-1, ValueError, "checkpoint_every must be an integer >= 1 or 'epoch', got -1"),
        (2.0, TypeError, r"checkpoint_every must be an integer >= 1 or 'epoch', got 2.0"),
        (True, TypeError, "checkpoint_every must be an integer >= 1 or 'epoch', got True"),
    ],
)
def test_bad_values_name_the_option(tmp_path, value, error, pattern):
    with pytest.raises(error, match=pattern):
        run(checkpoint=tmp_path / "c.npz", checkpoint_every=value)
    assert not (tmp_path / "c.npz").exists()


def test_epoch_needs_mini_batches(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_every='epoch' needs batch_size"):
        numopt.minimize(
            loss,
            np.zeros(3),
            args=(X, Y),
            jac=True,
            method="adam",
            options={"checkpoint": tmp_path / "c.npz", "checkpoint_every": "epoch"},
        )
