"""Box bounds ``lo <= x <= hi``: SciPy's ``bounds=`` forms read, checked and laid out flat.

Two doors use this module:

* ``minimize(..., bounds=...)`` (:func:`for_structure`): SciPy's forms over the
  flattened ``x0`` — a :class:`scipy.optimize.Bounds` whose ``lb``/``ub`` are
  scalars or arrays of ``x0.size`` elements, or a sequence of ``x0.size`` pairs
  ``(lo, hi)`` with ``None`` for "unbounded" — and, for a dict ``x0``, a dict of
  per-array pairs ``{key: (lo, hi)}`` (each side ``None``, a number or an array
  broadcast to that array's shape; a missing key is unbounded);
* the stateful optimizers' ``opt.bounds = (lo, hi)`` (:func:`checked_pair`, then
  :func:`for_layout` at the step): each side ``None``, a number or an array (host or
  device) broadcast to ``x``'s shape, or a :class:`scipy.optimize.Bounds`.

Either way the kernels get a :class:`Box`: two flat contiguous arrays in ``x``'s
dtype (and on ``x``'s device), in the order ``x`` is viewed flat.  Every bound is
checked: real numbers, no NaN, ``lo <= hi``, ``lo < +inf`` and ``hi > -inf``, and
still finite-or-infinite as intended after the cast to ``x``'s dtype.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import Bounds

from numopt._arrays import Layout, on_device


class Box(NamedTuple):
    """Flat lower and upper bounds in ``x``'s dtype, on ``x``'s device."""

    lo: Any
    hi: Any


# -- one side of the bounds ------------------------------------------------------------
def _side(name: str, value: Any, default: float) -> Any:
    """A float, or a float64 host array: one side of the bounds, checked for type/NaN."""
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be None, a real number or an array of them, got {value!r}")
    if on_device(value):  # copied to the host once, to be checked (and laid out later)
        from numopt.backends import cuda

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


def _check_order(lo: Any, hi: Any, where: str) -> None:
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
        i = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        lo_i = float(np.broadcast_to(lo, bad.shape)[i])
        hi_i = float(np.broadcast_to(hi, bad.shape)[i])
        at = f" at index {i[0] if len(i) == 1 else i}" if i else ""
        raise ValueError(
            f"{where}: lower bound {lo_i!r} > upper bound {hi_i!r}{at} (need lo <= hi)"
        )


def _pair(name: str, value: Any) -> tuple[Any, Any]:
    """``(lo, hi)`` from a ``Bounds`` or a 2-sequence, each side checked."""
    if isinstance(value, Bounds):
        lo, hi = value.lb, value.ub
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = value
    else:
        raise TypeError(f"{name} must be a pair (lo, hi) or a scipy.optimize.Bounds, got {value!r}")
    return _side(f"{name} lower bound", lo, -np.inf), _side(f"{name} upper bound", hi, np.inf)


# -- the stateful API: opt.bounds = (lo, hi) --------------------------------------------
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
    lo, hi = _pair("bounds", value)
    _check_order(lo, hi, "bounds")
    return lo, hi


def _cast(lo: np.ndarray, hi: np.ndarray, dtype: np.dtype, where: str) -> Box:
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
    box = _cast(flat[0], flat[1], layout.dtype, "bounds")
    return to_device(box) if layout.device else box


def to_device(box: Box) -> Box:
    """A copy of a host :class:`Box` on the GPU."""
    from numopt.backends import cuda

    return Box(cuda.to_device(box.lo), cuda.to_device(box.hi))


# -- minimize(bounds=...): SciPy's forms over the flattened x0 --------------------------
def for_structure(bounds: Any, structure: Any) -> Box:
    """The host :class:`Box` of ``minimize``'s ``bounds`` for ``x0``'s structure.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt._structure import Structure
    >>> for_structure([(0, 1), (None, 2)], Structure(np.zeros(2)))
    Box(lo=array([  0., -inf]), hi=array([1., 2.]))
    >>> s = Structure({"w": np.zeros(2), "b": np.zeros(1)})
    >>> for_structure({"b": (0, None)}, s).lo
    array([-inf, -inf,   0.])
    """
    n = structure.size
    if isinstance(bounds, Bounds):
        lo, hi = _pair("bounds", bounds)
        lo, hi = _flat_side("bounds.lb", lo, n), _flat_side("bounds.ub", hi, n)
    elif isinstance(bounds, dict):
        lo, hi = _per_array(bounds, structure)
    elif isinstance(bounds, (list, tuple, np.ndarray)):
        lo, hi = _sequence(bounds, n)
    else:
        raise TypeError(
            "bounds must be a scipy.optimize.Bounds, a sequence of (lo, hi) pairs (one per "
            f"element of x0, None for unbounded) or None, got {type(bounds).__name__}"
        )
    _check_order(lo, hi, "bounds")
    return _cast(lo, hi, structure.dtype, "bounds")


def _flat_side(name: str, value: Any, n: int) -> np.ndarray:
    a = np.asarray(value, np.float64)
    if a.size == 1:
        return np.full(n, a.reshape(()))
    if a.size != n:
        raise ValueError(
            f"{name} has {a.size} elements but x0 has {n}: give a scalar or one bound per "
            "element of the flattened x0"
        )
    return a.ravel()


def _sequence(bounds: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """SciPy's old form: one ``(lo, hi)`` pair per element of the flattened x0."""
    if len(bounds) != n:
        raise ValueError(
            f"bounds has {len(bounds)} (lo, hi) pairs but x0 has {n} elements (flattened); "
            "give one pair per element, or scipy.optimize.Bounds(lo, hi) to broadcast"
        )
    lo, hi = np.empty(n), np.empty(n)
    for i, item in enumerate(bounds):
        pair = isinstance(item, (tuple, list)) or (isinstance(item, np.ndarray) and item.ndim == 1)
        if not pair or len(item) != 2:
            raise TypeError(
                f"bounds[{i}] must be a pair (lo, hi) of numbers or None, got {item!r}; for "
                "the same bounds on every element use scipy.optimize.Bounds(lo, hi)"
            )
        for side, (out, value, default) in enumerate(
            ((lo, item[0], -np.inf), (hi, item[1], np.inf))
        ):
            v = _side(f"bounds[{i}][{side}]", value, default)
            if not isinstance(v, float):
                if v.size != 1:
                    raise TypeError(f"bounds[{i}][{side}] must be a number or None, got {value!r}")
                v = float(v.reshape(()))
            out[i] = v
    return lo, hi


