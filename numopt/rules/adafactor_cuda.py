"""Adafactor's step on the GPU: the CPU passes as CUDA kernels, every sum in a fixed order.

The work is cut as on the host (:mod:`numopt.rules.adafactor_kernels`, whose
:class:`~numopt.rules.adafactor_kernels.Plan` tables are copied to the device once
per list of shapes), and the state stays where it is: no host round trip per
step.  Kernels (each a grid-stride loop over its items, one thread block per item):

1. ``_gather``, one block per *piece* (a matrix's row, or a vector's block of
   :data:`~numopt.rules.adafactor_kernels.BLOCK` elements): a row's ‖θ‖² and
   Σ_j g²; a block's V update, ‖θ‖² and ‖u‖².
2. ``_columns``, one block per *unit* (:data:`~numopt.rules.adafactor_kernels.ROWS`
   rows of a matrix): a thread per column adds g² over the unit's rows in order:
   the host's column sums, bit for bit.
3. ``_factors``, one block per matrix: the host's ``_factors`` (its threads split
   the columns and rows; the mean of r is added in order by one thread): r, c,
   ``D``, ``a_i = r_i / D``, ``p_i = 1/√a_i``, ``q_j = 1/√c_j``.
4. ``_spread``, one block per row: ‖u_row‖², ``u = ±g p_i q_j`` (``±g/ε₁`` where
   ``a_i c_j < ε₁²``).
5. ``_scales``, one block per array: ‖θ‖² and ‖u‖² from its pieces, then
   ``α / max(1, ‖u‖/(√n d))``.
6. ``_update``, one block per piece: ``θ ← θ (1 - ηλ) - s u``.

**Sums.**  A row's (or a block's or an array's) sum: each thread adds its terms
(``j = t, t + T, …``, T = :data:`~numopt.kernels.cuda.THREADS_PER_BLOCK`) in order
in float64, then the threads' partials fold by a halving tree in shared memory of
T slots (``q_t += q_{t+h}``, h = T/2, T/4, …, 1).  The shape is fixed by T alone:
the same bits for any grid, and no atomics.  The order differs from the host's
lanes, so a device step equals the host's to a few ulps (the column sums and the
mean of r are the host's bits).  On a real GPU the squares are ``dmul_rn`` (not
contracted with the addition that follows); the elementwise arithmetic may be
contracted into FMAs, as in every CUDA kernel of numopt.

Like :mod:`numopt.kernels.cuda`, this module imports :mod:`numba.cuda`: numopt
imports it only for device arrays, and the kernels compile at their first launch.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import cuda, float64

from numopt.kernels.cuda import SIMULATOR, THREADS_PER_BLOCK, max_blocks
from numopt.rules import adafactor_kernels as host
from numopt.rules.adafactor_kernels import _BASE, _C, _CAT, _NB, _PART, _PIECE, _R, _RAT, _SI, _SJ

T = THREADS_PER_BLOCK

if SIMULATOR:  # the simulator's libdevice functions are stubs: a plain product

    def _mul(a, b):
        return a * b

else:  # pragma: no cover - a real GPU
    from numba.cuda import libdevice

    _mul = libdevice.dmul_rn


class DevicePlan(NamedTuple):
    """:class:`~numopt.rules.adafactor_kernels.Plan`'s tables and buffers on the device,
    with each piece's ``(kind, matrix or unit, row, array)`` (``pieces_of``)."""

    units: Any
    matrices: Any
    pieces: Any
    sizes: Any
    pieces_of: Any
    theta_sq: Any
    square: Any
    u_sq: Any
    columns: Any
    means: Any
    roots: Any
    floors: Any
    scale: Any


def plan(shapes: tuple[tuple[int, ...], ...], order: str, dtype: np.dtype) -> DevicePlan:
    """The host's plan for ``shapes``, copied to the device once."""
    p = host.plan(shapes, order, dtype)
    npieces = p.theta_sq.size
    pieces_of = np.zeros((npieces, 4), np.int64)
    for m in range(p.matrices.shape[0]):
        first, rows = p.matrices[m, _PIECE], p.matrices[m, _R]
        pieces_of[first : first + rows, 1] = m
        pieces_of[first : first + rows, 2] = np.arange(rows)
    for k in np.flatnonzero(p.units[:, 0] == 1):
        pieces_of[p.units[k, 4], :2] = 1, k
    # each piece's array: its pieces' range in ``pieces``
    pieces_of[:, 3] = np.searchsorted(p.pieces, np.arange(npieces), side="right") - 1
    device = {
        name: cuda.to_device(np.ascontiguousarray(getattr(p, name)))
        for name in DevicePlan._fields
        if name != "pieces_of"
    }
    return DevicePlan(pieces_of=cuda.to_device(pieces_of), **device)


@cuda.jit(device=True, inline=True)
def _square(v):  # pragma: no cover - compiled
    w = float64(v)
    return _mul(w, w)


