"""Many problems in one compiled call: the loop of ``minimize`` once per problem, over cores.

The iteration is :mod:`numopt.loop.iteration`'s, bound to the same compiled services
as a single run's (:func:`numopt.loop.compiled.bind_services`) and called from a
loop over a block of problems: each problem's loop runs serially, on its own rows of
the stacked arrays — ``X``, ``G``, the best points, the rule's state or L-BFGS-B's
memory, the factors, the schedule's state, the bounds — with its own rows of the
data in ``args`` (:func:`problem_arguments`).  Every floating-point operation of a
problem is the one ``minimize`` makes on that problem alone, so each result equals
``minimize``'s bit for bit.

The entry runs without the GIL (``nogil=True``); :meth:`ManyCompiled.chunk` hands
small blocks of problems to ``numba.get_num_threads()`` threads as each finishes its
last, so problems that stop early leave no core idle.  (Numba's ``prange`` cannot
take the objective's extra arguments: its outlined loop refuses tuples.)  The entry
pauses where a single compiled run pauses (``state.limit``, the callbacks'
iteration); :class:`ManyCompiled` keeps the stacked arrays between two calls, so the
driver (:mod:`numopt.many.driver`) can look at Ctrl-C, ``max_time`` and call the
callbacks between them.
"""

from __future__ import annotations

import concurrent.futures
import functools
import sys
import threading
from typing import Any

import numba
import numpy as np
from numba import njit

from numopt.kernels import cpu, norms
from numopt.kernels.generate import source_digest, specialise
from numopt.loop import compiled as single
from numopt.loop import intrinsics, iteration
from numopt.loop.intrinsics import borrowed, on_stack, store
from numopt.loop.loop_cache import LoopCache
from numopt.loop.state import SETTINGS, STATE
from numopt.loop.status import CODES
from numopt.quasi_newton import lbfgsb, workspace
from numopt.quasi_newton import method as quasi_newton
from numopt.schedules import program


@functools.cache
def problem_arguments(n_args: int, split: tuple[int, ...]) -> Any:
    """``(args, i) -> args_i``: problem ``i``'s row of each split argument, the others shared.

    Generated as :func:`numopt.loop.compiled._batch_arguments` is: the tuple's
    positions are fixed at compile time.
    """
    items = [f"args[{j}][i]" if j in split else f"args[{j}]" for j in range(n_args)]
    src = (
        "def problem_arguments(args, i):\n"
        f"    return ({', '.join(items)}{',' if n_args == 1 else ''})\n"
    )
    return single.generated(src, f"problem_arguments_{n_args}_{'_'.join(map(str, split))}")


@njit(inline="always")
def _no_work(W, i):  # pragma: no cover - compiled
    return W


@njit(inline="always")
def _work_row(W, i):  # pragma: no cover - compiled
    return borrowed(
        workspace.Work(
            W.S[i], W.Y[i], W.v[i], W.iv[i], W.sy[i], W.ss[i], W.wt[i], W.wn[i], W.snd[i],
            W.wa[i], W.ints[i], W.floats[i],
        )
    )  # fmt: skip


def _entry(block, states, settings, X, G, BEST, XPREV, LO, HI, OS, C, SST, W, codes, hist,
           rows, losses, order, ctx):  # fmt: skip  # pragma: no cover - compiled
    shape = ctx.shape
    for j in range(block.size):
        i = block[j]
        x = borrowed(X[i])
        g = borrowed(G[i])
        view = single.Context(
            arguments(ctx.args, i), shape, x.reshape(shape), g.reshape(shape), 0, 0,  # noqa: F821
            borrowed(OS[i]), borrowed(C[i]), borrowed(ctx.h[i]), ctx.lr, borrowed(LO[i]),
            borrowed(HI[i]), ctx.sign, ctx.s_ints, ctx.s_floats, borrowed(SST[i]), work_at(W, i),  # noqa: F821
            ctx.step,
        )  # fmt: skip
        code = codes[i]
        if code < 0:  # running (the iteration works on its own copy of the state)
            code = loop(  # noqa: F821 - the iteration, bound by entry_for()
                states[i : i + 1], settings, x, g, BEST[i], XPREV[i], hist, rows, losses, order,
                view,
            )  # fmt: skip
        else:
            local = on_stack(states[i])
            if local.fx_known == 0 and code != CODES.NONFINITE and code != CODES.INTERRUPTED:
                # stopped: the driver's last call evaluates the loss at the final point,
                # as minimize's result() does (after the last checkpoint: a resumed
                # problem goes on from the state it stopped in)
                local.fx = evaluate(view, local, x, g, order)  # noqa: F821
                local.fx_known = 1
                store(states[i], local)
        codes[i] = code


