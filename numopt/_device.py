"""Where ``minimize`` keeps its arrays: on the host (NumPy) or on a CUDA GPU.

The loop of :mod:`numopt._minimize` is written once over a few array operations
(:class:`HostOps` on NumPy buffers, :class:`DeviceOps` on device buffers).  A run
on the GPU (``options={"device": "cuda"}``, or a CUDA device array as ``x0``, or
``backend="cuda"``) keeps ``x``, the gradient, the best point, ``x_prev`` and the
optimizer's state on the device:

* ``fun``/``jac`` get device views of ``x`` (:class:`DeviceStructure`), of x0's
  own kind: CuPy arrays when x0 is CuPy, PyTorch tensors when it is a CUDA tensor,
  Numba device arrays otherwise (no copies: the views share the run's buffer);
* a gradient with ``__cuda_array_interface__`` is copied device-to-device into the
  run's buffer (cast there if its dtype differs); a host (NumPy) gradient is
  copied in from the host, a transfer per evaluation; ``jac="inplace"`` writes it
  in place, with no copy at all (:class:`DeviceObjective`);
* ``max|g|`` (gtol and the non-finite check) and ``max|x - x_prev|`` (xtol) are
  reduced on the device (:class:`numopt.backends.cuda_arrays.Norms`): 8 bytes per
  block come back, not the arrays;
* the host sees ``x`` only in checkpoints and in the result (``res.x`` NumPy,
  ``res.x_device`` on request).

:mod:`numba.cuda` is imported only once a run is on the GPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numopt._arrays import FLOAT_DTYPES, on_device
from numopt._checks import choice
from numopt._objective import FD_METHODS, Objective
from numopt._structure import Structure, _leaf
from numopt.backends.cpu import inf_norm
from numopt.optimizer import Optimizer

#: ``options["device"]`` choices.
DEVICES = ("auto", "cpu", "cuda")
#: Backends that run on the CPU only.
CPU_BACKENDS = ("serial", "parallel", "numpy")


def on_gpu(x0: Any, options: dict, method: Any) -> bool:
    """Whether this run keeps its arrays on the GPU; checks ``options["device"]``.

    ``"auto"`` (the default) means the GPU when ``x0`` holds a CUDA device array or
    the backend is ``"cuda"``, the host otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> on_gpu(np.zeros(3), {}, "adam"), on_gpu(np.zeros(3), {"device": "cpu"}, "adam")
    (False, False)
    """
    device = choice("device", options.get("device", "auto"), DEVICES)
    if isinstance(x0, dict):
        leaves = list(x0.values())
    elif isinstance(x0, (list, tuple)):
        leaves = list(x0)
    else:
        leaves = [x0]
    given = any(on_device(v) for v in leaves)
    backend = method.backend if isinstance(method, Optimizer) else options.get("backend", "auto")
    if device == "cpu":
        if given:
            raise TypeError(
                "x0 holds CUDA device arrays but options['device'] is 'cpu': copy x0 to the "
                "host (a.copy_to_host(), cupy.asnumpy(a), t.cpu().numpy()) or use "
                "device='cuda'"
            )
        if backend == "cuda":
            raise ValueError(
                "backend='cuda' runs on the GPU but options['device'] is 'cpu'; use "
                "device='cuda' or 'auto'"
            )
        return False
    gpu = device == "cuda" or given or backend == "cuda"
    if gpu and backend in CPU_BACKENDS:
        why = "x0 is a CUDA device array" if given else "options['device'] is 'cuda'"
        raise ValueError(
            f"backend={backend!r} runs on the CPU but this run is on the GPU ({why}); use "
            "backend='auto' or 'cuda', or device='cpu' with host arrays"
        )
    return gpu


# -- the loop's array operations -------------------------------------------------------
class HostOps:
    """The loop's operations on host (NumPy) buffers."""

    device = False
    zeros = staticmethod(np.zeros)  # (n, dtype) -> a flat zero buffer
    copy_of = staticmethod(np.copy)  # a new buffer with a's values
    copy = staticmethod(np.copyto)  # (dst, src): dst[:] = src
    load = staticmethod(np.copyto)  # (dst, host array): dst[:] = host values
    norm = staticmethod(inf_norm)  # max|a|, NaN if not finite

    @staticmethod
    def diff_norm(a: np.ndarray, b: np.ndarray) -> float:
        """``max|a - b|``, NaN if not finite."""
        return inf_norm(a - b)

    @staticmethod
    def host(a: np.ndarray) -> np.ndarray:
        """The values of ``a`` on the host (``a`` itself here)."""
        return a


