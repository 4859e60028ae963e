"""L-BFGS-B's checkpoints: a run stopped anywhere — by maxiter, Ctrl-C or a
``KeyboardInterrupt`` in the middle of a line search, a callback, or SIGKILL — and
resumed from its checkpoint ends bit for bit where a run never stopped ends, in the
loop run from Python and the compiled loop, and across the two."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from bounded_problems import BOUNDED
from mgh import problem
from njit_objectives import INPLACE

import numopt
from numopt.loop import checkpoint
from numopt.loop.status import Status

ROSEN = problem("extended_rosenbrock_10")
BOX = next(p for p in BOUNDED if p.name == "extended_rosenbrock_10_mixed")
PROBLEMS = {"free": ROSEN, "boxed": BOX}
TESTS = Path(__file__).resolve().parent


def run(p, compiled=False, fun=INPLACE, callback=None, **options):
    """``p`` with the inplace Numba objective (one compiled loop per bounds; the loop run
    from Python calls the same function: the same bits)."""
    return numopt.minimize(
        fun,
        p.x0.copy(),
        jac="inplace",
        method="l-bfgs-b",
        bounds=p.bounds,
        callback=callback,
        options={"history": True, "compiled": compiled, **options},
    )


def assert_same(res, whole, same_nfev=True):
    np.testing.assert_array_equal(res.x, whole.x)
    np.testing.assert_array_equal(res.jac, whole.jac)
    assert (res.fun, res.nit, res.status) == (whole.fun, whole.nit, whole.status)
    assert res.nfev == whole.nfev or not same_nfev
    for key, series in whole.history.items():
        np.testing.assert_array_equal(res.history[key], series, err_msg=key)


@pytest.mark.parametrize("stop_at", [1, 13])
@pytest.mark.parametrize(
    ("first", "then"),
    [(False, False), (True, True), (False, True), (True, False)],
    ids=["python", "compiled", "python-then-compiled", "compiled-then-python"],
)
@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_stop_and_resume_is_bit_identical(kind, first, then, stop_at, tmp_path):
    p, path = PROBLEMS[kind], tmp_path / "run.npz"
    whole = run(p)
    part = run(p, compiled=first, checkpoint=path, maxiter=stop_at)
    assert (part.status, part.nit) == (Status.MAXITER, stop_at)
    # stopped between two updates, after the line search evaluated the new point: the
    # checkpoint holds that point's gradient, and resuming evaluates nothing again
    meta, arrays = checkpoint.load(path)
    assert meta["loop"]["phase"] == 2 and "g" in arrays and "opt_S" in arrays
    assert_same(run(p, compiled=then, resume=path), whole)


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
def test_periodic_checkpoints_change_nothing_and_each_resumes_exactly(compiled, tmp_path):
    path, copies = tmp_path / "run.npz", []
    real_save = checkpoint.save

    def keep_a_copy(target, meta, arrays):
        real_save(target, meta, arrays)
        copies.append(tmp_path / f"at{meta['loop']['nit']}.npz")
        shutil.copy(target, copies[-1])

    whole = run(BOX, compiled=compiled)
    checkpoint.save = keep_a_copy
    try:
        periodic = run(BOX, compiled=compiled, checkpoint=path, checkpoint_every=10)
    finally:
        checkpoint.save = real_save
    assert_same(periodic, whole)
    assert [c.name for c in copies[:3]] == ["at10.npz", "at20.npz", "at30.npz"]
    for copy in copies[:-1]:  # (the last one is the end of the run)
        assert_same(run(BOX, compiled=not compiled, resume=copy), whole)


def _interrupting(at, how):
    """The Python objective, interrupted at its ``at``-th call (a line-search trial:
    every call after x0's is one)."""
    calls = [0]

    def fun(x, g):
        calls[0] += 1
        if calls[0] == at:
            if how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: seen after this evaluation
        return INPLACE(x, g)

    return fun


@pytest.mark.parametrize("at", [2, 9, 30])
@pytest.mark.parametrize("how", ["raise", "sigint"])
@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_interrupted_mid_line_search(kind, how, at, tmp_path):
    """Stopped during a line search, the run returns the iteration's start — the best
    point, with its value — and its checkpoint resumes exactly (the interrupted search
    is run again: one or two evaluations more)."""
    p, path = PROBLEMS[kind], tmp_path / "run.npz"
    whole = run(p)
    res = run(p, fun=_interrupting(at, how), checkpoint=path)
    assert res.status == Status.INTERRUPTED and 0 <= res.nit < whole.nit
    np.testing.assert_array_equal(res.x, res.x_best)
    g = np.empty_like(res.x)
    assert res.fun == res.fun_best == INPLACE(res.x, g)
    np.testing.assert_array_equal(res.jac, g)  # g put back at x too
    resumed = run(p, resume=path)
    assert_same(resumed, whole, same_nfev=False)
    # x0's evaluation, or the iteration start's again, and the interrupted one
    assert whole.nfev < resumed.nfev <= whole.nfev + 2


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
def test_keyboard_interrupt_from_a_callback(compiled, tmp_path):
    def interrupt(intermediate_result):
        if intermediate_result.nit == 17:
            raise KeyboardInterrupt

    path = tmp_path / "run.npz"
    whole = run(BOX, compiled=compiled)
    res = run(BOX, compiled=compiled, callback=interrupt, checkpoint=path)
    assert (res.status, res.nit) == (Status.INTERRUPTED, 17)
    np.testing.assert_array_equal(res.x, res.x_best)
    assert res.fun == res.fun_best == INPLACE(res.x, np.empty_like(res.x))
    assert_same(run(BOX, compiled=not compiled, resume=path), whole, same_nfev=False)


CHILD = """
import sys, time
sys.path[:0] = [{tests!r}, {folder!r}]
from pathlib import Path
import numpy as np, numopt
from bounded_problems import BOUNDED
from njit_objectives import INPLACE

p = next(q for q in BOUNDED if q.name == "extended_rosenbrock_10_mixed")
calls = [0]

def fun(x, g):
    calls[0] += 1
    if calls[0] == 40:  # mid-run: tell the parent, then hang until killed
        Path({stuck!r}).touch()
        time.sleep(120)
    return INPLACE(x, g)

numopt.minimize(fun, p.x0.copy(), jac="inplace", method="l-bfgs-b", bounds=p.bounds,
                options={{"compiled": False, "history": True, "checkpoint": {path!r},
                         "checkpoint_every": 4}})
"""


def test_a_killed_process_resumes_bit_for_bit(tmp_path):
    """SIGKILL: no handler runs, nothing is flushed; the last periodic checkpoint,
    written atomically, resumes as if the run had never stopped (here in the compiled
    loop, from the checkpoint of the loop run from Python)."""
    path, stuck = tmp_path / "run.npz", tmp_path / "stuck"
    code = CHILD.format(
        tests=str(TESTS.parent), folder=str(TESTS), stuck=str(stuck), path=str(path)
    )
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a cold start compiles the Numba objective
        while not stuck.exists():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never reached its 40th evaluation"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    meta, _ = checkpoint.load(path)
    assert meta["loop"]["nit"] > 0 and meta["loop"]["nit"] % 4 == 0
    assert not list(tmp_path.glob(".run.npz.*"))  # no temporary file was left behind
    whole = run(BOX)
    assert_same(run(BOX, compiled=True, resume=path), whole)


def test_resume_checks_the_method_and_its_options(tmp_path):
    path = tmp_path / "run.npz"
    run(BOX, checkpoint=path, maxiter=3)
    with pytest.raises(ValueError, match="maxcor"):
        run(BOX, resume=path, maxcor=5)
    with pytest.raises(ValueError, match="bounds"):
        run(dataclasses.replace(BOX, bounds=None), resume=path)
    with pytest.raises(ValueError, match="method"):
        numopt.minimize(
            BOX.fun,
            BOX.x0.copy(),
            jac=BOX.jac,
            method="adam",
            bounds=BOX.bounds,
            options={"resume": path},
        )
