"""Checkpoints: a run stopped anywhere and resumed ends bit for bit where a whole run does."""

from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest
from box_problem import HI, fg, pairs
from least_squares import X, Y, loss

import numopt
from numopt.loop import checkpoint

LR = {
    "constant": lambda: 0.05,
    "cosine": lambda: numopt.schedules.cosine_annealing(0.05, decay_steps=30),
    "plateau": lambda: numopt.schedules.ReduceLROnPlateau(0.05, factor=0.5, patience=0),
}
METHODS = ["gd", "sgd", "momentum", "rmsprop", "adam", "adamw"]


def run(method, lr, batched, path=None, resume=None, **extra):
    options = {"learning_rate": LR[lr](), "gtol": 0.0, **extra}
    if batched:
        options.update(batch_size=12, seed=3)  # 4 batches per epoch, the last one of 4
        options.setdefault("epochs", 5)
    else:
        options.setdefault("maxiter", 20)
    if path is not None:
        options["checkpoint"] = path
    if resume is not None:
        options["resume"] = resume
    return numopt.minimize(loss, np.zeros(3), args=(X, Y), jac=True, method=method, options=options)


@pytest.mark.parametrize("lr", sorted(LR))
@pytest.mark.parametrize("batched", [False, True], ids=["full-batch", "mini-batch"])
@pytest.mark.parametrize("method", METHODS)
def test_stop_and_resume_is_bit_identical(method, batched, lr, tmp_path):
    whole = run(method, lr, batched)
    path = tmp_path / "run.npz"
    stop_at = 7  # mid-epoch with batches (4 per epoch)
    first = run(method, lr, batched, path=path, maxiter=stop_at)
    assert first.nit == stop_at and path.exists()
    second = run(method, lr, batched, resume=path)
    np.testing.assert_array_equal(second.x, whole.x)
    assert second.nit == whole.nit and second.status == whole.status
    assert second.fun == whole.fun


def _interrupting_loss(at, how):
    calls = [0]

    def fun(w, X, y):
        calls[0] += 1
        if calls[0] == at:
            if how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: stop before the next update
        return loss(w, X, y)

    return fun


@pytest.mark.parametrize("how", ["raise", "sigint"])
@pytest.mark.parametrize("batched", [False, True], ids=["full-batch", "mini-batch"])
def test_interruption_writes_a_checkpoint_that_resumes_exactly(how, batched, tmp_path):
    whole = run("adam", "cosine", batched)
    path = tmp_path / "run.npz"
    options = {"learning_rate": LR["cosine"](), "gtol": 0.0, "checkpoint": path}
    if batched:
        options.update(batch_size=12, seed=3, epochs=5)
    else:
        options["maxiter"] = 20
    res = numopt.minimize(
        _interrupting_loss(9, how),
        np.zeros(3),
        args=(X, Y),
        jac=True,
        method="adam",
        options=options,
    )
    assert res.status == 8 and 0 < res.nit < whole.nit
    resumed = run("adam", "cosine", batched, resume=path)
    np.testing.assert_array_equal(resumed.x, whole.x)


def test_periodic_checkpoints_and_a_crash_in_between(tmp_path):
    path = tmp_path / "run.npz"
    whole = run("rmsprop", "plateau", True)
    crash = _interrupting_loss(14, "raise")
    options = {
        "learning_rate": LR["plateau"](),
        "gtol": 0.0,
        "batch_size": 12,
        "seed": 3,
        "epochs": 5,
        "checkpoint": path,
        "checkpoint_every": 5,
    }
    saved = []
    real_save = checkpoint.save

    def spy(p, meta, arrays):
        saved.append(meta["loop"]["nit"])
        real_save(p, meta, arrays)

    checkpoint.save = spy
    try:
        numopt.minimize(
            crash, np.zeros(3), args=(X, Y), jac=True, method="rmsprop", options=options
        )
    finally:
        checkpoint.save = real_save
    assert saved[:2] == [5, 10]
    resumed = run("rmsprop", "plateau", True, resume=path)
    np.testing.assert_array_equal(resumed.x, whole.x)


