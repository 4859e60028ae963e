"""CPU loops with box bounds: a rule's step and the projection onto ``[lo, hi]`` in one pass.

:func:`bounded_loops` compiles, per element body, a serial and a ``prange`` loop
that run ``body(i, ...)`` and then clamp ``theta[i]`` to ``[lo[i], hi[i]]`` in the
same iteration: no second pass over ``theta``, two more reads per element (``lo``
and ``hi``).  The clamp is NumPy's ``np.clip`` element for element (the bound wins
a tie, which decides the sign of a zero; a NaN stays NaN, so a diverging run is
still detected), so a bounded step equals the unbounded step followed by
``np.clip`` bit for bit.  The unbounded loops of :mod:`numopt.backends.cpu` are
untouched; these are separate functions with their own cache entries (their
qualified names end in ``_serial_bounded`` / ``_parallel_bounded``).

:func:`projected_grad_norm` is the stopping test's measure under bounds, the
infinity norm of the projected gradient ``P(x - g) - x`` (as L-BFGS-B's ``pgtol``),
reduced in one compiled pass without temporaries.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from numopt.backends._specialise import specialise
from numopt.backends.cpu import _BITS, SERIAL_BELOW  # inf_norm's bit patterns per dtype


def _serial_bounded_template(theta, g, state, c, lo, hi):  # pragma: no cover - compiled
    for i in range(theta.size):
        low = lo[i]  # read before the body's stores: they cannot alias theta or state
        high = hi[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()
        v = theta[i]
        if v <= low:  # np.clip's choice on a tie (signed zeros); NaN compares false: kept
            v = low
        if v >= high:
            v = high
        theta[i] = v


def _parallel_bounded_template(theta, g, state, c, lo, hi):  # pragma: no cover - compiled
    for i in prange(theta.size):
        low = lo[i]
        high = hi[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()
        v = theta[i]
        if v <= low:
            v = low
        if v >= high:
            v = high
        theta[i] = v


class BoundedLoops(NamedTuple):
    """The two compiled bounded CPU loops of one element body."""

    serial: Callable
    parallel: Callable


@functools.cache
def bounded_loops(body: Callable) -> BoundedLoops:
    """Compiled serial and parallel loops over ``body`` followed by the clamp (built once).

    They take ``(theta, g, state, c, lo, hi)``: the unbounded loops' arguments and the
    flat bounds in ``theta``'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.rules.gd import body
    >>> theta, g = np.array([0.5, 0.5, 0.5]), np.array([10.0, -10.0, 1.0])
    >>> c = np.array([0.1, 0.0, 1.0])   # η, λ, sign
    >>> lo, hi = np.zeros(3), np.ones(3)
    >>> bounded_loops(body).serial(theta, g, np.empty((0, 3)), c, lo, hi)
    >>> theta
    array([0. , 1. , 0.4])
    """
    element = njit(inline="always", error_model="numpy")(body)
    serial = njit(cache=True, nogil=True, error_model="numpy")(
        specialise(_serial_bounded_template, body, element, "serial_bounded")
    )
    parallel = njit(cache=True, nogil=True, parallel=True)(
        specialise(_parallel_bounded_template, body, element, "parallel_bounded")
    )
    return BoundedLoops(serial, parallel)


# -- the projected gradient's largest entry (gtol under bounds) -----------------------
# As for inf_norm: a non-negative float orders like its bit pattern read as an unsigned
# integer, so the maximum is an integer max-reduction (vectorised, exact, the same bits
# for any thread count); a non-finite entry contributes the all-ones pattern (> inf).


@intrinsic
def _bits(typingctx, v):  # pragma: no cover - compiled
    """The bit pattern of a float32/float64 as uint32/uint64 (a bitcast, no conversion)."""
    ret = {types.float64: types.uint64, types.float32: types.uint32}.get(v)
    if ret is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(ret))

    return ret(v), codegen


@njit(inline="always")
def _projected_entry(xi, gi, low, high, mask):  # pragma: no cover - compiled
    """The bits of ``|P(x - g) - x|`` for one entry (``x`` inside its box); ``mask`` if
    not finite.

    Computed as ``min(|g|, room)`` with ``room`` the distance to the bound that the
    step ``-g`` moves towards: the value of ``|clip(x - g) - x|`` without the rounding
    of ``x - g`` (an interior entry gives ``|g|`` exactly, so with infinite bounds
    this is ``max|g|``).  A NaN or infinite gradient entry, or a NaN ``x``, cannot
    hide behind a bound: it gives ``mask``, read as "not finite".
    """
    room = xi - low if gi > 0 else high - xi
    a = abs(gi)
    d = a if a <= room else room
    return (_bits(d) & mask) if (a < math.inf) & (d == d) else mask


@njit(cache=True, nogil=True)
def _projected_serial(x, g, lo, hi, sign, mask):  # pragma: no cover - compiled
    m = mask ^ mask
    for i in range(x.size):
        m = max(m, _projected_entry(x[i], g[i] * sign, lo[i], hi[i], mask))
    return m


@njit(cache=True, nogil=True, parallel=True)
def _projected_parallel(x, g, lo, hi, sign, mask):  # pragma: no cover - compiled
    m = mask ^ mask
    for i in prange(x.size):
        m = max(m, _projected_entry(x[i], g[i] * sign, lo[i], hi[i], mask))
    return m


def projected_grad_norm(
    x: np.ndarray, g: np.ndarray, lo: np.ndarray, hi: np.ndarray, sign: float = 1.0
) -> float:
    """``max|P(x - sign·g) - x|`` over flat arrays, ``P`` the projection onto ``[lo, hi]``.

    ``x`` must lie inside the box; all four arrays flat, contiguous, of one dtype.
    NaN if any entry of ``g`` is NaN or ±inf (or of ``x`` is NaN), like
    :func:`numopt.backends.cpu.inf_norm`; with infinite bounds it equals
    ``inf_norm(g)``.  ``sign=-1`` is the ascent step of ``maximize``.

    Examples
    --------
    >>> import numpy as np
    >>> x, lo, hi = np.array([0.0, 0.5, 1.0]), np.zeros(3), np.ones(3)
    >>> projected_grad_norm(x, np.array([3.0, 0.2, -5.0]), lo, hi)  # only 0.2 can move
    0.2
    >>> projected_grad_norm(x, np.array([-3.0, 0.2, 0.0]), lo, hi)  # into the box: 1.0 of 3
    1.0
    >>> projected_grad_norm(x, np.array([np.inf, 0.0, 0.0]), lo, hi)
    nan
    """
    uint, mask, inf_bits = _BITS[x.dtype]
    reduce = _projected_serial if x.size < SERIAL_BELOW else _projected_parallel
    m = int(reduce(x, g, lo, hi, x.dtype.type(sign), mask))
    if m >= inf_bits:
        return math.nan
    return float(np.array(m, uint).view(x.dtype))