def _per_array(bounds: dict, structure: Any) -> tuple[np.ndarray, np.ndarray]:
    """A dict x0's bounds by key: ``{key: (lo, hi)}``, each side broadcast to that array."""
    if structure.kind != "dict":
        raise TypeError(
            "bounds is a dict, which needs a dict x0 (its keys name x0's arrays); for this "
            "x0 give a sequence of (lo, hi) pairs or a scipy.optimize.Bounds"
        )
    unknown = [k for k in bounds if k not in structure.keys]
    if unknown:
        raise ValueError(f"bounds has keys {unknown} that x0 lacks; x0's keys: {structure.keys}")
    lo, hi = np.full(structure.size, -np.inf), np.full(structure.size, np.inf)
    start = 0
    for key, shape, size in zip(structure.keys, structure.shapes, structure.sizes, strict=True):
        if key in bounds:
            pair = _pair(f"bounds[{key!r}]", bounds[key])
            for side, out, value in (("lower", lo, pair[0]), ("upper", hi, pair[1])):
                try:
                    full = np.broadcast_to(value, shape)
                except ValueError:
                    raise ValueError(
                        f"bounds[{key!r}]: the {side} bounds have shape {np.shape(value)}, "
                        f"which does not broadcast to x0[{key!r}]'s shape {shape}"
                    ) from None
                out[start : start + size] = full.reshape(-1)
        start += size
    return lo, hi


# -- the run's helpers ------------------------------------------------------------------
def clip(x: Any, box: Box) -> bool:
    """Clamp the flat ``x`` into the box in place (as ``np.clip``); whether it moved."""
    if isinstance(x, np.ndarray):
        moved = bool(np.any(x < box.lo) or np.any(x > box.hi))
        if moved:
            np.clip(x, box.lo, box.hi, out=x)
        return moved
    from numopt.backends import cuda_bounds

    return cuda_bounds.clip(x, box.lo, box.hi)


def grad_norm(x: Any, box: Box, sign: Callable[[], float]) -> Callable[[Any], float]:
    """``g -> max|P(x - s·g) - x|`` at the run's current ``x`` (``s = sign()``, ±1)."""
    if isinstance(x, np.ndarray):
        from numopt.backends.cpu_bounds import projected_grad_norm

        return lambda g: projected_grad_norm(x, g, box.lo, box.hi, sign())
    from numopt.backends.cuda_bounds import ProjectedNorm

    norm = ProjectedNorm()
    return lambda g: norm(x, g, box.lo, box.hi, sign())


def digest(box: Box | None) -> str | None:
    """A short fingerprint of the bounds' values (checkpoints compare it on resume)."""
    if box is None:
        return None
    lo, hi = (a if isinstance(a, np.ndarray) else a.copy_to_host() for a in box)
    return hashlib.sha1(lo.tobytes() + hi.tobytes()).hexdigest()[:16]