@cuda.jit(device=True, inline=True)
def _tree(qa, qb, t):  # pragma: no cover - compiled
    """Fold ``qa[0:T]`` and ``qb[0:T]`` by halving (every thread of the block calls)."""
    h = T // 2
    while h > 0:
        cuda.syncthreads()
        if t < h:
            qa[t] = qa[t] + qa[t + h]
            qb[t] = qb[t] + qb[t + h]
        h //= 2
    cuda.syncthreads()


@cuda.jit(device=True, inline=True)
def _w(a, cj, p, qj, floor2, cap):  # pragma: no cover - compiled
    return cap if a * cj < floor2 else p * qj


@cuda.jit(device=True, inline=True)
def _u(g, var, one, floor2, sign):  # pragma: no cover - compiled
    return (g * sign) * (one / math.sqrt(floor2 if var < floor2 else var))


@cuda.jit(cache=True)
def _gather(theta, g, v, units, mats, pieces_of, c, theta_sq, square, u_sq):  # pragma: no cover
    weight, one, floor2, sign = c[0], c[1], c[3], c[4]
    t = cuda.threadIdx.x
    qa = cuda.shared.array(T, float64)
    qb = cuda.shared.array(T, float64)
    for p in range(cuda.blockIdx.x, pieces_of.shape[0], cuda.gridDim.x):
        sa = 0.0
        sb = 0.0
        if pieces_of[p, 0] == 0:
            m, i = pieces_of[p, 1], pieces_of[p, 2]
            row, sj = mats[m, _BASE] + i * mats[m, _SI], mats[m, _SJ]
            for j in range(t, mats[m, _C], T):
                e = row + j * sj
                sa += _square(theta[e])
                sb += float64(g[e] * g[e])
        else:
            k = pieces_of[p, 1]
            first, end, vat = units[k, 1], units[k, 2], units[k, 3]
            for e in range(first + t, end, T):
                gv = g[e]
                w = vat + e - first
                ve = v[w] + weight * (gv * gv - v[w])
                v[w] = ve
                sa += _square(theta[e])
                sb += _square(_u(gv, ve, one, floor2, sign))
        qa[t] = sa
        qb[t] = sb
        _tree(qa, qb, t)
        if t == 0:
            theta_sq[p] = qa[0]
            if pieces_of[p, 0] == 0:
                square[p] = qb[0]
            else:
                u_sq[p] = qb[0]
        cuda.syncthreads()  # qa[0], qb[0] read before the next piece overwrites them


@cuda.jit(cache=True)
def _columns(g, units, mats, columns):  # pragma: no cover - compiled
    t = cuda.threadIdx.x
    for k in range(cuda.blockIdx.x, units.shape[0], cuda.gridDim.x):
        if units[k, 0] == 0:
            m = units[k, 1]
            base, si, sj, cols = mats[m, _BASE], mats[m, _SI], mats[m, _SJ], mats[m, _C]
            part = mats[m, _PART] + units[k, 4] * cols
            for j in range(t, cols, T):
                total = 0.0
                for i in range(units[k, 2], units[k, 3]):
                    q = g[base + i * si + j * sj]
                    total += float64(q * q)
                columns[part + j] = total


@cuda.jit(cache=True)
def _factors(v, mats, c, square, columns, means, roots, floors):  # pragma: no cover
    weight, one, eps1 = c[0], c[1], c[2]
    t = cuda.threadIdx.x
    for m in range(cuda.blockIdx.x, mats.shape[0], cuda.gridDim.x):
        rows, cols, rat, cat = mats[m, _R], mats[m, _C], mats[m, _RAT], mats[m, _CAT]
        part, piece, nb = mats[m, _PART], mats[m, _PIECE], mats[m, _NB]
        for j in range(t, cols, T):
            total = 0.0
            for b in range(nb):
                total += columns[part + b * cols + j]
            means[cat + j] = total / rows  # rounded to θ's dtype
            cj = v[cat + j]
            cj = cj + weight * (means[cat + j] - cj)
            v[cat + j] = cj
            roots[cat + j] = one / math.sqrt(cj)
        for i in range(t, rows, T):
            means[rat + i] = square[piece + i] / cols
            ri = v[rat + i]
            v[rat + i] = ri + weight * (means[rat + i] - ri)
        cuda.syncthreads()
        if t == 0:  # the mean of r, in order (the host's bits)
            total = 0.0
            for i in range(rows):
                total += float64(v[rat + i])
            floors[m] = total / rows
        cuda.syncthreads()
        mean = floors[m]
        floor = eps1 if mean < eps1 else mean
        for i in range(t, rows, T):
            a = v[rat + i] / floor
            means[rat + i] = a
            roots[rat + i] = one / math.sqrt(a)
        cuda.syncthreads()  # floors[m] read before thread 0 moves on


