"""SparseAdam: Adam's moments updated lazily, only on the rows a sparse gradient touches.

For an embedding table θ of shape ``(R, ...)`` and a gradient that touches the rows
``I`` (given as ``(indices, values)``), as ``torch.optim.SparseAdam`` (torch 2.13)
writes it, for each touched row ``i ∈ I`` with its gradient row ``g_i``:

    m_i ← m_i + (1 - β₁)(g_i - m_i)
    v_i ← v_i + (1 - β₂)(g_i² - v_i)
    θ_i ← θ_i - η · sqrt(1 - β₂ᵗ)/(1 - β₁ᵗ) · m_i / (sqrt(v_i) + ε)

and nothing else changes: the rows not in ``I`` keep their θ, m and v (their moments do
not decay).  ``t`` counts every step, touched or not.  Repeated indices are summed
first (torch's ``coalesce``), since the update is not linear in ``g``.  ε is added
to ``sqrt(v)`` itself, not to the bias-corrected root as in :class:`numopt.Adam`, so
the two differ slightly even where every row is touched.

**The gradient.**  :meth:`SparseAdam.step` takes ``g`` either as a pair ``(indices,
values)``, ``indices`` an integer array of ``k`` row numbers in ``[0, R)`` and
``values`` of shape ``(k, *θ.shape[1:])`` (what a sparse ``nn.Embedding`` hands
torch); or dense, like θ, whose touched rows are the rows along the first axis that
hold a non-zero (each element of a 1-D θ is a row).  ``minimize`` passes its
objective's dense gradient, so there too the touched rows are the non-zero ones: a
row whose gradient is exactly zero is left alone, where torch would still decay its
moments if the row were listed in a sparse gradient.

**Where a step runs.**  Repeated indices are summed by one compiled pass over the
stably sorted indices.  The ``"serial"`` and ``"parallel"`` backends then update the
touched rows in one fused Numba loop (:data:`KERNELS`, ``prange`` over the rows);
``"numpy"`` runs :func:`reference`'s NumPy lines, and both give the same bits.  The
cost is proportional to the touched rows, not to R — except for a dense gradient,
which must be scanned for its non-zero rows, and ``bounds``, which are applied to
all of θ.

**On the GPU.**  A CUDA device table (Numba's, or CuPy's or PyTorch's through
``__cuda_array_interface__``) is stepped on the device
(:mod:`numopt.rules.sparse_adam_cuda`), its state there too.  ``(indices, values)``
may then be host or device arrays, in any combination: they are copied to the host,
coalesced there by the same compiled pass (O(k), never the table), and the unique
rows with their summed values go back to the device.  A dense device gradient's
touched rows are found on the device (R flags, not the gradient, cross to the host).
One kernel updates the touched elements with the CPU's arithmetic and factors: the
same bits in Numba's simulator, a few ulps on a GPU (FMA contraction).  A host table
takes host indices and values only.

Defaults are torch's: η = 1e-3, β = (0.9, 0.999), ε = 1e-8.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange

from numopt.kernels.arrays import flat_pair, on_device
from numopt.kernels.cpu import SERIAL_BELOW
from numopt.rules import clipping
from numopt.rules import shapes as array_shapes
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, LEARNING_RATE
from numopt.rules.optimizer import Optimizer
from numopt.rules.shapes import segments
from numopt.rules.spec import RuleSpec, always, factor_layout


class Rows(NamedTuple):
    """A gradient's touched rows: sorted unique ``rows`` and their summed ``values``
    (host arrays, or device arrays for a device table)."""

    rows: Any  # int64, shape (k,)
    values: Any  # θ's dtype, shape (k, width)


def table_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """θ of ``shape`` as a table of rows: ``(shape[0], rest)``; a 1-D θ is a column."""
    if not shape:
        return (1, 1)
    return (shape[0], math.prod(shape[1:]))


def coalesced(
    indices: Any, values: Any, shape: tuple[int, ...], dtype: np.dtype, order: str = "C"
) -> Rows:
    """Check a sparse gradient ``(indices, values)`` for θ of ``shape``; sum repeated rows.

    Each row of ``values`` is flattened in θ's memory ``order``, as θ's table is.
    """
    n_rows, width = table_shape(shape)
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        raise TypeError(
            f"g's indices must be a 1-D integer array of row numbers, got "
            f"{'dtype ' + str(idx.dtype) if idx.dtype.kind not in 'iu' else f'shape {idx.shape}'}"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        bad = idx[(idx < 0) | (idx >= n_rows)][0]
        raise IndexError(f"g's indices must lie in [0, {n_rows}) (x's rows), got {bad}")
    vals = np.asarray(values)
    want = (idx.size, *shape[1:])
    if vals.shape != want:
        raise ValueError(
            f"g's values must have shape {want} (one row of x per index), got {vals.shape}"
        )
    if vals.dtype != dtype:
        raise TypeError(f"g's values must have x's dtype {dtype}, got {vals.dtype}")
    flat = np.ascontiguousarray(vals.reshape((idx.size, width), order=order))
    return Rows(*_coalesce(idx.astype(np.int64, copy=False), flat))


@njit(cache=True)
def _coalesce(idx, values):  # pragma: no cover - compiled
    """Sorted unique rows, each with the sum of its values in the order given."""
    order = np.argsort(idx, kind="mergesort")  # stable: repeats summed as given
    unique = 0
    for i in range(idx.size):
        if i == 0 or idx[order[i]] != idx[order[i - 1]]:
            unique += 1
    rows = np.empty(unique, np.int64)
    out = np.empty((unique, values.shape[1]), values.dtype)
    u = -1
    for i in range(idx.size):
        s = order[i]
        if i == 0 or idx[s] != idx[order[i - 1]]:
            u += 1
            rows[u] = idx[s]
            out[u, :] = values[s, :]
        else:
            out[u, :] += values[s, :]
    return rows, out


def _update_rows(x, m, v, rows, values, c):  # pragma: no cover - compiled
    """The step on the touched rows of the tables ``x, m, v``; ``c`` = ``(1 - β₁, 1 - β₂,
    -step, ε, ±1)`` in x's dtype.  The arithmetic of :func:`reference`'s NumPy lines,
    operation for operation (same bits); rows are unique, so ``prange`` is race-free."""
    for i in prange(rows.shape[0]):
        r = rows[i]
        for j in range(x.shape[1]):
            g = values[i, j] * c[4]
            m_old, v_old = m[r, j], v[r, j]
            dm = (g - m_old) * c[0]
            dv = (g * g - v_old) * c[1]
            m[r, j] = m_old + dm
            v[r, j] = v_old + dv
            x[r, j] += c[2] * ((dm + m_old) / (math.sqrt(dv + v_old) + c[3]))


#: The fused row update by CPU backend (the NumPy backend runs :func:`reference`'s lines).
KERNELS = {
    "serial": njit(cache=True, error_model="numpy")(_update_rows),
    "parallel": njit(cache=True, parallel=True, error_model="numpy")(_update_rows),
}


def touched(g: np.ndarray) -> Rows:
    """A dense gradient (as a ``(R, width)`` table) as its rows that hold a non-zero."""
    rows = np.flatnonzero((g != 0).any(axis=1))
    return Rows(rows, g[rows])


def reference(
    theta, g, m, v, *, t, learning_rate, beta1, beta2, eps, shapes, order="C", maximize=False,
    backend="numpy",
):  # fmt: skip
    """One step, in place on flat ``theta``, ``m``, ``v``: the arrays of ``shapes`` they
    are made of (in memory order ``order``), each viewed as a table of rows; ``g`` is a
    :class:`Rows` (``shapes`` is then one array) or a dense flat gradient.  ``backend``
    other than ``"numpy"`` runs the touched rows through :data:`KERNELS` (same bits);
    device arrays run :func:`numopt.rules.sparse_adam_cuda.step` (same factors)."""
    step = learning_rate * math.sqrt(1 - math.pow(beta2, t)) / (1 - math.pow(beta1, t))
    dt = np.dtype(theta.dtype).type
    c = np.array([1 - beta1, 1 - beta2, -step, eps, -1.0 if maximize else 1.0], theta.dtype)
    if not isinstance(theta, np.ndarray):  # a device table: its own kernels, same factors
        from numopt.rules import sparse_adam_cuda

        sparse_adam_cuda.step(theta, g, m, v, c, shapes, order)
        return
    for part, shape in segments(shapes):
        table = table_shape(shape)
        x, mt, vt = (a[part].reshape(table, order=order) for a in (theta, m, v))
        rows, values = g if isinstance(g, Rows) else touched(g[part].reshape(table, order=order))
        if rows.size == 0:
            continue
        if backend != "numpy":  # "auto": by the touched elements, not by x's size
            kernel = backend
            if kernel == "auto":
                kernel = "serial" if values.size < SERIAL_BELOW else "parallel"
            KERNELS[kernel](x, mt, vt, rows, values, c)
            continue
        values = -values if maximize else values
        m_old, v_old = mt[rows], vt[rows]
        dm = (values - m_old) * dt(1 - beta1)
        dv = (values * values - v_old) * dt(1 - beta2)
        mt[rows] = m_old + dm
        vt[rows] = v_old + dv
        x[rows] += dt(-step) * ((dm + m_old) / (np.sqrt(dv + v_old) + dt(eps)))


class Lazy:
    """SparseAdam's step: the touched rows only (NumPy's lines, the fused row loop, or
    the CUDA row kernel)."""

    runs_reference = True

    def reference_options(self, opt: Any, layout: Any) -> dict[str, Any]:
        """The arrays that the flat ``x`` is made of, each a table of rows."""
        given, order = array_shapes.of_x(opt.shapes, layout)
        return {
            "shapes": given,
            "order": order,
            "backend": "cuda" if layout.device else opt.backend,
        }

    def clipped_gradient(self, g: Any, hp: dict[str, Any]) -> Any:
        """``clip_value`` and ``clip_norm`` on a sparse gradient's values (dense: as usual)."""
        if not isinstance(g, Rows):
            return clipping.reference_gradient(g, hp)  # on the device for a device g
        if g.values.size == 0:
            return g
        flat = g.values.reshape(g.values.size)  # on the device for a device table
        return Rows(g.rows, clipping.reference_gradient(flat, hp).reshape(g.values.shape))


