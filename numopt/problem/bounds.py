"""``minimize``'s ``bounds=``: SciPy's forms read over the flattened ``x0``.

A :class:`scipy.optimize.Bounds` whose ``lb``/``ub`` are scalars or arrays of
``x0.size`` elements, or a sequence of ``x0.size`` pairs ``(lo, hi)`` with ``None``
for "unbounded" — and, for a dict ``x0``, a dict of per-array pairs ``{key: (lo,
hi)}`` (each side ``None``, a number or an array broadcast to that array's shape; a
missing key is unbounded).  They become the kernels' flat :class:`~numopt.kernels.box.Box`
(:mod:`numopt.kernels.box` checks and casts them).  Also here: the projected
gradient's norm that ``gtol`` tests under bounds, and the bounds' fingerprint that
checkpoints compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import Bounds

from numopt.kernels.box import Box, cast, check_order, checked_side, pair_of


def for_structure(bounds: Any, structure: Any) -> Box:
    """The host :class:`Box` of ``minimize``'s ``bounds`` for ``x0``'s structure.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problem.structure import Structure
    >>> for_structure([(0, 1), (None, 2)], Structure(np.zeros(2)))
    Box(lo=array([  0., -inf]), hi=array([1., 2.]))
    >>> s = Structure({"w": np.zeros(2), "b": np.zeros(1)})
    >>> for_structure({"b": (0, None)}, s).lo
    array([-inf, -inf,   0.])
    """
    n = structure.size
    if isinstance(bounds, Bounds):
        lo, hi = pair_of("bounds", bounds)
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
    check_order(lo, hi, "bounds")
    return cast(lo, hi, structure.dtype, "bounds")


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
            v = checked_side(f"bounds[{i}][{side}]", value, default)
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
            pair = pair_of(f"bounds[{key!r}]", bounds[key])
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


def grad_norm(x: Any, box: Box, sign: Callable[[], float]) -> Callable[[Any], float]:
    """``g -> max|P(x - s·g) - x|`` at the run's current ``x`` (``s = sign()``, ±1)."""
    if isinstance(x, np.ndarray):
        from numopt.kernels.norms import projected_grad_norm

        return lambda g: projected_grad_norm(x, g, box.lo, box.hi, sign())
    from numopt.kernels.cuda_arrays import ProjectedNorm

    norm = ProjectedNorm()
    return lambda g: norm(x, g, box.lo, box.hi, sign())


def digest(box: Box | None) -> str | None:
    """A short fingerprint of the bounds' values (checkpoints compare it on resume)."""
    if box is None:
        return None
    lo, hi = (a if isinstance(a, np.ndarray) else a.copy_to_host() for a in box)
    return hashlib.sha1(lo.tobytes() + hi.tobytes()).hexdigest()[:16]
