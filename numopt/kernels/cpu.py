"""CPU loops over a rule's element body: serial and ``prange``, plain and bounded.

Both are fused: one pass over memory, in place, no temporaries.  One template per
variant serves the serial and the parallel loop: ``prange`` is ``range`` in a
function compiled without ``parallel=True``.  They compile lazily on first use for
the dtype asked (``cache=True`` keeps the machine code on disk; see
:mod:`numopt.kernels.generate` for how each rule gets its own entry).
``error_model="numpy"`` lets LLVM vectorise divisions (the default ``"python"``
model adds a zero-division branch per element); it also matches the NumPy
reference, where ``x / 0`` is ``inf``, not an exception.

The bounded variant clamps ``theta[i]`` to ``[lo[i], hi[i]]`` in the same iteration
as the step: no second pass, two more reads per element.  The *keeping* variant
writes ``theta[i]`` as it was before the step into ``best[i]``: ``minimize`` keeps
its best point that way on the iterations that improve (one more write stream
instead of a copy's read and write).  The clamp
(:func:`numopt.kernels.element.clamp`) is NumPy's ``np.clip`` element for element,
so a bounded step equals the unbounded step followed by ``np.clip`` bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

from numba import njit, prange

from numopt.kernels.generate import clamp, element, grad_reader, specialise, variant_name

#: Arrays with fewer elements than this run the serial loop under
#: ``backend="auto"``: below it the parallel loop's fork/join (a few µs) costs more
#: than it saves.  Measured by ``python benchmarks/switchover.py`` (Adam, median of
#: interleaved calls; ``benchmarks/results/switchover-*.txt``): on 2 cores the parallel
#: loop wins from about 2**12-2**13 elements in float64 and 2**14-2**15 in float32, and
#: at 2**13 the choice costs little either way.  Machines with more cores cross over
#: later (larger fork/join cost) but gain more above it; re-run the script there.
SERIAL_BELOW = 2**13


def plain_template(theta, g, state, c):  # pragma: no cover - compiled
    for i in prange(theta.size):
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()


def bounded_template(theta, g, state, c, lo, hi):  # pragma: no cover - compiled
    for i in prange(theta.size):
        low = lo[i]  # read before the body's stores: they cannot alias theta or state
        high = hi[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()
        theta[i] = clamp(theta[i], low, high)


def keep_template(theta, g, state, c, best):  # pragma: no cover - compiled
    for i in prange(theta.size):
        best[i] = theta[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()


def bounded_keep_template(theta, g, state, c, lo, hi, best):  # pragma: no cover - compiled
    for i in prange(theta.size):
        low = lo[i]
        high = hi[i]
        best[i] = theta[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()
        theta[i] = clamp(theta[i], low, high)


#: The templates by (bounded, keep).
TEMPLATES = {
    (False, False): plain_template,
    (True, False): bounded_template,
    (False, True): keep_template,
    (True, True): bounded_keep_template,
}


class Loops(NamedTuple):
    """A serial and a ``prange`` loop of one body and variant (the same bits)."""

    serial: Callable
    parallel: Callable


def compile_pair(template: Callable, kind: str, **bound: Callable) -> Loops:
    """The serial and the parallel compilation of one template (see :func:`specialise`).

    Two qualified names: Numba's disk cache keys a function by its name and
    signature, not by its compile options.
    """
    serial = specialise(template, f"{kind}_serial", **bound)
    parallel = specialise(template, f"{kind}_parallel", **bound)
    return Loops(
        njit(cache=True, nogil=True, error_model="numpy")(serial),
        njit(cache=True, nogil=True, parallel=True, error_model="numpy")(parallel),
    )


def cpu_loops(
    body: Callable, clip_value: bool = False, bounded: bool = False, keep: bool = False
) -> Loops:
    """The compiled loops of ``body`` (built once per body and variant).

    They take ``(theta, g, state, c)``, then ``lo, hi`` (flat bounds in ``theta``'s
    dtype) when ``bounded``, then ``best`` (where ``theta`` is written before the
    step) when ``keep``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.rules.gd import body
    >>> theta, g = np.array([0.5, 0.5, 0.5]), np.array([10.0, -10.0, 1.0])
    >>> c = np.array([0.1, 0.0, np.inf, 1.0])   # η, λ, clip_value, sign
    >>> lo, hi = np.zeros(3), np.ones(3)
    >>> cpu_loops(body, bounded=True).serial(theta, g, np.empty((0, 3)), c, lo, hi)
    >>> theta
    array([0. , 1. , 0.4])
    """
    return _cpu_loops(body, bool(clip_value), bool(bounded), bool(keep))


@functools.cache
def _cpu_loops(body: Callable, clip_value: bool, bounded: bool, keep: bool) -> Loops:
    return compile_pair(
        TEMPLATES[bounded, keep],
        variant_name("cpu", clip_value=clip_value, bounded=bounded, keep=keep),
        body=element(body, clip_value, "cpu"),
        grad=grad_reader(clip_value),
        clamp=clamp("cpu"),
    )