SPEC = RuleSpec(
    name="sparse_adam",
    hyperparameters=(LEARNING_RATE, BETA1, BETA2, EPS),
    factors=factor_layout("lr"),
    factor_fn=lambda t, lr, h: (lr,),
    factor_args=lambda hp: (),
    body=always(None),
    reference=reference,
    state=always(("m", "v")),
    passes=Lazy(),
    attributes=(array_shapes.attribute("each a table of rows along its first axis"),),
)


class SparseAdam(Optimizer, spec=SPEC):
    """Adam on the rows a sparse gradient touches, as ``torch.optim.SparseAdam``.

    Notes
    -----
    ``step(x, (indices, values))`` updates only the rows ``indices`` of ``x`` (and of
    the moments); a dense ``g`` touches its non-zero rows.  See
    :mod:`numopt.rules.sparse_adam` for the formulas.  A CUDA device ``x`` is stepped
    on the GPU, its ``(indices, values)`` on the host or the device
    (:mod:`numopt.rules.sparse_adam_cuda`).  ``minimize`` runs it in its Python loop,
    on the host or the device.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> table = np.zeros((4, 2))
    >>> opt = numopt.SparseAdam(learning_rate=0.1)
    >>> opt.step(table, (np.array([2, 0, 2]), np.ones((3, 2)))).round(6)  # row 2 twice
    array([[-0.1, -0.1],
           [ 0. ,  0. ],
           [-0.1, -0.1],
           [ 0. ,  0. ]])
    >>> opt.state["v"].reshape(4, 2)[:, 0]           # rows 1 and 3 untouched
    array([0.001, 0.   , 0.004, 0.   ])
    """

    def step(self, x: Any, g: Any) -> Any:
        """Take one step: ``g`` is ``(indices, values)`` (sparse) or an array like ``x``.

        Parameters
        ----------
        x : numpy.ndarray, CUDA device array, or list/tuple/dict of numpy.ndarray
            The table (rows along the first axis), updated in place.
        g : tuple of (array of int, array), or like x
            ``(indices, values)``: ``values[j]`` is the gradient of row
            ``indices[j]`` (repeats are summed); host arrays, or for a device ``x``
            host or device arrays (copied to the host to be coalesced: O(k)).  Or a
            dense gradient like ``x`` (on the device with ``x``), whose rows with a
            non-zero are the touched ones.

        Returns
        -------
        x
            The same object, updated.
        """
        if isinstance(x, (list, tuple, dict)):
            leaves = (
                g.values() if isinstance(g, dict) else g if isinstance(g, (list, tuple)) else ()
            )
            if any(isinstance(leaf, tuple) for leaf in leaves):
                raise TypeError(
                    "a sparse gradient (indices, values) is for one table: step(x, (indices, "
                    "values)) with x a numpy.ndarray; for a list/dict x give dense gradients"
                )
            return super().step(x, g)
        if not isinstance(g, tuple):
            return super().step(x, g)
        if len(g) != 2:
            raise TypeError(
                f"g must be an array like x or a pair (indices, values), got a tuple of {len(g)}"
            )
        device = on_device(x)
        if not device and not isinstance(x, np.ndarray):
            raise TypeError(
                f"with a sparse g, x must be a numpy.ndarray or a CUDA device array, got "
                f"{type(x).__name__}"
            )
        for name, part in zip(("indices", "values"), g, strict=True):
            if on_device(part) and not device:
                raise TypeError(
                    f"g's {name} is a CUDA device array but x is a host array: give a host "
                    f"x host indices and values (.copy_to_host()), or step a device x"
                )
        pair = flat_pair(x, x)  # checks x; the gradient is the sparse one
        layout = pair.layout
        if self.shapes is not None and self.shapes != (layout.shape,):
            raise ValueError(
                f"a sparse g is for one table, but shapes={[list(s) for s in self.shapes]}: "
                "set shapes to None (x's own shape) or give a dense g"
            )
        if device:
            from numopt.rules import sparse_adam_cuda

            rows = sparse_adam_cuda.to_rows(*g, layout.shape, layout.dtype, layout.order)
        else:
            rows = coalesced(*g, layout.shape, layout.dtype, layout.order)
        pair = pair._replace(g=rows)
        self._apply(pair, None if self._bounds is None else self._box_for(pair.layout))
        return x
