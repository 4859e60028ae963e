"""Deterministic sums of squares on the CPU: the norms of gradient clipping and LAMB.

A float sum depends on the order of its additions, and a parallel loop that lets
each thread sum "its" share changes that order with the thread count.  Every sum
here follows one order instead, fixed by the data's length alone:

* the array (or each *segment* of it: a layer of LAMB) is cut into blocks of
  :data:`BLOCK` consecutive elements, starting at the segment's first element
  (the last block of a segment may be shorter: it is padded with zeros, which
  change no sum);
* a block's squares ``s_k`` are added in neighbouring pairs,
  ``q_j = s_{2j} + s_{2j+1}`` (``j < HALF = BLOCK/2``), then folded by a fixed
  halving tree: ``q_j ← q_j + q_{j+h}`` for ``j < h``, ``h = HALF/2, ..., 2, 1``;
  ``q_0`` is the block's partial sum (a pairwise sum: error ~ log2(BLOCK)
  roundings; each level is a vectorised loop in L1 on the CPU, a step of a
  shared-memory tree on the GPU.  Pairing ``s_j`` with ``s_{j+HALF}`` instead ran at
  half the speed: two streams 4 KiB apart alias in the CPU's load queue);
* a segment's partials are added in block order, starting from 0.

Squares are taken and summed in float64 for both dtypes (a float32 square is then
exact).  Blocks are independent, so the serial and the ``prange`` loop, and the
CUDA kernels of :mod:`numopt.kernels.cuda_reduce`, give the same bits for any
thread count or grid; :func:`sum_squares_numpy` is the same order written in
NumPy (the rules' references use it).  Relative error: at most about
``(log2(BLOCK) + n/BLOCK)·2⁻⁵³`` (tested against :func:`math.fsum`).

Beside the plain sums, :func:`two_sum_loops` and :func:`segment_loops` compile
the two passes of a rule such as LAMB from its element functions, on the same
blocks: pass 1 updates the state and sums ``θ_i²`` and ``u_i²`` (``u_i`` returned by
the element function), pass 2 applies a per-segment step.

The loops compile lazily, ``cache=True``; nothing is compiled at import.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from numba import config, get_thread_id, njit, prange

from numopt.kernels.cpu import SERIAL_BELOW, Loops, compile_pair
from numopt.kernels.generate import clamp, element, grad_reader, variant_name

#: Elements per block: the unit of work whose partial sum does not depend on threads.
BLOCK = 2048
#: Entries of a block's tree after its first level (neighbouring elements paired).
HALF = BLOCK // 2
#: Blocks per ``prange`` iteration (how work is handed to threads; no effect on bits).
CHUNK = 8


class Blocks(NamedTuple):
    """The blocks of a flat array cut into segments (all int64 arrays, read-only)."""

    start: np.ndarray  # first element of each block
    stop: np.ndarray  # one past its last element
    segment: np.ndarray  # the segment each block belongs to
    first: np.ndarray  # (segments + 1,): segment s owns blocks first[s]:first[s + 1]


@functools.lru_cache(maxsize=256)
def blocks(sizes: tuple[int, ...]) -> Blocks:
    """The block table of a flat array made of segments of ``sizes`` elements.

    Examples
    --------
    >>> b = blocks((3000, 10))
    >>> b.start.tolist(), b.stop.tolist(), b.segment.tolist(), b.first.tolist()
    ([0, 2048, 3000], [2048, 3000, 3010], [0, 0, 1], [0, 2, 3])
    """
    size = np.asarray(sizes, np.int64).reshape(-1)
    offsets = np.concatenate(([0], np.cumsum(size)))
    counts = -(-size // BLOCK)  # ceil
    first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    segment = np.repeat(np.arange(size.size, dtype=np.int64), counts)
    local = np.arange(first[-1], dtype=np.int64) - first[segment]
    start = offsets[segment] + local * BLOCK
    stop = np.minimum(start + BLOCK, offsets[segment + 1])
    table = Blocks(start, stop.astype(np.int64), segment, first)
    for a in table:
        a.flags.writeable = False
    return table


# -- compiled pieces -----------------------------------------------------------------------
@njit(inline="always")
def square(v, bound):  # pragma: no cover - compiled
    """``v²`` in float64 (``bound`` unused: the signature of :func:`clamped_square`)."""
    w = np.float64(v)
    return w * w


@njit(inline="always")
def clamped_square(v, bound):  # pragma: no cover - compiled
    """``clip(v, -bound, bound)²`` in float64, clamped in ``v``'s dtype (NaN stays NaN)."""
    w = np.float64(bound if v > bound else (-bound if v < -bound else v))
    return w * w


