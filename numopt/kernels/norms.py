"""Largest entries with non-finite detection: the stopping tests' measures on the CPU.

``gtol`` tests ``max|g|`` (or, under bounds, the projected gradient's
``max|P(x - g) - x|``, as L-BFGS-B's ``pgtol``), ``xtol`` tests ``max|x - x_prev|``;
each is NaN when an entry is NaN or ±inf, which is how the loop detects a diverging
gradient.

Finite IEEE floats with the sign bit cleared order like their bit patterns read as
unsigned integers, and every non-finite value sorts at or above infinity's pattern.
So each measure is an integer max-reduction over bit patterns: vectorised (no branch
per entry), exact, and the same bits for any thread count.  One template per measure
is compiled twice (:func:`numopt.kernels.cpu.compile_pair`): serial below
:data:`numopt.kernels.cpu.SERIAL_BELOW` entries, ``prange`` above (each compiles on
its first use).  :func:`inf_norm`, :func:`max_abs_diff` and
:func:`projected_grad_norm` choose by size from Python; the compiled loop binds the
one its size runs and reads the result through :func:`value`.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from numopt.kernels.cpu import SERIAL_BELOW, compile_pair


@intrinsic
def _bits(typingctx, v):  # pragma: no cover - compiled
    """The bit pattern of a float32/float64 as uint32/uint64 (a bitcast, no conversion)."""
    ret = {types.float64: types.uint64, types.float32: types.uint32}.get(v)
    if ret is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(ret))

    return ret(v), codegen


@intrinsic
def _float(typingctx, b, a):  # pragma: no cover - compiled
    """The float of ``a``'s dtype whose bit pattern is the low bits of the unsigned
    integer ``b`` (Numba widens integer arithmetic to 64 bits: a float32's pattern
    comes back as a uint64)."""
    ret = getattr(a, "dtype", None)
    if not isinstance(b, types.Integer) or ret not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        value = args[0]
        width = ret.bitwidth
        if value.type.width > width:
            value = builder.trunc(value, ir.IntType(width))
        return builder.bitcast(value, context.get_value_type(ret))

    return ret(b, a), codegen


@njit(inline="always")
def _mask(a):  # pragma: no cover - compiled
    """The bits of a float of ``a``'s dtype less its sign bit."""
    return ~_bits(a.dtype.type(-0.0))


@njit(inline="always")
def value(m, a):  # pragma: no cover - compiled
    """The float64 of a reduction's bit pattern ``m`` over ``a``; NaN if not finite."""
    if m >= _bits(a.dtype.type(math.inf)):
        return math.nan
    return float(_float(m, a))


# -- the templates: prange is range where compiled without parallel=True ---------------
def _max_abs_template(a):  # pragma: no cover - compiled
    mask = _mask(a)
    m = mask ^ mask
    for i in prange(a.size):
        m = max(m, _bits(a[i]) & mask)
    return m


def _max_abs_diff_template(a, b):  # pragma: no cover - compiled
    mask = _mask(a)
    m = mask ^ mask
    for i in prange(a.size):
        m = max(m, _bits(a[i] - b[i]) & mask)
    return m


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


def _projected_template(x, g, lo, hi, sign):  # pragma: no cover - compiled
    mask = _mask(x)
    s = g.dtype.type(sign)
    m = mask ^ mask
    for i in prange(x.size):
        m = max(m, _projected_entry(x[i], g[i] * s, lo[i], hi[i], mask))
    return m


# -- the measures ---------------------------------------------------------------------
#: The reductions (``Loops``: serial and ``prange``), returning a bit pattern for
#: :func:`value`: ``MAX_ABS(a)``, ``MAX_ABS_DIFF(a, b)``, ``PROJECTED(x, g, lo, hi, sign)``.
MAX_ABS = compile_pair(_max_abs_template, "max_abs")
MAX_ABS_DIFF = compile_pair(_max_abs_diff_template, "max_abs_diff")
PROJECTED = compile_pair(_projected_template, "projected")


_UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}
_INF_BITS = {d: int(np.array(np.inf, d).view(u)) for d, u in _UINT.items()}
#: The bits of a float as an unsigned integer and back, by dtype (struct: a fifth of the
#: time of a NumPy array made and viewed, at every minimize call's final check)
_BITS = {
    np.dtype(np.float32): (struct.Struct("<I"), struct.Struct("<f")),
    np.dtype(np.float64): (struct.Struct("<Q"), struct.Struct("<d")),
}


def _host_value(m: int, dtype: np.dtype) -> float:
    """:func:`value` run from Python."""
    if m >= _INF_BITS[dtype]:
        return math.nan
    bits, value = _BITS[dtype]
    return value.unpack(bits.pack(m))[0]


def _pick(loops: Any, n: int) -> Any:
    return loops.serial if n < SERIAL_BELOW else loops.parallel


def inf_norm(a: np.ndarray) -> float:
    """``max|a|`` of a flat contiguous float array; NaN if any entry is NaN or ±inf.

    Examples
    --------
    >>> import numpy as np
    >>> inf_norm(np.array([1.0, -3.0, 2.0])), inf_norm(np.array([1.0, np.inf]))
    (3.0, nan)
    """
    return _host_value(int(_pick(MAX_ABS, a.size)(a)), a.dtype)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a - b|`` of two flat contiguous arrays of one dtype; NaN if not finite.

    Examples
    --------
    >>> import numpy as np
    >>> max_abs_diff(np.array([1.0, 2.0]), np.array([1.5, -1.0]))
    3.0
    """
    return _host_value(int(_pick(MAX_ABS_DIFF, a.size)(a, b)), a.dtype)


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
    m = _pick(PROJECTED, x.size)(x, g, lo, hi, float(sign))
    return _host_value(int(m), x.dtype)
