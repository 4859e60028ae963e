"""CUDA kernels with box bounds: the bounded grid-stride step, the projected-gradient
norm and the clip of a starting point, on flat device arrays.

The bounded kernel runs a rule's element body and clamps ``theta[i]`` to
``[lo[i], hi[i]]`` in the same iteration, exactly as
:mod:`numopt.backends.cpu_bounds` does on the CPU (``np.clip``'s choice on ties,
NaN kept).  The unbounded kernel of :mod:`numopt.backends.cuda` is untouched.

Like :mod:`numopt.backends.cuda`, this module imports :mod:`numba.cuda`: numopt
imports it only for device arrays with bounds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import cuda, float64

from numopt.backends._specialise import specialise
from numopt.backends.cuda import launch_config, max_blocks
from numopt.backends.cuda_arrays import REDUCE_THREADS, _block_fold, _reduce_blocks


def _grid_stride_bounded_template(theta, g, state, c, lo, hi):  # pragma: no cover - compiled
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, theta.size, stride):
        low = lo[i]
        high = hi[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()
        v = theta[i]
        if v <= low:  # np.clip's choice on a tie; NaN compares false: kept
            v = low
        if v >= high:
            v = high
        theta[i] = v


@functools.cache
def cuda_bounded_kernel(body: Callable) -> Callable:
    """The compiled bounded grid-stride kernel over ``body`` (built once per body)."""
    element = cuda.jit(device=True, inline=True)(body)
    return cuda.jit(cache=True)(
        specialise(_grid_stride_bounded_template, body, element, "cuda_bounded")
    )


def launch_bounded(body: Callable, theta, g, state, c: tuple, lo, hi) -> None:
    """Run ``body`` then the clamp to ``[lo, hi]`` over every element of ``theta``."""
    blocks, threads = launch_config(theta.size)
    if blocks:
        cuda_bounded_kernel(body)[blocks, threads](theta, g, state, c, lo, hi)


# -- the projected gradient's largest entry, reduced on the device --------------------
@cuda.jit(device=True, inline=True)
def _projected_entry(xi, gi, low, high):  # pragma: no cover - compiled
    """``|P(x - g) - x|`` of one entry as float64, ``inf`` when not finite (see
    :func:`numopt.backends.cpu_bounds._projected_entry`)."""
    room = xi - low if gi > 0 else high - xi
    a = abs(gi)
    d = a if a <= room else room
    if a < math.inf and d == d:
        return float64(d)
    return math.inf


@cuda.jit(cache=True)
def _projected_blocks(x, g, lo, hi, sign, out):  # pragma: no cover - compiled
    m = 0.0
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        m = max(m, _projected_entry(x[i], g[i] * sign, lo[i], hi[i]))
    _block_fold(m, out)


@cuda.jit(cache=True)
def _clip(x, lo, hi, moved):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        if v < lo[i] or v > hi[i]:
            moved[0] = 1  # every writer writes the same value: no atomics needed
        if v <= lo[i]:
            v = lo[i]
        if v >= hi[i]:
            v = hi[i]
        x[i] = v


class ProjectedNorm:
    """``max|P(x - sign·g) - x|`` of flat device arrays, with its scratch buffers.

    The device twin of :func:`numopt.backends.cpu_bounds.projected_grad_norm`: one
    launch, one float64 partial per block back to the host, NaN when an entry is not
    finite.  One instance per run (its buffers are reused).
    """

    def __init__(self) -> None:
        self._partials = cuda.device_array(max_blocks(), np.float64)
        self._host = cuda.pinned_array(max_blocks(), np.float64)

    def __call__(self, x: Any, g: Any, lo: Any, hi: Any, sign: float = 1.0) -> float:
        blocks = _reduce_blocks(x.size)
        if not blocks:
            return 0.0
        s = np.dtype(x.dtype).type(sign)
        _projected_blocks[blocks, REDUCE_THREADS](x, g, lo, hi, s, self._partials)
        partials = self._partials[:blocks].copy_to_host(self._host[:blocks])
        m = float(partials.max())
        return math.nan if m == math.inf else m


def clip(x: Any, lo: Any, hi: Any) -> bool:
    """Clamp the flat device array ``x`` to ``[lo, hi]`` in place; whether any entry moved."""
    moved = cuda.to_device(np.zeros(1, np.int32))
    blocks, threads = launch_config(x.size)
    if blocks:
        _clip[blocks, threads](x, lo, hi, moved)
    return bool(moved.copy_to_host()[0])
