"""Prodigy's two passes on the GPU: the moments with their two sums, then θ.

:func:`numopt.rules.prodigy.reference` calls :func:`moments` and :func:`update` for
flat device arrays; the scalar update of the estimate between them is the CPU's, on
the host.

**Pass 1** (:func:`moments`).  The array is cut into the blocks of
:func:`numopt.kernels.reduce.blocks` (:data:`~numopt.kernels.reduce.BLOCK`
consecutive elements; the last one may be shorter).  A CUDA block takes one block of
the table at a time (grid-stride over the table); its threads update m, v and s of
the block's elements in place and write, for each pair of neighbours ``2j, 2j+1``,
``q_j = w_{2j} + w_{2j+1}`` to shared memory for both sums (``w_i = g_i (x₀_i - θ_i)``,
the product in x's dtype as on the CPU, and ``w_i = |s_i|``, each then in float64; a
missing neighbour counts 0).  The CPU's halving tree of
:mod:`numopt.kernels.cuda_reduce` folds each, and thread 0 writes the block's two
partials (float64).  The host copies the ``2 × blocks`` partials and adds them in
block order from 0 (:func:`numopt.kernels.reduce.fold_rows`).  No atomics: the bits
depend on the length alone, never on the grid.  They differ from the CPU's in the
last bits (the CPU adds each block's terms in order, not by a tree).  On a real GPU
the product ``g_i (x₀_i - θ_i)`` is rounded on its own (``fmul_rn``/``dmul_rn``,
never contracted into an FMA with the sum); m, v and s may be contracted, as in
every CUDA kernel of numopt.

**Pass 2** (:func:`update`): θ, a grid-stride element kernel.

State never leaves the device; a step copies ``2 × blocks`` float64 partials to the
host and nothing else of length n.  The kernels compile at their first launch
(``cache=True``), once per dtype for pass 1.  This module imports :mod:`numba.cuda`:
numopt imports it only for device arrays.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import cuda, float64

from numopt.kernels import reduce
from numopt.kernels.cuda import SIMULATOR, THREADS_PER_BLOCK, compile_kernel, launch_config
from numopt.kernels.cuda_reduce import block_tree, device_blocks, folded_sums, grid_size
from numopt.kernels.reduce import HALF

if SIMULATOR:  # the simulator's libdevice functions are stubs: a plain product

    def _mul32(a, b):
        return a * b

    _mul64 = _mul32

else:  # pragma: no cover - a real GPU
    from numba.cuda import libdevice

    _mul32 = libdevice.fmul_rn
    _mul64 = libdevice.dmul_rn


@cuda.jit(device=True, inline=True)
def _product32(a, b):  # pragma: no cover - compiled
    return _mul32(a, b)


@cuda.jit(device=True, inline=True)
def _product64(a, b):  # pragma: no cover - compiled
    return _mul64(a, b)


#: The product of pass 1's first sum by x's dtype: rounded in that dtype, as the CPU's.
_PRODUCTS = {"float32": _product32, "float64": _product64}


@cuda.jit(device=True, inline=True)
def _moment(i, g, m, v, s, c):  # pragma: no cover - compiled
    """m, v, s at ``i`` from ``c`` (the CPU's factors); returns ``±g_i`` and ``|s_i|``."""
    gi = g[i] * c[8]
    dg = c[0] * gi
    m[i] = m[i] * c[1] + c[2] * dg
    v[i] = v[i] * c[3] + c[4] * dg * dg
    s[i] = s[i] * c[5] + c[6] * dg / c[7]
    return gi, float64(abs(s[i]))


def _moments_template(g, x0, theta, m, v, s, c, start, stop, partial):  # pragma: no cover
    t = cuda.threadIdx.x
    qa = cuda.shared.array(HALF, float64)  # ⟨g, x₀ - θ⟩'s first level
    ql = cuda.shared.array(HALF, float64)  # ‖s‖₁'s
    for b in range(cuda.blockIdx.x, start.size, cuda.gridDim.x):
        lo = start[b]
        n = stop[b] - lo
        for j in range(t, HALF, cuda.blockDim.x):
            i = lo + 2 * j
            a0 = l0 = a1 = l1 = 0.0
            if 2 * j < n:
                g0, l0 = _moment(i, g, m, v, s, c)
                a0 = float64(product(g0, x0[i] - theta[i]))  # noqa: F821 - bound
            if 2 * j + 1 < n:
                g1, l1 = _moment(i + 1, g, m, v, s, c)
                a1 = float64(product(g1, x0[i + 1] - theta[i + 1]))  # noqa: F821
            qa[j] = a0 + a1
            ql[j] = l0 + l1
        block_tree(qa, t)
        block_tree(ql, t)
        if t == 0:
            partial[0, b] = qa[0]
            partial[1, b] = ql[0]
        cuda.syncthreads()  # q[0] is read before the next block overwrites it


@functools.cache
def _moments_kernel(dtype: str) -> Any:
    """Pass 1 for x of ``dtype`` (``"float32"``/``"float64"``), compiled at first use."""
    return compile_kernel(_moments_template, f"prodigy_moments_{dtype}", product=_PRODUCTS[dtype])


@cuda.jit(cache=True)
def _update_kernel(theta, m, v, c):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), theta.size, cuda.gridsize(1)):
        theta[i] += -c[0] * theta[i] - c[1] * m[i] / (math.sqrt(v[i]) + c[2])


def moments(g: Any, x0: Any, theta: Any, m: Any, v: Any, s: Any, c: tuple) -> tuple[float, float]:
    """Pass 1 on flat device arrays: m, v, s in place; ``⟨±g, x₀ - θ⟩`` and ‖s‖₁.

    Parameters
    ----------
    g, x0, theta, m, v, s : device arrays
        Flat, of one length and dtype (``g`` may be any flat device array).
    c : tuple
        ``(d, β₁, 1-β₁, β₂, 1-β₂, β₃, s's factor, d₀, ±1)`` in x's dtype, as the CPU's
        pass (:func:`numopt.rules.prodigy.reference`).

    Returns
    -------
    tuple of float
        ``⟨±g, x₀ - θ⟩`` (θ as it was) and ‖s‖₁ (the new s), each summed in float64
        in the fixed order of the module docstring.
    """
    n = theta.size
    table = reduce.blocks((n,))
    nb = table.start.size
    if not nb:
        return 0.0, 0.0
    blocks = device_blocks((n,))
    partial = cuda.device_array((2, nb), np.float64)
    kernel = _moments_kernel(np.dtype(theta.dtype).name)
    kernel[grid_size(nb), THREADS_PER_BLOCK](
        g, x0, theta, m, v, s, c, blocks.start, blocks.stop, partial
    )
    sums = folded_sums(partial, 1, table.first)
    return float(sums[0, 0]), float(sums[1, 0])


def update(theta: Any, m: Any, v: Any, c: tuple) -> None:
    """Pass 2 on flat device arrays: ``θ += -c₀ θ - c₁ m / (√v + c₂)``.

    ``c = (λ λ_t, λ_t, d ε)`` in x's dtype (the CPU's factors).
    """
    blocks, threads = launch_config(theta.size)
    if blocks:
        _update_kernel[blocks, threads](theta, m, v, c)
