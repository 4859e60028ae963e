"""Where ``minimize`` keeps its arrays: on the host (NumPy) or on a CUDA GPU.

The loop (:mod:`numopt.loop`) is written once over a few array operations
(:class:`HostOps` on NumPy buffers, :class:`DeviceOps` on device buffers).  A run
on the GPU (``options={"device": "cuda"}``, or a CUDA device array as ``x0``, or
``backend="cuda"``) keeps ``x``, the gradient, the best point, ``x_prev`` and the
optimizer's state on the device:

* ``fun``/``jac`` get device views of ``x`` (:mod:`numopt.problem.device`), of x0's
  own kind: CuPy arrays when x0 is CuPy, PyTorch tensors when it is a CUDA tensor,
  Numba device arrays otherwise (no copies: the views share the run's buffer);
* a gradient with ``__cuda_array_interface__`` is copied device-to-device into the
  run's buffer (cast there if its dtype differs); a host (NumPy) gradient is
  copied in from the host, a transfer per evaluation; ``jac="inplace"`` writes it
  in place, with no copy at all;
* ``max|g|`` (gtol and the non-finite check) and ``max|x - x_prev|`` (xtol) are
  reduced on the device (:class:`numopt.kernels.cuda_arrays.Norms`): 8 bytes per
  block come back, not the arrays;
* the host sees ``x`` only in checkpoints and in the result (``res.x`` NumPy,
  ``res.x_device`` on request).

:mod:`numba.cuda` is imported only once a run is on the GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numopt.kernels.arrays import on_device
from numopt.kernels.norms import inf_norm, max_abs_diff

#: ``options["device"]`` choices.
DEVICES = ("auto", "cpu", "cuda")
#: Backends that run on the CPU only.
CPU_BACKENDS = ("serial", "parallel", "numpy")


def holds_device_arrays(x0: Any) -> bool:
    """Whether ``x0`` (an array or a list/tuple/dict of arrays) holds CUDA device arrays.

    Examples
    --------
    >>> import numpy as np
    >>> holds_device_arrays(np.zeros(3)), holds_device_arrays({"w": np.zeros(2)})
    (False, False)
    """
    if isinstance(x0, dict):
        leaves = list(x0.values())
    elif isinstance(x0, (list, tuple)):
        leaves = list(x0)
    else:
        leaves = [x0]
    return any(on_device(v) for v in leaves)


def on_gpu(x0: Any, device: str, backend: str) -> bool:
    """Whether this run keeps its arrays on the GPU (``device`` already checked).

    ``"auto"`` (the default) means the GPU when ``x0`` holds a CUDA device array or
    the backend is ``"cuda"``, the host otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> on_gpu(np.zeros(3), "auto", "auto"), on_gpu(np.zeros(3), "cpu", "auto")
    (False, False)
    """
    given = holds_device_arrays(x0)
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

    diff_norm = staticmethod(max_abs_diff)  # max|a - b|, NaN if not finite

    @staticmethod
    def host(a: np.ndarray) -> np.ndarray:
        """The values of ``a`` on the host (``a`` itself here)."""
        return a


class DeviceOps:
    """The loop's operations on flat device buffers (one instance per run)."""

    device = True

    def __init__(self) -> None:
        from numopt.kernels import cuda_arrays

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
