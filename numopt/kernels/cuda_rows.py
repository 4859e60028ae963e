"""Row kernels of ``minimize_many`` on the GPU: per-problem norms and row copies.

The vectorised many-problems loop (:mod:`numopt.many.vectorized`) keeps every
problem's point, gradient, best point and final values as the rows of ``(M, n)``
device arrays; its tests need one number per running problem (``max|g_i|``, the
projected gradient's largest entry, ``max|x_i - x_prev_i|``) and it copies or
fills whole rows when a problem stops or improves.  Each kernel here works on the
rows listed in ``rows`` (int64, on the device), in grid-stride loops: one thread per
listed row for the norms (a problem has few variables; its row is read in order), one thread per
element for the copies.  The norms are maxima, exact and order-free, so they equal
the host's bit for bit; a NaN or ±inf entry makes the row's norm NaN, as on the host.

Like :mod:`numopt.kernels.cuda`, this module imports :mod:`numba.cuda`: it is
imported only for a run on the GPU.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda, float64

from numopt.kernels.cuda import launch_config
from numopt.kernels.cuda_arrays import _magnitude, _projected_entry


@cuda.jit(cache=True)
def _absmax(a, rows, out):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), rows.size, cuda.gridsize(1)):
        r = rows[i]
        m = 0.0
        for j in range(a.shape[1]):
            m = max(m, float64(_magnitude(a[r, j])))
        out[i] = m


@cuda.jit(cache=True)
def _absdiffmax(a, b, rows, out):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), rows.size, cuda.gridsize(1)):
        r = rows[i]
        m = 0.0
        for j in range(a.shape[1]):
            m = max(m, float64(_magnitude(a[r, j] - b[r, j])))  # in a's dtype
        out[i] = m


@cuda.jit(cache=True)
def _projected(x, g, lo, hi, sign, rows, out):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), rows.size, cuda.gridsize(1)):
        r = rows[i]
        m = 0.0
        for j in range(x.shape[1]):
            m = max(m, _projected_entry(x[r, j], g[r, j] * sign, lo[r, j], hi[r, j]))
        out[i] = m


@cuda.jit(cache=True)
def _copy(dst, src, rows):  # pragma: no cover - compiled
    n = dst.shape[1]
    for k in range(cuda.grid(1), rows.size * n, cuda.gridsize(1)):
        r = rows[k // n]
        j = k % n
        dst[r, j] = src[r, j]


@cuda.jit(cache=True)
def _fill(dst, rows, value):  # pragma: no cover - compiled
    n = dst.shape[1]
    for k in range(cuda.grid(1), rows.size * n, cuda.gridsize(1)):
        dst[rows[k // n], k % n] = value


def index(rows: np.ndarray) -> Any:
    """The row numbers ``rows`` (host integers) as an int64 device array."""
    return cuda.to_device(np.ascontiguousarray(rows, np.int64))


def _norms(kernel: Any, k: int, *args: Any) -> np.ndarray:
    """Launch a norm kernel over ``k`` rows; its float64 results on the host, NaN for ±inf."""
    out = cuda.device_array(k, np.float64)
    blocks, threads = launch_config(k)
    if blocks:
        kernel[blocks, threads](*args, out)
    m = out.copy_to_host()
    m[m == math.inf] = np.nan
    return m


def absmax(a: Any, rows: Any) -> np.ndarray:
    """``max_j |a[r, j]|`` for each row ``r`` of the device index ``rows`` (NaN where
    the row holds a NaN or ±inf), on the host."""
    return _norms(_absmax, rows.size, a, rows)


def absdiffmax(a: Any, b: Any, rows: Any) -> np.ndarray:
    """``max_j |a[r, j] - b[r, j]|`` per listed row (the difference in ``a``'s dtype)."""
    return _norms(_absdiffmax, rows.size, a, b, rows)


def projected(x: Any, g: Any, lo: Any, hi: Any, sign: float, rows: Any) -> np.ndarray:
    """``max_j |P(x - sign·g) - x|`` per listed row, as the host's projected norm."""
    s = np.dtype(x.dtype).type(sign)
    return _norms(_projected, rows.size, x, g, lo, hi, s, rows)


def copy(dst: Any, src: Any, rows: Any) -> None:
    """``dst[r] = src[r]`` for each listed row (device arrays of one shape)."""
    blocks, threads = launch_config(rows.size * dst.shape[1])
    if blocks:
        _copy[blocks, threads](dst, src, rows)


def fill(dst: Any, rows: Any, value: float) -> None:
    """``dst[r] = value`` for each listed row."""
    blocks, threads = launch_config(rows.size * dst.shape[1])
    if blocks:
        _fill[blocks, threads](dst, rows, np.dtype(dst.dtype).type(value))
