"""CUDA kernels over a rule's element body: grid-stride loops, plain and bounded.

This module imports :mod:`numba.cuda` (provided by the ``numba-cuda`` package), so
numopt imports it only when it meets a device array; ``import numopt`` never
does.  Under ``NUMBA_ENABLE_CUDASIM=1`` the same code runs in Numba's simulator.

The bounded kernel runs the body and clamps ``theta[i]`` to ``[lo[i], hi[i]]`` in the
same iteration, exactly as the CPU's (:mod:`numopt.kernels.cpu`: ``np.clip``'s choice
on ties, NaN kept).  Device arrays from Numba, CuPy or PyTorch (anything exposing
``__cuda_array_interface__``) are viewed without a copy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import config, cuda

from numopt.kernels.generate import clamp, element, grad_reader, specialise, variant_name

SIMULATOR = bool(config.ENABLE_CUDASIM)

#: Threads per block.  A multiple of the warp size; 256 keeps enough blocks
#: resident per SM on every architecture Numba supports.  The simulator runs
#: each thread as a Python thread, so it gets small blocks.
THREADS_PER_BLOCK = 32 if SIMULATOR else 256

#: Blocks per multiprocessor for a grid-stride loop: enough to hide memory
#: latency, few enough that each thread strides over several elements.
BLOCKS_PER_SM = 32


def _plain(theta, g, state, c):  # pragma: no cover - compiled
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, theta.size, stride):
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()


def _bounded(theta, g, state, c, lo, hi):  # pragma: no cover - compiled
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, theta.size, stride):
        low = lo[i]
        high = hi[i]
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()
        theta[i] = clamp(theta[i], low, high)


def compile_kernel(template: Callable, kind: str, **bound: Callable) -> Callable:
    """A template compiled as a CUDA kernel with ``bound`` names bound (see :func:`specialise`)."""
    return cuda.jit(cache=True)(specialise(template, kind, **bound))


def cuda_kernel(body: Callable, clip_value: bool = False, bounded: bool = False) -> Callable:
    """The compiled grid-stride kernel over ``body`` (built once per body and variant).

    It takes ``(theta, g, state, c)``, and ``lo, hi`` when ``bounded``.
    """
    return _cuda_kernel(body, bool(clip_value), bool(bounded))


@functools.cache
def _cuda_kernel(body: Callable, clip_value: bool, bounded: bool) -> Callable:
    return compile_kernel(
        _bounded if bounded else _plain,
        variant_name("cuda", clip_value=clip_value, bounded=bounded),
        body=element(body, clip_value, "cuda"),
        grad=grad_reader(clip_value),
        clamp=clamp("cuda"),
    )


@functools.cache
def max_blocks() -> int:
    """The grid-stride kernels' largest grid: :data:`BLOCKS_PER_SM` per multiprocessor.

    Read from the device current at the first launch (its ``MULTIPROCESSOR_COUNT``)
    and kept for the process: asking the driver at every launch would add to each
    step's host overhead.  The simulator gets 4 blocks (each of its threads is a
    Python thread).
    """
    if SIMULATOR:
        return 4
    return cuda.get_current_device().MULTIPROCESSOR_COUNT * BLOCKS_PER_SM


def launch_config(n: int) -> tuple[int, int]:
    """``(blocks, threads per block)`` of a grid-stride launch over ``n`` elements.

    As many blocks as ``n`` needs, at most :func:`max_blocks`; each thread then
    strides over ``ceil(n / (blocks * threads))`` elements.  ``n = 0`` gives 0
    blocks (nothing to launch).
    """
    if n <= 0:
        return 0, THREADS_PER_BLOCK
    return min(math.ceil(n / THREADS_PER_BLOCK), max_blocks()), THREADS_PER_BLOCK


def launch(
    body: Callable, theta, g, state, c: tuple, box: Any = None, clip_value: bool = False
) -> None:
    """Run ``body`` over every element of the flat device array ``theta``.

    ``box``: flat device bounds ``(lo, hi)`` to clamp ``theta`` into, or None.
    """
    blocks, threads = launch_config(theta.size)
    if not blocks:
        return
    kernel = cuda_kernel(body, clip_value, box is not None)
    if box is None:
        kernel[blocks, threads](theta, g, state, c)
    else:
        kernel[blocks, threads](theta, g, state, c, box[0], box[1])


# -- device arrays from Numba, CuPy, PyTorch: viewed, never copied ---------------------
def _numba_array_types() -> tuple[type, ...]:
    if SIMULATOR:
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

        return (FakeCUDAArray,)
    return (cuda.cudadrv.devicearray.DeviceNDArray,)


def is_device_array(x: Any) -> bool:
    """True for a CUDA device array (or the simulator's stand-in for one)."""
    return isinstance(x, _numba_array_types()) or hasattr(x, "__cuda_array_interface__")


def as_device(x: Any, name: str = "x", writeable: bool = False):
    """View ``x`` as a Numba device array without copying.

    Numba device arrays are returned as they are; anything else must expose
    ``__cuda_array_interface__`` (CuPy, PyTorch, ...), which is checked first:
    no mask, a known element type, and for ``writeable=True`` (an array updated in
    place) not read-only.  Layout and dtype are checked by the caller.
    """
    if isinstance(x, _numba_array_types()):
        return x
    desc = x.__cuda_array_interface__
    _check_interface(desc, name, writeable)
    if SIMULATOR:
        return _simulated_view(x, desc)
    return cuda.as_cuda_array(x)


def _check_interface(desc: Any, name: str, writeable: bool) -> None:
    if not isinstance(desc, dict) or not {"shape", "typestr", "data"} <= desc.keys():
        raise TypeError(
            f"{name}.__cuda_array_interface__ must be a dict with 'shape', 'typestr' and "
            f"'data' (the CUDA Array Interface), got {desc!r}"
        )
    if desc.get("mask") is not None:
        raise ValueError(f"{name} is a masked device array; numopt takes plain arrays")
    try:
        np.dtype(desc["typestr"])
    except TypeError:
        raise TypeError(f"{name} has an unknown element type {desc['typestr']!r}") from None
    if writeable and desc["data"][1]:
        raise ValueError(
            f"{name} is a read-only device array, so it cannot be updated in place; pass a "
            "writeable one"
        )


def _simulated_view(owner: Any, desc: dict):
    """The simulator's stand-in for ``cuda.as_cuda_array``, which it lacks.

    Simulated device memory is host memory, so the interface's pointer is read as a
    NumPy buffer (no copy) and wrapped like any simulated device array.
    """
    import ctypes

    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    dtype = np.dtype(desc["typestr"])
    shape = tuple(desc["shape"])
    strides = desc.get("strides")
    if strides is None:
        strides = tuple(np.empty(shape, dtype, order="C").strides) if shape else ()
    size = math.prod(shape)
    if size == 0:
        a = np.empty(shape, dtype)
    else:
        extent = dtype.itemsize + sum((n - 1) * abs(s) for n, s in zip(shape, strides, strict=True))
        low = sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if s < 0)
        buffer = (ctypes.c_char * extent).from_address(desc["data"][0] + low)
        a = np.ndarray(shape, dtype, buffer=buffer, offset=-low, strides=strides)
    view = FakeCUDAArray(a)
    view.__dict__["_owner"] = owner  # keep the exporter (and its memory) alive
    return view


def memory_order(a: Any) -> str | None:
    """``"C"`` or ``"F"``: the order in which a device array is contiguous (None: neither)."""
    if a.is_c_contiguous():
        return "C"
    if a.is_f_contiguous():
        return "F"
    return None


def zeros(shape: tuple[int, ...], dtype: np.dtype):
    """A zero-filled device array."""
    return cuda.to_device(np.zeros(shape, dtype))


def to_device(a: np.ndarray):
    """Copy a host array to the device."""
    return cuda.to_device(np.ascontiguousarray(a))
