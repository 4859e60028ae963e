"""The one driver of the loop, for both modes: chunks of iterations, and what comes between.

:func:`drive` runs the iteration (:mod:`numopt.loop.iteration`) in chunks, from
Python (:class:`~numopt.loop.python_mode.PythonMode`) or compiled
(:class:`~numopt.loop.compiled.CompiledMode`), and does the Python work each chunk
hands back (:class:`~numopt.loop.status.Pause`): a checkpoint, the callbacks (the
compiled loop's), the end of an epoch (the next order is drawn by the batches' own
:class:`numpy.random.Generator`), and between chunks — about every
:data:`CHUNK_SECONDS` — Ctrl-C, ``max_time``, ``checkpoint_seconds``, the progress
bar and the ``disp`` rows.  Both modes pass through the same points, so a run and its
trajectory do not depend on the mode, and a long run may move from the Python loop to
the compiled one between two chunks (:mod:`numopt.loop.switch`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from numopt.loop import checkpoint, hooks, switch
from numopt.loop.compiled import CompiledMode
from numopt.loop.python_mode import PythonMode
from numopt.loop.status import Pause, Status, nonfinite_detail

#: Seconds of iterations between two visits to the driver (Ctrl-C, max_time, progress).
CHUNK_SECONDS = 0.02
#: The most values a history buffer's row holds (a run that records more gets another
#: buffer when one fills): 3 MiB for the three rows, under the 4 MiB from which NumPy
#: asks the kernel for huge pages (a run that stops early would fault in 2 MiB per
#: row); disp rows kept per chunk.
HISTORY_CAPACITY = 1 << 17
DISP_CAPACITY = 64
#: The history series the loop writes, by row of its buffer.
HISTORY_ROWS = ("fun", "grad_norm", "learning_rate")


def drive(run: Any) -> tuple[Status, str]:
    """Run ``run`` until it stops; ``(status, detail)`` (the detail of statuses 3 and 99)."""
    start = time.perf_counter()
    run.last_save = start
    out = run.config.output
    bar = None
    if out.progress is not None:  # from a resumed run's position
        bar = hooks.progress_bar(run.planned, run.state.nit, out.progress)
    if out.disp:
        print(hooks.disp_loop(run.compiled, run.compiled_reason))
        print(hooks.DISP_HEADER)
    hist = _history_buffer(run)
    rows = np.zeros((DISP_CAPACITY, 4))
    with hooks.deferred_sigint() as interrupted:
        if run.compiled:
            mode: Any = CompiledMode(run)
        else:
            mode = PythonMode(run, start, interrupted)
        try:
            return _chunks(run, mode, start, interrupted, hist, rows, bar)
        except KeyboardInterrupt:  # raised by the user's code: before this update
            return Status.INTERRUPTED, ""
        finally:
            _drain(run, rows, bar, 0)
            if bar is not None:
                bar.close()


def _chunks(
    run: Any, mode: Any, start: float, interrupted: Any, hist: Any, rows: Any, bar: Any
) -> tuple[Status, str]:
    s = run.state
    batches = run.batches
    epochs = run.config.batching.epochs
    every = run.disp_every
    chunk = 256  # iterations per chunk, adapted to CHUNK_SECONDS
    while True:
        if batches is not None:  # the epoch's order, drawn as a run never paused draws it
            if epochs is not None and s.epochs_done >= epochs:
                return Status.EPOCHS, ""
            if run.order is False:
                run.order = batches.new_order()
        cap = chunk
        if run.history is not None:
            if s.hist_len >= hist.shape[1]:  # full: the records keep it, the loop gets another
                hist = _history_buffer(run)
            cap = min(cap, hist.shape[1] - s.hist_len)
        if run.config.output.disp:
            cap = min(cap, (DISP_CAPACITY - 1) * every + 1)
        nit0 = s.nit
        s.limit = nit0 + cap
        t0 = time.perf_counter()
        code = mode.chunk(hist, rows)
        elapsed = time.perf_counter() - t0
        done = s.nit - nit0
        # auto's count of this function's time in Python (for switch.due)
        counted = run.switchable and switch.count(run, elapsed)
        _drain(run, rows, bar, done)
        if code >= 0:
            status = Status(code)
            if status is Status.NONFINITE:  # the Python loop's message, word for word
                return status, nonfinite_detail(s.what, s.f_cur, s.nit)
            if status is Status.CALLBACK:
                return status, mode.detail
            return status, ""
        pause = Pause(code)
        if pause is Pause.BAD_LR:  # raise the error the Python loop raises at this point
            mode.learning_rate_error()
        elif pause is Pause.HOOK:  # the compiled loop's callbacks, then its iteration goes on
            detail = run.call_back(s.nit, s.f_cur)
            if detail:
                mode.detail = detail
                return Status.CALLBACK, detail
            if interrupted():
                return Status.INTERRUPTED, ""
        elif pause is Pause.SAVE:
            checkpoint.write(run)
        elif pause is Pause.EPOCH_END:
            run.end_epoch()
            if run.config.checkpointing.every_epoch and not _over(run):
                checkpoint.write(run)  # checkpoint_every="epoch"
        else:  # a chunk's end: the checks the Python loop makes at every iteration
            if done > 0:
                chunk = max(1, min(int(done * CHUNK_SECONDS / max(elapsed, 1e-9)), 1 << 30))
            if interrupted():
                return Status.INTERRUPTED, ""
            now = time.perf_counter()
            max_time = run.config.stopping.max_time
            if max_time is not None and now - start > max_time:
                return Status.MAX_TIME, ""
            seconds = run.config.checkpointing.seconds
            if seconds and s.nit not in (0, s.saved_nit) and now - run.last_save >= seconds:
                checkpoint.write(run)
            if counted and switch.due(run, done, elapsed):  # (the same bits)
                mode = switch.switch(run)


def _over(run: Any) -> bool:
    """Whether the run stops at this epoch's end (by ``epochs`` or ``maxiter``): the
    checkpoint every run writes at its end is then the epoch's."""
    s, epochs, maxiter = run.state, run.config.batching.epochs, run.config.stopping.maxiter
    return (epochs is not None and s.epochs_done >= epochs) or (
        maxiter is not None and s.nit + s.skipped >= maxiter
    )


