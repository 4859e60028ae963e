"""Adafactor's fused CPU step: three passes over x, every sum in a fixed order.

:func:`numopt.rules.adafactor.reference` spells the step in NumPy; this module runs
it as compiled passes (serial, or ``prange`` over work units) with no temporaries
of x's size.  A :class:`Plan` (built once per list of shapes) cuts the flat x into
*units*: blocks of :data:`ROWS` rows of one matrix, or blocks of :data:`BLOCK`
elements of a vector (a 1-D or 0-D array).  Per step:

1. ``_gather`` (units in parallel): per row, ‖θ_row‖² and Σ_j g², and per unit the
   column sums of g² over its rows; a vector's block updates its V and sums ‖θ‖²
   and ‖u‖² at once.
2. ``_factors`` (matrices in parallel; R + C numbers each): the column sums (the
   units' sums, in order), r and c updated, ``D = max(mean_i r, ε₁)``, then
   ``a_i = r_i / D``, ``p_i = 1/√a_i`` and ``q_j = 1/√c_j``.
3. ``_spread`` (units in parallel): per row, ‖u_row‖² with ``u = g p_i q_j``
   (``g/ε₁`` where ``V = a_i c_j < ε₁²``).
4. ``_scales`` (serial, one number per array): ‖θ‖ and ‖u‖ from the rows' (or
   blocks') sums in order, then ``α / max(1, ‖u‖/(√n d))``.
5. ``_update`` (units in parallel): θ ← θ (1 - ηλ) - (α/denom) u, u recomputed.

**The order of every sum** (in float64, each term converted from θ's dtype):

* along a row (‖θ‖², Σ_j g², ‖u‖²): :data:`LANES` lanes, lane l the terms with
  ``j ≡ l (mod LANES)`` in order, then the lanes in order (a compiled loop over
  the lanes is a vector loop: the sums stay fast without reordering anything; a
  row shorter than :data:`LANES` is so added in order, term by term);
* a vector's block of :data:`BLOCK` elements: the same lanes over its elements;
* an array's ‖θ‖² and ‖u‖²: its rows' sums (matrix by matrix, C order over the
  batch) or its blocks' sums, in order;
* a column's Σ_i g²: per block of :data:`ROWS` rows the rows in order, then the
  blocks in order; the mean of r: its entries in order.

Nothing depends on the thread count: a unit is summed by one thread, into its own
slots, folded in order afterwards.  The helpers :func:`row_sums`,
:func:`column_sums`, :func:`block_sums` and :func:`ordered_sums` sum in these
orders for the NumPy reference, so every CPU backend gives the same bits.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

#: Elements per block of a vector (a unit of work, and a piece of its sums).
BLOCK = 2048
#: Rows per block of a matrix: a unit of work; a column sum adds these blocks' sums.
ROWS = 32
#: Below this many matrices, pass 2 (R + C numbers per matrix) runs serially.
FEW = 64
#: Lanes of a row's (or a block's) sums: lane l adds the terms j ≡ l (mod LANES).
LANES = 64

# units' columns: kind (0: rows of a matrix, 1: a vector's block), then
#   kind 0: matrix, first row, end row, block number, array
#   kind 1: first element, end element, its V's offset in the state, piece, array
# matrices' columns: x offset, row stride, column stride, R, C, r's offset, c's
#   offset, column partials' offset, first piece (row), row blocks
_BASE, _SI, _SJ, _R, _C, _RAT, _CAT, _PART, _PIECE, _NB = range(10)


class Plan(NamedTuple):
    """The work units of a list of arrays and the step's small buffers."""

    units: np.ndarray  # (U, 6) int64
    matrices: np.ndarray  # (M, 10) int64
    pieces: np.ndarray  # (A + 1,) int64: each array's pieces (rows, blocks)
    sizes: np.ndarray  # (A,) float64: max(1, elements) per array
    theta_sq: np.ndarray  # (P,) float64: each piece's ‖θ‖²
    square: np.ndarray  # (P,) float64: each row's Σ_j g² (rows only)
    u_sq: np.ndarray  # (P,) float64: each piece's ‖u‖²
    columns: np.ndarray  # float64: each row block's column sums of g²
    means: np.ndarray  # θ's dtype, the state's length: the means, then a_i = r_i / D
    roots: np.ndarray  # θ's dtype, the state's length: 1/√a_i and 1/√c_j
    floors: np.ndarray  # (M,) θ's dtype: D = max(mean_i r, ε₁) per matrix
    scale: np.ndarray  # (A,) θ's dtype: α / denom per array
    lanes: np.ndarray  # (U, 2, LANES) float64: each unit's lanes


