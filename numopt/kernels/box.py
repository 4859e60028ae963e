"""Box bounds ``lo <= x <= hi`` as the kernels take them: checked, flat, in ``x``'s dtype.

The stateful optimizers' ``opt.bounds = (lo, hi)`` (:func:`checked_pair`, then
:func:`for_layout` at the step) takes each side ``None``, a number or an array (host
or device) broadcast to ``x``'s shape, or a :class:`scipy.optimize.Bounds`;
``minimize``'s ``bounds=`` forms are read by :mod:`numopt.problem.bounds` into the
same :class:`Box`: two flat contiguous arrays in ``x``'s dtype (and on ``x``'s
device), in the order ``x`` is viewed flat.  Every bound is checked: real numbers, no
NaN, ``lo <= hi``, ``lo < +inf`` and ``hi > -inf``, and still finite-or-infinite as
intended after the cast to ``x``'s dtype.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import Bounds

from numopt.kernels.arrays import Layout, on_device


class Box(NamedTuple):
    """Flat lower and upper bounds in ``x``'s dtype, on ``x``'s device."""

    lo: Any
    hi: Any


def checked_side(name: str, value: Any, default: float) -> Any:
    """A float, or a float64 host array: one side of the bounds, checked for type/NaN."""
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be None, a real number or an array of them, got {value!r}")
    if on_device(value):  # copied to the host once, to be checked (and laid out later)
        from numopt.kernels import cuda

        value = cuda.as_device(value, name).copy_to_host()
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be None, a real number or an array of them: {exc}") from None
    if a.dtype == object:
        # a list holding None (SciPy allows None per element in Bounds-like arrays)
        try:
            a = np.array([default if v is None else v for v in a.ravel()], float).reshape(a.shape)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be None, a real number or an array of them, got {value!r}"
            ) from None
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN; use None or ±inf for 'unbounded'")
    return float(a) if a.ndim == 0 else a


def check_order(lo: Any, hi: Any, where: str) -> None:
    """``lo <= hi`` everywhere, and neither side infinite the wrong way."""
    if np.any(np.asarray(lo) == np.inf):
        raise ValueError(f"{where}: a lower bound is +inf, which leaves no feasible point")
    if np.any(np.asarray(hi) == -np.inf):
        raise ValueError(f"{where}: an upper bound is -inf, which leaves no feasible point")
    try:
        bad = np.asarray(lo) > np.asarray(hi)
    except ValueError:
        raise ValueError(
            f"{where}: the lower bounds (shape {np.shape(lo)}) and upper bounds (shape "
            f"{np.shape(hi)}) do not broadcast together"
        ) from None
    if bad.any():
        i = tuple(int(k) for k in np.unravel_index(int(np.argmax(bad)), bad.shape))
        lo_i = float(np.broadcast_to(lo, bad.shape)[i])
        hi_i = float(np.broadcast_to(hi, bad.shape)[i])
        at = f" at index {i[0] if len(i) == 1 else i}" if i else ""
        raise ValueError(
            f"{where}: lower bound {lo_i!r} > upper bound {hi_i!r}{at} (need lo <= hi)"
        )


def pair_of(name: str, value: Any) -> tuple[Any, Any]:
    """``(lo, hi)`` from a ``Bounds`` or a 2-sequence, each side checked."""
    if isinstance(value, Bounds):
        lo, hi = value.lb, value.ub
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = value
    else:
        raise TypeError(f"{name} must be a pair (lo, hi) or a scipy.optimize.Bounds, got {value!r}")
    return checked_side(f"{name} lower bound", lo, -np.inf), checked_side(
        f"{name} upper bound", hi, np.inf
    )


def checked_pair(value: Any) -> tuple[Any, Any] | None:
    """``opt.bounds``'s value checked: ``None``, or ``(lo, hi)`` as floats / float64 arrays.

    Examples
    --------
    >>> checked_pair((0, None))
    (0.0, inf)
    >>> checked_pair((1.0, 0.0))
    Traceback (most recent call last):
    ...
    ValueError: bounds: lower bound 1.0 > upper bound 0.0 (need lo <= hi)
    """
    if value is None:
        return None
    lo, hi = pair_of("bounds", value)
    check_order(lo, hi, "bounds")
    return lo, hi


def cast(lo: np.ndarray, hi: np.ndarray, dtype: np.dtype, where: str) -> Box:
    """Flat contiguous bounds in ``dtype``; a finite bound must stay finite."""
    # owned, writeable copies: a read-only view (np.broadcast_to) would be another type
    # to Numba, and so another compiled signature of every bounded loop
    with np.errstate(over="ignore"):  # an overflow is reported below, by name
        lo_c = np.array(lo, dtype, order="C")
        hi_c = np.array(hi, dtype, order="C")
    for side, before, after in (("lower", lo, lo_c), ("upper", hi, hi_c)):
        overflow = np.isinf(after) & np.isfinite(before)
        if overflow.any():
            v = float(before[int(np.argmax(overflow))])
            raise ValueError(
                f"{where}: the {side} bound {v!r} overflows {np.dtype(dtype).name} (x's dtype); "
                "use ±inf for 'unbounded'"
            )
    return Box(lo_c, hi_c)


def for_layout(pair: tuple[Any, Any], layout: Layout) -> Box:
    """The flat :class:`Box` of ``opt.bounds`` for an ``x`` of this layout."""
    flat = []
    for side, value in zip(("lower", "upper"), pair, strict=True):
        try:
            full = np.broadcast_to(value, layout.shape)
        except ValueError:
            raise ValueError(
                f"bounds: the {side} bounds have shape {np.shape(value)}, which does not "
                f"broadcast to x's shape {layout.shape}"
            ) from None
        flat.append(full.reshape(-1, order=layout.order))
    box = cast(flat[0], flat[1], layout.dtype, "bounds")
    return to_device(box) if layout.device else box


def to_device(box: Box) -> Box:
    """A copy of a host :class:`Box` on the GPU."""
    from numopt.kernels import cuda

    return Box(cuda.to_device(box.lo), cuda.to_device(box.hi))


def clip(x: Any, box: Box) -> bool:
    """Clamp the flat ``x`` into the box in place (as ``np.clip``); whether it moved."""
    if isinstance(x, np.ndarray):
        moved = bool(np.any(x < box.lo) or np.any(x > box.hi))
        if moved:
            np.clip(x, box.lo, box.hi, out=x)
        return moved
    from numopt.kernels import cuda_arrays

    return cuda_arrays.clip(x, box.lo, box.hi)
