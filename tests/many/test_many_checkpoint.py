"""``minimize_many``'s checkpoints: a call stopped anywhere and resumed ends bit for bit
where a whole call ends, compiled and vectorised, after ``maxiter``, Ctrl-C, a
callback's request or a SIGKILL.

The compiled cases run the exponential-decay fits (``jac="inplace"``) with methods
whose loops the other tests of this folder build already (L-BFGS-B, Adam, Nesterov);
the vectorised cases the quadratic rows of ``test_many_vectorized.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from many_objectives import decay_inplace
from many_reference import T, assert_results_equal, decay_data
from scipy.optimize import Bounds

import numopt
from numopt import schedules

M = 8
X0, Y, W = decay_data(M, seed=1)
ARGS = (T, Y, W)

#: name -> (method, options, bounds); gtol lets some problems stop before the others.
COMPILED = {
    "l-bfgs-b": ("l-bfgs-b", {"gtol": 1e-6}, None),
    "l-bfgs-b-bounded": (
        "l-bfgs-b",
        {"gtol": 1e-6},
        Bounds(np.array([0.0, 0.0, -0.2]), np.array([2.5, 1.8, 0.2])),
    ),
    "adam": ("adam", {"learning_rate": 0.05, "gtol": 2e-3}, None),
    "nesterov-cosine": (
        "momentum",
        {
            "learning_rate": schedules.cosine_annealing(0.02, decay_steps=100, alpha=0.1),
            "beta": 0.8,
            "nesterov": True,
            "gtol": 1e-3,
        },
        None,
    ),
}


def compiled(method, options, bounds, **more):
    return numopt.minimize_many(
        decay_inplace, X0, args=ARGS, method=method, jac="inplace", bounds=bounds,
        options={**options, **more},
    )  # fmt: skip


@pytest.mark.filterwarnings("ignore:Initial guess is not within")  # X0 is clipped, as in SciPy
@pytest.mark.parametrize("name", sorted(COMPILED))
def test_compiled_stop_and_resume_is_bit_identical(name, tmp_path):
    method, options, bounds = COMPILED[name]
    whole = compiled(method, options, bounds, maxiter=120)
    path = tmp_path / "many.npz"
    first = compiled(method, options, bounds, maxiter=9, checkpoint=path)
    assert path.exists() and first.compiled
    assert 1 in first.status.tolist()  # some problems were stopped by maxiter
    second = compiled(method, options, bounds, maxiter=120, resume=path)
    assert_results_equal(second, whole)
    # and once more, from the end: the same result again
    third = compiled(method, options, bounds, maxiter=120, resume=path)
    assert_results_equal(third, whole)


def test_compiled_checkpoint_every_is_written_where_due(tmp_path):
    """Checkpoints fall on multiples of ``checkpoint_every``: one written at iteration 10
    resumes to the whole call's end."""
    method, options, bounds = COMPILED["adam"]
    whole = compiled(method, options, bounds, maxiter=60)
    path = tmp_path / "many.npz"
    seen = []

    def cb(intermediate_result):  # copy the file as it is at iteration 12
        if intermediate_result.nit == 12:
            seen.append(path.read_bytes())

    numopt.minimize_many(
        decay_inplace, X0, args=ARGS, method=method, jac="inplace", callback=cb,
        options={**options, "maxiter": 60, "checkpoint": path, "checkpoint_every": 5},
    )  # fmt: skip
    assert len(seen) == 1
    mid = tmp_path / "mid.npz"
    mid.write_bytes(seen[0])
    with np.load(mid) as data:
        assert set(data["states"]["nit"][data["status"] < 0].tolist()) == {10}
    assert_results_equal(compiled(method, options, bounds, maxiter=60, resume=mid), whole)