def test_a_crash_while_writing_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    run("adam", "constant", False, path=path, maxiter=5)
    good = path.read_bytes()

    def broken(fh, **arrays):
        fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        run("adam", "constant", False, path=path, maxiter=8)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary left behind


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"method": "gd"}, "made with method 'adam'"),
        ({"x0": np.zeros(4)}, "made with shapes"),
        ({"x0": np.zeros(3, np.float32)}, "made with dtype 'float64'"),
    ],
)
def test_resuming_a_different_run_is_an_error(change, match, tmp_path):
    path = tmp_path / "run.npz"
    run("adam", "constant", False, path=path, maxiter=3)
    x0 = change.get("x0", np.zeros(3))

    def fun(w, X, y):
        return loss(w[:3].astype(float), X, y)[0]

    with pytest.raises(ValueError, match=match):
        numopt.minimize(
            fun, x0, args=(X, Y), method=change.get("method", "adam"), options={"resume": path}
        )


def test_bad_checkpoint_files_and_options(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        run("adam", "constant", False, resume=tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="is not a numopt checkpoint"):
        run("adam", "constant", False, resume=junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.ones(2))
    with pytest.raises(ValueError, match="no metadata"):
        run("adam", "constant", False, resume=other)
    with pytest.raises(ValueError, match="need options\\['checkpoint'\\]"):
        run("adam", "constant", False, checkpoint_every=3)
    with pytest.raises(TypeError, match="checkpoint must be a file path"):
        run("adam", "constant", False, path=3)
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1"):
        run("adam", "constant", False, path=tmp_path / "c.npz", checkpoint_every=0)


def test_a_callback_stop_writes_a_checkpoint_that_resumes_exactly(tmp_path):
    whole = run("momentum", "plateau", True)
    path = tmp_path / "run.npz"

    def stop_at_6(intermediate_result):
        if intermediate_result.nit == 6:
            raise StopIteration

    options = {
        "learning_rate": LR["plateau"](),
        "gtol": 0.0,
        "batch_size": 12,
        "seed": 3,
        "epochs": 5,
        "checkpoint": path,
    }
    res = numopt.minimize(
        loss,
        np.zeros(3),
        args=(X, Y),
        jac=True,
        method="momentum",
        callback=stop_at_6,
        options=options,
    )
    assert res.status == 99 and res.nit == 6
    resumed = run("momentum", "plateau", True, resume=path)
    np.testing.assert_array_equal(resumed.x, whole.x)


def test_resuming_with_other_hyperparameters_is_an_error(tmp_path):
    path = tmp_path / "run.npz"
    run("adam", "constant", False, path=path, maxiter=3)
    with pytest.raises(ValueError, match=r"made with learning_rate=0\.05, this run has 0\.001"):
        numopt.minimize(
            loss,
            np.zeros(3),
            method="adam",
            args=(X, Y),
            jac=True,
            options={"learning_rate": 0.001, "resume": path},
        )
    with pytest.raises(ValueError, match=r"learning_rate=0\.05, this run has .a schedule."):
        run("adam", "cosine", False, resume=path)


def test_ctrl_c_stops_before_the_next_update_without_evaluating_again():
    res = numopt.minimize(
        _interrupting_loss(3, "sigint"),
        np.zeros(3),
        method="adam",
        args=(X, Y),
        jac=True,
        options={"maxiter": 50},
    )
    assert res.status == 8 and res.nit == 2 and res.nfev == 3  # the 3rd evaluation is x_2's
    assert np.isfinite(res.fun)  # full-batch: x_2's loss is known


def test_a_stopping_callback_runs_once_per_update():
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.nit)
        if intermediate_result.nit == 4:
            raise StopIteration

    res = numopt.minimize(loss, np.zeros(3), method="adam", args=(X, Y), jac=True, callback=cb)
    assert seen == [1, 2, 3, 4] and res.nit == 4 and res.nfev == 5