@njit(inline="always")
def pairs(src, n, q):  # pragma: no cover - compiled
    """The first level: ``q[j] = src[2j]² + src[2j+1]²`` over ``src[0:n]``, zero-padded."""
    if n == BLOCK:
        for j in range(HALF):
            w0 = np.float64(src[2 * j])
            w1 = np.float64(src[2 * j + 1])
            q[j] = w0 * w0 + w1 * w1
    else:  # the last block of a segment
        for j in range(HALF):
            w0 = np.float64(src[2 * j]) if 2 * j < n else 0.0
            w1 = np.float64(src[2 * j + 1]) if 2 * j + 1 < n else 0.0
            q[j] = w0 * w0 + w1 * w1


@njit(inline="always")
def tree(q):  # pragma: no cover - compiled
    """Fold ``q[0:HALF]`` (the first level, done) by the halving tree; returns ``q[0]``."""
    h = HALF // 2
    while h > 0:
        for j in range(h):
            q[j] = q[j] + q[j + h]
        h //= 2
    return q[0]


@njit(inline="always")
def fold(partial, first, out):  # pragma: no cover - compiled
    """``out[s]``: the sum of segment ``s``'s block partials, in block order from 0."""
    for s in range(first.size - 1):
        total = 0.0
        for b in range(first[s], first[s + 1]):
            total += partial[b]
        out[s] = total


@njit(cache=True, nogil=True)
def fold_rows(partial, first, out):  # pragma: no cover - compiled
    """:func:`fold` for each row of ``partial`` into the same row of ``out`` (the
    CUDA reductions' host side)."""
    for row in range(partial.shape[0]):
        fold(partial[row], first, out[row])


