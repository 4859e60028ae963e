"""CUDA loops: a grid-stride kernel over a rule's element body.

This module imports :mod:`numba.cuda` (provided by the ``numba-cuda`` package), so
numopt imports it only when it meets a device array; ``import numopt`` never
does.  Under ``NUMBA_ENABLE_CUDASIM=1`` the same code runs in Numba's simulator.

Device arrays from Numba, CuPy or PyTorch (anything exposing
``__cuda_array_interface__``) are viewed without a copy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import config, cuda

from numopt.backends._specialise import specialise

SIMULATOR = bool(config.ENABLE_CUDASIM)

#: Threads per block.  A multiple of the warp size; 256 keeps enough blocks
#: resident per SM on every architecture Numba supports.  The simulator runs
#: each thread as a Python thread, so it gets small blocks.
THREADS_PER_BLOCK = 32 if SIMULATOR else 256

#: Blocks per multiprocessor for a grid-stride loop: enough to hide memory
#: latency, few enough that each thread strides over several elements.
BLOCKS_PER_SM = 32


def _grid_stride_template(theta, g, state, c):  # pragma: no cover - compiled
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, theta.size, stride):
        body(i, theta, g, state, c)  # noqa: F821 - bound by specialise()


@functools.cache
def cuda_kernel(body: Callable) -> Callable:
    """The compiled grid-stride kernel over ``body`` (built once per body)."""
    element = cuda.jit(device=True, inline=True)(body)
    return cuda.jit(cache=True)(specialise(_grid_stride_template, body, element, "cuda"))


@functools.cache
def _max_blocks() -> int:
    if SIMULATOR:
        return 4
    return cuda.get_current_device().MULTIPROCESSOR_COUNT * BLOCKS_PER_SM


def launch(body: Callable, theta, g, state, c: tuple) -> None:
    """Run ``body`` over every element of the flat device array ``theta``."""
    n = theta.size
    if n == 0:
        return
    blocks = min(math.ceil(n / THREADS_PER_BLOCK), _max_blocks())
    cuda_kernel(body)[blocks, THREADS_PER_BLOCK](theta, g, state, c)


def is_device_array(x: Any) -> bool:
    """True for a CUDA device array (or the simulator's stand-in for one)."""
    if hasattr(x, "__cuda_array_interface__"):
        return True
    if SIMULATOR:
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

        return isinstance(x, FakeCUDAArray)
    return False


def as_device(x: Any):
    """View ``x`` as a Numba device array without copying."""
    if SIMULATOR or isinstance(x, cuda.cudadrv.devicearray.DeviceNDArray):
        return x
    return cuda.as_cuda_array(x)


def zeros(shape: tuple[int, ...], dtype: np.dtype):
    """A zero-filled device array."""
    return cuda.to_device(np.zeros(shape, dtype))


def to_device(a: np.ndarray):
    """Copy a host array to the device."""
    return cuda.to_device(np.ascontiguousarray(a))
