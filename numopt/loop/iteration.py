"""The loop of ``minimize``, written once: the same source runs from Python and compiled.

:func:`iterate` runs iterations until the run ends (it returns a
:class:`~numopt.loop.status.Status`) or the driver has work to do (a negative
:class:`~numopt.loop.status.Pause`: a checkpoint, a callback the compiled loop cannot
call, an epoch's end, a chunk's end).  It reads its state ``s`` and settings ``k`` as
attributes (:mod:`numopt.loop.state`) and does everything else through *services*,
global names that each mode binds (:func:`bind`):

======================================  ================================================
``evaluate(ctx, s, x, g, order)``       the loss at ``x`` of this iteration's batch; the
                                        gradient left in ``g``; ``s.nfev``, ``s.njev``
                                        counted
``grad_norm(ctx, x, g)``                the stopping test's measure: ``max|g|``, or the
                                        projected gradient's under bounds (NaN if not
                                        finite)
``copy(dst, src)``                      ``dst[:] = src`` (``x_prev``; the best point when
                                        the run stops at an improving point)
``diff_norm(a, b)``                     ``max|a - b|`` (``xtol``)
``observe(ctx, f)``                     feed a plateau schedule the full-batch loss
``rate(ctx, step)``                     the learning rate of update ``step`` (0-based)
``update(ctx, s, x, g, best, keep)``    the method's step (0, ``Pause.BAD_LR``,
                                        ``Pause.SKIP``: no step, or a status); with
                                        ``keep`` it writes ``x`` as it was into
                                        ``best`` (the best point: the fused
                                        kernels in their pass) when it returns 0; a
                                        method that evaluates the new point itself
                                        (L-BFGS-B's line search) leaves ``s.phase = 2``
                                        and ``s.f_cur``
``hook(ctx, nit, f)``                   the callbacks: 0 to go on, ``Status.CALLBACK`` to
                                        stop, or ``Pause.HOOK`` to have the driver call them
``interrupted()``, ``time_up()``        Ctrl-C and ``max_time`` (the Python loop checks
                                        them every iteration; the compiled loop's driver
                                        between chunks)
``save_time()``                         ``checkpoint_seconds`` elapsed (likewise)
``enter(s, k, x, ..., ctx)``            the loop's working copies of its arguments (from
                                        Python: themselves)
``leave(held, s)``                      write the working state ``s`` back over ``held``
======================================  ================================================

Run from Python (:mod:`numopt.loop.python_mode`) the services are the objective, the
optimizer's ``step`` and the host or device array operations, and any objective,
rule, transform or device works.  Compiled (:mod:`numopt.loop.compiled`) they are
Numba functions: the objective's, the rule's factors and fused element loop, the
schedule's program.  Every floating-point operation is the same in both, in the same
order, so the two give the same results bit for bit; a compiled run pauses only at
points the Python loop also passes through.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable

from numopt.loop.status import CODES

#: No stopping test fired (statuses are >= 0, pauses small negatives).
GO_ON = -1000


def iterate(s, k, x, g, best_x, x_prev, hist, rows, losses, order, ctx):
    """Iterate from the state ``s`` until the run stops or pauses; the code why.

    ``hist`` (3 rows: loss, gradient measure, learning rate), ``rows`` (disp rows)
    and ``losses`` (this epoch's batch losses) are buffers the driver drains;
    ``s.limit`` keeps them from filling.  ``order`` is the epoch's order of the
    samples (mini-batches), ``ctx`` what the mode's services need.  The mode's
    ``enter`` gives the loop its working copies of them (compiled: the state in the
    stack frame, the arrays without reference counts) and ``leave`` writes the state
    back: the compiled loop is this function itself, no wrapper to inline it into.
    """
    held = s
    s, k, x, g, best_x, x_prev, hist, rows, losses, order, ctx = enter(  # noqa: F821
        s, k, x, g, best_x, x_prev, hist, rows, losses, order, ctx
    )
    code = GO_ON
    while True:
        # -- the top of an iteration: a consistent point (stopping or saving resumes exactly)
        if k.batched != 0 and s.batch_index >= k.per_epoch:
            code = CODES.EPOCH_END
            break
        nit = s.nit
        if interrupted():  # noqa: F821 - a service
            code = CODES.INTERRUPTED
            break
        if k.maxiter >= 0 and nit + s.skipped >= k.maxiter:
            code = CODES.MAXITER
            break
        if nit >= s.limit:
            code = CODES.CHUNK
            break
        if k.timed != 0 and time_up():  # noqa: F821
            code = CODES.MAX_TIME
            break
        if s.phase == 1:  # back from the driver's callbacks: this iteration goes on
            s.phase = 0
            f = s.f_cur
            gnorm = s.gnorm_cur
        else:
            if nit != s.saved_nit and nit != 0:
                due = k.save_every > 0 and nit % k.save_every == 0
                if due or (k.save_timed != 0 and save_time()):  # noqa: F821
                    code = CODES.SAVE
                    break
            if s.phase == 2:  # the update evaluated this point (a line search)
                s.phase = 0
                f = s.f_cur
            else:
                f = evaluate(ctx, s, x, g, order)  # noqa: F821
            gnorm = grad_norm(ctx, x, g)  # noqa: F821
            if k.batched == 0:
                s.fx = f
                s.fx_known = 1
            if nit > 0 and k.hook_every > 0 and nit % k.hook_every == 0:
                code = hook(ctx, nit, f)  # noqa: F821
                if code == CODES.HOOK:
                    s.phase = 1
                    s.f_cur = f
                    s.gnorm_cur = gnorm
                    break
                if code != 0:
                    break
            if interrupted():  # noqa: F821 - Ctrl-C during the evaluation: no update after it
                code = CODES.INTERRUPTED
                break
        # -- the evaluation is done: the stopping tests, in SciPy's order
        if not (math.isfinite(f) and math.isfinite(gnorm)):
            if k.skip_nonfinite != 0:  # drop this batch: no update
                s.skipped += 1
                s.batch_index += k.stride
                continue
            s.what = 0 if not math.isfinite(f) else 1
            s.f_cur = f
            code = CODES.NONFINITE
            break
        if k.batched != 0:
            losses[s.n_losses] = f
            s.n_losses += 1
        improved = f < s.best_f  # (best_x is written with the update, or before a stop)
        if improved:
            s.best_f = f
            s.best_nit = nit
        if k.observe != 0 and k.batched == 0:
            observe(ctx, f)  # noqa: F821
        if k.record != 0:
            hist[0, s.hist_len] = f
            hist[1, s.hist_len] = gnorm
            s.hist_len += 1
        if k.disp_every > 0 and nit % k.disp_every == 0:
            row = s.disp_len
            rows[row, 0] = nit
            rows[row, 1] = f
            rows[row, 2] = gnorm
            rows[row, 3] = rate(ctx, nit)  # noqa: F821
            s.disp_len += 1
        # the stopping tests, in SciPy's order
        code = GO_ON
        f_prev = s.f_prev
        if k.gtol >= 0.0 and gnorm <= k.gtol:
            code = CODES.GTOL
        elif (
            k.ftol >= 0.0
            and not math.isnan(f_prev)
            and abs(f_prev - f) <= k.ftol * max(abs(f_prev), abs(f), 1.0)
        ):
            code = CODES.FTOL
        elif k.xtol_on != 0 and nit > 0 and diff_norm(x_prev, x) <= k.xtol:  # noqa: F821
            code = CODES.XTOL
        else:
            if k.xtol_on != 0:
                copy(x_prev, x)  # noqa: F821
            if k.maxfev >= 0 and s.nfev >= k.maxfev:
                code = CODES.MAXFEV
        if code == GO_ON and k.record != 0:
            lr = rate(ctx, nit)  # noqa: F821
            if not (lr >= 0.0 and math.isfinite(lr)):
                code = CODES.BAD_LR
            else:
                hist[2, s.hist_lr_len] = lr
                s.hist_lr_len += 1
        if code == GO_ON:
            code = update(ctx, s, x, g, best_x, improved)  # noqa: F821
            if code == 0:  # the step was made
                code = GO_ON
            elif code == CODES.SKIP:  # its own evaluation was not finite (SAM): drop the batch
                if k.record != 0:  # and its record: the history holds updates (and the
                    s.hist_len -= 1  # buffer one value per iteration that advances)
                    s.hist_lr_len -= 1
                s.skipped += 1
                s.batch_index += k.stride
                continue
            elif k.record != 0:  # no update was made: no learning rate to record
                s.hist_lr_len -= 1
                if code == CODES.INTERRUPTED:  # (a resumed run evaluates this point again)
                    s.hist_len -= 1
        if code != GO_ON:
            if improved:
                copy(best_x, x)  # noqa: F821
            break
        if s.phase != 2:  # (a method with a line search leaves f at the new x known)
            s.fx_known = 0
        elif k.record != 0:  # the line search chose this update's step: record it
            hist[2, s.hist_lr_len - 1] = rate(ctx, nit)  # noqa: F821
        s.nit = nit + 1
        s.f_prev = f
        s.batch_index += k.stride
    leave(held, s)  # noqa: F821
    return code


#: The services :func:`iterate` calls (see the module docstring).
SERVICES = (
    "evaluate",
    "grad_norm",
    "copy",
    "diff_norm",
    "observe",
    "rate",
    "update",
    "hook",
    "interrupted",
    "time_up",
    "save_time",
    "enter",
    "leave",
)


def _as_given(*arguments):
    """The Python loop's ``enter``: it works on its arguments themselves."""
    return arguments


def _nothing(held, s):
    """The Python loop's ``leave``: its state is the run's own."""


def bind(services: dict) -> Callable:
    """A copy of :func:`iterate` whose services are the Python functions ``services``.

    The loop run from Python; the compiled loop binds Numba functions the same way,
    through the kernel generator (:func:`numopt.kernels.generate.specialise`), which
    also names the copy for Numba's cache.
    """
    return bound(iterate, {"enter": _as_given, "leave": _nothing, **services}, SERVICES)


def bound(template: Callable, services: dict, names: tuple[str, ...]) -> Callable:
    """A copy of ``template`` whose global names ``names`` are ``services`` (all of them)."""
    check(services, names)
    globals_ = {**template.__globals__, **services}
    return types.FunctionType(template.__code__, globals_, template.__name__)


def check(services: dict, names: tuple[str, ...] = SERVICES) -> None:
    """Every service must be bound, and nothing else."""
    if set(services) != set(names):
        raise TypeError(f"the services are {sorted(names)}; got {sorted(services)}")
