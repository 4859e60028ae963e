"""The loop run from Python: the iteration's services bound to Python objects.

Any objective (NumPy, Dask, CuPy or PyTorch on the GPU, finite differences), any
rule and transform, host or device arrays: the services call the run's objective,
the optimizer's step and the host or device array operations
(:mod:`numopt.problem.placement`).  Ctrl-C, ``max_time`` and ``checkpoint_seconds``
are checked at every iteration, and the callbacks are called in place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from numopt.loop import iteration
from numopt.loop.status import CODES
from numopt.rules.optimizer import Optimizer
from numopt.transforms._wrapper import chain
from numopt.transforms.accumulate import grouped
from numopt.transforms.sam import SAM, NonFiniteClimb


class _Channel:
    """What the services and the mode share.  The services hold this, never the mode:
    a mode that its own services referenced would be a reference cycle, and the run's
    arrays (gigabytes at large N) would wait for the garbage collector after
    ``minimize`` returns."""

    __slots__ = ("batch", "batches", "detail")

    def __init__(self) -> None:
        self.batches: Iterator | None = None
        self.batch: Any = None  # this iteration's mini-batch (SAM evaluates it again)
        self.detail: str | None = None  # why a callback stopped the run


class PythonMode:
    """The loop of one run, run from Python (see the module docstring)."""

    compiled = False

    def __init__(self, run: Any, start: float, interrupted: Callable[[], bool]) -> None:
        self.run = run
        self._shared = shared = _Channel()
        obj, opt, ops = run.objective, run.opt, run.ops
        view, pair, box, args = run.view, run.pair, run.box, run.args

        if run.batches is None:

            def evaluate(ctx, s, x, g, order):
                f = obj(view, args)
                s.nfev, s.njev = obj.nfev, obj.njev
                return f

        else:

            def evaluate(ctx, s, x, g, order):
                shared.batch = batch = next(shared.batches)
                f = obj(view, batch)
                s.nfev, s.njev = obj.nfev, obj.njev
                return f

        norm = run.grad_norm
        max_time = run.config.stopping.max_time
        every_seconds = run.config.checkpointing.seconds
        clock = time.perf_counter

        def hook(ctx, nit, f):
            shared.detail = run.call_back(nit, f)
            return CODES.CALLBACK if shared.detail else 0

        self.ctx: Any = None
        self._sams: list[SAM] = []
        if getattr(opt, "evaluates", False):  # L-BFGS-B: its update runs a line search
            from numopt.quasi_newton.method import python_services

            method, self.ctx = python_services(run, evaluate, interrupted)
        else:
            if isinstance(opt, Optimizer):  # a rule: its kernel writes the best point

                def update(ctx, s, x, g, best, keep):
                    opt._apply(pair, box, best if keep else None)
                    return 0

            else:  # a transform: the best point copied first
                copy = ops.copy
                skip = CODES.SKIP if run.config.batching.skip_nonfinite else CODES.NONFINITE

                def update(ctx, s, x, g, best, keep):
                    if keep:
                        copy(best, x)
                    try:
                        opt._apply(pair, box)
                    except NonFiniteClimb as exc:  # SAM's second evaluation
                        s.what, s.f_cur = 2, exc.f
                        return skip
                    return 0

            state = run.state
            # SAM's second evaluation: the gradient at its climbed point, same batch
            self._sams = [link for link in chain(opt) if isinstance(link, SAM)]
            data = (lambda: args) if run.batches is None else (lambda: shared.batch)
            run_g = run.g

            def again():
                f = obj(view, data())
                state.nfev, state.njev = obj.nfev, obj.njev
                return f, math.isfinite(f) and math.isfinite(norm(run_g))

            self._again = again
            schedule = run.schedule
            method = {
                "update": update,
                "rate": lambda ctx, step: opt.learning_rate_at(step + 1),
                "observe": lambda ctx, f: schedule.update(f),
            }
        self.iterate = iteration.bind(
            {
                "evaluate": evaluate,
                "grad_norm": lambda ctx, x, g: norm(g),
                "copy": ops.copy,
                "diff_norm": ops.diff_norm,
                "hook": hook,
                "interrupted": interrupted,
                "time_up": lambda: clock() - start > max_time,
                "save_time": lambda: clock() - run.last_save >= every_seconds,
                **method,
            }
        )

    @property
    def detail(self) -> str | None:
        """Why a callback stopped the run (None: it did not)."""
        return self._shared.detail

    @detail.setter
    def detail(self, value: str | None) -> None:
        self._shared.detail = value

    def chunk(self, hist: Any, rows: Any) -> int:
        """Iterate until the run stops or pauses (at ``state.limit`` at the latest)."""
        run = self.run
        if run.batches is not None:  # this epoch's batches from the current one on
            batches = run.batches.epoch(run.order, run.state.batch_index)
            if run.accumulate > 1:  # one update per group of micro-batches
                batches = (group for _, group in grouped(
                    enumerate(batches, run.state.batch_index), run.accumulate
                ))  # fmt: skip
            self._shared.batches = iter(batches)
        for sam in self._sams:  # (set only while the loop runs: no reference kept after)
            sam._evaluate = self._again
        try:
            return self.iterate(
                run.state, run.settings, run.x, run.g, run.best_x, run.x_prev, hist, rows,
                run.losses, run.order, self.ctx,
            )  # fmt: skip
        finally:
            for sam in self._sams:
                sam._evaluate = None
