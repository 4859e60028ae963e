"""L-BFGS-B as a method of the loop: the update service, written once for both modes.

The loop (:mod:`numopt.loop.iteration`) evaluates ``f`` and ``g`` at ``x``, runs its
stopping tests and calls the method's ``update`` service.  For L-BFGS-B, :func:`update`
runs a whole iteration (:mod:`numopt.quasi_newton.lbfgsb`): the direction, then the
line search, which evaluates the objective through the loop's own ``evaluate``
service (counted in ``nfev``) until a step is accepted.  It leaves ``x``, ``g`` and
``f`` at the new iterate and sets the loop's phase to 2, so the next iteration takes
them as evaluated instead of evaluating again.

The same function is bound to Python services (:func:`python_services`: the run's
objective, Ctrl-C) and, through the kernel generator, to compiled ones
(:func:`numopt.loop.compiled.loop_for`): one source, the same bits.  It calls the
method's :func:`numopt.quasi_newton.lbfgsb.step` through the ``advance`` service: run
from Python the compiled function itself, in a compiled loop the same code through a
pointer (:func:`step_pointer`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np

from numopt.loop.intrinsics import types_check
from numopt.loop.iteration import bound
from numopt.loop.status import CODES
from numopt.quasi_newton import cauchy, compact, dense, lbfgsb, line_search, subspace, workspace
from numopt.quasi_newton.workspace import F

#: The modules whose code the compiled loop runs (their sources name its cache entry: a
#: change to any of them compiles the loop again).
INLINED_MODULES = (cauchy, compact, dense, lbfgsb, line_search, subspace, workspace)


class Context(NamedTuple):
    """What :func:`update` reads from the loop run from Python (the compiled loop's
    :class:`numopt.loop.compiled.Context` has the same fields)."""

    work: Any  # the method's arrays (numopt.quasi_newton.workspace.Work)
    lo: np.ndarray  # the flat bounds in x's dtype (empty without bounds)
    hi: np.ndarray


def update(ctx, s, x, g):  # pragma: no cover - bound to each mode's services
    """One L-BFGS-B iteration from ``x`` (value ``s.fx``, gradient ``g``).

    Returns 0 with the new iterate in ``x``, ``g``, ``s.fx``, ``s.f_cur`` and
    ``s.phase = 2``; or a status (``LINE_SEARCH``, ``INTERRUPTED``) with ``x`` and
    ``g`` back at the iteration's start.
    """
    w = ctx.work
    f = s.fx
    code = lbfgsb.START  # a variable, not a constant, in the call: one compilation
    while True:
        code = advance(ctx, w, x, g, f, code)  # noqa: F821 - a service: lbfgsb.step
        if code != lbfgsb.EVALUATE:
            break
        f = evaluate(ctx, s, x, g, 0)  # noqa: F821 - a service
        if interrupted():  # noqa: F821 - a service
            lbfgsb.abandon(w, x, g)
            return CODES.INTERRUPTED
    if code == lbfgsb.FAILED:
        return CODES.LINE_SEARCH
    s.fx = f
    s.f_cur = f
    s.phase = 2
    return 0


def keeping_update(ctx, s, x, g, best, keep):  # pragma: no cover - compiled
    """The loop's ``update`` service: the best point copied (``keep``), then :func:`update`
    (bound as ``step``)."""
    if keep:
        copy(best, x)  # noqa: F821 - bound by the compiled loop
    return step(ctx, s, x, g)  # noqa: F821


def rate(ctx, step):  # pragma: no cover - compiled too
    """The loop's "learning rate" of L-BFGS-B: the last line search's accepted step."""
    return ctx.work.floats[F.stp]


def no_observe(ctx, f):  # pragma: no cover - compiled too
    """L-BFGS-B has no schedule to feed."""
    return None


#: The services :func:`update` calls.
SERVICES = ("evaluate", "interrupted", "advance")


def python_update(
    evaluate: Any, interrupted: Any, catch_interrupt: bool = False, advance: Any = None
) -> Any:
    """:func:`update` bound to Python services.

    An exception from the objective in the line search puts ``x`` and ``g`` back at
    the search's start (:func:`numopt.quasi_newton.lbfgsb.abandon`), as Ctrl-C does,
    so that the point is a consistent iterate with its value: a ``KeyboardInterrupt``
    then ends the update as Ctrl-C does (``INTERRUPTED``) with ``catch_interrupt``
    (``minimize``'s loop), and any other exception — or that one without
    ``catch_interrupt`` (the stateful optimizer) — propagates.
    """
    raised = [False]

    def guarded(ctx, s, x, g, order):
        try:
            return evaluate(ctx, s, x, g, order)
        except KeyboardInterrupt:
            if not catch_interrupt:
                lbfgsb.abandon(ctx.work, x, g)
                raise
            raised[0] = True  # update() abandons the search at its next check
            return math.nan
        except BaseException:
            lbfgsb.abandon(ctx.work, x, g)
            raise

    def stop():
        if raised[0]:
            raised[0] = False
            return True
        return interrupted()

    services = {"evaluate": guarded, "interrupted": stop, "advance": advance or _advance}
    return bound(update, services, SERVICES)


def context(work: Any, x: np.ndarray, box: Any) -> Context:
    """:func:`update`'s context run from Python: ``box`` None, or its flat bounds."""
    empty = x[:0]
    lo, hi = (box.lo, box.hi) if box is not None else (empty, empty)
    return Context(work, lo, hi)


#: step compiled, by what the types of its arguments depend on: (compiled, pointer).
_COMPILED: dict = {}
#: NumPy's flag bit of an array that owns its memory (NPY_ARRAY_OWNDATA).
_OWNDATA = 0x0004


def _compiled(work: Any, x: np.ndarray, g: np.ndarray, lo: Any, hi: Any) -> tuple[Any, tuple]:
    """:func:`numopt.quasi_newton.lbfgsb.step` (or ``free_step`` where ``lo`` and ``hi``
    are empty: no bounds) compiled for these arrays, and its pointer (see
    :func:`step_pointer`)."""
    # (the flags' bits but OWNDATA's: the contiguities, writeable and aligned type an array)
    key = lo.size == 0, *((a.dtype, a.ndim, a.flags.num & ~_OWNDATA) for a in (*work, x, g, lo, hi))
    found = _COMPILED.get(key)
    if found is None:  # (numba.typeof: 0.2 ms for the workspace, so once per key)
        w, xt, gt, lt, ht = (numba.typeof(a) for a in (work, x, g, lo, hi))
        args = (w, xt, gt, numba.float64, lt, ht, numba.int64)
        step = lbfgsb.step_for(lo)
        step.compile(args)
        compiled = step.overloads[args]
        if compiled.signature.return_type != numba.int64:  # pragma: no cover - the contract
            raise TypeError(f"lbfgsb.step returns {compiled.signature.return_type}, not int64")
        address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
        found = _COMPILED[key] = (compiled, (address, types_check(args)))
    return found


def step_pointer(work: Any, x: np.ndarray, g: np.ndarray, lo: Any, hi: Any) -> tuple[int, int]:
    """The step compiled for these arrays (:func:`_compiled`): the address of its code
    and a check of its argument types (:func:`numopt.loop.intrinsics.types_check`),
    for the compiled loop's context.

    A compiled loop that called ``step`` by name would link its code in and have LLVM
    optimise all of it again, the line search, the Cauchy point and the subspace step,
    for every new objective (seconds each); through the address it calls the code
    compiled once and cached on disk.  The call is not inlined either way (``step``
    is too large for LLVM to inline).  The context holds plain integers, which Numba's
    dispatcher types quickly (a function object in it would have Numba type the whole
    context at every call: 0.5 ms).
    """
    return _compiled(work, x, g, lo, hi)[1]


def _advance(ctx, w, x, g, f, code):
    """The ``advance`` service run from Python: :func:`numopt.quasi_newton.lbfgsb.step`
    (``free_step`` without bounds)."""
    return lbfgsb.step_for(ctx.lo)(w, x, g, f, ctx.lo, ctx.hi, code)


def resolved_advance(work: Any, x: np.ndarray, g: np.ndarray, lo: Any, hi: Any) -> Any:
    """:func:`_advance` for a run that steps these very arrays: the step compiled for
    their types (:func:`_compiled`), called past Numba's dispatcher, which types the
    workspace's twelve arrays at every call (2.8 µs a call against 1.0); the
    dispatcher for any other arrays."""
    entry = _compiled(work, x, g, lo, hi)[0].entry_point

    def advance(ctx, w, x_, g_, f, code):
        if w is work and x_ is x and g_ is g and ctx.lo is lo and ctx.hi is hi:
            return entry(w, x_, g_, float(f), lo, hi, code)
        return _advance(ctx, w, x_, g_, f, code)

    return advance


def python_services(run: Any, evaluate: Any, interrupted: Any) -> tuple[dict, Context]:
    """The method's services for the loop run from Python, and its context."""
    work = run.opt.work_for(run.x, run.box)
    ctx = context(work, run.x, run.box)
    advance = resolved_advance(work, run.x, run.g, ctx.lo, ctx.hi)
    step = python_update(evaluate, interrupted, catch_interrupt=True, advance=advance)
    copy = run.ops.copy

    def keeping(ctx, s, x, g, best, keep):
        if keep:
            copy(best, x)
        return step(ctx, s, x, g)

    services = {
        "update": keeping,
        "rate": rate,
        "observe": no_observe,
    }
    return services, ctx
