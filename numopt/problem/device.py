"""``x0`` and the gradient of a run on the GPU: device buffers, device views.

:class:`DeviceStructure` is :class:`numopt.problem.structure.Structure` for a flat
device buffer: ``fun``/``jac`` see device views of it, of ``x0``'s own kind (CuPy
arrays, PyTorch tensors, Numba device arrays), and gradients of any of those kinds
or NumPy are copied into the run's device buffer.  :class:`DeviceObjective` is the
objective whose gradient lands there.  Imported only for a run on the GPU (see
:mod:`numopt.problem.placement`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numopt.kernels.arrays import FLOAT_DTYPES, on_device
from numopt.problem.objective import FD_METHODS, Objective
from numopt.problem.structure import Structure, _leaf


def _library(a: Any) -> str | None:
    """``"cupy"`` or ``"torch"`` for their arrays; None for Numba's and others."""
    root = type(a).__module__.partition(".")[0]
    return root if root in ("cupy", "torch") else None


def _wrapper(library: str | None) -> Callable[[Any], Any]:
    """How a Numba device view becomes an array of the user's library (no copy)."""
    if library == "cupy":
        import cupy

        return cupy.asarray
    if library == "torch":
        import torch

        return lambda a: torch.as_tensor(a, device="cuda")
    return lambda a: a


class DeviceStructure(Structure):
    """x0 ↔ one flat device buffer; ``fun`` sees device views of it.

    Leaves may be CUDA device arrays (float32/float64, C-contiguous, finite: checked
    on the device) or anything a host ``x0`` may be (copied to the device once).
    Views (:meth:`views`) are of x0's own kind: CuPy arrays for CuPy leaves, PyTorch
    tensors for CUDA tensors, Numba device arrays otherwise.
    """

    def __init__(self, x0: Any) -> None:
        self._norms: Any = None
        self._library: str | None = None
        super().__init__(x0)
        self._wrap = _wrapper(self._library)

    @staticmethod
    def _is_array(v: Any) -> bool:
        return isinstance(v, np.ndarray) or on_device(v)

    def _leaf(self, name: str, value: Any) -> Any:
        if not on_device(value):
            return _leaf(name, value)
        from numopt.kernels import cuda
        from numopt.kernels.cuda_arrays import Norms

        d = cuda.as_device(value, name)
        dtype = np.dtype(d.dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{name} is a CUDA device array of dtype {dtype}; on the GPU x0 must be "
                "float32 or float64 (convert it on the device first)"
            )
        if not d.is_c_contiguous():
            raise ValueError(f"{name} is a non-contiguous device array; pass a C-contiguous one")
        if self._norms is None:
            self._norms = Norms()
        if not math.isfinite(self._norms.absmax(d.reshape(d.size))):
            raise ValueError(f"{name} contains NaN or infinity")
        if self._library is None:
            self._library = _library(value)
        return d

    def _empty(self) -> Any:
        from numopt.kernels import cuda_arrays

        return cuda_arrays.empty(self.size, self.dtype)

    def _copy_leaf(self, dst: Any, leaf: Any, shape: tuple, label: str) -> None:
        """A device array device-to-device (cast on the device), a host one host-to-device."""
        from numopt.kernels import cuda

        size = dst.size
        if on_device(leaf):
            d = cuda.as_device(leaf, label)
            dtype = np.dtype(d.dtype)
            if tuple(d.shape) != tuple(shape):
                raise ValueError(f"{label} has shape {tuple(d.shape)} but x0 has shape {shape}")
            if dtype.kind not in "fiu":
                raise TypeError(f"{label} must hold real numbers, got dtype {dtype}")
            if size:
                copy_in(dst, d, label)
            return
        a = np.asarray(leaf)
        if a.shape != tuple(shape):
            raise ValueError(f"{label} has shape {a.shape} but x0 has shape {shape}")
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{label} must hold real numbers, got dtype {a.dtype}")
        if size:  # host to device: a transfer per call
            copy_in(dst, a, label)

    def views(self, flat: Any, writeable: bool = False) -> Any:
        """Device views of the flat device buffer structured like x0 (host: as Structure).

        Device views cannot be made read-only: ``fun`` must not write into them
        (except the gradient's views of ``jac="inplace"``).
        """
        if isinstance(flat, np.ndarray):
            return super().views(flat, writeable)
        leaves, start = [], 0
        for shape, size in zip(self.shapes, self.sizes, strict=True):
            v = flat[start : start + size]
            start += size
            leaves.append(self._wrap(v if tuple(shape) == (size,) else v.reshape(shape)))
        return self._rebuild(leaves)

    def unflatten(self, flat: Any) -> Any:
        """Fresh arrays structured like x0 (device arrays for a device buffer: one copy)."""
        if isinstance(flat, np.ndarray):
            return super().unflatten(flat)
        from numopt.kernels import cuda_arrays

        copy = cuda_arrays.empty(self.size, self.dtype)
        copy.copy_to_device(flat)
        return self.views(copy)


def copy_in(dst: Any, value: Any, label: str) -> None:
    """Copy ``value`` (its shape and dtype kind checked by the caller) into the flat
    device buffer ``dst``: a device array device to device, cast on the device where
    its dtype differs (C-contiguous only); a host array host to device."""
    from numopt.kernels import cuda, cuda_arrays

    if not on_device(value):
        dst.copy_to_device(np.ascontiguousarray(value, dtype=dst.dtype).reshape(dst.size))
        return
    d = cuda.as_device(value, label)
    if not d.is_c_contiguous():
        raise ValueError(
            f"{label} is a non-contiguous device array; return a C-contiguous one "
            "(cupy.ascontiguousarray(a), t.contiguous())"
        )
    flat = d.reshape(dst.size)
    if np.dtype(d.dtype) == np.dtype(dst.dtype):
        dst.copy_to_device(flat)  # device to device
    else:
        cuda_arrays.cast(dst, flat)


class DeviceObjective(Objective):
    """The objective of a run on the GPU: the gradient lands in a device buffer.

    ``jac`` may be a callable, ``True`` or ``"inplace"`` (``fun(x, grad, *args)``
    writes into device views of the run's gradient: no copy); finite differences
    run on the host, so they are refused here.
    """

    def __init__(self, fun: Callable, jac: Any, structure: Structure, x: Any, g: Any) -> None:
        super().__init__(fun, jac, structure, x, g)
        if self.mode in FD_METHODS:
            raise ValueError(
                f"jac={jac!r} means finite differences, which numopt computes on the host; "
                "on the GPU give the gradient: jac=callable, jac=True (fun returns (f, g)) "
                "or jac='inplace' — or run on the host with options['device']='cpu'"
            )

    def _store(self, g: Any) -> None:
        self.structure.flatten(g, out=self.g, name="jac")
