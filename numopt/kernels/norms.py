"""Largest entries with non-finite detection: the stopping tests' measures on the CPU.

``gtol`` tests ``max|g|`` (or, under bounds, the projected gradient's
``max|P(x - g) - x|``, as L-BFGS-B's ``pgtol``), ``xtol`` tests ``max|x - x_prev|``;
each is NaN when an entry is NaN or ±inf, which is how the loop detects a diverging
gradient.  Two forms, pinned to the same values by the tests:

* :func:`inf_norm` and :func:`projected_grad_norm` reduce *bit patterns* with an
  integer max (vectorised, exact, the same bits for any thread count; serial below
  :data:`numopt.kernels.cpu.SERIAL_BELOW` elements, ``prange`` above), for the
  stateful API and the loop run from Python;
* :func:`max_abs`, :func:`projected_abs` and :func:`max_abs_diff` are float-valued
  serial loops the compiled loop inlines (it cannot take the bit patterns' view).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from numopt.kernels.cpu import SERIAL_BELOW

# -- the gradient's largest entry (gtol), non-finite detection included ---------------
# Finite IEEE floats with the sign bit cleared order like their bit patterns read as
# unsigned integers, and every non-finite value sorts above infinity's pattern.  So
# max|g| is an integer max-reduction (vectorised, exact, the same bits for any
# thread count) over the bits with the sign masked off.
_BITS = {
    np.dtype(np.float32): (np.uint32, np.uint32(0x7FFFFFFF), 0x7F800000),
    np.dtype(np.float64): (np.uint64, np.uint64(0x7FFFFFFFFFFFFFFF), 0x7FF0000000000000),
}


@njit(cache=True, nogil=True)
def _max_bits_serial(bits, mask):  # pragma: no cover - compiled
    m = bits.dtype.type(0)
    for i in range(bits.size):
        m = max(m, bits[i] & mask)
    return m


@njit(cache=True, nogil=True, parallel=True)
def _max_bits_parallel(bits, mask):  # pragma: no cover - compiled
    m = bits.dtype.type(0)
    for i in prange(bits.size):
        m = max(m, bits[i] & mask)
    return m


def inf_norm(a: np.ndarray) -> float:
    """``max|a|`` of a flat contiguous float array; NaN if any entry is NaN or ±inf.

    Examples
    --------
    >>> import numpy as np
    >>> inf_norm(np.array([1.0, -3.0, 2.0])), inf_norm(np.array([1.0, np.inf]))
    (3.0, nan)
    """
    uint, mask, inf_bits = _BITS[a.dtype]
    bits = a.view(uint)
    reduce = _max_bits_serial if a.size < SERIAL_BELOW else _max_bits_parallel
    m = int(reduce(bits, mask))
    if m >= inf_bits:
        return math.nan
    return float(np.array(m, uint).view(a.dtype))


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
    :func:`inf_norm`; with infinite bounds it equals
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


# -- the compiled loop's float-valued forms ------------------------------------------
@njit(cache=True, nogil=True)
def max_abs(a):  # pragma: no cover - compiled
    """``max|a|`` as float64, NaN when an entry is NaN or ±inf (as ``inf_norm``)."""
    m = a.dtype.type(0)
    for i in range(a.size):
        v = abs(a[i])
        if not math.isfinite(v):
            return math.nan
        if v > m:
            m = v
    return float(m)


@njit(cache=True, nogil=True)
def projected_abs(x, g, lo, hi, sign):  # pragma: no cover - compiled
    """``max|P(x - sign·g) - x|`` (float64, NaN for non-finite), as ``projected_grad_norm``.

    The same per-entry value as :func:`numopt.kernels.norms._projected_entry`
    (``min(|g|, room to the bound)``); its maximum as a float equals that function's
    bit-pattern maximum.
    """
    s = g.dtype.type(sign)
    m = x.dtype.type(0)
    for i in range(x.size):
        gi = g[i] * s
        xi = x[i]
        room = xi - lo[i] if gi > 0 else hi[i] - xi
        a = abs(gi)
        d = a if a <= room else room
        if not ((a < math.inf) and (d == d)):
            return math.nan
        if d > m:
            m = d
    return float(m)


@njit(cache=True, nogil=True)
def max_abs_diff(a, b):  # pragma: no cover - compiled
    """``max|a - b|`` (float64, NaN for non-finite), as ``inf_norm(a - b)``."""
    m = a.dtype.type(0)
    for i in range(a.size):
        v = abs(a[i] - b[i])
        if not math.isfinite(v):
            return math.nan
        if v > m:
            m = v
    return float(m)