@pytest.mark.parametrize("how", ["callback", "sigint"])
def test_compiled_call_stopped_midway_resumes_exactly(how, tmp_path):
    """A callback's request to stop (status 99) and Ctrl-C (status 8) stop every running
    problem; resumed, each goes on from its state as if never stopped."""
    method, options, bounds = COMPILED["l-bfgs-b"]
    whole = compiled(method, options, bounds, maxiter=120)
    path = tmp_path / "many.npz"

    def cb(intermediate_result):
        if intermediate_result.nit == 4:
            if how == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
                return False
            return True
        return False

    first = numopt.minimize_many(
        decay_inplace, X0, args=ARGS, method=method, jac="inplace", callback=cb,
        options={**options, "maxiter": 120, "checkpoint": path},
    )  # fmt: skip
    assert set(first.status.tolist()) == {8 if how == "sigint" else 99}
    second = compiled(method, options, bounds, maxiter=120, resume=path)
    for field in ("x", "x_best", "fun", "fun_best", "nit", "status", "message"):
        assert np.array_equal(np.asarray(second[field]), np.asarray(whole[field])), field
    # the iteration stopped at is evaluated again: nfev differs by that evaluation at most
    assert np.all(second.nfev - whole.nfev <= 1) and np.all(second.nfev >= whole.nfev)


def test_compiled_resume_after_sigkill(tmp_path):
    """A process killed outright (SIGKILL) leaves its last checkpoint intact; a call
    resumed from it ends where the whole call ends."""
    method, options, bounds = COMPILED["adam"]
    whole = compiled(method, options, bounds, maxiter=400)
    path = tmp_path / "many.npz"
    here = Path(__file__).parent
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(here)!r})
        import numopt
        from many_objectives import decay_inplace
        from test_many_checkpoint import ARGS, X0

        def cb(intermediate_result):
            if intermediate_result.nit == 250:  # after the checkpoint at 200
                os.kill(os.getpid(), signal.SIGKILL)

        numopt.minimize_many(
            decay_inplace, X0, args=ARGS, method="adam", jac="inplace", callback=cb,
            options={{"learning_rate": 0.05, "gtol": 2e-3, "maxiter": 400,
                      "checkpoint": {str(path)!r}, "checkpoint_every": 100}},
        )
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with np.load(path) as data:
        assert set(data["states"]["nit"][data["status"] < 0].tolist()) == {200}
    assert_results_equal(compiled(method, options, bounds, maxiter=400, resume=path), whole)


# -- the vectorised form ---------------------------------------------------------------------
N = 5


def quadratic_rows(X, Wq, B):
    R = X - B
    return 0.5 * np.sum(Wq * R * R, axis=1), Wq * R


RNG = np.random.default_rng(0)
WQ = RNG.uniform(0.2, 3.0, (M, N)) * RNG.uniform(0.1, 1.0, (M, 1))  # the stops differ
BQ = RNG.standard_normal((M, N))
XQ = RNG.standard_normal((M, N))


def vectorized(method, **options):
    return numopt.minimize_many(
        quadratic_rows, XQ, args=(WQ, BQ), method=method, jac=True, vectorized=True,
        options=options,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("adam", {"learning_rate": 0.1, "gtol": 1e-4}),
        ("rmsprop", {"learning_rate": 0.02, "centered": True, "gtol": 1e-4, "xtol": 1e-9}),
    ],
)
def test_vectorized_stop_and_resume_is_bit_identical(method, options, tmp_path):
    whole = vectorized(method, **options, maxiter=300)
    assert 0 in whole.status.tolist()
    path = tmp_path / "many.npz"
    first = vectorized(method, **options, maxiter=40, checkpoint=path)
    assert set(first.status.tolist()) <= {0, 1} and 1 in first.status.tolist()
    second = vectorized(method, **options, maxiter=300, resume=path)
    assert_results_equal(second, whole)


def test_vectorized_call_stopped_by_a_callback_resumes_exactly(tmp_path):
    """A callback's request to stop (status 99) in the vectorised loop; resumed, every
    problem goes on as if never stopped (the iteration stopped in is evaluated again:
    nfev and njev count it, as minimize resumed does)."""
    whole = vectorized("adam", learning_rate=0.1, gtol=1e-4, maxiter=300)
    path = tmp_path / "many.npz"
    first = numopt.minimize_many(
        quadratic_rows, XQ, args=(WQ, BQ), method="adam", jac=True, vectorized=True,
        callback=lambda intermediate_result: intermediate_result.nit == 12,
        options={"learning_rate": 0.1, "gtol": 1e-4, "maxiter": 300, "checkpoint": path},
    )  # fmt: skip
    assert 99 in first.status.tolist()
    second = vectorized("adam", learning_rate=0.1, gtol=1e-4, maxiter=300, resume=path)
    for field in ("x", "x_best", "fun", "fun_best", "jac", "nit", "status", "message"):
        assert np.array_equal(np.asarray(second[field]), np.asarray(whole[field])), field
    stopped = first.status == 99
    for field in ("nfev", "njev"):
        extra = second[field] - whole[field]
        assert np.all(extra[stopped] == 1) and np.all(extra[~stopped] == 0), field


