"""The catalogue of bad inputs: each one, and exactly what it gets.

The same table is ``docs/bad-inputs.md``; regenerate it with
``python tests/test_bad_inputs.py > docs/bad-inputs.md`` after editing ``CATALOGUE``
(a test checks that the two agree).
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import numopt

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-inputs.md"

A = np.diag([3.0, 2.0, 1.0])


def f(x, *args):
    return float(x @ A @ x)


def g(x, *args):
    return 2 * A @ x


X, Y = np.ones((10, 3)), np.ones(10)


def mini(**options):
    return lambda: numopt.minimize(f, np.ones(3), args=(X, Y), jac=g, options=options)


def call(**kwargs):
    base = {"fun": f, "x0": np.ones(3), "jac": g}
    return lambda: numopt.minimize(**{**base, **kwargs})


def step(opt, x, grad):
    return lambda: opt.step(x, grad)


def _bad_file(tmp):
    path = tmp / "junk.npz"
    path.write_bytes(b"garbage")
    return path


def _read_only():
    x = np.ones(3)
    x.flags.writeable = False
    return x


# (what, how it is called, exception or status, message pattern)
CATALOGUE = [
    # -- the objective
    ("fun is not callable", call(fun=42), TypeError, "fun must be callable"),
    ("fun returns a vector", call(fun=lambda x: x), TypeError, "fun must return a real scalar"),
    ("fun returns a string", call(fun=lambda x: "0.5"), TypeError, "fun must return a real scalar"),
    ("fun returns a complex number", call(fun=lambda x: 1j), TypeError, "real scalar"),
    ("fun returns a bool", call(fun=lambda x: True), TypeError, "real scalar"),
    ("fun returns None", call(fun=lambda x: None), TypeError, "real scalar"),
    (
        "jac=True but fun returns a float",
        call(jac=True),
        TypeError,
        r"must return a tuple \(f, g\)",
    ),
    (
        "jac returns the wrong shape",
        call(jac=lambda x: np.ones(4)),
        ValueError,
        "jac returned shape",
    ),
    ("jac returns complex numbers", call(jac=lambda x: x * 1j), TypeError, "real numbers"),
    ("jac is an unknown string", call(jac="forward"), ValueError, "jac must be a callable, True"),
    (
        "jac returns a list for a dict x0",
        lambda: numopt.minimize(lambda p: 0.0, {"a": np.ones(2)}, jac=lambda p: [np.ones(2)]),
        ValueError,
        "jac must be a dict with keys",
    ),
    ("loss becomes NaN", call(fun=lambda x: math.nan), 3, "non-finite loss"),
    ("gradient has inf", call(jac=lambda x: np.array([np.inf, 0, 0])), 3, "non-finite gradient"),
    # -- x0
    (
        "x0 holds NaN",
        call(x0=np.array([1.0, np.nan, 0.0])),
        ValueError,
        "x0 contains NaN or infinity",
    ),
    (
        "x0 holds inf",
        call(x0=np.array([1.0, np.inf, 0.0])),
        ValueError,
        "x0 contains NaN or infinity",
    ),
    ("x0 is complex", call(x0=np.ones(3, complex)), TypeError, "x0 must hold real numbers"),
    ("x0 is float16", call(x0=np.ones(3, np.float16)), TypeError, "x0 has dtype float16"),
    ("x0 is a string", call(x0="1, 2, 3"), TypeError, "x0 must be an array of real numbers"),
    ("x0 is None", call(x0=None), TypeError, "x0 must be an array of real numbers"),
    ("x0 is empty", call(x0=np.zeros(0)), ValueError, "x0 is empty"),
    ("x0 is an empty dict", call(x0={}), ValueError, "x0 is an empty dict"),
    ("x0 dict holds a string", call(x0={"w": "abc"}), TypeError, r"x0\['w'\] must be an array"),
    (
        "x0 mixes float32 and float64",
        call(x0=[np.ones(2, np.float32), np.ones(1)]),
        TypeError,
        "give them one dtype",
    ),
    # -- method and options
    ("unknown method", call(method="bfgs"), ValueError, r"unknown method 'bfgs'; valid methods"),
    ("method of a wrong type", call(method=None), TypeError, "method must be a name"),
    ("unknown option", call(options={"lr": 0.1}), ValueError, r"unknown option\(s\) \['lr'\]"),
    ("options is not a dict", call(options=["maxiter"]), TypeError, "options must be a dict"),
    (
        "hyperparameter of another rule",
        call(method="gd", options={"beta2": 0.9}),
        ValueError,
        r"unknown option\(s\) \['beta2'\] for method 'gd'",
    ),
    (
        "hyperparameters with an optimizer object",
        call(method=numopt.Adam(), options={"beta1": 0.5}),
        ValueError,
        "for an optimizer object",
    ),
    (
        "learning_rate <= 0",
        call(options={"learning_rate": 0.0}),
        ValueError,
        "learning_rate must be > 0",
    ),
    (
        "learning_rate is NaN",
        call(options={"learning_rate": math.nan}),
        ValueError,
        "learning_rate must be finite",
    ),
    (
        "learning_rate is a string",
        call(options={"learning_rate": "0.1"}),
        TypeError,
        "learning_rate must be a real number",
    ),
    ("beta1 = 1", call(options={"beta1": 1.0}), ValueError, "beta1 must satisfy 0 <= beta1 < 1"),
    ("beta2 < 0", call(options={"beta2": -0.1}), ValueError, "beta2 must satisfy"),
    ("eps = 0", call(options={"eps": 0.0}), ValueError, "eps must be > 0"),
    (
        "weight_decay < 0",
        call(options={"weight_decay": -1e-4}),
        ValueError,
        "weight_decay must be >= 0",
    ),
    (
        "nesterov is 1",
        call(method="momentum", options={"nesterov": 1}),
        TypeError,
        "nesterov must be True or False",
    ),
    (
        "eps_placement unknown",
        call(method="rmsprop", options={"eps_placement": "both"}),
        ValueError,
        "eps_placement must be one of",
    ),
    ("maxiter < 0", call(options={"maxiter": -5}), ValueError, "maxiter must be an integer >= 0"),
    (
        "maxiter is a float",
        call(options={"maxiter": 100.0}),
        TypeError,
        "maxiter must be an integer",
    ),
    ("gtol < 0", call(options={"gtol": -1e-6}), ValueError, "gtol must be >= 0"),
    (
        "max_time is inf",
        call(options={"max_time": math.inf}),
        ValueError,
        "max_time must be finite",
    ),
    ("disp is 'yes'", call(options={"disp": "yes"}), TypeError, "disp must be True or False"),
    ("callback is not callable", call(callback="print"), TypeError, "callback must be callable"),
    ("backend unknown", call(options={"backend": "gpu"}), ValueError, "backend must be one of"),
    # -- schedules
    (
        "schedule returns a negative rate",
        call(options={"learning_rate": lambda k: -0.1}),
        ValueError,
        "learning_rate schedule returned -0.1",
    ),
    (
        "step_decay with gamma > 1",
        lambda: numopt.schedules.step_decay(0.1, 10, gamma=2.0),
        ValueError,
        "gamma must be in",
    ),
    (
        "cosine_annealing with 0 steps",
        lambda: numopt.schedules.cosine_annealing(0.1, decay_steps=0),
        ValueError,
        "decay_steps must be an integer >= 1",
    ),
    (
        "multi_step with unsorted milestones",
        lambda: numopt.schedules.multi_step(0.1, [30, 10]),
        ValueError,
        "milestones must be strictly increasing",
    ),
    (
        "one_cycle with pct_start = 1.5",
        lambda: numopt.schedules.one_cycle(0.1, 100, pct_start=1.5),
        ValueError,
        "pct_start",
    ),
    # -- mini-batches
    (
        "batch_size = 0",
        mini(batch_size=0),
        ValueError,
        r"batch_size must be between 1 and the number of samples \(10\)",
    ),
    (
        "batch_size > number of samples",
        mini(batch_size=11),
        ValueError,
        "batch_size must be between 1",
    ),
    ("batch_size is a float", mini(batch_size=4.0), TypeError, "batch_size must be an integer"),
    (
        "data arrays of different lengths",
        lambda: numopt.minimize(f, np.ones(3), args=(X, Y[:9]), jac=g, options={"batch_size": 2}),
        ValueError,
        r"args\[0\] has 10, args\[1\] has 9",
    ),
    (
        "empty data arrays",
        lambda: numopt.minimize(
            f, np.ones(3), args=(X[:0], Y[:0]), jac=g, options={"batch_size": 1}
        ),
        ValueError,
        "empty",
    ),
    (
        "batch_size without data",
        call(options={"batch_size": 2}),
        ValueError,
        "args holds no data array",
    ),
    (
        "epochs without batch_size",
        call(options={"epochs": 3}),
        ValueError,
        "epochs needs batch_size",
    ),
    (
        "data_args out of range",
        mini(batch_size=2, data_args=[0, 7]),
        ValueError,
        "data_args must hold positions",
    ),
    (
        "NaN in the data",
        lambda: numopt.minimize(
            lambda x, X, y: float(np.sum(X @ x)),
            np.ones(3),
            args=(np.full((10, 3), np.nan), Y),
            jac=lambda x, X, y: X.sum(0),
            options={"batch_size": 5},
        ),
        3,
        "non-finite",
    ),
    (
        "on_nonfinite='skip' without batches",
        call(options={"on_nonfinite": "skip"}),
        ValueError,
        "needs batch_size",
    ),
    (
        "shuffle without batch_size",
        call(options={"shuffle": False}),
        ValueError,
        "shuffle apply to mini-batches",
    ),
    ("method is a class, not an instance", call(method=numopt.Adam), TypeError, "pass an instance"),
    # -- checkpoints
    (
        "checkpoint in a missing folder",
        call(options={"checkpoint": "/nonexistent/dir/run.npz"}),
        FileNotFoundError,
        "the folder '/nonexistent/dir' does not exist",
    ),
    (
        "resume from a missing file",
        lambda: call(options={"resume": "/nonexistent/run.npz"})(),
        FileNotFoundError,
        "no checkpoint file",
    ),
    (
        "resume from a file that is not a checkpoint",
        "bad_file",
        ValueError,
        "is not a numopt checkpoint",
    ),
    (
        "checkpoint is a number",
        call(options={"checkpoint": 3}),
        TypeError,
        "checkpoint must be a file path",
    ),
    (
        "checkpoint_every without checkpoint",
        call(options={"checkpoint_every": 10}),
        ValueError,
        "need options\\['checkpoint'\\]",
    ),
    # -- the stateful optimizers
    (
        "step: x is a list",
        step(numopt.Adam(), [1.0, 2.0], np.ones(2)),
        TypeError,
        "x must be a numpy.ndarray",
    ),
    (
        "step: x is an integer array",
        step(numopt.Adam(), np.ones(2, int), np.ones(2, int)),
        TypeError,
        "x must have dtype float32 or float64",
    ),
    (
        "step: g of another dtype",
        step(numopt.Adam(), np.ones(2), np.ones(2, np.float32)),
        TypeError,
        "g has dtype float32 but x has float64",
    ),
    (
        "step: g of another shape",
        step(numopt.Adam(), np.ones(2), np.ones(3)),
        ValueError,
        r"g has shape \(3,\) but x has shape \(2,\)",
    ),
    (
        "step: x is read-only",
        step(numopt.Adam(), _read_only(), np.ones(3)),
        ValueError,
        "x is read-only",
    ),
    (
        "step: x is not contiguous",
        step(numopt.Adam(), np.ones(6)[::2], np.ones(3)),
        ValueError,
        "x is not contiguous",
    ),
    (
        "step: backend='cuda' with host arrays",
        step(numopt.Adam(backend="cuda"), np.ones(2), np.ones(2)),
        TypeError,
        "backend='cuda' needs CUDA device arrays",
    ),
    (
        "load_state_dict of another rule",
        lambda: numopt.Adam().load_state_dict(numopt.GD().state_dict()),
        ValueError,
        "state_dict is for rule 'gd', not 'adam'",
    ),
]


def _outcome(expected) -> str:
    return f"status {expected}" if isinstance(expected, int) else expected.__name__


@pytest.mark.parametrize(
    ("make", "expected", "pattern"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE]
)
def test_bad_input(make, expected, pattern, tmp_path):
    if make == "bad_file":
        path = _bad_file(tmp_path)
        make = call(options={"resume": path})
    if isinstance(expected, int):
        res = make()
        assert res.status == expected and re.search(pattern, res.message), res.message
        assert not res.success and np.all(np.isfinite(res.x))
    else:
        with pytest.raises(expected, match=pattern):
            make()


def test_catalogue_is_large_and_documented():
    assert len(CATALOGUE) >= 40
    assert len({c[0] for c in CATALOGUE}) == len(CATALOGUE)
    assert DOC.read_text() == render(), (
        "docs/bad-inputs.md is out of date: python tests/test_bad_inputs.py > docs/bad-inputs.md"
    )


def render() -> str:
    lines = [
        "# Bad inputs and what they get",
        "",
        "Every row is run by `tests/test_bad_inputs.py`. An exception's message names the",
        "argument and says what was expected; the pattern below is a regular expression it",
        "matches. A *status* row is no exception: `minimize` returns with that status,",
        "`success=False` and a finite `x` (the best point seen).",
        "",
        "| # | bad input | gets | message (pattern) |",
        "|---|---|---|---|",
    ]
    for i, (what, _, expected, pattern) in enumerate(CATALOGUE, 1):
        shown = pattern.replace("|", "\\|")
        lines.append(f"| {i} | {what} | {_outcome(expected)} | `{shown}` |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
