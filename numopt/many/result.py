"""``minimize_many``'s result: one ``OptimizeResult`` whose fields are arrays over the problems.

:func:`compiled_result` applies, to every problem at once, what ``minimize``'s
:func:`numopt.front.result.result` does for one run: the best point seen replaces a
final point that is not finite (status 3), the loss at the final point was
evaluated when the loop did not know it (in the compiled entry), the messages are
:class:`~numopt.loop.status.Status`'s (status 0's names the projected gradient when the
problems have bounds).  :func:`stacked` builds the same fields from ``minimize``
results, one per problem (the Python loop over the problems), with ``compiled_reason``
the reason they ran there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from numopt.loop.status import (
    Status,
    best_point_detail,
    final_nonfinite_detail,
    nonfinite_detail,
)


def compiled_result(mode: Any, status: np.ndarray, details: dict[int, str]) -> OptimizeResult:
    """The result of the problems of ``mode`` (:class:`~numopt.many.compiled.ManyCompiled`)."""
    p, st = mode.problems, mode.states
    X, G = p.X, mode.G
    nit = st["nit"].copy()
    known = st["fx_known"] != 0
    fun = np.where(known, st["fx"], np.nan)
    with np.errstate(invalid="ignore"):
        finite_x = np.isfinite(X).all(axis=1)
        finite = np.where(
            (status == Status.INTERRUPTED) & ~known, finite_x, known & np.isfinite(fun) & finite_x
        )
        better = finite & (fun < st["best_f"])
    st["best_f"][better] = fun[better]
    st["best_nit"][better] = nit[better]
    mode.BEST[better] = X[better]
    found = st["best_nit"] >= 0
    best_f = np.where(found, st["best_f"], np.nan)
    bad = ~finite
    # the loop's non-finite stops say what was not finite; the others, the final point
    for i in np.flatnonzero(status == Status.NONFINITE):
        details[int(i)] = nonfinite_detail(int(st["what"][i]), float(st["f_cur"][i]), int(nit[i]))
    final = bad & (status != Status.NONFINITE) & (status != Status.INTERRUPTED)
    for i in np.flatnonzero(final):
        details[int(i)] = final_nonfinite_detail(float(fun[i]), int(nit[i]))
    status = np.where(final, int(Status.NONFINITE), status)
    for i in np.flatnonzero(bad & found):
        details[int(i)] = details.get(int(i), "") + best_point_detail(
            int(st["best_nit"][i]), float(st["best_f"][i])
        )
    X[bad] = mode.BEST[bad]
    fun[bad] = best_f[bad]
    G[bad] = np.nan
    shape = (p.M, *p.shape)
    return assembled(
        bounded=mode.run.box is not None,
        x=X.reshape(shape),
        fun=fun,
        jac=G.reshape(shape),
        nit=nit,
        nfev=st["nfev"].copy(),
        njev=st["njev"].copy(),
        status=status,
        details=details,
        x_best=mode.BEST.reshape(shape),
        fun_best=best_f,
        method=mode.run.method,
        compiled=True,
        compiled_reason=None,
    )


def stacked(results: list[OptimizeResult], method: str, reason: str) -> OptimizeResult:
    """The fields of ``minimize``'s ``results`` (one per problem) stacked over the problems.

    ``reason``: why the problems ran one by one in Python (``compiled_reason``).
    """
    status = np.array([r.status for r in results], np.int64)
    out = assembled(
        bounded=False,  # the messages are minimize's, replaced below
        x=np.stack([r.x for r in results]),
        fun=np.array([r.fun for r in results]),
        jac=np.stack([r.jac for r in results]),
        nit=np.array([r.nit for r in results], np.int64),
        nfev=np.array([r.nfev for r in results], np.int64),
        njev=np.array([r.njev for r in results], np.int64),
        status=status,
        details={},
        x_best=np.stack([r.x_best for r in results]),
        fun_best=np.array([r.fun_best for r in results]),
        method=method,
        compiled=False,
        compiled_reason=reason,
    )
    out["message"] = [r.message for r in results]
    return out


def assembled(
    status: np.ndarray, details: dict[int, str], bounded: bool, **fields: Any
) -> OptimizeResult:
    """The result over the problems from its fields: ``status`` gives each problem's
    message (with its detail from ``details`` where the status takes one) and
    ``success``."""
    plain = {
        int(c): Status(c).message(bounded=bounded) for c in np.unique(status) if Status(c) in _PLAIN
    }
    message = [
        Status(c).message(details.get(i, "")) if c not in plain else plain[c]
        for i, c in enumerate(status.tolist())
    ]
    success = np.isin(status, [int(s) for s in Status if s.success])
    return OptimizeResult(status=status, success=success, message=message, **fields)


#: The statuses whose message takes no detail.
_PLAIN = frozenset(s for s in Status if s not in (Status.NONFINITE, Status.CALLBACK))
