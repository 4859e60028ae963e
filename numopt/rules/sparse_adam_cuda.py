"""SparseAdam's step on the GPU: the touched rows of a device table, one CUDA kernel.

:class:`numopt.SparseAdam` sends a device ``x`` here (:func:`step`, called by
:func:`numopt.rules.sparse_adam.reference`).  θ and its moments stay on the device;
what crosses to the host is proportional to the touched rows, or to the rows:

* a sparse gradient ``(indices, values)`` (host or device arrays) is copied to the
  host, checked and coalesced there by the CPU's own compiled pass
  (:func:`numopt.rules.sparse_adam.coalesced`: the same sums, the same errors), and
  its ``k`` unique rows and their summed values go to the device (:func:`to_rows`):
  O(k · width) numbers each way, never the R-row table;
* a dense device gradient's touched rows (those holding a non-zero, NaN included) are
  found on the device: one kernel writes a flag per row, the R flags (one byte each)
  come to the host, and their row numbers go back;
* one kernel then updates the touched elements (``k × width`` threads, grid-stride):
  m, v and θ with the CPU's arithmetic, operation for operation, and the per-step
  factors the host computed (:data:`numopt.rules.sparse_adam.KERNELS`' ``c``).  Rows
  are unique, so no two threads write one element.

``clip_value``/``clip_norm`` clip the device values (or the dense gradient) in one
pass, their norm reduced in the CPU's order
(:func:`numopt.rules.clipping.reference_gradient`); ``bounds`` clamp θ on the device
afterwards, as for every rule.  In the simulator the results are the CPU's bits; on
a GPU the compiler may contract a product and a sum into an FMA, so they agree to a
few ulps.

Like :mod:`numopt.kernels.cuda`, this module imports :mod:`numba.cuda`: numopt
imports it only for device arrays, and the kernels compile at their first launch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda

from numopt.kernels import cuda as device
from numopt.kernels import cuda_arrays
from numopt.rules.shapes import Shapes, segments


@cuda.jit(cache=True)
def _rows_kernel(
    x, m, v, g, rows, c, base, row_stride, col_stride, width, dense
):  # pragma: no cover - compiled
    """The step on the touched elements of the flat ``x, m, v``: element ``e`` is column
    ``j`` of row ``rows[i]`` (``e = i·width + j``); its gradient is ``g[e]`` (the
    values, flat) or, ``dense``, the dense gradient's own element.  ``c`` = ``(1 - β₁,
    1 - β₂, -step, ε, ±1)``: :func:`numopt.rules.sparse_adam._update_rows`' lines."""
    for e in range(cuda.grid(1), rows.size * width, cuda.gridsize(1)):
        i = e // width
        j = e - i * width
        k = base + rows[i] * row_stride + j * col_stride
        gv = (g[k] if dense else g[e]) * c[4]
        m_old = m[k]
        v_old = v[k]
        dm = (gv - m_old) * c[0]
        dv = (gv * gv - v_old) * c[1]
        m[k] = m_old + dm
        v[k] = v_old + dv
        x[k] += c[2] * ((dm + m_old) / (math.sqrt(dv + v_old) + c[3]))


@cuda.jit(cache=True)
def _flags_kernel(g, flags, base, size, n_rows, width, c_order):  # pragma: no cover - compiled
    """``flags[r] = 1`` for each row ``r`` of the table at ``g[base:base+size]`` that holds
    a non-zero (or a NaN); read in memory order (coalesced), ``flags`` zeroed first.
    Every writer of a flag writes 1: no atomics needed."""
    for e in range(cuda.grid(1), size, cuda.gridsize(1)):
        if g[base + e] != 0:
            flags[e // width if c_order else e % n_rows] = 1


def host_copy(a: Any, name: str) -> np.ndarray:
    """``a`` (a NumPy or CUDA device array, or array-like) as a host array; ``name`` for
    errors."""
    if isinstance(a, np.ndarray) or not device.is_device_array(a):
        return np.asarray(a)
    return device.as_device(a, name).copy_to_host()


def to_rows(indices: Any, values: Any, shape: tuple[int, ...], dtype: np.dtype, order: str) -> Any:
    """A sparse gradient for a device table of ``shape``, checked and coalesced on the host
    (as the CPU does), as a :class:`numopt.rules.sparse_adam.Rows` on the device.

    Parameters
    ----------
    indices, values : numpy.ndarray or CUDA device array
        The row numbers and their gradient rows, each on the host or the device.
    shape, dtype, order
        The table's shape, dtype and memory order (``x``'s layout).

    Returns
    -------
    Rows
        Device arrays: the sorted unique rows (int64) and their summed values,
        shape ``(k, width)``.
    """
    from numopt.rules.sparse_adam import Rows, coalesced

    rows = coalesced(
        host_copy(indices, "g's indices"), host_copy(values, "g's values"), shape, dtype, order
    )
    return Rows(device.to_device(rows.rows), device.to_device(rows.values))


def touched_rows(g: Any, base: int, n_rows: int, width: int, order: str) -> Any:
    """The rows holding a non-zero of the table at ``g[base:]`` (flat, on the device), as
    a sorted int64 device array: R flags cross to the host, the rows go back."""
    flags = cuda_arrays.full(n_rows, np.uint8, 0)  # zeroed on the device
    size = n_rows * width
    blocks, threads = device.launch_config(size)
    if blocks:
        _flags_kernel[blocks, threads](g, flags, base, size, n_rows, width, order == "C")
    rows = np.flatnonzero(flags.copy_to_host()).astype(np.int64)
    return rows if rows.size == 0 else device.to_device(rows)


def step(theta: Any, g: Any, m: Any, v: Any, c: np.ndarray, shapes: Shapes, order: str) -> None:
    """One SparseAdam step in place on the flat device arrays ``theta``, ``m``, ``v``.

    Parameters
    ----------
    theta, m, v : CUDA device array
        Flat: the arrays of ``shapes``, each a table of rows, in memory order ``order``.
    g : Rows or CUDA device array
        A :class:`numopt.rules.sparse_adam.Rows` on the device (``shapes`` is then one
        array), or a dense flat device gradient, already clipped.
    c : numpy.ndarray
        ``(1 - β₁, 1 - β₂, -step, ε, ±1)`` in θ's dtype, computed on the host.
    shapes, order
        As :func:`numopt.rules.sparse_adam.reference` takes them.
    """
    from numopt.rules.sparse_adam import Rows, table_shape

    factors = tuple(c)  # numbers of θ's dtype
    dense = not isinstance(g, Rows)
    for part, shape in segments(shapes):
        n_rows, width = table_shape(shape)
        strides = (width, 1) if order == "C" else (1, n_rows)
        if dense:
            rows, values = touched_rows(g, part.start, n_rows, width, order), g
        else:
            rows, values = g.rows, g.values.reshape(g.values.size)
        blocks, threads = device.launch_config(rows.size * width)
        if blocks:
            _rows_kernel[blocks, threads](
                theta, m, v, values, rows, factors, part.start, *strides, width, dense
            )
