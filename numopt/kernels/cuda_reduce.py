"""Deterministic sums of squares on the GPU, in the order of :mod:`numopt.kernels.reduce`.

The blocks are the CPU's (:func:`numopt.kernels.reduce.blocks`) and so is the order
inside each: a CUDA block takes one block of the table at a time (grid-stride over
the table); its threads write the first level ``q_j = s_{2j} + s_{2j+1}`` to shared
memory (coalesced reads), fold it by the CPU's halving tree (one
``syncthreads`` per level), and thread 0 writes the block's partial.  The partials
(one float64 per block) are copied to the host and added per segment in block
order by the CPU's own :func:`~numopt.kernels.reduce.fold_rows`.  No atomics: the
same bits for any grid, and the CPU's bits in the simulator.  On a real GPU the
squares are ``dmul_rn`` (never contracted into an FMA with the addition that
follows), so the sums keep the CPU's bits there too; a rule's own arithmetic
(LAMB's ``u_i``) may be contracted, as in every CUDA kernel of numopt.

Like :mod:`numopt.kernels.cuda`, this module imports :mod:`numba.cuda`: numopt
imports it only for device arrays.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import cuda, float64

from numopt.kernels import reduce
from numopt.kernels.cuda import SIMULATOR, THREADS_PER_BLOCK, compile_kernel, max_blocks
from numopt.kernels.generate import clamp, element, grad_reader, variant_name
from numopt.kernels.reduce import HALF, Blocks

if SIMULATOR:  # the simulator's libdevice functions are stubs: a plain product

    def _mul(a, b):
        return a * b

else:  # pragma: no cover - a real GPU
    from numba.cuda import libdevice

    _mul = libdevice.dmul_rn


@cuda.jit(device=True, inline=True)
def _square(v):  # pragma: no cover - compiled
    w = float64(v)
    return _mul(w, w)


@cuda.jit(device=True, inline=True)
def _clamped_square(v, bound):  # pragma: no cover - compiled
    return _square(bound if v > bound else (-bound if v < -bound else v))


@cuda.jit(device=True, inline=True)
def block_tree(q, t):  # pragma: no cover - compiled
    """The CPU's halving tree over ``q[0:HALF]``; every thread of the block calls it."""
    h = HALF // 2
    while h > 0:
        cuda.syncthreads()
        for j in range(t, h, cuda.blockDim.x):
            q[j] = q[j] + q[j + h]
        h //= 2
    cuda.syncthreads()


@cuda.jit(cache=True)
def _sum_squares_blocks(a, bound, start, stop, partial):  # pragma: no cover - compiled
    t = cuda.threadIdx.x
    q = cuda.shared.array(HALF, float64)
    for b in range(cuda.blockIdx.x, start.size, cuda.gridDim.x):
        lo = start[b]
        n = stop[b] - lo
        for j in range(t, HALF, cuda.blockDim.x):
            w0 = _clamped_square(a[lo + 2 * j], bound) if 2 * j < n else 0.0
            w1 = _clamped_square(a[lo + 2 * j + 1], bound) if 2 * j + 1 < n else 0.0
            q[j] = w0 + w1
        block_tree(q, t)
        if t == 0:
            partial[b] = q[0]
        cuda.syncthreads()  # q[0] is read before the next block overwrites it


def _two_sums_template(theta, g, state, c, start, stop, partial):  # pragma: no cover
    t = cuda.threadIdx.x
    qt = cuda.shared.array(HALF, float64)
    qu = cuda.shared.array(HALF, float64)
    for b in range(cuda.blockIdx.x, start.size, cuda.gridDim.x):
        lo = start[b]
        n = stop[b] - lo
        for j in range(t, HALF, cuda.blockDim.x):
            i = lo + 2 * j
            t0 = u0 = t1 = u1 = 0.0
            if 2 * j < n:
                u0 = float64(body(i, theta, g, state, c))  # noqa: F821 - bound by specialise()
                t0 = float64(theta[i])
            if 2 * j + 1 < n:
                u1 = float64(body(i + 1, theta, g, state, c))  # noqa: F821
                t1 = float64(theta[i + 1])
            qt[j] = _mul(t0, t0) + _mul(t1, t1)
            qu[j] = _mul(u0, u0) + _mul(u1, u1)
        block_tree(qt, t)
        block_tree(qu, t)
        if t == 0:
            partial[0, b] = qt[0]
            partial[1, b] = qu[0]
        cuda.syncthreads()


def _segment_template(theta, g, state, c, start, segment, stop, steps):  # pragma: no cover
    for b in range(cuda.blockIdx.x, start.size, cuda.gridDim.x):
        step = steps[segment[b]]
        for i in range(start[b] + cuda.threadIdx.x, stop[b], cuda.blockDim.x):
            body(i, theta, g, state, c, step)  # noqa: F821 - bound by specialise()