@cuda.jit(cache=True)
def _spread(g, v, mats, pieces_of, c, means, roots, u_sq):  # pragma: no cover - compiled
    floor2, sign, cap = c[3], c[4], c[6]
    t = cuda.threadIdx.x
    qa = cuda.shared.array(T, float64)
    qb = cuda.shared.array(T, float64)
    for p in range(cuda.blockIdx.x, pieces_of.shape[0], cuda.gridDim.x):
        if pieces_of[p, 0] == 0:
            m, i = pieces_of[p, 1], pieces_of[p, 2]
            row, sj, cat = mats[m, _BASE] + i * mats[m, _SI], mats[m, _SJ], mats[m, _CAT]
            a, pi = means[mats[m, _RAT] + i], roots[mats[m, _RAT] + i] * sign
            su = 0.0
            for j in range(t, mats[m, _C], T):
                w = _w(a, v[cat + j], pi, roots[cat + j], floor2, cap * sign)
                su += _square(g[row + j * sj] * w)
            qa[t] = su
            qb[t] = 0.0
            _tree(qa, qb, t)
            if t == 0:
                u_sq[p] = qa[0]
            cuda.syncthreads()


@cuda.jit(cache=True)
def _scales(theta_sq, u_sq, pieces, sizes, f, scale):  # pragma: no cover - compiled
    t = cuda.threadIdx.x
    qa = cuda.shared.array(T, float64)
    qb = cuda.shared.array(T, float64)
    for a in range(cuda.blockIdx.x, scale.size, cuda.gridDim.x):
        st = 0.0
        su = 0.0
        for p in range(pieces[a] + t, pieces[a + 1], T):
            st += theta_sq[p]
            su += u_sq[p]
        qa[t] = st
        qb[t] = su
        _tree(qa, qb, t)
        if t == 0:
            root = math.sqrt(qa[0]) / math.sqrt(sizes[a])
            alpha = (root if root > f[1] else f[1]) * f[0]
            ratio = math.sqrt(qb[0]) / (math.sqrt(sizes[a]) * f[2])
            scale[a] = alpha / (ratio if ratio > 1.0 else 1.0)
        cuda.syncthreads()


@cuda.jit(cache=True)
def _update(theta, g, v, units, mats, pieces_of, c, means, roots, scale):  # pragma: no cover
    one, floor2, sign, decay, cap = c[1], c[3], c[4], c[5], c[6]
    t = cuda.threadIdx.x
    for p in range(cuda.blockIdx.x, pieces_of.shape[0], cuda.gridDim.x):
        s = scale[pieces_of[p, 3]]
        if pieces_of[p, 0] == 0:
            m, i = pieces_of[p, 1], pieces_of[p, 2]
            row, sj, cat = mats[m, _BASE] + i * mats[m, _SI], mats[m, _SJ], mats[m, _CAT]
            a, pi = means[mats[m, _RAT] + i], roots[mats[m, _RAT] + i] * sign
            for j in range(t, mats[m, _C], T):
                e = row + j * sj
                w = _w(a, v[cat + j], pi, roots[cat + j], floor2, cap * sign)
                theta[e] = theta[e] * decay - s * (g[e] * w)
        else:
            k = pieces_of[p, 1]
            first, end, vat = units[k, 1], units[k, 2], units[k, 3]
            for e in range(first + t, end, T):
                theta[e] = theta[e] * decay - s * _u(g[e], v[vat + e - first], one, floor2, sign)


def _grid(n: int) -> int:
    return max(1, min(n, max_blocks()))


def step(p: DevicePlan, theta: Any, g: Any, v: Any, c: tuple, f: tuple) -> None:
    """One step on the device, in place on the flat device arrays ``theta`` and ``v``.

    ``c``: θ's dtype, ``(β̂_t, 1, ε₁, ε₁², ±1, 1 - ηλ, 1/ε₁)``; ``f``: ``(ρ, ε₂, d)``.
    """
    npieces, nunits, nmats = p.pieces_of.shape[0], p.units.shape[0], p.matrices.shape[0]
    if npieces:
        _gather[_grid(npieces), T](
            theta, g, v, p.units, p.matrices, p.pieces_of, c, p.theta_sq, p.square, p.u_sq
        )
    if nunits:
        _columns[_grid(nunits), T](g, p.units, p.matrices, p.columns)
    if nmats:
        _factors[_grid(nmats), T](v, p.matrices, c, p.square, p.columns, p.means, p.roots, p.floors)
        _spread[_grid(npieces), T](g, v, p.matrices, p.pieces_of, c, p.means, p.roots, p.u_sq)
    _scales[_grid(p.scale.size), T](p.theta_sq, p.u_sq, p.pieces, p.sizes, f, p.scale)
    if npieces:
        _update[_grid(npieces), T](
            theta, g, v, p.units, p.matrices, p.pieces_of, c, p.means, p.roots, p.scale
        )
