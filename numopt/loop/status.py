"""How a run ends (:class:`Status`), and why the loop hands control back (:class:`Pause`).

``result.status`` is a :class:`Status` (an ``int``, as SciPy's codes are), with its
fixed message and whether it counts as success.  The loop's iteration returns a
:class:`Status` when the run is over, or a negative :class:`Pause` when the driver
has work to do (a callback, a checkpoint, the end of an epoch, a chunk's end).  The
compiled iteration reads both through :data:`CODES`, a constant tuple of plain ints
(Numba folds ``CODES.GTOL``; it would type each IntEnum class apart).
"""

from __future__ import annotations

import collections
from enum import IntEnum


class Status(IntEnum):
    """The end of a run: ``result.status``, with :attr:`message` and :attr:`success`."""

    GTOL = 0
    MAXITER = 1
    MAXFEV = 2
    NONFINITE = 3
    FTOL = 4
    XTOL = 5
    MAX_TIME = 6
    EPOCHS = 7
    INTERRUPTED = 8
    LINE_SEARCH = 9
    CALLBACK = 99

    @property
    def success(self) -> bool:
        """Whether the run converged or did what was asked (SciPy's ``success``)."""
        return self in (Status.GTOL, Status.FTOL, Status.XTOL, Status.EPOCHS)

    def message(self, detail: str = "", *, bounded: bool = False) -> str:
        """The fixed message of this status; ``detail`` fills those that take one.

        ``bounded``: the run has bounds, so ``gtol`` tested the projected gradient
        (status 0 says so).

        Examples
        --------
        >>> Status.MAXITER.message()
        'Maximum number of iterations has been exceeded.'
        >>> Status.NONFINITE.message("non-finite loss (nan) at iteration 3")
        'Stopped: non-finite loss (nan) at iteration 3'
        >>> Status.GTOL.message(bounded=True).split(": ")[1]
        "the projected gradient's largest entry is below gtol."
        """
        if bounded and self in _BOUNDED_MESSAGES:
            return _BOUNDED_MESSAGES[self]
        return _MESSAGES[self].format(detail)


_MESSAGES = {
    Status.GTOL: (
        "Optimization terminated successfully: the gradient's largest entry is below gtol."
    ),
    Status.MAXITER: "Maximum number of iterations has been exceeded.",
    Status.MAXFEV: "Maximum number of function evaluations has been exceeded.",
    Status.NONFINITE: "Stopped: {}",
    Status.FTOL: "Optimization terminated successfully: the relative change of f is below ftol.",
    Status.XTOL: "Optimization terminated successfully: the step is below xtol.",
    Status.MAX_TIME: "Maximum time (max_time) has been exceeded.",
    Status.EPOCHS: "Completed the requested number of epochs.",
    Status.INTERRUPTED: (
        "Interrupted (Ctrl-C or KeyboardInterrupt); returning the point reached so far."
    ),
    Status.LINE_SEARCH: (
        "ABNORMAL: the line search found no point of sufficient decrease along "
        "steepest descent; returning the last good point."
    ),
    Status.CALLBACK: "{}",
}

#: The messages that differ when the run has bounds: ``gtol`` then tests the projected
#: gradient ``max|P(x - g) - x|`` (``P`` the projection onto the box).
_BOUNDED_MESSAGES = {
    Status.GTOL: (
        "Optimization terminated successfully: the projected gradient's largest entry is "
        "below gtol."
    ),
}


def nonfinite_detail(what: int, f: float, nit: int) -> str:
    """Status 3's detail when the loop meets a non-finite loss (``what`` 0) or gradient
    (1), or either at SAM's climbed point (2)."""
    if what == 2:
        return f"non-finite loss ({f}) or gradient at SAM's climbed point, iteration {nit}"
    thing = f"loss ({f})" if what == 0 else "gradient (NaN or inf entries)"
    return f"non-finite {thing} at iteration {nit}"


def final_nonfinite_detail(f: float, nit: int) -> str:
    """Status 3's detail when the loss at the final point is not finite."""
    return f"non-finite loss ({f}) at the final point (iteration {nit})"


def best_point_detail(best_nit: int, best_f: float) -> str:
    """What status 3's message adds when the best point seen is returned instead."""
    return f"; returning the best point seen (iteration {best_nit}, f = {best_f:.6g})"


class Pause(IntEnum):
    """Why the iteration returned to the driver before the run ended."""

    CHUNK = -1  # a chunk of iterations is done (Ctrl-C, max_time, progress, buffers)
    SAVE = -2  # a checkpoint is due (at the top of an iteration)
    HOOK = -3  # the callbacks are due (the compiled loop cannot call them)
    EPOCH_END = -4  # an epoch of mini-batches ended: the next order is drawn in Python
    BAD_LR = -5  # the compiled schedule gave an invalid learning rate
    SKIP = -6  # (never reaches the driver) the update met a non-finite value and was skipped


#: Every code as a plain int, by name, for nopython code (``CODES.GTOL``, ``CODES.SAVE``).
CODES = collections.namedtuple("Codes", [s.name for s in (*Status, *Pause)])(
    *(int(s) for s in (*Status, *Pause))
)