def _segment_bounded_template(
    theta, g, state, c, start, segment, stop, steps, lo, hi
):  # pragma: no cover - compiled
    for b in range(cuda.blockIdx.x, start.size, cuda.gridDim.x):
        step = steps[segment[b]]
        for i in range(start[b] + cuda.threadIdx.x, stop[b], cuda.blockDim.x):
            low = lo[i]
            high = hi[i]
            body(i, theta, g, state, c, step)  # noqa: F821 - bound by specialise()
            theta[i] = clamp(theta[i], low, high)


@functools.cache
def _kernel(template: Callable, body: Callable, kind: str, clip_value: bool = False) -> Callable:
    return compile_kernel(
        template,
        variant_name(kind, clip_value=clip_value),
        body=element(body, clip_value, "cuda"),
        grad=grad_reader(clip_value),
        clamp=clamp("cuda"),
    )


@functools.lru_cache(maxsize=64)
def device_blocks(sizes: tuple[int, ...]) -> Blocks:
    """The block table of :func:`numopt.kernels.reduce.blocks`, on the device."""
    host = reduce.blocks(sizes)
    return Blocks(*(cuda.to_device(np.ascontiguousarray(a)) for a in host))


def grid_size(nb: int) -> int:
    """Blocks to launch for `nb` reduction blocks, at most :func:`max_blocks` (grid-stride)."""
    return min(nb, max_blocks())


def folded_sums(partial_device: Any, segments: int, first: np.ndarray) -> np.ndarray:
    """The device partials, copied to the host and added per segment in block order."""
    partial = partial_device.copy_to_host().reshape(-1, first[-1])
    out = np.empty((partial.shape[0], segments))
    reduce.fold_rows(partial, first, out)
    return out


def segment_sum_squares(a: Any, sizes: tuple[int, ...], bound: float = math.inf) -> np.ndarray:
    """Per segment, ``Σ clip(a_i, -bound, bound)²`` of a flat device array (host float64).

    The bits of :func:`numopt.kernels.reduce.segment_sum_squares` on the same data.
    """
    table = reduce.blocks(sizes)
    nb = table.start.size
    out = np.zeros(len(sizes))
    if nb:
        d = device_blocks(sizes)
        partial = cuda.device_array(nb, np.float64)
        dtype = np.dtype(a.dtype).type
        _sum_squares_blocks[grid_size(nb), THREADS_PER_BLOCK](
            a, dtype(bound), d.start, d.stop, partial
        )
        out = folded_sums(partial, len(sizes), table.first)[0]
    return out


def sum_squares(a: Any, bound: float = math.inf) -> float:
    """``Σ clip(a_i, -bound, bound)²`` of a flat device array, as a float (see above)."""
    return float(segment_sum_squares(a, (a.size,), bound)[0])


def two_sums(
    body: Callable, theta, g, state, c: tuple, sizes: tuple[int, ...], clip_value: bool = False
) -> np.ndarray:
    """Pass 1 of a layer-wise rule on the device: ``body`` per element, two sums of squares.

    As :func:`numopt.kernels.reduce.two_sum_loops`; returns the host array of shape
    ``(2, segments)``.
    """
    table = reduce.blocks(sizes)
    nb = table.start.size
    if not nb:
        return np.zeros((2, len(sizes)))
    d = device_blocks(sizes)
    partial = cuda.device_array((2, nb), np.float64)
    kernel = _kernel(_two_sums_template, body, "cuda_two_sums", clip_value)
    kernel[grid_size(nb), THREADS_PER_BLOCK](theta, g, state, c, d.start, d.stop, partial)
    return folded_sums(partial, len(sizes), table.first)


def segments(
    body: Callable,
    theta,
    g,
    state,
    c: tuple,
    sizes: tuple[int, ...],
    steps: np.ndarray,
    box=None,
    clip_value: bool = False,
) -> None:
    """Pass 2 on the device: ``body(i, ..., steps[segment of i])`` for every element.

    ``box``: flat device bounds ``(lo, hi)`` to clamp ``theta`` into, or None;
    ``clip_value``: the body's ``grad`` clips (as in pass 1).
    """
    table = reduce.blocks(sizes)
    nb = table.start.size
    if not nb:
        return
    d = device_blocks(sizes)
    d_steps = cuda.to_device(steps)
    threads = THREADS_PER_BLOCK
    if box is None:
        kernel = _kernel(_segment_template, body, "cuda_segments", clip_value)
        kernel[grid_size(nb), threads](theta, g, state, c, d.start, d.segment, d.stop, d_steps)
    else:
        kernel = _kernel(_segment_bounded_template, body, "cuda_segments_bounded", clip_value)
        kernel[grid_size(nb), threads](
            theta, g, state, c, d.start, d.segment, d.stop, d_steps, box[0], box[1]
        )