def _sum_squares_template(a, bound, start, stop, first, out):  # pragma: no cover - compiled
    # body(v, bound) -> v² or clip(v)² in float64 (square / clamped_square)
    nb = start.size
    partial = np.empty(nb)
    for chunk in prange((nb + CHUNK - 1) // CHUNK):
        q = np.empty(HALF)
        for b in range(chunk * CHUNK, min(nb, (chunk + 1) * CHUNK)):
            # a view: its indices j are provably >= 0, so no negative-index wraparound
            # and the loops vectorise (a[lo + j] did not)
            blk = a[start[b] : stop[b]]
            n = blk.size
            if n == BLOCK:  # the first level, as pairs() with body() for the square
                for j in range(HALF):
                    q[j] = body(blk[2 * j], bound) + body(blk[2 * j + 1], bound)  # noqa: F821
            else:  # the last block of a segment: padded with zeros
                for j in range(HALF):
                    w0 = body(blk[2 * j], bound) if 2 * j < n else 0.0  # noqa: F821
                    w1 = body(blk[2 * j + 1], bound) if 2 * j + 1 < n else 0.0  # noqa: F821
                    q[j] = w0 + w1
            partial[b] = tree(q)
    fold(partial, first, out)


@functools.cache
def _sum_squares_loops(body: Callable) -> Loops:
    """The loops of :func:`segment_sum_squares` over ``square`` or ``clamped_square``."""
    return _compile(_sum_squares_template, "sum_squares", body=body)


def _use_parallel(parallel: bool | None, n: int) -> bool:
    return n >= SERIAL_BELOW if parallel is None else bool(parallel)


def segment_sum_squares(
    a: np.ndarray,
    sizes: Sequence[int],
    *,
    bound: float = math.inf,
    parallel: bool | None = None,
) -> np.ndarray:
    """Per segment, ``Σ clip(a_i, -bound, bound)²`` in float64, in the fixed order.

    Parameters
    ----------
    a : numpy.ndarray
        Flat, contiguous, float32 or float64.
    sizes : sequence of int
        The lengths of the consecutive segments; they sum to ``a.size``.
    bound : float, default inf
        Clamp each entry to ``[-bound, bound]`` (in ``a``'s dtype) before squaring
        (``clip_value`` followed by ``clip_norm``); ``inf`` leaves them as they are.
    parallel : bool, optional
        The ``prange`` loop or the serial one (the same bits); by default parallel
        from :data:`numopt.kernels.cpu.SERIAL_BELOW` elements.

    Returns
    -------
    numpy.ndarray
        float64, one sum per segment (0 for an empty one); NaN if an entry is NaN.

    Examples
    --------
    >>> import numpy as np
    >>> segment_sum_squares(np.array([3.0, 4.0, 1.0, 2.0, 2.0]), (2, 3))
    array([25.,  9.])
    """
    sizes = tuple(int(s) for s in sizes)
    if sum(sizes) != a.size:
        raise ValueError(f"the segments' sizes sum to {sum(sizes)}, but the array has {a.size}")
    table = blocks(sizes)
    out = np.empty(len(sizes))
    loops = _sum_squares_loops(square if bound == math.inf else clamped_square)
    kernel = loops.parallel if _use_parallel(parallel, a.size) else loops.serial
    kernel(a, a.dtype.type(bound), table.start, table.stop, table.first, out)
    return out


def sum_squares(a: np.ndarray, *, bound: float = math.inf, parallel: bool | None = None) -> float:
    """``Σ clip(a_i, -bound, bound)²`` of a flat array, in float64, in the fixed order.

    The same bits for the serial and the parallel loop and any thread count; see
    :func:`segment_sum_squares` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> sum_squares(np.array([3.0, -4.0], np.float32))
    25.0
    >>> sum_squares(np.array([3.0, -4.0]), bound=1.0)
    2.0
    """
    return float(segment_sum_squares(a, (a.size,), bound=bound, parallel=parallel)[0])


def sum_squares_numpy(a: np.ndarray, sizes: Sequence[int] | None = None) -> np.ndarray:
    """The same sums as :func:`segment_sum_squares` (bit for bit), written in NumPy.

    The readable form of the order, for the rules' NumPy references and the tests:
    pad each segment with zeros to whole blocks, add neighbouring squares, fold
    each block by the halving tree, add the partials in block order
    (``np.cumsum``: one addition after another).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(5000.0)
    >>> sum_squares_numpy(a, (4000, 1000)) == segment_sum_squares(a, (4000, 1000))
    array([ True,  True])
    """
    sizes = (a.size,) if sizes is None else tuple(int(s) for s in sizes)
    flat = np.asarray(a, np.float64).reshape(-1)
    out = np.empty(len(sizes))
    start = 0
    for s, size in enumerate(sizes):
        nb = -(-size // BLOCK)
        squares = np.zeros((nb, BLOCK))
        squares.reshape(-1)[:size] = flat[start : start + size] ** 2
        q = squares[:, 0::2] + squares[:, 1::2]  # neighbours paired
        h = HALF // 2
        while h > 0:
            q[:, :h] = q[:, :h] + q[:, h : 2 * h]
            h //= 2
        out[s] = np.cumsum(np.concatenate(([0.0], q[:, 0])))[-1]
        start += size
    return out


# -- the two passes of a layer-wise rule (LAMB) --------------------------------------------
def _two_sums_template(
    theta, g, state, c, start, stop, first, u_rows, q_rows, partial, out
):  # pragma: no cover - compiled
    # pass 1: u_i = body(i, ...) updates element i's state; sums of θ_i² and u_i² per
    # segment into out[0], out[1].  The element loop is the rule's, unit stride; u
    # of the block stays in L1 (the scratch rows of this thread); the indices are
    # unsigned: no negative-index wraparound, which kept the loop from vectorising.
    nb = start.size
    for chunk in prange((nb + CHUNK - 1) // CHUNK):
        me = thread_id()  # noqa: F821 - bound by _compile(): numba.get_thread_id, or 0
        u = u_rows[me]
        qt = q_rows[me, 0]
        qu = q_rows[me, 1]
        for b in range(chunk * CHUNK, min(nb, (chunk + 1) * CHUNK)):
            lo = np.uint64(max(start[b], 0))
            n = stop[b] - start[b]
            for j in range(n):
                u[j] = body(lo + np.uint64(j), theta, g, state, c)  # noqa: F821
            pairs(theta[start[b] : stop[b]], n, qt)
            pairs(u, n, qu)
            partial[0, b] = tree(qt)
            partial[1, b] = tree(qu)
    fold(partial[0], first, out[0])
    fold(partial[1], first, out[1])


class Scratch(NamedTuple):
    """Buffers of the two-sum pass, allocated once (the pass itself allocates nothing)."""

    u: np.ndarray  # (threads, BLOCK) in θ's dtype: each thread's u of its current block
    q: np.ndarray  # (threads, 2, HALF) float64: its two trees
    partial: np.ndarray  # (2, blocks) float64: the block sums
    out: np.ndarray  # (2, segments) float64: the segment sums


def scratch(dtype: np.dtype, sizes: tuple[int, ...]) -> Scratch:
    """Buffers for :func:`two_sum_loops` over a flat array of segments ``sizes``.

    One row per thread Numba may run (``numba.config.NUMBA_NUM_THREADS``); a loop
    indexes them by ``numba.get_thread_id()``.  Not to be shared by two calls at
    once (keep one per optimizer).
    """
    threads = config.NUMBA_NUM_THREADS
    nb = blocks(sizes).start.size
    return Scratch(
        np.empty((threads, BLOCK), dtype),
        np.empty((threads, 2, HALF)),
        np.empty((2, nb)),
        np.empty((2, len(sizes))),
    )


def _segment_template(theta, g, state, c, start, segment, stop, steps):  # pragma: no cover
    # pass 2: body(i, ..., step) with the step of i's segment
    for b in prange(start.size):
        step = steps[segment[b]]
        lo = np.uint64(max(start[b], 0))
        for j in range(stop[b] - start[b]):
            body(lo + np.uint64(j), theta, g, state, c, step)  # noqa: F821


def _segment_bounded_template(
    theta, g, state, c, start, segment, stop, steps, lo, hi
):  # pragma: no cover - compiled
    # pass 2 and the projection onto [lo, hi] (as numopt.kernels.cpu)
    for b in prange(start.size):
        step = steps[segment[b]]
        first = np.uint64(max(start[b], 0))
        for j in range(stop[b] - start[b]):
            i = first + np.uint64(j)
            low = lo[i]
            high = hi[i]
            body(i, theta, g, state, c, step)  # noqa: F821
            theta[i] = clamp(theta[i], low, high)


@njit(inline="always")
def _main_thread():  # pragma: no cover - compiled
    return 0


def _compile(template: Callable, kind: str, **bound: Callable) -> Loops:
    """The serial and ``prange`` loops of a template, with the thread's scratch row.

    ``thread_id``: the row of a scratch buffer, ``numba.get_thread_id()`` in the
    parallel loop (it needs the thread pool started, so it crashes in a serial
    function called before any parallel one) and 0 in the serial one.
    """
    loops = compile_pair(template, kind, **bound)
    loops.serial.py_func.__globals__["thread_id"] = _main_thread
    loops.parallel.py_func.__globals__["thread_id"] = get_thread_id
    return loops


@functools.cache
def _element_loops(template: Callable, kind: str, body: Callable, clip_value: bool) -> Loops:
    return _compile(
        template,
        variant_name(kind, clip_value=clip_value),
        body=element(body, clip_value, "cpu"),
        grad=grad_reader(clip_value),
        clamp=clamp("cpu"),
    )


def two_sum_loops(body: Callable, clip_value: bool = False) -> Loops:
    """Pass 1 over ``body(i, theta, g, state, c) -> u_i``, summing ``θ_i²`` and ``u_i²``.

    The loops take ``(theta, g, state, c, start, stop, first, *scratch)`` (the
    block table of :func:`blocks`, then a :func:`scratch`), run the body once per
    element and write the per-segment sums of squares, in the fixed order, to
    ``scratch.out`` (shape ``(2, segments)``).  The body must not write ``theta``.
    """
    return _element_loops(_two_sums_template, "two_sums", body, bool(clip_value))


def segment_loops(body: Callable, clip_value: bool = False) -> Loops:
    """Pass 2 over ``body(i, theta, g, state, c, step)``, ``step`` per segment.

    The loops take ``(theta, g, state, c, start, segment, stop, steps)``; ``steps``
    holds one value per segment, in ``theta``'s dtype.  ``clip_value``: the body's
    ``grad`` clips (a pass 2 that reads the gradient again, as LARS's).
    """
    return _element_loops(_segment_template, "segments", body, bool(clip_value))


def segment_bounded_loops(body: Callable, clip_value: bool = False) -> Loops:
    """As :func:`segment_loops`, then ``theta[i]`` clamped to ``[lo[i], hi[i]]``.

    Two more arguments, the flat bounds ``lo, hi`` in ``theta``'s dtype; the clamp
    is ``np.clip``'s, element for element (see :mod:`numopt.kernels.cpu`).
    """
    return _element_loops(_segment_bounded_template, "segments_bounded", body, bool(clip_value))
