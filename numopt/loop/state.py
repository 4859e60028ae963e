"""The loop's state and settings: every counter and flag the iteration reads, declared once.

:data:`STATE` is what changes as a run goes (its saved fields are the checkpoint's
loop record); :data:`SETTINGS` what the iteration reads but never changes, from the
run's configuration.  Both are :class:`~numopt.loop.record.RecordType`: a Python
object for the loop run from Python, a NumPy record for the compiled loop.
Conventions: ``-1`` for "no limit" in integer settings, a negative ``gtol`` for "no
gradient test", ``NaN`` for "no previous loss".
"""

from __future__ import annotations

import math

from numopt.loop.record import Field, RecordType

STATE = RecordType(
    "LoopState",
    (
        # the run's position, kept in checkpoints
        Field("nit", int, 0, "updates done", saved=True),
        Field("nfev", int, 0, "evaluations of fun", saved=True),
        Field("njev", int, 0, "evaluations of the gradient", saved=True),
        Field("best_f", float, math.inf, "the lowest finite loss seen", saved=True),
        Field("best_nit", int, -1, "the iteration of best_f (-1: none yet)", saved=True),
        Field("f_prev", float, math.nan, "the loss before the last update (NaN: none)", saved=True),
        Field("skipped", int, 0, "mini-batches skipped as non-finite", saved=True),
        Field("epochs_done", int, 0, "epochs of mini-batches completed", saved=True),
        Field("batch_index", int, 0, "the next batch of the current epoch", saved=True),
        # the loop's own, rebuilt at every start
        Field("fx", float, 0.0, "the full-data loss at x, when fx_known"),
        Field("fx_known", int, 0, "whether fx is the loss at the current x"),
        Field("step", int, 0, "the rule's step count (the compiled loop's copy)"),
        Field("saved_nit", int, -1, "the iteration of the last checkpoint"),
        Field(
            "phase",
            int,
            0,
            "1: this iteration's evaluation and callback are done; 2: the update "
            "evaluated the new point (f_cur, and g)",
            saved=True,
            required=False,
        ),
        Field(
            "f_cur",
            float,
            0.0,
            "the loss of the iteration paused at (callback, stop), or at the new point",
            saved=True,
            required=False,
        ),
        Field("gnorm_cur", float, 0.0, "its gradient measure"),
        Field("what", int, 0, "what was not finite: 0 the loss, 1 the gradient"),
        Field("limit", int, 0, "the iteration at which this chunk pauses"),
        Field("hist_len", int, 0, "history values of loss and gradient in the buffer"),
        Field("hist_lr_len", int, 0, "history values of learning rate in the buffer"),
        Field("disp_len", int, 0, "disp rows in this chunk"),
        Field("n_losses", int, 0, "batch losses of the current epoch"),
    ),
)

SETTINGS = RecordType(
    "LoopSettings",
    (
        Field("maxiter", int, -1, "updates (plus skipped batches) at most; -1: none"),
        Field("maxfev", int, -1, "evaluations of fun at most; -1: none"),
        Field("gtol", float, -1.0, "stop when the gradient measure <= gtol; < 0: never"),
        Field("ftol", float, -1.0, "stop on a relative change of f <= ftol; < 0: never"),
        Field("xtol", float, 0.0, "stop on a step max|Δx| <= xtol"),
        Field("xtol_on", int, 0, "whether the xtol test runs (x_prev is kept)"),
        Field("hook_every", int, 0, "callbacks every that many updates; 0: no callbacks"),
        Field("disp_every", int, 0, "a disp row every that many updates; 0: no disp"),
        Field("save_every", int, 0, "a checkpoint every that many updates; 0: none"),
        Field("save_timed", int, 0, "whether checkpoints are due every so many seconds too"),
        Field("timed", int, 0, "whether the run has a max_time"),
        Field("record", int, 0, "whether history is recorded"),
        Field("batched", int, 0, "whether the run takes mini-batches"),
        Field("per_epoch", int, 0, "mini-batches per epoch"),
        Field("stride", int, 1, "mini-batches per update (accumulate)"),
        Field("skip_nonfinite", int, 0, "on_nonfinite='skip'"),
        Field("observe", int, 0, "whether a plateau schedule is fed each full-batch loss"),
    ),
)
