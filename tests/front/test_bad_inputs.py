"""The catalogue of bad inputs: each one, and exactly what it gets.

The same table is ``docs/bad-inputs.md``; regenerate it with
``python tests/front/test_bad_inputs.py > docs/bad-inputs.md`` after editing ``CATALOGUE``
(a test checks that the two agree).
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds

import numopt

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "bad-inputs.md"

A = np.diag([3.0, 2.0, 1.0])


def f(x, *args):
    return float(x @ A @ x)


def g(x, *args):
    return 2 * A @ x


X, Y = np.ones((10, 3)), np.ones(10)


def mini(**options):
    return lambda: numopt.minimize(
        f, np.ones(3), method="adam", args=(X, Y), jac=g, options=options
    )


def call(**kwargs):
    base = {"fun": f, "x0": np.ones(3), "jac": g, "method": "adam"}
    return lambda: numopt.minimize(**{**base, **kwargs})


def step(opt, x, grad):
    return lambda: opt.step(x, grad)


def _bad_file(tmp):
    path = tmp / "junk.npz"
    path.write_bytes(b"garbage")
    return path


def dask_args(*arrays):
    """(array, rows per chunk[, columns per chunk]) → Dask arrays (dask imported only here)."""
    import dask.array as da

    out = []
    for a, *chunks in arrays:
        out.append(a if not chunks else da.from_array(a, chunks=tuple(chunks)))
    return tuple(out)


def on_dask(*arrays, **options):
    return lambda: numopt.minimize(
        f, np.ones(3), method="adam", args=dask_args(*arrays), jac=g, options=options
    )


def _with_bounds(lo, hi, cls=numopt.Adam):
    opt = cls()
    opt.bounds = (lo, hi)
    return opt


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
        lambda: numopt.minimize(
            lambda p: 0.0, {"a": np.ones(2)}, method="adam", jac=lambda p: [np.ones(2)]
        ),
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
    (
        "unknown method",
        call(method="bfgs"),
        ValueError,
        r"unknown method 'bfgs' \(did you mean 'l-bfgs-b'\?\); valid methods",
    ),
    ("method of a wrong type", call(method=3), TypeError, "method must be a name"),
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
    (
        "progress is 1",
        call(options={"progress": 1}),
        TypeError,
        "progress must be True, False or a dict of tqdm keywords",
    ),
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
        lambda: numopt.minimize(
            f, np.ones(3), method="adam", args=(X, Y[:9]), jac=g, options={"batch_size": 2}
        ),
        ValueError,
        r"args\[0\] has 10, args\[1\] has 9",
    ),
    (
        "empty data arrays",
        lambda: numopt.minimize(
            f, np.ones(3), method="adam", args=(X[:0], Y[:0]), jac=g, options={"batch_size": 1}
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
            method="adam",
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
    (
        "checkpoint_every='epochs' (for 'epoch')",
        mini(batch_size=5, checkpoint="run.npz", checkpoint_every="epochs"),
        ValueError,
        "checkpoint_every must be an integer >= 1 or 'epoch', got 'epochs'",
    ),
    (
        "checkpoint_every=0",
        mini(batch_size=5, checkpoint="run.npz", checkpoint_every=0),
        ValueError,
        "checkpoint_every must be an integer >= 1 or 'epoch', got 0",
    ),
    (
        "checkpoint_every='epoch' without batches",
        call(options={"checkpoint": "run.npz", "checkpoint_every": "epoch"}),
        ValueError,
        "checkpoint_every='epoch' needs batch_size",
    ),
    # -- the stateful optimizers
    (
        "step: x is a list of numbers (a list is of arrays)",
        step(numopt.Adam(), [1.0, 2.0], np.ones(2)),
        TypeError,
        r"x\[0\] must be a float32 or float64 numpy.ndarray \(updated in place\), got float",
    ),
    (
        "step: a dict of arrays, the gradients under other keys",
        step(numopt.Adam(), {"w": np.ones(2)}, {"v": np.ones(2)}),
        ValueError,
        r"g must be a dict with keys \['w'\]",
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
    # -- Dask arrays in args (numopt.distributed; checked before any cluster is asked)
    (
        "Dask data mixed with NumPy data",
        on_dask((X, 5, 3), (Y,)),
        TypeError,
        r"args\[1\] is a NumPy array but args\[0\] is a Dask array: the data arrays must all be",
    ),
    (
        "Dask data chunked differently along the rows",
        on_dask((X, 5, 3), (Y, 4)),
        ValueError,
        "the Dask data arrays must be chunked alike along the rows",
    ),
    (
        "Dask data chunked along the columns",
        on_dask((X, 5, 2), (Y, 5)),
        ValueError,
        r"args\[0\] is chunked along axis 1: each chunk must hold whole rows",
    ),
    (
        "a Dask array in args but not in data_args",
        on_dask((X, 5, 3), (Y, 5), data_args=[0]),
        ValueError,
        r"args\[1\] is a Dask array not named in options\['data_args'\]",
    ),
    (
        "Dask arrays but no dask.distributed Client",
        on_dask((X, 5, 3), (Y, 5)),
        RuntimeError,
        "no dask.distributed Client is running",
    ),
    # -- the rules of issue 11
    (
        "Rprop with batch_size",
        lambda: numopt.minimize(
            f, np.ones(3), args=(X, Y), jac=g, method="rprop", options={"batch_size": 5}
        ),
        ValueError,
        "method 'rprop' is full-batch only",
    ),
    (
        "Rprop with a schedule",
        call(method="rprop", options={"learning_rate": lambda k: 0.1}),
        TypeError,
        "learning_rate must be a number for Rprop",
    ),
    (
        "Rprop etas out of order",
        call(method="rprop", options={"etas": (1.2, 0.5)}),
        ValueError,
        "etas must satisfy 0 < eta_minus < 1 < eta_plus",
    ),
    (
        "Rprop etas not a pair",
        call(method="rprop", options={"etas": 0.5}),
        TypeError,
        r"etas must be a pair \(eta_minus, eta_plus\) of real numbers",
    ),
    (
        "Rprop step_sizes with min >= max",
        call(method="rprop", options={"step_sizes": (1.0, 1e-6)}),
        ValueError,
        "step_sizes must satisfy 0 < min < max",
    ),
    (
        "Adadelta rho = 1",
        call(method="adadelta", options={"rho": 1.0}),
        ValueError,
        "rho must satisfy 0 <= rho < 1",
    ),
    (
        "Adagrad lr_decay < 0",
        call(method="adagrad", options={"lr_decay": -0.1}),
        ValueError,
        "lr_decay must be >= 0",
    ),
    (
        "Adagrad initial_accumulator_value < 0",
        call(method="adagrad", options={"initial_accumulator_value": -1.0}),
        ValueError,
        "initial_accumulator_value must be >= 0",
    ),
    (
        "NAdam momentum_decay < 0",
        call(method="nadam", options={"momentum_decay": -4e-3}),
        ValueError,
        "momentum_decay must be >= 0",
    ),
    (
        "RAdam decoupled_weight_decay is 1",
        call(method="radam", options={"decoupled_weight_decay": 1}),
        TypeError,
        "decoupled_weight_decay must be True or False",
    ),
    (
        "Lion given eps (it has none)",
        call(method="lion", options={"eps": 1e-8}),
        ValueError,
        r"unknown option\(s\) \['eps'\] for method 'lion'",
    ),
    # -- box bounds (docs/bounds.md)
    (
        "bounds with lo > hi",
        call(bounds=[(0, 1), (2, 1), (0, 1)]),
        ValueError,
        r"bounds: lower bound 2\.0 > upper bound 1\.0 at index 1",
    ),
    (
        "bounds: fewer (lo, hi) pairs than elements of x0",
        call(bounds=[(0, 1)] * 2),
        ValueError,
        r"bounds has 2 \(lo, hi\) pairs but x0 has 3 elements",
    ),
    (
        "bounds: Bounds arrays of the wrong length",
        call(bounds=Bounds(np.zeros(2), 1)),
        ValueError,
        "bounds.lb has 2 elements but x0 has 3",
    ),
    (
        "bounds with a NaN",
        call(bounds=[(0, 1), (0, np.nan), (0, 1)]),
        ValueError,
        r"bounds\[1\]\[1\] contains NaN; use None or ±inf",
    ),
    (
        "bounds: an item that is not a pair",
        call(bounds=[(0, 1), 5, (0, 1)]),
        TypeError,
        r"bounds\[1\] must be a pair \(lo, hi\) of numbers or None",
    ),
    (
        "bounds: a string bound",
        call(bounds=[(0, 1), ("0", 1), (0, 1)]),
        TypeError,
        r"bounds\[1\]\[0\] must be None, a real number",
    ),
    (
        "bounds neither a sequence nor Bounds",
        call(bounds="0,1"),
        TypeError,
        r"bounds must be a scipy.optimize.Bounds, a sequence of \(lo, hi\) pairs",
    ),
    (
        "bounds: a lower bound of +inf",
        call(bounds=Bounds(np.inf, np.inf)),
        ValueError,
        r"a lower bound is \+inf, which leaves no feasible point",
    ),
    (
        "bounds: a dict for an array x0",
        call(bounds={"w": (0, 1)}),
        TypeError,
        "bounds is a dict, which needs a dict x0",
    ),
    (
        "bounds: a bound that overflows float32 x0",
        call(x0=np.ones(3, np.float32), bounds=Bounds(0, 1e40)),
        ValueError,
        r"the upper bound 1e\+40 overflows float32 \(x's dtype\)",
    ),
    (
        "bounds on an optimizer object passed as method",
        call(method=_with_bounds(0, 1)),
        ValueError,
        r"the optimizer object passed as method has bounds \(opt.bounds\)",
    ),
    (
        "opt.bounds with lo > hi",
        lambda: _with_bounds(1.0, 0.0),
        ValueError,
        r"bounds: lower bound 1\.0 > upper bound 0\.0",
    ),
    (
        "opt.bounds not a pair",
        lambda: setattr(numopt.Adam(), "bounds", 5.0),
        TypeError,
        r"bounds must be a pair \(lo, hi\) or a scipy.optimize.Bounds",
    ),
    (
        "opt.bounds that do not fit x",
        lambda: _with_bounds(np.zeros(2), 1).step(np.ones(3), np.ones(3)),
        ValueError,
        r"bounds: the lower bounds have shape \(2,\), which does not broadcast to x's shape",
    ),
    # -- transforms (numopt.transforms; minimize's accumulate/average/lookahead/sam/param_groups)
    (
        "accumulate without batch_size",
        call(options={"accumulate": 4}),
        ValueError,
        "accumulate needs batch_size",
    ),
    (
        "accumulate = 0",
        mini(batch_size=2, accumulate=0),
        ValueError,
        "accumulate must be an integer >= 1",
    ),
    (
        "average is an unknown name",
        call(options={"average": "swa"}),
        ValueError,
        "average must be one of 'ema', 'polyak'",
    ),
    (
        "ema_decay without average='ema'",
        call(options={"average": "polyak", "ema_decay": 0.9}),
        ValueError,
        "ema_decay needs average='ema'",
    ),
    (
        "ema_decay = 1",
        call(options={"average": "ema", "ema_decay": 1.0}),
        ValueError,
        "ema_decay must satisfy 0 <= ema_decay < 1",
    ),
    (
        "average_start without average",
        call(options={"average_start": 10}),
        ValueError,
        "average_start needs average",
    ),
    (
        "lookahead = 0",
        call(options={"lookahead": 0}),
        ValueError,
        "lookahead must be an integer >= 1",
    ),
    (
        "lookahead_alpha without lookahead",
        call(options={"lookahead_alpha": 0.5}),
        ValueError,
        "lookahead_alpha needs lookahead",
    ),
    (
        "lookahead_alpha = 0",
        call(options={"lookahead": 5, "lookahead_alpha": 0.0}),
        ValueError,
        r"lookahead_alpha must be in \(0, 1\]",
    ),
    (
        "sam = 0",
        call(options={"sam": 0.0}),
        ValueError,
        "sam must be > 0",
    ),
    (
        "sam_adaptive without sam",
        call(options={"sam_adaptive": True}),
        ValueError,
        "sam_adaptive needs sam",
    ),
    (
        "sam with l-bfgs-b",
        call(method="l-bfgs-b", options={"sam": 0.05}),
        ValueError,
        "takes no transforms",
    ),
    (
        "SAM.step without perturb",
        step(numopt.SAM(numopt.Adam()), np.ones(3), np.ones(3)),
        ValueError,
        r"call opt.perturb\(x, g\) first",
    ),
    (
        "SAM inside a param group",
        lambda: numopt.ParamGroups(numopt.SAM(numopt.Adam()), [{"params": [0]}]),
        ValueError,
        "put SAM around the groups",
    ),
    (
        "param_groups for a single-array x0",
        call(options={"param_groups": [{"params": [0]}]}),
        ValueError,
        "param_groups needs x0 as a dict, list or tuple of arrays",
    ),
    (
        "param_groups names no array of x0",
        call(
            x0={"w": np.ones(2), "b": np.ones(1)},
            fun=lambda p: 0.0,
            jac=lambda p: p,
            options={"param_groups": [{"params": ["bias"], "weight_decay": 0.0}]},
        ),
        ValueError,
        r"param_groups\[0\]\['params'\] names 'bias', which is not an array of x",
    ),
    (
        "param_groups puts an array in two groups",
        call(
            x0={"w": np.ones(2), "b": np.ones(1)},
            options={"param_groups": [{"params": ["b"]}, {"params": ["w", "b"]}]},
        ),
        ValueError,
        r"names 'b', which is in param_groups\[0\] too: an array belongs to one group",
    ),
    (
        "param_groups sets an unknown hyperparameter",
        call(
            x0={"w": np.ones(2), "b": np.ones(1)},
            options={"param_groups": [{"params": ["b"], "beta": 0.9}]},
        ),
        ValueError,
        r"param_groups\[0\] sets \['beta'\], not hyperparameters of 'adam'",
    ),
    (
        "param_groups sets a bad value",
        call(
            x0={"w": np.ones(2), "b": np.ones(1)},
            options={"param_groups": [{"params": ["b"], "weight_decay": -1}]},
        ),
        ValueError,
        r"param_groups\[0\]: weight_decay must be >= 0",
    ),
    (
        "a param group without 'params'",
        call(x0=[np.ones(2), np.ones(1)], options={"param_groups": [{"weight_decay": 0.0}]}),
        ValueError,
        r"param_groups\[0\] has no 'params'",
    ),
    (
        "MultiSteps object as method",
        call(method=numopt.MultiSteps(numopt.GD(), 2)),
        ValueError,
        "method is a MultiSteps: minimize accumulates with options",
    ),
    (
        "MultiSteps every_k = 0",
        lambda: numopt.MultiSteps(numopt.Adam(), every_k=0),
        ValueError,
        "every_k must be an integer >= 1",
    ),
    (
        "Lookahead around a class",
        lambda: numopt.Lookahead(numopt.Adam, k=5),
        TypeError,
        "Lookahead takes an optimizer instance, got the class Adam",
    ),
    (
        "Lookahead alpha > 1",
        lambda: numopt.Lookahead(numopt.Adam(), alpha=1.5),
        ValueError,
        r"alpha must be in \(0, 1\]",
    ),
    (
        "EMA decay < 0",
        lambda: numopt.EMA(-0.1),
        ValueError,
        "decay must satisfy 0 <= decay < 1",
    ),
    (
        "Averaged with a name instead of an average",
        lambda: numopt.Averaged(numopt.Adam(), "ema"),
        TypeError,
        "average must be a numopt.EMA or numopt.Polyak",
    ),
    (
        "ParamGroups stepping one array",
        step(numopt.ParamGroups(numopt.Adam(), [{"params": ["b"]}]), np.ones(2), np.ones(2)),
        TypeError,
        "ParamGroups steps a dict, list or tuple of arrays",
    ),
    (
        "load_state_dict of a Lookahead with another k",
        lambda: numopt.Lookahead(numopt.GD(), k=3).load_state_dict(
            numopt.Lookahead(numopt.GD(), k=5).state_dict()
        ),
        ValueError,
        "state_dict was saved by Lookahead with k=5; this one has k=3",
    ),
    # -- gradient clipping and LAMB (docs/clipping-and-lamb.md)
    (
        "clip_norm is 0",
        call(options={"clip_norm": 0}),
        ValueError,
        "clip_norm must be > 0, got 0.0",
    ),
    (
        "clip_norm is infinite",
        call(options={"clip_norm": math.inf}),
        ValueError,
        "clip_norm must be finite, got inf",
    ),
    (
        "clip_value is a string",
        call(options={"clip_value": "1"}),
        TypeError,
        r"clip_value must be a real number, got '1' \(str\)",
    ),
    (
        "clip_value set to a negative number on an optimizer",
        lambda: setattr(numopt.Adam(), "clip_value", -1.0),
        ValueError,
        "clip_value must be > 0, got -1.0",
    ),
    (
        "LAMB layers that do not add up to x's size",
        call(method="lamb", options={"layers": [1, 1]}),
        ValueError,
        r"layers \[1, 1\] sum to 2 elements but x has 3",
    ),
    (
        "LAMB layers with a negative size",
        lambda: numopt.Lamb(layers=[4, -1]),
        ValueError,
        r"layers\[1\] must be an integer >= 0, got -1",
    ),
    (
        "LAMB layers given as one number",
        lambda: numopt.Lamb(layers=3),
        TypeError,
        "layers must be None or a sequence of layer sizes",
    ),
    (
        "Muon on a vector x0",
        call(method="muon"),
        ValueError,
        r"x0 has the shape \(3,\): Muon orthogonalises matrices",
    ),
    (
        "Muon stepping a 1-D array",
        step(numopt.Muon(), np.ones(4), np.ones(4)),
        ValueError,
        r"x has shape \(4,\): give 1-D and 0-D arrays",
    ),
    (
        "Muon ns_steps of 100 or more",
        lambda: numopt.Muon(ns_steps=100),
        ValueError,
        r"ns_steps must be an integer in \[0, 100\), got 100",
    ),
    (
        "Muon ns_coefficients of two numbers",
        lambda: numopt.Muon(ns_coefficients=(1.0, 2.0)),
        TypeError,
        r"ns_coefficients must be three real numbers \(a, b, c\)",
    ),
    (
        "SparseAdam given row indices out of range",
        step(numopt.SparseAdam(), np.zeros((4, 2)), (np.array([1, 4]), np.ones((2, 2)))),
        IndexError,
        r"g's indices must lie in \[0, 4\) \(x's rows\), got 4",
    ),
    (
        "SparseAdam given values of the wrong row shape",
        step(numopt.SparseAdam(), np.zeros((4, 2)), (np.array([1]), np.ones((1, 3)))),
        ValueError,
        r"g's values must have shape \(1, 2\) \(one row of x per index\), got \(1, 3\)",
    ),
    (
        "SparseAdam given float indices",
        step(numopt.SparseAdam(), np.zeros((4, 2)), (np.array([1.0]), np.ones((1, 2)))),
        TypeError,
        r"g's indices must be a 1-D integer array of row numbers, got dtype float64",
    ),
    (
        "Adafactor given one eps",
        lambda: numopt.Adafactor(eps=1e-3),
        TypeError,
        r"eps must be a pair \(eps1, eps2\): eps1 None or >= 0, eps2 >= 0",
    ),
    (
        "Adafactor beta2_decay above 0",
        lambda: numopt.Adafactor(beta2_decay=0.5),
        ValueError,
        r"beta2_decay must be <= 0, got 0.5",
    ),
    (
        "Prodigy given a zero first estimate",
        lambda: numopt.Prodigy(estim_lr0=0.0),
        ValueError,
        r"estim_lr0 must be > 0, got 0.0",
    ),
    (
        "a param group's optimizer given by name",
        lambda: numopt.ParamGroups(numopt.Muon(), [{"params": ["b"], "optimizer": "adamw"}]),
        TypeError,
        r"param_groups\[0\]\['optimizer'\] must be a numopt optimizer",
    ),
    # -- SciPy's keywords and other libraries' names (issue 20; tests/front/test_scipy_keywords.py)
    (
        "hess given (no method uses it)",
        call(hess=lambda x: 2 * A),
        RuntimeWarning,
        r"Method adam does not use Hessian information \(hess\)\.",
    ),
    (
        "hessp given (no method uses it)",
        call(hessp=lambda x, p: 2 * A @ p),
        RuntimeWarning,
        r"Method adam does not use Hessian-vector product information \(hessp\)\.",
    ),
    (
        "constraints given",
        call(constraints={"type": "ineq", "fun": lambda x: x[0]}),
        ValueError,
        r"Method adam cannot handle constraints: numopt's methods take box bounds only, .* "
        r"method='trust-constr' or 'SLSQP'",
    ),
    (
        "constraints given to minimize_many",
        lambda: numopt.minimize_many(f, np.ones((2, 3)), jac=g, constraints=[{"type": "eq"}]),
        ValueError,
        "Method l-bfgs-b cannot handle constraints",
    ),
    (
        "option max_iter (torch's spelling)",
        call(options={"max_iter": 100}),
        ValueError,
        r"unknown option\(s\) \['max_iter'\] for method 'adam' \(did you mean 'maxiter'\?\)",
    ),
    (
        "option lr (torch's spelling)",
        call(options={"lr": 0.1}),
        ValueError,
        r"\['lr'\] for method 'adam' \(did you mean 'learning_rate'\?\)",
    ),
    (
        "option betas (torch's pair)",
        call(options={"betas": (0.9, 0.99)}),
        ValueError,
        r"\(did you mean 'beta1': 0\.9, 'beta2': 0\.99 for 'betas'\?\)",
    ),
    (
        "option history_size for L-BFGS-B (torch's spelling)",
        call(method="l-bfgs-b", options={"history_size": 5}),
        ValueError,
        r"\['history_size'\] for method 'l-bfgs-b' \(did you mean 'maxcor'\?\)",
    ),
    (
        "constructor keyword lr (torch's spelling)",
        lambda: numopt.Adam(lr=0.1),
        TypeError,
        r"Adam\(\) got an unexpected keyword argument 'lr' \(did you mean learning_rate=0\.1\?\);"
        r" its keywords are \['learning_rate'",
    ),
    (
        "constructor keyword betas (torch's pair)",
        lambda: numopt.Adam(betas=(0.9, 0.99)),
        TypeError,
        r"\(did you mean beta1=0\.9, beta2=0\.99 for betas=\(0\.9, 0\.99\)\?\)",
    ),
    (
        "method name with a space",
        call(method="Adam "),
        ValueError,
        r"unknown method 'Adam ' \(did you mean 'adam'\?\)",
    ),
]


def _outcome(expected) -> str:
    if isinstance(expected, int):
        return f"status {expected}"
    return f"{expected.__name__} (runs)" if issubclass(expected, Warning) else expected.__name__


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
    elif issubclass(expected, Warning):
        with pytest.warns(expected, match=pattern):
            make()
    else:
        with pytest.raises(expected, match=pattern):
            make()


def test_catalogue_is_large_and_documented():
    assert len(CATALOGUE) >= 40
    assert len({c[0] for c in CATALOGUE}) == len(CATALOGUE)
    assert DOC.read_text() == render(), (
        "docs/bad-inputs.md is out of date: "
        "python tests/front/test_bad_inputs.py > docs/bad-inputs.md"
    )


def render() -> str:
    lines = [
        "# Bad inputs and what they get",
        "",
        "Every row is run by `tests/front/test_bad_inputs.py`. An exception's message names the",
        "argument and says what was expected; the pattern below is a regular expression it",
        "matches. A *status* row is no exception: `minimize` returns with that status,",
        "`success=False` and a finite `x` (the best point seen). A warning row *(runs)*",
        "is no exception either: the call warns and goes on.",
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
