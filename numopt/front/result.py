"""The end of a run: SciPy's ``OptimizeResult`` from the run's buffers and its status.

:func:`result` evaluates the loss at the final point when the loop does not know it
(mini-batches know only batch losses), falls back to the best point when the final
one is not finite, fills in the fixed message of the :class:`~numopt.loop.status.Status`,
and hands the run's own buffers over as ``x``, ``jac`` and ``x_best`` (no copies of
N-sized arrays, except from the GPU).  ``compiled_reason`` is None when the compiled
loop ran, else why it did not (``"compiled=False"``, or
:func:`numopt.loop.compiled.plan`'s reason).

With ``on_nonfinite="skip"``, a final loss on the whole data that is not finite while
``x`` is comes from the rows the run was told to skip: the run keeps its own status
and its last point, and ``fun``/``jac`` become the mean loss and gradient at ``x``
over one epoch's batches in data order whose loss and gradient are finite
(:func:`_without_skipped`; two more passes over the data), which the message says.
With no such batch, or with non-finite parameters, the run ends with status 3 and
its best point, as without skipping.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from numopt.loop.status import Status, best_point_detail, final_nonfinite_detail
from numopt.transforms import options as transform_options
from numopt.transforms._wrapper import chain
from numopt.transforms.accumulate import Group, MicroBatches


def result(run: Any, status: Status, detail: str) -> OptimizeResult:
    """The ``OptimizeResult`` of ``run``, which stopped with ``status`` (and ``detail``)."""
    s, obj, state = run.structure, run.objective, run.state
    nit = state.nit
    fun = state.fx if run.loss_is_known() else None
    evaluated = False
    stopped_early = status in (Status.NONFINITE, Status.INTERRUPTED)
    if fun is None and not stopped_early:
        # the loss at the final point is not known yet (mini-batches: only batch losses
        # are; or the run stopped before evaluating its last update): evaluate it on the
        # whole data, counted in nfev
        obj.nfev, obj.njev = state.nfev, state.njev
        try:
            fun, evaluated = obj(run.view, run.args), True
        except KeyboardInterrupt:
            status = Status.INTERRUPTED
        state.nfev, state.njev = obj.nfev, obj.njev
    skipping = ""  # what the message adds when skipped rows made the whole-data loss NaN
    if (
        evaluated
        and run.config.batching.skip_nonfinite
        and not math.isfinite(fun)
        and math.isfinite(run.ops.norm(run.x))
    ):
        try:
            fun, skipping = _without_skipped(run, fun)
        except KeyboardInterrupt:
            fun, status = None, Status.INTERRUPTED
    if fun is None and status is Status.INTERRUPTED:
        # interrupted: return the point reached without evaluating it again
        fun = math.nan
        finite = math.isfinite(run.ops.norm(run.x))
    else:
        finite = fun is not None and math.isfinite(fun) and math.isfinite(run.ops.norm(run.x))
    # the final point's loss came from this evaluation, or from the method's own (a line
    # search): either way the loop has not recorded it yet
    unseen = evaluated or state.phase == 2
    if unseen and finite and nit > 0:
        if run.history is not None and run.batches is None:
            run.history["fun"].append(fun)
            run.history["grad_norm"].append(run.grad_norm(run.g))
        if run.callbacks and status not in (Status.INTERRUPTED, Status.CALLBACK):
            # the last update's callback (a request to stop changes nothing now)
            run.call_back(nit, fun)
    if finite and math.isfinite(fun) and fun < state.best_f:
        state.best_f, state.best_nit = fun, nit
        run.ops.copy(run.best_x, run.x)
    found = state.best_nit >= 0
    x, jac = run.x, run.g
    if not finite:
        if status not in (Status.NONFINITE, Status.INTERRUPTED):
            status = Status.NONFINITE
            detail = final_nonfinite_detail(fun, nit) + skipping
        x, fun = run.best_x, state.best_f if found else math.nan
        jac = np.full(s.size, np.nan, s.dtype)
        if found:
            detail += best_point_detail(state.best_nit, state.best_f)
    message = status.message(detail, bounded=run.box is not None)
    if finite and skipping:
        message += skipping
    if run.x_iterate is not None and status is Status.GTOL:  # Schedule-Free's average
        message = message.removesuffix(".") + (
            " at the last iterate (x_iterate); x is the average the run built from it."
        )
    # the run is over: its buffers become the result (no copies of N-sized arrays)
    x_device = x
    host = run.ops.host
    x, jac, best = host(x), host(jac), host(run.best_x)
    if best is x:
        best = best.copy()
    out = OptimizeResult(
        x=s.views(x, writeable=True),
        fun=float(fun),
        jac=s.views(jac, writeable=True),
        nit=nit,
        nfev=state.nfev,
        njev=state.njev,
        status=int(status),
        success=status.success,
        message=message,
        x_best=s.views(best, writeable=True),
        fun_best=float(state.best_f) if found else math.nan,
        method=run.method,
        compiled=run.compiled,
        compiled_reason=run.compiled_reason,
    )
    if run.config.placement.return_device:  # the run's own device buffer, structured like x0
        out["x_device"] = s.views(x_device, writeable=True)
    if run.x_iterate is not None:  # Schedule-Free: x is the average, this the last iterate
        out["x_iterate"] = s.views(host(run.x_iterate), writeable=True)
    average = transform_options.average_of(run.opt, x)
    if average is None:
        average = _rule_average(run.opt, x)
    if average is not None:  # options["average"] or ASGD's ax: structured like x0
        out["x_average"] = s.views(average, writeable=True)
    if run.batches is not None:
        out["epochs"] = state.epochs_done
    if run.config.batching.skip_nonfinite:
        out["skipped"] = state.skipped
    if run.history is not None:
        out["history"] = {k: np.asarray(v, dtype=float) for k, v in run.history.items()}
    if run.config.output.disp:
        print(message)
        print(f"         Current function value: {out.fun:.6g}")
        print(f"         Iterations: {nit}")
        print(f"         Function evaluations: {state.nfev}")
        print(f"         Gradient evaluations: {state.njev}")
    return out


def _without_skipped(run: Any, whole: float) -> tuple[float, str]:
    """With ``on_nonfinite="skip"``: the final loss at ``x`` without the skipped rows.

    ``whole`` is the loss on the whole data, not finite.  One pass over an epoch's
    batches in data order (no draw from the shuffling generator) finds those whose
    loss and gradient are finite at ``x``, as the loop tests them; a second evaluates
    their mean loss, returned, and leaves their mean gradient in ``run.g``.  Both
    passes count in ``nfev``.  Returns ``(fun, what the message adds)``; ``fun`` is
    ``whole`` when no batch is finite (the run then fails, with status 3).
    """
    obj, state = run.objective, run.state
    kept, total = [], 0
    obj.nfev, obj.njev = state.nfev, state.njev
    try:
        for batch in run.batches.epoch(None):
            total += 1
            f = obj(run.view, batch)
            if math.isfinite(f) and math.isfinite(run.grad_norm(run.g)):
                kept.append(batch)
        if not kept:
            return whole, f" and on every batch at x (the {total} of an epoch in data order)"
        mean = obj if isinstance(obj, MicroBatches) else MicroBatches(obj, run.opt.backend)
        fun = mean(run.view, Group(kept))
    finally:
        state.nfev, state.njev = obj.nfev, obj.njev
    return fun, (
        f" The loss on the whole data is not finite ({whole}): with on_nonfinite='skip', "
        f"fun and jac are the mean loss and gradient at x over the {len(kept)} of {total} "
        "batches (an epoch in data order) whose loss is finite."
    )


def _rule_average(opt: Any, x: np.ndarray) -> np.ndarray | None:
    """The average a rule keeps in its state (ASGD's ``ax``), a flat host copy (a copy
    of ``x`` before the first step); None for other rules and inside param groups."""
    links = chain(opt)
    rule = links[-1]
    if rule.name != "asgd" or any(getattr(k, "kind", None) == "param_groups" for k in links):
        return None
    state = rule._state
    if state is None:
        return x.copy()
    return state[0].copy_to_host() if rule._layout.device else state[0].copy()
