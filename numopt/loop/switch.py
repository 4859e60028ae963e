"""``compiled="auto"``'s mid-run switch: a run that started in Python moves to the compiled loop.

``compiled="auto"`` does not compile a loop for a new function object whose code was
compiled before — a closure over another data set, defined anew at each call
(:meth:`numopt.loop.loop_cache.LoopCache.churn_reason`): a loop costs seconds to
compile and megabytes that are never given back, and most such runs are short.  But
a long run should not pay the Python loop's cost for its whole length either.  The
Python and the compiled loop pass through the same points with the same state and
give the same bits, so the driver (:mod:`numopt.loop.driver`) may change modes
between two chunks: after each chunk of a full-batch run in the Python loop,
:func:`due` predicts the rest of the run from the last chunk's pace and ``maxiter``,
and once the rest would take more than :data:`PAYBACK` times
:data:`COMPILE_SECONDS` in Python, :func:`switch` hands the run to the compiled loop.
A short run never compiles; a long run pays one compilation and then runs at the
compiled loop's pace.  The result says so in ``compiled_reason``.
"""

from __future__ import annotations

from typing import Any

#: What compiling a whole loop is expected to cost (measured 1.4-2.7 s cold here).
COMPILE_SECONDS = 2.0
#: Switch when the rest of the run in Python is predicted to take this many times
#: :data:`COMPILE_SECONDS`: a run that switches saves at least about as much as it pays.
PAYBACK = 2.0


def due(run: Any, done: int, elapsed: float) -> bool:
    """Whether ``run`` (in the Python loop, allowed to switch) should switch now, its
    last chunk having made ``done`` updates in ``elapsed`` seconds."""
    planned = run.planned
    if planned is None or done <= 0:
        return False
    s = run.state
    rest = planned - (s.nit + s.skipped)
    return rest * (elapsed / done) > PAYBACK * COMPILE_SECONDS


def switch(run: Any) -> Any:
    """The compiled mode that carries ``run`` on from where the Python loop stopped."""
    from numopt.loop.compiled import CompiledMode

    why = run.compiled_reason
    run.compiled = True
    run.switchable = False
    run.compiled_reason = (
        f"the Python loop ran the first {run.state.nit} iterations ({why}); the rest of "
        "the run, predicted to take longer than compiling, ran compiled"
    )
    # the final evaluation calls fun/jac with the array type the loop compiled them for
    run.view = run.structure.views(run.x, writeable=True)
    return CompiledMode(run)