# -- bounds (the problem of tests/box_problem.py) -------------------------------------
def test_resume_with_bounds_matches_an_uninterrupted_run(tmp_path):
    path = tmp_path / "run.npz"
    opts = {"learning_rate": 0.02, "checkpoint": str(path), "gtol": 0.0}
    numopt.minimize(
        fg, np.zeros(4), method="adam", jac=True, bounds=pairs(), options={**opts, "maxiter": 40}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # x0 only gives the shape on resume: no clip warning
        later = numopt.minimize(
            fg,
            np.full(4, 9.0),
            method="adam",
            jac=True,
            bounds=pairs(),
            options={**opts, "maxiter": 100, "resume": str(path)},
        )
    whole = numopt.minimize(
        fg,
        np.zeros(4),
        method="adam",
        jac=True,
        bounds=pairs(),
        options={"learning_rate": 0.02, "maxiter": 100},
    )
    np.testing.assert_array_equal(later.x, whole.x)
    assert later.nit == 100


def test_resume_with_other_bounds_is_an_error(tmp_path):
    path = tmp_path / "run.npz"
    opts = {"checkpoint": str(path), "maxiter": 5}
    numopt.minimize(fg, np.zeros(4), method="adam", jac=True, bounds=pairs(), options=opts)
    resume = {"resume": str(path), "maxiter": 10}
    with pytest.raises(ValueError, match="resume: the checkpoint was made with other bounds"):
        numopt.minimize(
            fg, np.zeros(4), method="adam", jac=True, bounds=pairs(hi=HI * 2), options=resume
        )
    with pytest.raises(ValueError, match="this run has no bounds"):
        numopt.minimize(fg, np.zeros(4), method="adam", jac=True, options=resume)
    numopt.minimize(
        fg, np.zeros(4), method="adam", jac=True, options={**opts, "checkpoint": str(path)}
    )
    with pytest.raises(ValueError, match="made without bounds, this run has bounds"):
        numopt.minimize(fg, np.zeros(4), method="adam", jac=True, bounds=pairs(), options=resume)


# -- checkpoints of the first format (numopt-checkpoint-1) still resume ------------------
V1 = Path(__file__).resolve().parents[1] / "data" / "checkpoint-v1"


def _v1_case(name):
    """The minimize call that wrote ``tests/data/checkpoint-v1/<name>.npz`` (see make.py)."""
    from scipy.optimize import rosen, rosen_der

    from numopt import schedules

    def lsq(w, X, y):
        r = X @ w - y
        return 0.5 * r @ r / len(y), X.T @ r / len(y)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.standard_normal(60)
    if name == "adam_full":
        kw = {"jac": rosen_der, "method": "adam"}
        opts = {"learning_rate": 0.01, "maxiter": 120, "history": True, "ftol": 1e-12}
        return rosen, np.array([-1.2, 1.0]), kw, opts
    if name == "sgd_plateau":
        plateau = schedules.ReduceLROnPlateau(0.2, patience=0, factor=0.5)
        kw = {"jac": True, "method": "sgd", "args": (X, y)}
        opts = {"learning_rate": plateau, "batch_size": 16, "epochs": 6, "seed": 3, "history": True}
        return lsq, np.zeros(3), kw, opts
    kw = {"jac": rosen_der, "method": "momentum", "bounds": [(-1.0, 0.8), (None, 0.9)]}
    opts = {"learning_rate": 1e-3, "maxiter": 70, "lookahead": 3, "xtol": 1e-9}
    return rosen, np.array([-1.2, 1.0], np.float32), kw, opts


@pytest.mark.parametrize("name", ["adam_full", "sgd_plateau", "bounded_lookahead_xtol"])
def test_a_first_format_checkpoint_resumes_as_the_version_that_wrote_it(name, tmp_path):
    """Files written by numopt 87608d0 (format numopt-checkpoint-1) are migrated on
    reading, and resuming them gives what that version gave, bit for bit."""
    import json
    import shutil

    path = tmp_path / f"{name}.npz"
    shutil.copy(V1 / f"{name}.npz", path)  # resuming must not need to write the fixture
    fun, x0, kw, opts = _v1_case(name)
    with np.load(V1 / f"{name}.expected.npz") as data:
        expected = {k: data[k] for k in data.files}
    meta = json.loads(str(expected.pop("meta")))
    res = numopt.minimize(fun, x0, options={**opts, "resume": path}, **kw)
    for key in ("x", "x_best", "jac"):
        np.testing.assert_array_equal(res[key], expected[key], err_msg=key)
    for key in ("fun", "nit", "nfev", "njev", "status", "message", "fun_best"):
        assert res[key] == meta[key], key
    if meta["epochs"] is not None:
        assert res.epochs == meta["epochs"]
    for key, values in expected.items():
        if key.startswith("history_") and name == "sgd_plateau":
            # the batch losses and gradients are BLAS's (r @ r, X.T @ r), whose last bit
            # depends on the CPU's kernel (AVX2 or AVX-512): a few recorded values 1 ulp
            # apart on another machine, the run's points exact
            np.testing.assert_array_max_ulp(res.history[key[8:]], values, maxulp=2)
        elif key.startswith("history_"):
            np.testing.assert_array_equal(res.history[key[8:]], values, err_msg=key)


def test_an_unknown_format_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array('{"format": "numopt-checkpoint-9"}'))
    with pytest.raises(
        ValueError, match=r"has format 'numopt-checkpoint-9'; numopt\.minimize resumes from"
    ):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), method="adam", options={"resume": path})