def plan(shapes: tuple[tuple[int, ...], ...], order: str, dtype: np.dtype) -> Plan:
    """The units and buffers for a flat x made of ``shapes`` (flattened in ``order``)."""
    units, matrices, pieces, sizes = [], [], [0], []
    start = at = npieces = part = nmat = 0
    for a, shape in enumerate(shapes):
        size = math.prod(shape)
        sizes.append(max(size, 1))
        if len(shape) >= 2:
            *lead, rows, cols = shape
            batch = math.prod(lead)
            b = np.arange(batch, dtype=np.int64)
            if order == "C":
                base, si, sj = start + b * rows * cols, cols, 1
            elif not lead:
                base, si, sj = start + b, 1, rows
            else:
                f = np.ravel_multi_index(np.unravel_index(b, tuple(lead)), tuple(lead), order="F")
                base, si, sj = start + f.astype(np.int64), batch, batch * rows
            nb = -(-rows // ROWS)
            m = np.empty((batch, 10), np.int64)
            m[:, _BASE], m[:, _SI], m[:, _SJ], m[:, _R], m[:, _C] = base, si, sj, rows, cols
            m[:, _RAT], m[:, _CAT] = at + b * rows, at + batch * rows + b * cols
            m[:, _PART], m[:, _PIECE] = part + b * nb * cols, npieces + b * rows
            m[:, _NB] = nb
            matrices.append(m)
            k = np.arange(nb, dtype=np.int64)
            u = np.empty((batch, nb, 6), np.int64)
            u[..., 0], u[..., 1] = 0, (nmat + b)[:, None]
            u[..., 2], u[..., 3] = k * ROWS, np.minimum(rows, (k + 1) * ROWS)
            u[..., 4], u[..., 5] = k, a
            units.append(u.reshape(-1, 6))
            npieces, part, nmat = npieces + batch * rows, part + batch * nb * cols, nmat + batch
            at += batch * (rows + cols)
        else:
            k = np.arange(-(-size // BLOCK), dtype=np.int64)
            u = np.empty((k.size, 6), np.int64)
            u[:, 0], u[:, 1], u[:, 2] = (
                1,
                start + k * BLOCK,
                start + np.minimum(size, (k + 1) * BLOCK),
            )
            u[:, 3], u[:, 4], u[:, 5] = at + k * BLOCK, npieces + k, a
            units.append(u)
            npieces += k.size
            at += size
        start += size
        pieces.append(npieces)
    units_ = np.concatenate(units) if units else np.zeros((0, 6), np.int64)
    mats = np.concatenate(matrices) if matrices else np.zeros((0, 10), np.int64)
    return Plan(
        units=np.ascontiguousarray(units_),
        matrices=np.ascontiguousarray(mats),
        pieces=np.array(pieces, np.int64),
        sizes=np.array(sizes, np.float64),
        theta_sq=np.zeros(npieces),
        square=np.zeros(npieces),
        u_sq=np.zeros(npieces),
        columns=np.zeros(part),
        means=np.zeros(at, dtype),
        roots=np.zeros(at, dtype),
        floors=np.zeros(nmat, dtype),
        scale=np.zeros(len(shapes), dtype),
        lanes=np.zeros((len(units_), 2, LANES)),
    )


# ---- the passes ------------------------------------------------------------------
# ``c`` (θ's dtype): β̂_t, 1, ε₁, ε₁², ±1 (maximize), 1 - ηλ, 1/ε₁.
# A matrix's u is ``±g w``, ``w = 1/ε₁ if a_i c_j < ε₁² else p_i q_j`` with
# ``a_i = r_i / D``, ``p_i = 1/√a_i``, ``q_j = 1/√c_j`` (pass 2 keeps a, p and q).
# The row helpers take a row's views (contiguous in C order) and the unit's own
# lanes (:data:`LANES` float64 slots): ``for l in range(LANES)`` loops vectorise.


@njit(inline="always")
def _folded(lanes, used):  # pragma: no cover - compiled
    """The lanes' sum, in order (the lanes past ``used`` are empty)."""
    total = 0.0
    for lane in range(used):
        total += lanes[lane]
    return total


@njit(inline="always")
def _gather_row(x, g, columns, tl, sl):  # pragma: no cover - compiled
    """A row's ‖θ‖² and Σ_j g² (lanes ``tl``, ``sl``); adds g² to the column sums."""
    cols = x.size
    used = min(cols, LANES)
    for lane in range(used):
        tl[lane] = 0.0
        sl[lane] = 0.0
    for jj in range(cols // LANES):
        j = jj * LANES
        for lane in range(LANES):
            xv, q = np.float64(x[j + lane]), np.float64(g[j + lane] * g[j + lane])
            tl[lane] += xv * xv
            sl[lane] += q
    for j in range(cols):
        columns[j] += np.float64(g[j] * g[j])
    j = cols - cols % LANES
    for lane in range(cols % LANES):
        xv, q = np.float64(x[j + lane]), np.float64(g[j + lane] * g[j + lane])
        tl[lane] += xv * xv
        sl[lane] += q
    return _folded(tl, used), _folded(sl, used)


@njit(inline="always")
def _w(a, cj, p, qj, floor2, cap):  # pragma: no cover - compiled
    """u/g at (i, j): ``cap`` where ``a c_j < ε₁²``, else ``p q_j``."""
    return cap if a * cj < floor2 else p * qj


@njit(inline="always")
def _spread_row(g, c, q, a, p, floor2, cap, ul):  # pragma: no cover - compiled
    """A row's ‖u‖² (lanes ``ul``); ``c``, ``q``: the matrix's c_j and q_j."""
    cols = g.size
    used = min(cols, LANES)
    for lane in range(used):
        ul[lane] = 0.0
    for jj in range(cols // LANES):
        j = jj * LANES
        for lane in range(LANES):
            k = j + lane
            u = np.float64(g[k] * _w(a, c[k], p, q[k], floor2, cap))
            ul[lane] += u * u
    j = cols - cols % LANES
    for lane in range(cols % LANES):
        k = j + lane
        u = np.float64(g[k] * _w(a, c[k], p, q[k], floor2, cap))
        ul[lane] += u * u
    return _folded(ul, used)


@njit(inline="always")
def _update_row(x, g, c, q, a, p, floor2, cap, decay, s):  # pragma: no cover - compiled
    """θ ← θ (1 - ηλ) - s u along a row."""
    for j in range(x.size):
        x[j] = x[j] * decay - s * (g[j] * _w(a, c[j], p, q[j], floor2, cap))


@njit(inline="always")
def _gather_short(theta, g, row, sj, cols, columns):  # pragma: no cover - compiled
    """:func:`_gather_row` for a row shorter than :data:`LANES` (a lane per term: the
    terms in order), by index: no views."""
    tq = 0.0
    sq = 0.0
    for j in range(cols):
        e = row + j * sj
        xv, q = np.float64(theta[e]), np.float64(g[e] * g[e])
        tq += xv * xv
        sq += q
        columns[j] += q
    return tq, sq


@njit(inline="always")
def _spread_short(g, row, sj, c, q, a, p, floor2, cap):  # pragma: no cover - compiled
    """:func:`_spread_row` for a row shorter than :data:`LANES`, by index."""
    total = 0.0
    for j in range(c.size):
        u = np.float64(g[row + j * sj] * _w(a, c[j], p, q[j], floor2, cap))
        total += u * u
    return total


@njit(inline="always")
def _row(a, first, cols, step):  # pragma: no cover - compiled
    """The strided view of a row: ``cols`` elements from ``first``, ``step`` apart."""
    return a[first : first + (cols - 1) * step + 1 : step]


@njit(inline="always")
def _u(g, var, one, floor2, sign):  # pragma: no cover - compiled
    """A vector's ``u = ±g / √max(V, ε₁²)`` (as ``g · (1/√…)``)."""
    return (g * sign) * (one / math.sqrt(floor2 if var < floor2 else var))


@njit(inline="always")
def _gather_block(x, g, var, c, tl, ul):  # pragma: no cover - compiled
    """A vector's block: V updated; its ‖θ‖² and ‖u‖² (lanes ``tl``, ``ul``)."""
    weight, one, floor2, sign = c[0], c[1], c[3], c[4]
    n = x.size
    used = min(n, LANES)
    for lane in range(used):
        tl[lane] = 0.0
        ul[lane] = 0.0
    for jj in range(n // LANES + 1):
        j = jj * LANES
        for lane in range(min(LANES, n - j)):
            e = j + lane
            gv = g[e]
            ve = var[e] + weight * (gv * gv - var[e])
            var[e] = ve
            xv, u = np.float64(x[e]), np.float64(_u(gv, ve, one, floor2, sign))
            tl[lane] += xv * xv
            ul[lane] += u * u
    return _folded(tl, used), _folded(ul, used)


def _gather(
    theta, g, v, units, mats, c, theta_sq, square, u_sq, columns, lanes
):  # pragma: no cover
    """Pass 1: the rows' ‖θ‖² and Σ g², the units' column sums; vectors' V and sums."""
    for k in prange(units.shape[0]):
        tl, sl = lanes[k, 0], lanes[k, 1]
        if units[k, 0] == 0:
            m = units[k, 1]
            base, si, sj, cols = mats[m, _BASE], mats[m, _SI], mats[m, _SJ], mats[m, _C]
            part = mats[m, _PART] + units[k, 4] * cols
            sums = columns[part : part + cols]
            sums[:] = 0.0
            for i in range(units[k, 2], units[k, 3]):
                row = base + i * si
                if cols < LANES:
                    tq, sq = _gather_short(theta, g, row, sj, cols, sums)
                elif sj == 1:
                    tq, sq = _gather_row(theta[row : row + cols], g[row : row + cols], sums, tl, sl)
                else:
                    x, gr = _row(theta, row, cols, sj), _row(g, row, cols, sj)
                    tq, sq = _gather_row(x, gr, sums, tl, sl)
                theta_sq[mats[m, _PIECE] + i] = tq
                square[mats[m, _PIECE] + i] = sq
        else:
            first, end, vat, piece = units[k, 1], units[k, 2], units[k, 3], units[k, 4]
            var = v[vat : vat + end - first]
            tq, uq = _gather_block(theta[first:end], g[first:end], var, c, tl, sl)
            theta_sq[piece] = tq
            u_sq[piece] = uq


def _factors(v, mats, c, square, columns, means, roots, floors):  # pragma: no cover - compiled
    """Pass 2: c and r from the column and row sums, ``D = max(mean_i r, ε₁)``, then
    ``a_i = r_i / D`` (in ``means``), ``p_i = 1/√a_i``, ``q_j = 1/√c_j`` (``roots``)."""
    weight, one, eps1 = c[0], c[1], c[2]
    for m in prange(mats.shape[0]):
        rows, cols, rat, cat = mats[m, _R], mats[m, _C], mats[m, _RAT], mats[m, _CAT]
        part, piece, nb = mats[m, _PART], mats[m, _PIECE], mats[m, _NB]
        for j in range(cols):
            total = 0.0
            for b in range(nb):
                total += columns[part + b * cols + j]
            means[cat + j] = total / rows  # rounded to θ's dtype
            cj = v[cat + j]
            cj = cj + weight * (means[cat + j] - cj)
            v[cat + j] = cj
            roots[cat + j] = one / math.sqrt(cj)
        for i in range(rows):
            means[rat + i] = square[piece + i] / cols
            ri = v[rat + i]
            v[rat + i] = ri + weight * (means[rat + i] - ri)
        total = 0.0
        for i in range(rows):
            total += np.float64(v[rat + i])
        floors[m] = total / rows
        mean = floors[m]
        floor = eps1 if mean < eps1 else mean
        for i in range(rows):
            a = v[rat + i] / floor
            means[rat + i] = a
            roots[rat + i] = one / math.sqrt(a)


def _spread(g, v, units, mats, c, means, roots, u_sq, lanes):  # pragma: no cover - compiled
    """Pass 3: each row's ‖u_row‖²."""
    floor2, sign, cap = c[3], c[4], c[6]
    for k in prange(units.shape[0]):
        if units[k, 0] == 0:
            ul = lanes[k, 0]
            m = units[k, 1]
            base, si, sj, cols = mats[m, _BASE], mats[m, _SI], mats[m, _SJ], mats[m, _C]
            rat, cat = mats[m, _RAT], mats[m, _CAT]
            cv, q, capped = v[cat : cat + cols], roots[cat : cat + cols], cap * sign
            for i in range(units[k, 2], units[k, 3]):
                a, p, row = means[rat + i], roots[rat + i] * sign, base + i * si
                if cols < LANES:
                    uq = _spread_short(g, row, sj, cv, q, a, p, floor2, capped)
                elif sj == 1:
                    uq = _spread_row(g[row : row + cols], cv, q, a, p, floor2, capped, ul)
                else:
                    uq = _spread_row(_row(g, row, cols, sj), cv, q, a, p, floor2, capped, ul)
                u_sq[mats[m, _PIECE] + i] = uq


@njit(cache=True, nogil=True, error_model="numpy")
def _scales(theta_sq, u_sq, pieces, sizes, f, scale):  # pragma: no cover - compiled
    """Pass 4: per array ``α / max(1, ‖u‖/(√n d))``, ``α = max(ε₂, ‖θ‖/√n) ρ``
    (``f = (ρ, ε₂, d)``), ‖θ‖² and ‖u‖² its pieces' sums in order."""
    for a in range(scale.size):
        st = 0.0
        su = 0.0
        for p in range(pieces[a], pieces[a + 1]):
            st += theta_sq[p]
            su += u_sq[p]
        root = math.sqrt(st) / math.sqrt(sizes[a])
        alpha = (root if root > f[1] else f[1]) * f[0]  # Python's max(ε₂, root)
        ratio = math.sqrt(su) / (math.sqrt(sizes[a]) * f[2])
        scale[a] = alpha / (ratio if ratio > 1.0 else 1.0)


def _update(theta, g, v, units, mats, c, means, roots, scale):  # pragma: no cover - compiled
    """Pass 5: ``θ ← θ (1 - ηλ) - s u`` (s: the array's scale, u as passes 1 and 3's)."""
    one, floor2, sign, decay, cap = c[1], c[3], c[4], c[5], c[6]
    for k in prange(units.shape[0]):
        s = scale[units[k, 5]]
        if units[k, 0] == 0:
            m = units[k, 1]
            base, si, sj, cols = mats[m, _BASE], mats[m, _SI], mats[m, _SJ], mats[m, _C]
            rat, cat = mats[m, _RAT], mats[m, _CAT]
            cv, q, capped = v[cat : cat + cols], roots[cat : cat + cols], cap * sign
            for i in range(units[k, 2], units[k, 3]):
                a, p, row = means[rat + i], roots[rat + i] * sign, base + i * si
                if sj == 1:
                    x, gr = theta[row : row + cols], g[row : row + cols]
                    _update_row(x, gr, cv, q, a, p, floor2, capped, decay, s)
                else:
                    x, gr = _row(theta, row, cols, sj), _row(g, row, cols, sj)
                    _update_row(x, gr, cv, q, a, p, floor2, capped, decay, s)
        else:
            first, end, vat = units[k, 1], units[k, 2], units[k, 3]
            x, gv, var = theta[first:end], g[first:end], v[vat : vat + end - first]
            for e in range(x.size):
                x[e] = x[e] * decay - s * _u(gv[e], var[e], one, floor2, sign)


def _compiled(fn, parallel):
    return njit(cache=True, nogil=True, error_model="numpy", parallel=parallel)(fn)


#: The passes by CPU backend: gather, factors, spread, update (``_scales`` is serial).
KERNELS = {
    b: tuple(_compiled(fn, b == "parallel") for fn in (_gather, _factors, _spread, _update))
    for b in ("serial", "parallel")
}


def step(plan_: Plan, theta, g, v, c: np.ndarray, f: np.ndarray, backend: str) -> None:
    """One step on the host, in place on ``theta`` and ``v``: the passes above.

    ``c``: θ's dtype, ``(β̂_t, 1, ε₁, ε₁², ±1, 1 - ηλ, 1/ε₁)``; ``f``: float64
    ``(ρ, ε₂, d)``.
    """
    gather, factors, spread, update = KERNELS[backend]
    p = plan_
    if p.matrices.shape[0] < FEW:  # too little work for a parallel region: the same bits
        factors = KERNELS["serial"][1]
    gather(theta, g, v, p.units, p.matrices, c, p.theta_sq, p.square, p.u_sq, p.columns, p.lanes)
    factors(v, p.matrices, c, p.square, p.columns, p.means, p.roots, p.floors)
    spread(g, v, p.units, p.matrices, c, p.means, p.roots, p.u_sq, p.lanes)
    _scales(p.theta_sq, p.u_sq, p.pieces, p.sizes, f, p.scale)
    update(theta, g, v, p.units, p.matrices, c, p.means, p.roots, p.scale)


# ---- the same orders for the NumPy reference ---------------------------------------


@njit(cache=True, nogil=True)
def row_sums(a, squared):  # pragma: no cover - compiled
    """Per row of the matrices ``a`` (B, R, C): Σ_j a (or a², ``squared``) in float64,
    in :data:`LANES` lanes (lane l: the terms j ≡ l, in order), the lanes in order;
    shape (B, R)."""
    out = np.zeros(a.shape[:2])
    lanes = np.zeros(LANES)
    for b in range(a.shape[0]):
        for i in range(a.shape[1]):
            lanes[:] = 0.0
            for j in range(a.shape[2]):
                x = np.float64(a[b, i, j])
                lanes[j % LANES] += x * x if squared else x
            total = 0.0
            for lane in range(min(a.shape[2], LANES)):
                total += lanes[lane]
            out[b, i] = total
    return out


@njit(cache=True, nogil=True)
def column_sums(a):  # pragma: no cover - compiled
    """Per column of the matrices ``a`` (B, R, C): Σ_i a in float64 by blocks of
    :data:`ROWS` rows (each in order), the blocks in order; shape (B, C)."""
    out = np.zeros((a.shape[0], a.shape[2]))
    block = np.zeros(a.shape[2])
    for b in range(a.shape[0]):
        for first in range(0, a.shape[1], ROWS):
            block[:] = 0.0
            for i in range(first, min(a.shape[1], first + ROWS)):
                for j in range(a.shape[2]):
                    block[j] += np.float64(a[b, i, j])
            for j in range(a.shape[2]):
                out[b, j] += block[j]
    return out


@njit(cache=True, nogil=True)
def block_sums(a):  # pragma: no cover - compiled
    """Σ a² of a flat ``a`` in float64: blocks of :data:`BLOCK` elements, each in
    lanes as :func:`row_sums`, the blocks in order."""
    total = 0.0
    lanes = np.zeros(LANES)
    for first in range(0, a.size, BLOCK):
        lanes[:] = 0.0
        end = min(a.size, first + BLOCK)
        for e in range(first, end):
            x = np.float64(a[e])
            lanes[(e - first) % LANES] += x * x
        block = 0.0
        for lane in range(min(end - first, LANES)):
            block += lanes[lane]
        total += block
    return total


@njit(cache=True, nogil=True)
def ordered_sums(a):  # pragma: no cover - compiled
    """Σ along the last axis of a 2-D ``a``, in float64, in order; shape (B,)."""
    out = np.zeros(a.shape[0])
    for b in range(a.shape[0]):
        total = 0.0
        for i in range(a.shape[1]):
            total += np.float64(a[b, i])
        out[b] = total
    return out