def _history_buffer(run: Any) -> np.ndarray:
    """The rows the loop writes the history into, attached to the run's records.

    The records keep the rows (``result.history`` holds views of them, no copy), so a
    buffer is never reused: a run that fills one gets a new one.  One row holds the
    run's planned updates and the final point's values when it can, so that a run
    makes one buffer; ``np.empty`` leaves the pages the run does not reach untouched.
    """
    s = run.state
    s.hist_len = s.hist_lr_len = 0
    if run.history is None:
        return np.zeros((3, 1))
    planned = run.planned
    size = HISTORY_CAPACITY if planned is None else min(planned - s.nit + 2, HISTORY_CAPACITY)
    hist = np.empty((3, max(size, 2)))
    for row, name in zip(hist, HISTORY_ROWS, strict=True):
        run.history[name].attach(row)
    return hist


def _drain(run: Any, rows: Any, bar: Any, done: int) -> None:
    """Hand a chunk's history to the records (the values stay where the loop wrote
    them) and print its disp rows; advance the progress bar and refresh its postfix
    (shown at its next refresh: once per chunk at most)."""
    s = run.state
    if run.history is not None:
        run.history["fun"].written(s.hist_len)
        run.history["grad_norm"].written(s.hist_len)
        run.history["learning_rate"].written(s.hist_lr_len)
    for r in range(s.disp_len):
        print(hooks.disp_row(*rows[r]))
    s.disp_len = 0
    if bar is not None:
        postfix = _postfix(run)
        if postfix is not None:
            bar.set_postfix(postfix, refresh=False)
        if done:
            bar.update(done)


def _postfix(run: Any) -> dict[str, str] | None:
    """The progress bar's postfix: the loss (with mini-batches the epoch's mean batch
    loss so far, else the last update's), the epoch and the last update's learning
    rate; None (keep the one shown) between two epochs, which have no loss yet."""
    s = run.state
    loss, epoch = s.f_prev, 0
    if run.batches is not None:
        if not s.n_losses:
            return None
        loss = float(np.mean(run.losses[: s.n_losses]))
        epoch = s.epochs_done + 1
    rate = getattr(run.opt, "learning_rate_at", None)
    # (the loop has computed and checked this rate already, for the update it made)
    lr = rate(s.nit) if rate is not None and s.nit > 0 else None
    return hooks.progress_postfix(loss, epoch, run.config.batching.epochs, lr)
