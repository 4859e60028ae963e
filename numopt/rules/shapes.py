"""The ``shapes`` attribute of rules that step each array of ``x`` as a whole.

Muon orthogonalises each array as a matrix; SparseAdam updates each array's rows.
Both step a flat buffer (``minimize``'s, or a list/dict ``x`` gathered into one),
which has lost the arrays' shapes: ``shapes`` gives them back, one per array, in the
buffer's order.  ``minimize`` and :meth:`numopt.Optimizer.step` on a list/dict set
it (:func:`numopt.rules.structured.per_array`); None means ``x``'s own shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numopt import _checks
from numopt.rules.spec import Hyper

Shapes = tuple[tuple[int, ...], ...]


Refusal = Callable[[str, tuple[int, ...]], str | None]


def checked(name: str, value: Any, refuse: Refusal | None = None) -> Shapes | None:
    """None, or a non-empty list of array shapes; ``refuse(what, shape)`` returns why a
    shape cannot be stepped (an error message), or None.

    Examples
    --------
    >>> checked("shapes", [[2, 3], (4,)])
    ((2, 3), (4,))
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
        raise _checks.type_error(name, "None or a list of array shapes", value)
    if not value:
        raise ValueError(f"{name} is empty; give None to use x's own shape")
    out = []
    for k, shape in enumerate(value):
        if not isinstance(shape, (list, tuple)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise _checks.type_error(f"{name}[{k}]", "a shape (a tuple of integers >= 0)", shape)
        why = None if refuse is None else refuse(f"{name}[{k}]", tuple(shape))
        if why is not None:
            raise ValueError(why)
        out.append(tuple(int(d) for d in shape))
    return tuple(out)


def of_x(shapes: Shapes | None, layout: Any) -> tuple[Shapes, str]:
    """The shapes the flat ``x`` of ``layout`` is made of, and the order it was
    flattened in: ``shapes`` (checked to hold x's elements), or x's own shape."""
    if shapes is None:
        return (layout.shape,), layout.order
    given = sum(math.prod(s) for s in shapes)
    if given != math.prod(layout.shape):
        raise ValueError(
            f"shapes {[list(s) for s in shapes]} hold {given} elements but x has "
            f"{math.prod(layout.shape)}; give the shapes of the arrays x is made of"
        )
    return shapes, "C"


def of_host_x(rule: str, shapes: Shapes | None, layout: Any) -> tuple[Shapes, str]:
    """:func:`of_x` for a ``rule`` that steps host arrays only (device arrays refused)."""
    if layout.device:
        raise ValueError(f"{rule} runs on the CPU: give it host arrays")
    return of_x(shapes, layout)


def segments(shapes: Shapes) -> list[tuple[slice, tuple[int, ...]]]:
    """Each array's slice of the flat buffer, with its shape.

    Examples
    --------
    >>> segments(((2, 3), (4,)))
    [(slice(0, 6, None), (2, 3)), (slice(6, 10, None), (4,))]
    """
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append((slice(start, start + size), shape))
        start += size
    return out


def attribute(each: str, refuse: Refusal | None = None) -> Hyper:
    """The declaration of a rule's ``shapes`` attribute: the arrays are stepped ``each``
    (e.g. ``"each a table of rows"``); ``refuse`` as in :func:`checked`."""
    return Hyper(
        "shapes",
        None,
        lambda name, value: checked(name, value, refuse),
        "sequence of tuple, optional",
        "The shapes of the consecutive arrays that ``x`` (viewed flat, in its memory\n"
        f"order) is made of, {each}; None: ``x``'s own shape.\n"
        "``minimize`` and a list/dict ``x`` set it.  A checked attribute, not part\n"
        "of :meth:`state_dict`.",
    )
