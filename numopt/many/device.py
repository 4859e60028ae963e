"""``minimize_many(..., vectorized=True)`` on the GPU: the problems' rows on the device.

With ``options={"device": "cuda"}``, or ``x0`` a CUDA device array (Numba, CuPy,
PyTorch), the vectorised loop keeps every problem's point, gradient, best point,
final values and bounds as ``(M, n)`` device arrays (:class:`DeviceRows`); the
rule's fused CUDA kernel steps them all at once, and the per-problem tests run on
the device (:mod:`numopt.kernels.cuda_rows`), one float64 per running problem coming
back to the host.

``fun`` gets device views of ``X`` of ``x0``'s own kind (CuPy arrays for CuPy, CUDA
tensors for PyTorch, Numba device arrays otherwise), always every problem's row:
``fun(X, *args)`` with ``X`` of shape ``(k, *x0.shape[1:])`` for blocks of ``k =
block_rows`` consecutive problems (by default all ``M`` at once), the split
arguments sliced to the same rows (device or host arrays, as given).  The views are
the run's own buffer (device arrays cannot be made read-only): ``fun`` must not
write into them, or it moves the problems' points.  The rows of
problems that have stopped are evaluated too and ignored: gathering the running
rows into a new buffer would cost as much as evaluating them (``nfev`` counts the
running problems' evaluations only).  It returns the losses ``(k,)`` and the
gradients ``(k, *x0.shape[1:])``, on the device or the host; device gradients are
copied device to device.  Finite differences are refused (they run on the host).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import cuda as numba_cuda

from numopt.kernels import cuda, cuda_arrays, cuda_rows
from numopt.kernels.arrays import on_device
from numopt.many import checkpoint as many_checkpoint
from numopt.problem.device import _library, _wrapper, copy_in


def _to_device(a: np.ndarray) -> Any:
    return numba_cuda.to_device(np.ascontiguousarray(a))


class DeviceRows:
    """The loop's row operations (see :class:`numopt.many.rows.HostRows`) on device
    buffers: ``X``, ``LO``, ``HI`` are device copies of the problems' arrays."""

    def __init__(self, problems: Any, library: str | None) -> None:
        self.m = problems.M
        self.X = _to_device(problems.X)
        bounded = problems.LO.shape[1] != 0
        self.LO = _to_device(problems.LO) if bounded else self.X[:, :0]
        self.HI = _to_device(problems.HI) if bounded else self.X[:, :0]
        self.wrap = _wrapper(library)

    def evaluate(self, batch: Any, G: Any, active: np.ndarray) -> np.ndarray:
        """The losses of the problems ``active`` (host float64); every problem's
        gradient into ``G`` (see the module docstring)."""
        return batch.everywhere(self.X, G, active, self.wrap)

    # The norms come back in x's dtype (exactly: maxima of its values), as the host's,
    # so a float32 run compares them with gtol and xtol in float32 as the host does.
    def absmax(self, a: Any, rows: np.ndarray) -> np.ndarray:
        return cuda_rows.absmax(a, cuda_rows.index(rows)).astype(a.dtype)

    def absdiffmax(self, a: Any, b: Any, rows: np.ndarray) -> np.ndarray:
        return cuda_rows.absdiffmax(a, b, cuda_rows.index(rows)).astype(a.dtype)

    def projected(self, G: Any, sign: float, rows: np.ndarray) -> np.ndarray:
        index = cuda_rows.index(rows)
        return cuda_rows.projected(self.X, G, self.LO, self.HI, sign, index).astype(G.dtype)

    @staticmethod
    def copy(dst: Any, src: Any, rows: np.ndarray) -> None:
        if rows.size:
            cuda_rows.copy(dst, src, cuda_rows.index(rows))

    @staticmethod
    def fill(dst: Any, rows: np.ndarray, value: float) -> None:
        if rows.size:
            cuda_rows.fill(dst, cuda_rows.index(rows), value)

    @staticmethod
    def copy_of(a: Any) -> Any:
        b = numba_cuda.device_array(a.shape, a.dtype)
        b.copy_to_device(a)
        return b

    @staticmethod
    def full_like(a: Any, value: float) -> Any:
        return cuda_arrays.full(a.size, a.dtype, value).reshape(a.shape)

    @staticmethod
    def host(a: Any) -> np.ndarray:
        """A host copy of the device array ``a`` (host arrays pass through)."""
        return a if isinstance(a, np.ndarray) else a.copy_to_host()

    @staticmethod
    def restore(dst: Any, arrays: dict, name: str) -> None:
        """The checkpoint's array ``name`` (host) into ``dst`` (checked; copied over)."""
        if isinstance(dst, np.ndarray):
            many_checkpoint.restore(dst, arrays, name)
            return
        values = np.empty(dst.shape, dst.dtype)
        many_checkpoint.restore(values, arrays, name)
        dst.copy_to_device(values)