_ENTRIES = LoopCache("compiled loop over many problems")
#: Why ``compiled="auto"`` should not compile for this function (see LoopCache).
churn_reason = _ENTRIES.churn_reason


def entry_for(
    fun: Any,
    jac: Any,
    mode: str,
    body: Any,
    factors: Any,
    n_args: int,
    split: tuple[int, ...],
    n_factors: int,
    needs: single.Needs,
) -> Any:
    """The compiled entry for this objective, rule body, argument split and needs."""
    key = (fun, jac if mode == "jac" else None, mode, body, factors, n_args, split, n_factors)
    key += tuple(needs)

    def build() -> Any:
        bound = single.bind_services(fun, jac, mode, body, factors, n_args, (), n_factors, needs)
        inlined = (cpu, norms, intrinsics, iteration, single, sys.modules[__name__])
        fn = specialise(
            _entry,
            f"many_{bound.kind}",
            tags=tuple(source_digest(m) for m in inlined),
            # called, not inlined: Numba would copy the iteration's whole IR twice
            loop=njit(cache=bound.cache, error_model="numpy")(bound.loop),
            evaluate=bound.evaluate,
            arguments=problem_arguments(n_args, split),
            work_at=_work_row if needs.quasi_newton else _no_work,
        )
        return njit(cache=bound.cache, nogil=True, error_model="numpy")(fn)

    return _ENTRIES.get(key, build, fun)