def test_vectorized_checkpoint_every(tmp_path):
    whole = vectorized("adam", learning_rate=0.1, gtol=1e-4, maxiter=300)
    path = tmp_path / "many.npz"
    seen = []

    def cb(intermediate_result):
        if intermediate_result.nit == 33:
            seen.append(path.read_bytes())

    numopt.minimize_many(
        quadratic_rows, XQ, args=(WQ, BQ), method="adam", jac=True, vectorized=True,
        callback=cb,
        options={"learning_rate": 0.1, "gtol": 1e-4, "maxiter": 300, "checkpoint": path,
                 "checkpoint_every": 15},
    )  # fmt: skip
    mid = tmp_path / "mid.npz"
    mid.write_bytes(seen[0])
    with np.load(mid, allow_pickle=False) as data:
        assert int(np.max(data["nit"])) == 30
    second = vectorized("adam", learning_rate=0.1, gtol=1e-4, maxiter=300, resume=mid)
    assert_results_equal(second, whole)


# -- what a resumed call must match ------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("many") / "many.npz"
    vectorized("adam", learning_rate=0.1, maxiter=5, checkpoint=path)
    return path


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"method": "rmsprop"}, r"made with method 'adam', this call has 'rmsprop'"),
        ({"learning_rate": 0.2}, r"made with learning_rate=0.1, this run has 0.2"),
        ({"x0": XQ[:4], "args": (WQ[:4], BQ[:4])}, r"the number of problems 8, this call has 4"),
        ({"x0": XQ.astype(np.float32)}, r"made with dtype 'float64', this call has 'float32'"),
        ({"bounds": [(-5, 5)] * N}, r"made without bounds, this call has bounds"),
        ({"vectorized": False}, r"with the loop 'vectorized', this call has 'compiled'"),
    ],
    ids=["method", "hyperparameter", "problems", "dtype", "bounds", "loop"],
)
def test_resume_refuses_another_call(saved, change, match):
    change = dict(change)
    kw = {
        "method": change.pop("method", "adam"), "jac": True, "bounds": change.pop("bounds", None),
        "vectorized": change.pop("vectorized", True),
        "args": change.pop("args", (WQ, BQ)),
    }  # fmt: skip
    options = {"learning_rate": change.pop("learning_rate", 0.1), "resume": saved}
    x0 = change.pop("x0", XQ)
    fun = quadratic_rows
    if not kw["vectorized"]:
        fun, kw["jac"], kw["args"] = decay_inplace, "inplace", ARGS
        x0 = X0
    with pytest.raises(ValueError, match=match):
        numopt.minimize_many(fun, x0, options=options, **kw)


def test_resume_tells_a_minimize_checkpoint_from_a_minimize_many_one(saved, tmp_path):
    single = tmp_path / "single.npz"
    numopt.minimize(
        lambda x: float(x @ x), np.ones(2), options={"maxiter": 2, "checkpoint": single}
    )
    with pytest.raises(ValueError, match=r"written by numopt\.minimize; numopt\.minimize_many"):
        vectorized("adam", learning_rate=0.1, resume=single)
    with pytest.raises(ValueError, match=r"written by numopt\.minimize_many; numopt\.minimize "):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), options={"resume": saved})


def test_problems_run_one_by_one_take_no_checkpoint(tmp_path):
    def loss(x, t, y, w):  # a Python objective: minimize on each problem in turn
        return float(w * np.sum((x[0] * np.exp(-x[1] * t) + x[2] - y) ** 2))

    for option in ("checkpoint", "resume"):
        with pytest.raises(ValueError, match=rf"{option} needs the compiled loop or vectorized"):
            numopt.minimize_many(loss, X0, args=ARGS, options={option: tmp_path / "x.npz"})
