"""CPU loops: a serial loop and a ``prange`` loop over a rule's element body.

Both are fused: one pass over memory, in place, no temporaries.  They compile
lazily on first use for the dtype asked (``cache=True`` keeps the machine code on
disk; see :mod:`numopt.backends._specialise` for how each rule gets its own
entry).  ``error_model="numpy"`` lets LLVM vectorise divisions (the default
``"python"`` model adds a zero-division branch per element); it also matches the
NumPy reference, where ``x / 0`` is ``inf``, not an exception.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from numopt.backends._specialise import specialise

#: Arrays with fewer elements than this run the serial loop under
#: ``backend="auto"``.  Measured with ``python benchmarks/switchover.py`` (Adam,
#: median of 200 calls, interleaved; 2-core AMD EPYC (Zen 5), Numba 0.68, 2
#: threads, 2026-11-25): the parallel loop's fork/join costs about 1.1 µs, and it
#: first beats the serial loop at 2**12 elements in float64 (2.73 vs 2.82 µs) and
#: 2**14 in float32 (3.35 vs 3.46 µs).  At 2**13 the choice costs at most 0.5 µs
#: either way (float32: 1.95 serial vs 2.45 parallel; float64: 5.34 vs 3.98).
#: Machines with more cores cross over later (larger fork/join cost) but gain
#: more above it; re-run the script there.
SERIAL_BELOW = 2**13


def _serial_template(theta, g, state, c):  # pragma: no cover - compiled
    for i in range(theta.size):
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()


def _parallel_template(theta, g, state, c):  # pragma: no cover - compiled
    for i in prange(theta.size):
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()


class CPULoops(NamedTuple):
    """The two compiled CPU loops of one element body."""

    serial: Callable
    parallel: Callable


@functools.cache
def cpu_loops(body: Callable) -> CPULoops:
    """Compiled serial and parallel loops over ``body`` (built once per body)."""
    element = njit(inline="always", error_model="numpy")(body)
    serial = njit(cache=True, nogil=True, error_model="numpy")(
        specialise(_serial_template, body, element, "serial")
    )
    parallel = njit(cache=True, nogil=True, parallel=True)(
        specialise(_parallel_template, body, element, "parallel")
    )
    return CPULoops(serial, parallel)


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
