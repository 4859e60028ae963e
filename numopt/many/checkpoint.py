"""Checkpoints of ``minimize_many``: every problem's state in one file, resumed bit for bit.

The file is ``minimize``'s (:mod:`numopt.loop.checkpoint`: one ``.npz`` written
atomically, a JSON document under ``"meta"``) in its own format,
``numopt-many-checkpoint-1``.  It holds what the problems' loop needs to go on as if
never stopped, and a resumed call must match what made it (:func:`identity`: the
method, its hyperparameters, the dtype, the number and shape of the problems, which
arguments are split, the bounds, compiled or vectorised):

* compiled (:class:`~numopt.many.compiled.ManyCompiled`): the stacked arrays of the
  problems — their points, gradients, best points, rule states or L-BFGS-B memories,
  schedule states — and each problem's loop record, as they are between two chunks;
* vectorised (:mod:`numopt.many.vectorized`): the points and the per-problem records
  of the loop over rows at the top of an iteration, and the rule's state over all
  the rows (:meth:`numopt.Optimizer.state_dict`).

A problem stopped by its own test (``gtol``, ``ftol``, ``xtol``, ``maxfev``, a
non-finite value) stays stopped when resumed; one stopped with the call
(``maxiter``, ``max_time``, Ctrl-C, a callback) goes on, as ``minimize`` resumed
does (:data:`GOES_ON`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from numopt.kernels.box import Box
from numopt.loop import checkpoint
from numopt.loop.status import Status
from numopt.problem import bounds as problem_bounds

#: The statuses of problems that a resumed call runs on: the call stopped them, not
#: their own tests.
GOES_ON = (Status.MAXITER, Status.MAX_TIME, Status.INTERRUPTED, Status.CALLBACK)


def identity(kind: str, run: Any, problems: Any) -> dict[str, Any]:
    """What a checkpoint records of the call, and what a resumed call must match.

    ``kind``: ``"compiled"`` or ``"vectorized"``; ``run``: the template run of problem 0
    (its method and optimizer); ``problems``: the stacked problems.
    """
    box = Box(problems.LO, problems.HI) if problems.LO.shape[1] else None
    return {
        "kind": kind,
        "method": run.method,
        "dtype": problems.X.dtype.name,
        "problems": problems.M,
        "shape": list(problems.shape),
        "split": list(problems.split),
        "bounds": problem_bounds.digest(box),
    }


def save(path: Any, made: dict[str, Any], opt: Any, loop: dict, arrays: dict) -> None:
    """Write one checkpoint: the call's identity ``made``, the hyperparameters of ``opt``,
    the JSON-able ``loop`` entries and the ``arrays``."""
    hyperparameters = {k: v for k, v in opt.hyperparameters.items() if not callable(v)}
    meta = {"run": made, "hyperparameters": hyperparameters, "loop": loop}
    checkpoint.save(path, meta, arrays, checkpoint.MANY_FORMAT)


def load(path: Any, have: dict[str, Any], opt: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """The ``loop`` entries and arrays of the checkpoint at ``path``, checked against the
    call's identity ``have`` and ``opt``'s hyperparameters first."""
    meta, arrays = checkpoint.load(path, checkpoint.MANY_FORMAT)
    keys = ("kind", "method", "dtype", "problems", "shape", "split")
    checkpoint.same_identity(meta["run"], have, keys, "call", NAMES)
    checkpoint.same_hyperparameters(meta["hyperparameters"], opt)
    return meta["loop"], arrays


#: How the refusals name the identity's keys.
NAMES = {
    "kind": "the loop",
    "problems": "the number of problems",
    "shape": "the problems' shape",
    "split": "the split arguments (problem_args)",
}


def reopen(status: np.ndarray, details: dict[int, str]) -> np.ndarray:
    """The problems of a resumed call that go on (:data:`GOES_ON`): their ``status``
    back to running (-1) and their message ``details`` dropped; their indices."""
    goes_on = np.flatnonzero(np.isin(status, [int(s) for s in GOES_ON]))
    status[goes_on] = -1
    for i in goes_on.tolist():
        details.pop(i, None)
    return goes_on


def restore(dst: np.ndarray, arrays: dict[str, np.ndarray], name: str) -> None:
    """Copy the checkpoint's array ``name`` into ``dst`` (same shape and dtype, checked)."""
    src = arrays.get(name)
    if src is None or src.shape != dst.shape or src.dtype != dst.dtype:
        got = "none" if src is None else f"{src.dtype} {src.shape}"
        raise ValueError(
            f"resume: the checkpoint's {name!r} is {got}, this call needs {dst.dtype} {dst.shape}"
        )
    dst[...] = src


def details_out(details: dict[int, str]) -> str:
    """The problems' message details as JSON (keys become strings)."""
    return json.dumps({str(k): v for k, v in details.items()})


def details_in(text: str) -> dict[int, str]:
    """The inverse of :func:`details_out`."""
    return {int(k): v for k, v in json.loads(text).items()}


class Due:
    """When the next checkpoint is due: every ``every`` iterations, every ``seconds``
    seconds (the options ``checkpoint_every``, ``checkpoint_seconds``)."""

    def __init__(self, checkpointing: Any, clock: Any) -> None:
        self.path = checkpointing.path
        self.every = checkpointing.every or 0
        self.seconds = checkpointing.seconds or 0
        self.clock = clock
        self.last = clock()
        self.saved_nit = -1

    def limit(self, nit: int, limit: int) -> int:
        """The end of the next chunk from ``nit``: ``limit``, or the next multiple of
        ``every`` if sooner (a checkpoint falls due there)."""
        if self.path is None or not self.every:
            return limit
        return min(limit, (nit // self.every + 1) * self.every)

    def now(self, nit: int) -> bool:
        """Whether a checkpoint is due at iteration ``nit`` (one per iteration at most)."""
        if self.path is None or nit in (0, self.saved_nit):
            return False
        if self.every and nit % self.every == 0:
            return True
        return bool(self.seconds) and self.clock() - self.last >= self.seconds

    def done(self, nit: int) -> None:
        """A checkpoint was written at iteration ``nit``."""
        self.saved_nit = nit
        self.last = self.clock()