class ManyCompiled:
    """The stacked arrays of ``M`` problems and the compiled entry that runs them.

    Built from the template run of problem 0 (:class:`numopt.loop.run.Run`), which
    holds the method, the options and the objective; ``problems`` holds the stacked
    ``X``, the bounds and the split arguments (:class:`numopt.many.problems.Problems`).
    """

    def __init__(self, run: Any, problems: Any) -> None:
        self.run, self.problems = run, problems
        opt = run.opt
        M, n = problems.X.shape
        self.quasi_newton = bool(getattr(opt, "evaluates", False))
        x = run.x
        if self.quasi_newton:
            body, factor_fn, n_factors = quasi_newton.update, None, 0
            schedule: Any = 1.0  # (none: a constant the program lowers)
            maximize = False
            self.OS = np.zeros((M, 0, 0), x.dtype)
            self.h = np.zeros((M, 0))
            hp = opt.hyperparameters
            one = workspace.new(n, hp["maxcor"], hp["maxls"])
            # zeros, as each problem's are, but for the scalar records (np.zeros maps
            # pages lazily: a problem's memory is first written by its own thread)
            self.W = workspace.Work(*(np.zeros((M, *a.shape), a.dtype) for a in one))
            self.W.ints[:] = one.ints
            self.W.floats[:] = one.floats
            _initialize_all(self.W, problems.X, problems.LO, problems.HI)
            # (each problem's arrays are rows of these, of the same types as one's)
            row = problems.X[0]
            step = quasi_newton.step_pointer(one, row, row, problems.LO[0], problems.HI[0])
        else:
            body, factor_fn = opt._element(), opt.spec.factor_fn
            n_factors = len(opt.spec.factors)
            schedule = run.schedule
            maximize = bool(opt.hyperparameters.get("maximize"))
            state = opt._state_for(run.pair.layout, n)
            self.OS = np.repeat(np.asarray(state)[None], M, axis=0)
            # a row per problem: a rule's factor function may keep a memo there (NAdam's Π_t)
            self.h = np.repeat(np.asarray(opt._factor_args(), np.float64)[None], M, axis=0)
            self.W, step = (), (0, 0)
        self.C = np.zeros((M, max(n_factors, 2)), x.dtype)
        self.C[:, -2] = np.inf  # no clip_value
        self.C[:, -1] = -1.0 if maximize else 1.0
        lowered = program.lower(schedule)
        self.lowered = lowered
        self.SST = np.repeat(lowered.state[None], M, axis=0)
        needs = single.Needs(
            parallel=False,
            bounded=run.box is not None,
            schedule=callable(schedule),
            observe=lowered.needs_loss,
            quasi_newton=self.quasi_newton,
        )
        obj = run.objective
        self.entry = entry_for(
            obj.fun, obj.jac, obj.mode, body, factor_fn, len(run.args), problems.split,
            n_factors, needs,
        )  # fmt: skip
        self.ctx = single.Context(
            args=tuple(problems.args),
            shape=problems.shape,
            xs=x,
            gs=run.g,
            batch_size=0,
            n_samples=0,
            opt_state=self.OS[0],
            c=self.C[0],
            h=self.h,
            lr=0.0 if callable(schedule) else float(schedule),
            lo=problems.LO[0],
            hi=problems.HI[0],
            sign=-1.0 if maximize else 1.0,
            s_ints=lowered.ints,
            s_floats=lowered.floats,
            s_state=lowered.state,
            work=(),
            step=step,
        )
        one = STATE.to_array(STATE.new(), np.zeros(1, STATE.dtype))
        self.states = np.repeat(one, M)
        self.settings = SETTINGS.to_array(run.settings)
        # the driver saves the problems' checkpoints between two chunks, not the loop
        self.settings["save_every"] = 0
        self.settings["save_timed"] = 0
        self.G = np.zeros_like(problems.X)
        self.BEST = problems.X.copy()
        self.XPREV = problems.X.copy() if run.x_prev is not None else problems.X[:, :0]
        self.codes = np.full(M, CODES.CHUNK, np.int64)
        self.hist = np.zeros((3, 1))
        self.rows = np.zeros((1, 4))
        self.losses = np.zeros(1)
        self.order = np.zeros(0, np.int64)

    def finish(self) -> None:
        """Evaluate the loss at the final point of every stopped problem that lacks it."""
        due = (self.codes >= 0) & (self.states["fx_known"] == 0)
        due &= (self.codes != CODES.NONFINITE) & (self.codes != CODES.INTERRUPTED)
        if np.any(due):
            self.chunk(np.flatnonzero(due), 0)

    # -- checkpoints (numopt.many.checkpoint) --------------------------------------------
    def saved(self) -> dict[str, np.ndarray]:
        """The arrays a checkpoint holds: every problem's state between two chunks."""
        out = {"states": self.states, "codes": self.codes, "X": self.problems.X, "G": self.G}
        out.update(BEST=self.BEST, XPREV=self.XPREV, OS=self.OS, C=self.C, SST=self.SST)
        out.update({f"W_{k}": v for k, v in zip(workspace.Work._fields, self.W, strict=False)})
        return out

    def restore(self, arrays: dict[str, np.ndarray], goes_on: np.ndarray) -> None:
        """Take every problem's state from a checkpoint's ``arrays``; the problems
        ``goes_on`` run on from there (the others keep their statuses)."""
        from numopt.many.checkpoint import restore

        for name, dst in self.saved().items():
            restore(dst, arrays, name)
        self.codes[goes_on] = CODES.CHUNK
        paused = goes_on[self.states["phase"][goes_on] == 1]  # stopped at its callbacks:
        self.states["phase"][paused] = 0  # that iteration again, as minimize resumed

    def chunk(self, active: np.ndarray, limit: int) -> None:
        """Run the problems ``active`` until each stops or pauses (at ``limit`` at the latest)."""
        self.states["limit"][active] = limit
        arrays = (
            self.states, self.settings, self.problems.X, self.G, self.BEST, self.XPREV,
            self.problems.LO, self.problems.HI, self.OS, self.C, self.SST, self.W, self.codes,
            self.hist, self.rows, self.losses, self.order, self.ctx,
        )  # fmt: skip
        threads = numba.get_num_threads()
        # about 8 blocks per thread (problems that stop early leave no thread idle), of
        # MIN_BLOCK problems at least (each block is a dispatch of tens of µs)
        size = max(MIN_BLOCK, min(BLOCK, -(-active.size // (8 * threads))))
        threads = min(threads, -(-active.size // size))
        if threads <= 1:
            self.entry(active, *arrays)
            return
        blocks = iter([active[k : k + size] for k in range(0, active.size, size)])
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    block = next(blocks, None)
                if block is None:
                    return
                self.entry(block, *arrays)

        helpers = [_pool().submit(work) for _ in range(threads - 1)]
        try:
            work()
        finally:
            for future in helpers:
                future.result()


#: Problems per block at most and at least (a block is one compiled call, tens of µs of
#: dispatch: Numba checks the types of its twenty arguments).
BLOCK = 256
MIN_BLOCK = 32


@functools.cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    """The helper threads (the calling thread works too)."""
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1), thread_name_prefix="numopt-many"
    )


@njit(cache=True, nogil=True)
def _initialize_all(W, X, LO, HI):  # pragma: no cover - compiled
    """L-BFGS-B's ``initialize`` for every problem: the bound types, ``x`` in its box."""
    for i in range(X.shape[0]):
        lbfgsb.initialize(_work_row(W, i), X[i], LO[i], HI[i])
