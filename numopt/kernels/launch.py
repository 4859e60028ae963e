"""Where a step runs, and running an element body there: the one dispatch of numopt.

The rules (:class:`numopt.Optimizer`) and the transforms both resolve a ``backend=``
choice for the arrays at hand (:func:`resolve`) and run an element body over them
(:func:`launch`): the serial or ``prange`` CPU loop, or the CUDA kernel, plain or
bounded, with the gradient read as it is or clamped (``clip_value``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from numopt.kernels.cpu import SERIAL_BELOW, cpu_loops

#: ``backend=`` choices.  ``"auto"`` runs the CUDA kernel for device arrays, the
#: serial CPU loop below :data:`numopt.kernels.cpu.SERIAL_BELOW` elements and the
#: parallel one above; the others force one implementation (``"numpy"``: the
#: reference, slow and allocating, to check the kernels).
BACKENDS = ("auto", "serial", "parallel", "numpy", "cuda")


def resolve(backend: str, device: bool, n: int) -> str:
    """The implementation that runs: ``"cuda"``, ``"serial"``, ``"parallel"`` or ``"numpy"``.

    Device arrays run the CUDA kernel (``backend`` must be ``"auto"`` or ``"cuda"``);
    ``"auto"`` picks the serial loop below :data:`numopt.kernels.cpu.SERIAL_BELOW`
    elements, the parallel one above.

    Examples
    --------
    >>> resolve("auto", False, 10), resolve("auto", False, 10**6), resolve("numpy", False, 3)
    ('serial', 'parallel', 'numpy')
    """
    if device:
        if backend not in ("auto", "cuda"):
            raise ValueError(
                f"backend={backend!r} runs on the CPU but x is a device array; use "
                "backend='auto' or 'cuda'"
            )
        return "cuda"
    if backend == "cuda":
        raise TypeError("backend='cuda' needs CUDA device arrays, got host arrays")
    if backend == "auto":
        return "serial" if n < SERIAL_BELOW else "parallel"
    return backend


def typed_factors(
    values: Sequence[float], dtype: np.dtype, backend: str, buffer: np.ndarray | None = None
) -> Any:
    """The factors cast to ``dtype``: a tuple for the CUDA kernel, an array for the CPU loops.

    ``buffer``: an array of the right length and dtype to fill (no allocation), or None.
    """
    if backend == "cuda":
        return tuple(dtype.type(v) for v in values)
    if buffer is None or buffer.size != len(values) or buffer.dtype != dtype:
        buffer = np.empty(max(len(values), 1), dtype)  # the loops take a typed array
    buffer[: len(values)] = values
    return buffer


def launch(
    body: Callable,
    x: Any,
    g: Any,
    state: Any,
    c: Any,
    backend: str,
    box: Any = None,
    clip_value: bool = False,
) -> None:
    """Run ``body`` over every element of the flat ``x`` on ``backend`` (not ``"numpy"``).

    ``c``: the factors from :func:`typed_factors`.  ``box``: flat bounds ``(lo, hi)``
    in x's dtype and place, clamped into in the same pass, or None.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.rules.gd import body
    >>> x, g = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> launch(body, x, g, np.empty((0, 2)), typed_factors((0.5, 0.0, np.inf, 1.0), x.dtype,
    ...        "serial"), "serial")
    >>> x
    array([0.5, 1.5])
    """
    if backend == "cuda":
        from numopt.kernels import cuda

        cuda.launch(body, x, g, state, c, box, clip_value)
        return
    loop = getattr(cpu_loops(body, clip_value, box is not None), backend)
    if box is None:
        loop(x, g, state, c)
    else:
        loop(x, g, state, c, box[0], box[1])
