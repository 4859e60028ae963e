"""Device-array kernels for ``minimize`` on the GPU: max-norms, projected norms, fill,
cast-copy, clip.

``minimize`` keeps ``x``, the gradient, the best point and ``x_prev`` on the GPU
(:mod:`numopt.problem.placement`); its stopping tests need ``max|g|`` and ``max|x - x_prev|``
with non-finite detection, like :func:`numopt.kernels.norms.inf_norm`, without
copying the arrays to the host.  :class:`Norms` computes them in one launch: each
block folds its grid-stride share of ``|a[i]|`` (``+inf`` for a NaN or ±inf entry)
into one partial by a tree in shared memory; the partials (one float64 per block,
at most :func:`numopt.kernels.cuda.max_blocks`) come back to the host, which takes
their maximum and turns ``inf`` into NaN.

Maximum is exact and order-free, so the result has the same bits for any grid, on
any device, and equals the CPU's ``inf_norm``: no atomics, no float sums.

Like :mod:`numopt.kernels.cuda`, this module imports :mod:`numba.cuda`, so it
is imported only for a run on the GPU.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda, float64

from numopt.kernels.cuda import SIMULATOR, THREADS_PER_BLOCK, launch_config, max_blocks
from numopt.kernels.generate import clamp

_clamp = clamp("cuda")  # np.clip's, as every bounded kernel

#: Threads per block of the reductions (a power of two; a compile-time constant of
#: their shared-memory tree).  The simulator runs each thread as a Python thread and
#: each barrier costs it milliseconds, so it gets 8 (3 barriers instead of 8).
REDUCE_THREADS = 8 if SIMULATOR else THREADS_PER_BLOCK


@cuda.jit(device=True, inline=True)
def _magnitude(v):  # pragma: no cover - compiled
    v = abs(v)
    return v if math.isfinite(v) else math.inf


@cuda.jit(device=True, inline=True)
def _block_fold(m, out):  # pragma: no cover - compiled
    """Fold each thread's ``m`` into ``out[blockIdx.x]`` (tree in shared memory)."""
    shared = cuda.shared.array(REDUCE_THREADS, float64)
    tid = cuda.threadIdx.x
    shared[tid] = m
    s = REDUCE_THREADS // 2
    while s > 0:
        cuda.syncthreads()
        if tid < s:
            shared[tid] = max(shared[tid], shared[tid + s])
        s //= 2
    if tid == 0:
        out[cuda.blockIdx.x] = shared[0]


@cuda.jit(cache=True)
def _absmax_blocks(a, out):  # pragma: no cover - compiled
    m = 0.0
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        m = max(m, float64(_magnitude(a[i])))
    _block_fold(m, out)


@cuda.jit(cache=True)
def _absdiffmax_blocks(a, b, out):  # pragma: no cover - compiled
    m = 0.0
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        m = max(m, float64(_magnitude(a[i] - b[i])))  # the difference in a's dtype
    _block_fold(m, out)


@cuda.jit(cache=True)
def _fill(a, value):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        a[i] = value


@cuda.jit(cache=True)
def _cast(dst, src):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), dst.size, cuda.gridsize(1)):
        dst[i] = src[i]


class Norms:
    """``max|a|`` and ``max|a - b|`` of flat device arrays, with their scratch buffers.

    One instance per run (its buffers are reused at every call; do not share it
    between threads).  Both return NaN when an entry (or a difference) is NaN or
    ±inf, as :func:`numopt.kernels.norms.inf_norm` does.
    """

    def __init__(self) -> None:
        self._partials = cuda.device_array(max_blocks(), np.float64)
        self._host = cuda.pinned_array(max_blocks(), np.float64)

    def absmax(self, a: Any) -> float:
        """``max|a|``; NaN if any entry is NaN or ±inf; 0 for an empty array."""
        blocks = _reduce_blocks(a.size)
        if not blocks:
            return 0.0
        _absmax_blocks[blocks, REDUCE_THREADS](a, self._partials)
        return self._fold(blocks)

    def absdiffmax(self, a: Any, b: Any) -> float:
        """``max|a - b|`` (the difference in the arrays' dtype); NaN if not finite."""
        blocks = _reduce_blocks(a.size)
        if not blocks:
            return 0.0
        _absdiffmax_blocks[blocks, REDUCE_THREADS](a, b, self._partials)
        return self._fold(blocks)

    def _fold(self, blocks: int) -> float:
        partials = self._partials[:blocks].copy_to_host(self._host[:blocks])
        m = float(partials.max())
        return math.nan if m == math.inf else m


def _reduce_blocks(n: int) -> int:
    return min(math.ceil(n / REDUCE_THREADS), max_blocks()) if n > 0 else 0


def empty(n: int, dtype: np.dtype):
    """An uninitialised flat device array."""
    return cuda.device_array(n, dtype)


def full(n: int, dtype: np.dtype, value: float):
    """A flat device array filled with ``value`` on the device (no host buffer)."""
    a = cuda.device_array(n, dtype)
    blocks, threads = launch_config(n)
    if blocks:
        _fill[blocks, threads](a, np.dtype(dtype).type(value))
    return a


def cast(dst: Any, src: Any) -> None:
    """``dst[:] = src`` for flat device arrays of different dtypes (converted per element)."""
    blocks, threads = launch_config(dst.size)
    if blocks:
        _cast[blocks, threads](dst, src)


# -- the projected gradient's largest entry, reduced on the device --------------------
@cuda.jit(device=True, inline=True)
def _projected_entry(xi, gi, low, high):  # pragma: no cover - compiled
    """``|P(x - g) - x|`` of one entry as float64, ``inf`` when not finite (see
    :func:`numopt.kernels.norms._projected_entry`)."""
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
        x[i] = _clamp(v, lo[i], hi[i])


class ProjectedNorm:
    """``max|P(x - sign·g) - x|`` of flat device arrays, with its scratch buffers.

    The device twin of :func:`numopt.kernels.norms.projected_grad_norm`: one
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
