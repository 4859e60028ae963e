"""``compiled="auto"``'s choice: compile now, or start in Python and move mid-run.

A compiled loop is bound to the user's function object, costs seconds to compile and
keeps megabytes that Numba never gives back; the Python loop starts at once.  Which is
cheaper depends on what the run and the function have ahead of them, so ``auto``
decides by expected cost (:func:`start_reason`):

* a loop for this function already in memory (:class:`~numopt.loop.loop_cache.LoopCache`)
  costs nothing more: compiled;
* a function that captures values (a closure, defined anew for each data set) or is
  defined inside another function is likely to be called once: its full-batch run
  starts in the Python loop, and so does a new function object of code seen before
  (warned once: pass the data through ``args``);
* any other Numba function (a module's, defined once) compiles at its first call:
  that cost is paid once per process, or once per machine with ``cache=True``.

The Python and the compiled loop pass through the same points with the same state and
give the same bits, so the driver (:mod:`numopt.loop.driver`) may change modes between
two chunks.  After each chunk of a run that started in Python, :func:`due` asks two
questions: will the rest of the run, predicted from the last chunk's pace and
``maxiter``, take more than :data:`PAYBACK` times :data:`COMPILE_SECONDS` in Python?
Or has this function object already spent :data:`COMPILE_SECONDS` in the Python loop,
over this call and its earlier calls (a closure reused for many short runs)?  (The
chunk in which Numba compiles the objective itself, at its first evaluation, is not
counted: it says nothing of the loop's pace.)  Either
way :func:`switch` hands the run to the compiled loop: a short run never compiles; a
long one, or a function called often enough, pays one compilation, never more than
about twice what the better choice made in hindsight would have cost.
``res.compiled_reason`` says which loop ran and why.
"""

from __future__ import annotations

import weakref
from typing import Any

#: What compiling a whole loop is expected to cost (measured 1.4-2.7 s cold here).
COMPILE_SECONDS = 2.0
#: Switch when the rest of the run in Python is predicted to take this many times
#: :data:`COMPILE_SECONDS`: a run that switches saves at least about as much as it pays.
PAYBACK = 2.0

# seconds each function object has spent in the Python loop under "auto" (its calls
# that may switch), forgotten with the function
_spent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def start_reason(cache: Any, fun: Any) -> str | None:
    """Why a full-batch ``compiled="auto"`` run of ``fun`` should start in the Python
    loop (it may switch), or None to compile now.  ``cache``: the compiled loops kept."""
    if cache.holds(fun) or spent(fun) >= COMPILE_SECONDS:
        return None
    churn = cache.churn_reason(fun)
    if churn is not None:
        return churn
    py = getattr(fun, "py_func", fun)
    if getattr(py, "__closure__", None):
        why = "fun captures values (a closure, defined anew for each data set?)"
    elif "<locals>" in getattr(py, "__qualname__", ""):
        why = "fun is defined inside a function (a new object at each of its calls?)"
    else:
        return None
    return (
        f"{why}: a compiled loop per function object costs seconds and memory, so the "
        "Python loop runs until the rest of the run, or this function's calls together, "
        "would cost more; pass the data through args to a function defined once"
    )


def spent(fun: Any) -> float:
    """Seconds ``fun`` has run in the Python loop under ``auto`` in this process."""
    try:
        return _spent.get(fun, 0.0)
    except TypeError:  # not weakly referable
        return 0.0


def add_spent(fun: Any, seconds: float) -> None:
    """Count ``seconds`` more of ``fun`` in the Python loop."""
    try:
        _spent[fun] = _spent.get(fun, 0.0) + seconds
    except TypeError:
        pass


def unready(*functions: Any) -> bool:
    """Whether a Numba function among ``functions`` has compiled nothing yet: the run's
    first evaluation compiles it (seconds), which says nothing of the loop's pace."""
    return any(getattr(f, "signatures", None) == [] for f in functions)


def count(run: Any, elapsed: float) -> bool:
    """Count a chunk of ``elapsed`` seconds as the function's time in the Python loop;
    False for the chunk whose first evaluation compiled the objective (not counted)."""
    if run.objective_compiles:
        run.objective_compiles = False
        return False
    add_spent(run.objective.fun, elapsed)
    return True


def due(run: Any, done: int, elapsed: float) -> bool:
    """Whether ``run`` (in the Python loop, allowed to switch) should switch now, its
    last chunk having made ``done`` updates in ``elapsed`` seconds (counted by
    :func:`count`)."""
    if spent(run.objective.fun) >= COMPILE_SECONDS:
        run.switch_why = "this function's time in the Python loop had passed the cost of compiling"
        return True
    planned = run.planned
    if planned is None or done <= 0:
        return False
    s = run.state
    rest = planned - (s.nit + s.skipped)
    if rest * (elapsed / done) > PAYBACK * COMPILE_SECONDS:
        run.switch_why = "the rest of the run was predicted to take longer than compiling"
        return True
    return False


def switch(run: Any) -> Any:
    """The compiled mode that carries ``run`` on from where the Python loop stopped."""
    from numopt.loop.compiled import CompiledMode

    why = run.compiled_reason
    run.compiled = True
    run.switchable = False
    run.compiled_reason = (
        f"the Python loop ran the first {run.state.nit} iterations ({why}); then, as "
        f"{run.switch_why}, the rest ran compiled"
    )
    # the final evaluation calls fun/jac with the array type the loop compiled them for
    run.view = run.structure.views(run.x, writeable=True)
    return CompiledMode(run)