class DeviceOps:
    """The loop's operations on flat device buffers (one instance per run)."""

    device = True

    def __init__(self) -> None:
        from numopt.backends import cuda_arrays

        self._arrays = cuda_arrays
        norms = cuda_arrays.Norms()
        self.norm: Callable[[Any], float] = norms.absmax
        self.diff_norm: Callable[[Any, Any], float] = norms.absdiffmax

    def zeros(self, n: int, dtype: np.dtype) -> Any:
        return self._arrays.full(n, dtype, 0)

    def copy_of(self, a: Any) -> Any:
        b = self._arrays.empty(a.size, a.dtype)
        b.copy_to_device(a)
        return b

    @staticmethod
    def copy(dst: Any, src: Any) -> None:
        dst.copy_to_device(src)  # device to device

    @staticmethod
    def load(dst: Any, a: np.ndarray) -> None:
        dst.copy_to_device(np.ascontiguousarray(a, dtype=dst.dtype).reshape(dst.shape))

    @staticmethod
    def host(a: Any) -> np.ndarray:
        """A host copy of a device buffer (host arrays pass through)."""
        return a if isinstance(a, np.ndarray) else a.copy_to_host()


# -- x0 and the gradient on the device -------------------------------------------------
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
        from numopt.backends import cuda
        from numopt.backends.cuda_arrays import Norms

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

    def flatten(self, value: Any, out: Any = None, name: str = "x0") -> Any:
        """Copy ``value`` (device or host arrays, structured like x0) into the flat ``out``."""
        from numopt.backends import cuda, cuda_arrays

        if out is None:
            out = cuda_arrays.empty(self.size, self.dtype)
        start = 0
        for key, leaf, shape, size in zip(
            self.keys, self._leaves(value, name), self.shapes, self.sizes, strict=True
        ):
            label = name if key is None else f"{name}[{key!r}]"
            dst = out[start : start + size]
            start += size
            if on_device(leaf):
                d = cuda.as_device(leaf, label)
                dtype = np.dtype(d.dtype)
                if tuple(d.shape) != tuple(shape):
                    raise ValueError(f"{label} has shape {tuple(d.shape)} but x0 has shape {shape}")
                if dtype.kind not in "fiu":
                    raise TypeError(f"{label} must hold real numbers, got dtype {dtype}")
                if size == 0:
                    continue
                if not d.is_c_contiguous():
                    raise ValueError(
                        f"{label} is a non-contiguous device array; return a C-contiguous one "
                        "(cupy.ascontiguousarray(a), t.contiguous())"
                    )
                flat = d.reshape(size)
                if dtype == self.dtype:
                    dst.copy_to_device(flat)  # device to device
                else:
                    cuda_arrays.cast(dst, flat)
            else:
                a = np.asarray(leaf)
                if a.shape != tuple(shape):
                    raise ValueError(f"{label} has shape {a.shape} but x0 has shape {shape}")
                if a.dtype.kind not in "fiub":
                    raise TypeError(f"{label} must hold real numbers, got dtype {a.dtype}")
                if size:  # host to device: a transfer per call
                    dst.copy_to_device(np.ascontiguousarray(a, dtype=self.dtype).reshape(size))
        return out

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
        from numopt.backends import cuda_arrays

        copy = cuda_arrays.empty(self.size, self.dtype)
        copy.copy_to_device(flat)
        return self.views(copy)


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
