"""``minimize_many``'s compiled driver: chunks of iterations over the problems still running.

Between two compiled calls (about :data:`numopt.loop.driver.CHUNK_SECONDS` apart) it
looks at Ctrl-C and ``max_time``, and every ``callback_every`` iterations it calls
the callbacks with the problems still running (their iteration is paused right after
its evaluation, as a single compiled run pauses).  The problems advance in lockstep
— one iteration each per iteration — so the ones still running share ``nit``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from numopt.loop import hooks
from numopt.loop.driver import CHUNK_SECONDS
from numopt.loop.status import CODES, Status
from numopt.many import checkpoint as many_checkpoint


def drive(mode: Any, callbacks: list, config: Any) -> tuple[np.ndarray, dict[int, str]]:
    """Run every problem of ``mode`` (a :class:`~numopt.many.compiled.ManyCompiled`) to its end.

    Returns the status of each problem and the details of those whose message takes
    one (callbacks' requests to stop).  With ``options["checkpoint"]`` the problems'
    state is saved between two chunks when due, and at the end before the final
    losses are evaluated; with ``options["resume"]`` the call goes on from a checkpoint
    (:mod:`numopt.many.checkpoint`).
    """
    M = mode.problems.M
    status = np.full(M, -1, np.int64)
    details: dict[int, str] = {}
    saving = config.checkpointing
    made = many_checkpoint.identity("compiled", mode.run, mode.problems)
    if saving.resume is not None:
        status, details = _resume(mode, saving.resume, made)
    every = config.output.callback_every if callbacks else 0
    mode.settings["hook_every"] = every
    max_time = config.stopping.max_time
    start = time.perf_counter()
    due = many_checkpoint.Due(saving, time.perf_counter)
    active = np.flatnonzero(status < 0)
    chunk = 8  # iterations per call, adapted to CHUNK_SECONDS

    def save() -> None:
        loop = {"details": many_checkpoint.details_out(details)}
        arrays = {**mode.saved(), "status": status}
        many_checkpoint.save(saving.path, made, mode.run.opt, loop, arrays)

    with hooks.deferred_sigint() as interrupted:
        while active.size:
            nit0 = int(mode.states["nit"][active[0]])
            t0 = time.perf_counter()
            try:
                mode.chunk(active, due.limit(nit0, nit0 + chunk))
            except KeyboardInterrupt:  # a second Ctrl-C, or raised by the objective
                _stop(mode, status, active, Status.INTERRUPTED)
                break
            elapsed = time.perf_counter() - t0
            codes = mode.codes[active]
            over = codes >= 0
            status[active[over]] = codes[over]
            active = active[~over]
            codes = codes[~over]
            if np.any(codes == CODES.BAD_LR):  # raise the error the Python loop raises
                mode.run.opt.learning_rate_at(int(mode.states["nit"][active[0]]) + 1)
            if active.size == 0:
                break
            nit = int(mode.states["nit"][active[0]])
            if np.any(codes == CODES.HOOK):
                x = mode.problems.X[active].reshape(active.size, *mode.problems.shape)
                f = mode.states["f_cur"][active].copy()
                reason = hooks.call(callbacks, x, f, nit, problems=active.copy())
                if reason:
                    _stop(mode, status, active, Status.CALLBACK)
                    details.update(dict.fromkeys(active.tolist(), reason))
                    break
            elif nit > nit0:
                chunk = max(1, min(int((nit - nit0) * CHUNK_SECONDS / max(elapsed, 1e-9)), 1 << 30))
            else:  # every chunk ends past nit0, or at a pause: anything else would loop forever
                raise RuntimeError(
                    f"minimize_many's loop paused with codes {sorted(set(codes.tolist()))}"
                )
            if interrupted():
                _stop(mode, status, active, Status.INTERRUPTED)
                break
            if max_time is not None and time.perf_counter() - start > max_time:
                _stop(mode, status, active, Status.MAX_TIME)
                break
            if due.now(nit):
                save()
                due.done(nit)
    if saving.path is not None:  # the state the problems stopped in, before their final losses
        save()
    mode.finish()
    return status, details


def _stop(mode: Any, status: np.ndarray, active: np.ndarray, code: Status) -> None:
    """The call stops the problems ``active`` with ``code``."""
    status[active] = code
    mode.codes[active] = code


def _resume(mode: Any, path: Any, made: dict) -> tuple[np.ndarray, dict[int, str]]:
    """Put every problem of ``mode`` where the checkpoint at ``path`` left it."""
    loop, arrays = many_checkpoint.load(path, made, mode.run.opt)
    status = np.full(mode.problems.M, -1, np.int64)
    many_checkpoint.restore(status, arrays, "status")
    details = many_checkpoint.details_in(loop["details"])
    mode.restore(arrays, many_checkpoint.reopen(status, details))
    return status, details
