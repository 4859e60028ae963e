"""Stepping a list/tuple/dict of arrays (torch's list of parameters) as one flat buffer.

:meth:`numopt.Optimizer.step` on a list/dict ``x`` gathers its arrays into a flat
buffer kept between steps, steps that, and writes the arrays back in place.  The
state is per element of the buffer, so the arrays (their keys, order and shapes) must
stay the same until ``reset()``.  Rules that work per array (LAMB's and LARS's
``layers``, the ``shapes`` of Muon, Adafactor and SparseAdam) get one entry per
array, as in ``minimize`` (:func:`per_array`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numopt.kernels.arrays import FLOAT_DTYPES
from numopt.problem.structure import Structure


def step_structured(opt: Any, x: Any, g: Any) -> Any:
    """``opt.step(x, g)`` on a list/tuple/dict ``x``, through one flat buffer."""
    keys = list(x) if isinstance(x, dict) else range(len(x))
    for key in keys:
        leaf = x[key]
        if not (isinstance(leaf, np.ndarray) and leaf.dtype in FLOAT_DTYPES):
            raise TypeError(
                f"x[{key!r}] must be a float32 or float64 numpy.ndarray (updated in "
                f"place), got {type(leaf).__name__}"
                + (f" of dtype {leaf.dtype}" if isinstance(leaf, np.ndarray) else "")
            )
        if not leaf.flags.writeable:
            raise ValueError(f"x[{key!r}] is read-only; step updates it in place")
    cached = opt._structured
    s = Structure(x)
    key_of = lambda s: (s.kind, s.keys, s.shapes, s.dtype)  # noqa: E731
    if cached is None or key_of(cached[0]) != key_of(s):  # buffers kept between steps
        if cached is not None and opt._state is not None:  # the state is per element
            raise ValueError(
                f"x has the arrays {describe(s)} but this optimizer's state was built for "
                f"{describe(cached[0])}; keep the same arrays in the same order, or call "
                "reset() to start over"
            )
        cached = (s, np.empty(s.size, s.dtype), np.empty(s.size, s.dtype))
        opt._structured = cached
    s, flat_x, flat_g = cached
    s.flatten(x, flat_x, name="x")
    s.flatten(g, flat_g, name="g")
    # LAMB's layers, Muon's matrices: one per array, as in minimize
    given = {
        name: value
        for name, value in per_array(s.sizes, s.shapes).items()
        if name in opt._attributes
    }
    for name, value in given.items():  # set by hand: it must be what x's arrays say
        have = opt._attributes[name]
        want = tuple(map(tuple, value)) if name == "shapes" else tuple(value)
        if have is not None and have != want:
            show = (lambda v: [list(t) for t in v]) if name == "shapes" else list
            raise ValueError(
                f"{name}={show(have)} was set, but x's arrays have the "
                f"{'shapes' if name == 'shapes' else 'sizes'} {show(want)}; leave {name} "
                "None for a list/dict x (each array is one)"
            )
    unset = [name for name in given if opt._attributes[name] is None]
    for name in unset:
        try:
            setattr(opt, name, given[name])
        except ValueError as exc:  # name the array, not the attribute's index
            message = str(exc)
            for k in reversed(range(len(s.keys))):
                message = message.replace(f"{name}[{k}]", f"x[{s.keys[k]!r}]")
            raise ValueError(message) from None
    try:
        opt.step(flat_x, flat_g)
    finally:
        for name in unset:
            opt._attributes[name] = None
    for key, view in zip(keys, s._leaves(s.views(flat_x), "x"), strict=True):
        np.copyto(x[key], view)
    return x


def describe(structure: Any) -> str:
    """``{key: shape, ...}`` of a list/dict x, for messages."""
    pairs = zip(structure.keys, structure.shapes, strict=True)
    return "{" + ", ".join(f"{k!r}: {tuple(shape)}" for k, shape in pairs) + "}"


def per_array(sizes: list[int], shapes: list) -> dict[str, Any]:
    """The attributes arrays of ``sizes`` and ``shapes`` give a rule that works per
    array: the sizes as LAMB's and LARS's ``layers``, the shapes as the ``shapes`` of
    Muon, Adafactor and SparseAdam (one entry per array)."""
    return {"layers": list(sizes), "shapes": list(shapes)}
