"""Muon's step on the GPU: the same arithmetic as :func:`numopt.rules.muon.reference`.

Imported by :func:`numopt.rules.muon.reference` for device arrays only (it imports
``numba.cuda``).  Everything stays on the device; per step the host computes only scalars (each
matrix's Frobenius norm comes back as one float64, from the fixed-order sums of
:mod:`numopt.kernels.cuda_reduce`).  The kernels, compiled at their first use:

* ``momentum``: ``m ← m + (1-μ)(g - m)``, ``u = g + μ(m - g)`` (Nesterov) or ``m``,
  in one pass over the flat arrays;
* ``load``: one matrix of ``u`` (a segment of the flat buffer, C or Fortran order),
  divided by ``max(‖u‖_F, ε)`` and transposed when it is tall, into ``X``;
* ``gemm``: ``out = α A op(B) + β D`` in shared-memory tiles of ``TILE × TILE``,
  each entry summed over ``k`` in order in the arrays' dtype, so the same bits for
  any grid.  One Newton–Schulz iteration is three of them:
  ``G = X Xᵀ``, ``H = c G G + b G``, ``X ← H X + a X``;
* ``store``: ``θ ← θ (1 - ηλ) - η s X`` (transposed back).

The products are Numba's own tiled kernel, not cuBLAS: numopt depends on numba-cuda
alone.  Their sums run in another order than the CPU's BLAS, so the device and the
host agree to rounding, not bit for bit.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import cuda, from_dtype

from numopt.kernels import cuda as device
from numopt.kernels import cuda_reduce

#: Side of the square tiles of the products (threads per block: TILE²).
TILE = 4 if device.SIMULATOR else 16


@functools.cache
def _kernels(dtype: np.dtype) -> dict[str, Any]:
    """The four kernels for ``dtype`` (its shared-memory tiles are typed)."""
    kind = from_dtype(dtype)
    tile = TILE

    @cuda.jit
    def momentum(g, m, u, sign, keep, mu, nesterov):  # pragma: no cover - compiled
        start, stride = cuda.grid(1), cuda.gridsize(1)
        for i in range(start, m.size, stride):
            gi = g[i] * sign
            mi = m[i] + keep * (gi - m[i])
            m[i] = mi
            u[i] = gi + mu * (mi - gi) if nesterov else mi

    @cuda.jit
    def load(u, offset, rows, cols, fortran, tall, scale, x):  # pragma: no cover - compiled
        start, stride = cuda.grid(1), cuda.gridsize(1)
        for k in range(start, rows * cols, stride):
            r, c = (k // cols, k % cols) if not fortran else (k % rows, k // rows)
            v = u[offset + k] / scale
            if tall:
                x[c, r] = v
            else:
                x[r, c] = v

    @cuda.jit
    def store(theta, offset, rows, cols, fortran, tall, decay, step, x):  # pragma: no cover
        start, stride = cuda.grid(1), cuda.gridsize(1)
        for k in range(start, rows * cols, stride):
            r, c = (k // cols, k % cols) if not fortran else (k % rows, k // rows)
            o = x[c, r] if tall else x[r, c]
            theta[offset + k] = theta[offset + k] * decay - step * o

    @cuda.jit
    def gemm(a, b, d, out, alpha, beta, trans_b):  # pragma: no cover - compiled
        sa = cuda.shared.array((tile, tile), kind)
        sb = cuda.shared.array((tile, tile), kind)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        row = cuda.blockIdx.y * tile + ty
        col = cuda.blockIdx.x * tile + tx
        m, inner = a.shape
        n = out.shape[1]
        acc = kind(0)
        for t0 in range(0, inner, tile):
            ka, kb = t0 + tx, t0 + ty
            sa[ty, tx] = a[row, ka] if row < m and ka < inner else kind(0)
            if col < n and kb < inner:
                sb[ty, tx] = b[col, kb] if trans_b else b[kb, col]
            else:
                sb[ty, tx] = kind(0)
            cuda.syncthreads()
            for j in range(tile):
                acc += sa[ty, j] * sb[j, tx]
            cuda.syncthreads()
        if row < m and col < n:
            v = alpha * acc
            if beta != kind(0):
                v += beta * d[row, col]
            out[row, col] = v

    return {"momentum": momentum, "load": load, "store": store, "gemm": gemm}


def _product(k: dict, a: Any, b: Any, d: Any, out: Any, alpha: Any, beta: Any, trans_b: bool):
    rows, cols = out.shape
    grid = ((cols + TILE - 1) // TILE, (rows + TILE - 1) // TILE)
    k["gemm"][grid, (TILE, TILE)](a, b, d, out, alpha, beta, trans_b)


def step(
    theta: Any, g: Any, m: Any, *, learning_rate: float, weight_decay: float, momentum: float,
    nesterov: bool, ns_coefficients: Any, eps: float, ns_steps: int, matrices: Any,
    order: str, maximize: bool,
) -> None:  # fmt: skip
    """One Muon step in place on the flat device arrays ``theta`` and ``m``.

    ``matrices``: ``(offset, rows, cols, s)`` per array of x, ``s`` the step's shape
    factor (:func:`numopt.rules.muon.step_scale`); ``order``: how x was flattened.
    """
    dtype = np.dtype(theta.dtype)
    dt = dtype.type
    k = _kernels(dtype)
    n = theta.size
    blocks, threads = device.launch_config(n)
    u = cuda.device_array(n, dtype)
    sign = dt(-1.0 if maximize else 1.0)
    k["momentum"][blocks, threads](g, m, u, sign, dt(1 - momentum), dt(momentum), nesterov)
    a, b, c = (dt(v) for v in ns_coefficients)
    fortran = order == "F"
    for offset, rows, cols, factor in matrices:
        size = rows * cols
        tall = rows > cols
        p, q = (cols, rows) if tall else (rows, cols)
        norm = math.sqrt(cuda_reduce.sum_squares(u[offset : offset + size]))
        x, spare = cuda.device_array((p, q), dtype), cuda.device_array((p, q), dtype)
        gram, h = cuda.device_array((p, p), dtype), cuda.device_array((p, p), dtype)
        grid, per = device.launch_config(size)
        scale = dt(max(norm, eps))
        k["load"][grid, per](u, offset, rows, cols, fortran, tall, scale, x)
        for _ in range(ns_steps):
            _product(k, x, x, gram, gram, dt(1), dt(0), True)  # G = X Xᵀ
            _product(k, gram, gram, gram, h, c, b, False)  # H = c G G + b G
            _product(k, h, x, x, spare, dt(1), a, False)  # X ← H X + a X
            x, spare = spare, x
        decay, step_size = dt(1 - learning_rate * weight_decay), dt(learning_rate * factor)
        k["store"][grid, per](theta, offset, rows, cols, fortran, tall, decay, step_size, x)