def library_of(x0: Any) -> str | None:
    """The array library of a device ``x0`` (``"cupy"``, ``"torch"``) or None."""
    return _library(x0) if on_device(x0) else None


def host_copy(x0: Any) -> np.ndarray:
    """A device ``x0``'s values on the host (the run works on copies: x0 is not changed)."""
    return cuda.as_device(x0, "x0").copy_to_host()


class DeviceBatch:
    """The vectorised objective on the device: every row of ``X``, block by block."""

    def __init__(self, fun: Callable, jac: Any, problems: Any, block: int) -> None:
        self.fun, self.jac, self.p, self.block = fun, jac, problems, block
        self.combined = jac is True
        self.nfev = np.zeros(problems.M, np.int64)
        self.njev = np.zeros(problems.M, np.int64)

    def everywhere(self, X: Any, G: Any, active: np.ndarray, wrap: Callable) -> np.ndarray:
        """Evaluate every problem; the losses of ``active`` (host), gradients into ``G``."""
        p = self.p
        losses = []
        for start in range(0, p.M, self.block):
            stop = min(start + self.block, p.M)
            k = stop - start
            view = wrap(X[start:stop].reshape((k, *p.shape)))
            args = tuple(a[start:stop] if j in p.split else a for j, a in enumerate(p.args))
            if self.combined:
                out = self.fun(view, *args)
                if not isinstance(out, tuple) or len(out) != 2:
                    raise TypeError("with jac=True, fun must return a tuple (f, G)")
                f, g = out
            else:
                f, g = self.fun(view, *args), self.jac(view, *args)
            losses.append(_losses(f, k))
            _store_gradients(G[start:stop], g, (k, *p.shape))
        self.nfev[active] += 1
        self.njev[active] += 1
        f = losses[0] if len(losses) == 1 else np.concatenate(losses)
        return f[active]


def _mismatch(name: str, what: str, shape: tuple, got: Any) -> ValueError:
    return ValueError(
        f"with vectorized=True, {name} must return {what}: real numbers of shape {shape}, got {got}"
    )


def _losses(f: Any, k: int) -> np.ndarray:
    """The block's losses as host float64, checked."""
    a = cuda.as_device(f, "fun's losses").copy_to_host() if on_device(f) else np.asarray(f)
    if a.shape != (k,) or a.dtype.kind not in "fiu":
        raise _mismatch("fun", "one loss per problem", (k,), f"{a.dtype} of shape {a.shape}")
    return a.astype(np.float64)


def _store_gradients(dst: Any, g: Any, shape: tuple) -> None:
    """The block's gradients into its rows ``dst`` of the device gradient, checked."""
    d = cuda.as_device(g, "jac") if on_device(g) else np.asarray(g)
    dtype = np.dtype(d.dtype)
    if tuple(d.shape) not in (shape, dst.shape) or dtype.kind not in "fiu":
        what = "one gradient row per problem"
        raise _mismatch("jac", what, shape, f"{dtype} of shape {tuple(d.shape)}")
    copy_in(dst.reshape(dst.size), d, "jac")
