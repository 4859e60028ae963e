"""Flat views of the arrays a rule updates in place, and where they live.

Rules see flat contiguous arrays.  A NumPy array of any shape is viewed flat
without a copy when it is C- or Fortran-contiguous (its memory order is kept so
that ``x`` and ``g`` line up element by element).  CUDA device arrays (Numba,
CuPy, PyTorch: anything with ``__cuda_array_interface__``) are recognised without
importing :mod:`numba.cuda`; it is imported only once one is seen.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np
from numba import config

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def on_device(x: Any) -> bool:
    """True when ``x`` is a CUDA device array (or the simulator's stand-in)."""
    if isinstance(x, np.ndarray):
        return False
    if hasattr(x, "__cuda_array_interface__"):
        return True
    if config.ENABLE_CUDASIM and "numba.cuda" in sys.modules:
        from numopt.kernels import cuda

        return cuda.is_device_array(x)
    return False


def _kind(x: Any) -> str:
    where = "a CUDA device array" if on_device(x) else "a host array"
    return f"{where} ({type(x).__module__.partition('.')[0]}.{type(x).__name__})"


def gathers(a: Any) -> bool:
    """Whether ``a[index_array]`` works: not for Numba's device arrays (basic slicing only).

    NumPy, CuPy and PyTorch arrays index by an integer array (CuPy and PyTorch copy
    the indices to the device); the simulator's stand-in for a Numba device array
    wraps NumPy, so it does too.
    """
    if isinstance(a, np.ndarray):
        return True
    devicearray = sys.modules.get("numba.cuda.cudadrv.devicearray")
    numba_array = getattr(devicearray, "DeviceNDArray", None)
    return numba_array is None or not isinstance(a, numba_array)


class Layout(NamedTuple):
    """What an optimizer's state was built for."""

    shape: tuple[int, ...]
    dtype: np.dtype
    order: str  # "C" or "F": the order in which x is viewed flat
    device: bool


class FlatPair(NamedTuple):
    x: Any  # flat, contiguous, writeable view of the user's x
    g: Any  # flat gradient in the same element order (a copy only if g's layout differs)
    layout: Layout


def _check_dtype(name: str, dtype: np.dtype) -> None:
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {dtype}")


def flat_pair(x: Any, g: Any) -> FlatPair:
    """Validate ``x`` (updated in place) and its gradient ``g``; view both flat."""
    if type(x) is np.ndarray and type(g) is np.ndarray:
        return _host_pair(x, g)
    device = on_device(x)
    if device != on_device(g):
        raise TypeError(
            f"x is {_kind(x)} but g is {_kind(g)}: pass both on the host or both on the "
            "same GPU (copy with numba.cuda.to_device or .copy_to_host())"
        )
    if device:
        return _device_pair(x, g)
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"x must be a numpy.ndarray (it is updated in place) or a CUDA device array, "
            f"got {type(x).__name__}"
        )
    if not isinstance(g, np.ndarray):
        raise TypeError(f"g must be a numpy.ndarray like x, got {type(g).__name__}")
    return _host_pair(x, g)


def _host_pair(x: np.ndarray, g: np.ndarray) -> FlatPair:
    """The host path of :func:`flat_pair` (hot: keep it cheap for small arrays)."""
    _check_dtype("x", x.dtype)
    if g.dtype != x.dtype:
        raise TypeError(
            f"g has dtype {g.dtype} but x has {x.dtype}; cast it with g.astype(x.dtype)"
        )
    if g.shape != x.shape:
        raise ValueError(f"g has shape {g.shape} but x has shape {x.shape}")
    flags = x.flags
    if not flags.writeable:
        raise ValueError("x is read-only, so it cannot be updated in place; pass a writeable copy")
    if flags.c_contiguous:
        order = "C"
    elif flags.f_contiguous:
        order = "F"
    else:
        raise ValueError(
            "x is not contiguous, so it cannot be viewed flat and updated in place; "
            "pass x = np.ascontiguousarray(x) and keep using that array"
        )
    if (
        (x.base is not None or g.base is not None)
        and np.may_share_memory(x, g)
        and not (
            g.__array_interface__["data"][0] == x.__array_interface__["data"][0]
            and g.strides == x.strides
        )
    ):
        g = g.copy()  # g overlaps x shifted: the in-place update would read updated entries
    if x.ndim == 1 and g.flags.c_contiguous:
        return FlatPair(x, g, Layout(x.shape, x.dtype, order, False))
    flat_x = x.reshape(-1, order=order)
    flat_g = g.reshape(-1, order=order)  # a view when g is laid out like x, else a copy
    return FlatPair(flat_x, flat_g, Layout(x.shape, x.dtype, order, False))


def _device_pair(x: Any, g: Any) -> FlatPair:
    """The device path of :func:`flat_pair`: views through ``__cuda_array_interface__``."""
    from numopt.kernels import cuda

    x, g = cuda.as_device(x, "x", writeable=True), cuda.as_device(g, "g")
    _check_dtype("x", np.dtype(x.dtype))
    if np.dtype(g.dtype) != np.dtype(x.dtype):
        raise TypeError(f"g has dtype {g.dtype} but x has {x.dtype}; cast g to x's dtype")
    if tuple(g.shape) != tuple(x.shape):
        raise ValueError(f"g has shape {tuple(g.shape)} but x has shape {tuple(x.shape)}")
    order = cuda.memory_order(x)
    if order is None:
        raise ValueError(
            "x is a non-contiguous device array, so it cannot be viewed flat and updated in "
            "place; pass a C- or Fortran-contiguous one and keep using that array"
        )
    if cuda.memory_order(g) != order and not (order == "F" and g.is_f_contiguous()):
        raise ValueError(
            f"g is not laid out like x (x is {order}-contiguous, g is "
            f"{cuda.memory_order(g) or 'non'}-contiguous); pass g in x's memory order"
        )
    layout = Layout(tuple(x.shape), np.dtype(x.dtype), order, True)
    return FlatPair(x.reshape(x.size, order=order), g.reshape(g.size, order=order), layout)
