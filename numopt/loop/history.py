"""``result.history``'s series while a run records them.

The Python loop appends one float per update; the compiled loop hands over whole
chunks as arrays (no per-value Python objects).  A :class:`Record` holds both and
becomes one float64 array with ``numpy.asarray``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Record:
    """One history series: floats appended one by one, or float64 array chunks.

    Examples
    --------
    >>> r = Record()
    >>> r.append(1.0)
    >>> r.extend_array(np.array([2.0, 3.0]))
    >>> r.append(4.0)
    >>> len(r), np.asarray(r)
    (4, array([1., 2., 3., 4.]))
    """

    __slots__ = ("_chunks", "_tail")

    def __init__(self, values: Any = ()) -> None:
        self._chunks: list[np.ndarray] = []
        self._tail: list[float] = []
        if len(values):
            self.extend_array(np.asarray(values, dtype=float))

    def append(self, value: float) -> None:
        self._tail.append(value)

    def extend_array(self, values: np.ndarray) -> None:
        """Append a chunk of values (copied)."""
        self._flush()
        self._chunks.append(np.array(values, dtype=float))

    def _flush(self) -> None:
        if self._tail:
            self._chunks.append(np.asarray(self._tail, dtype=float))
            self._tail = []

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks) + len(self._tail)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        self._flush()
        out = np.concatenate(self._chunks) if self._chunks else np.zeros(0)
        return out if dtype is None else out.astype(dtype, copy=False)
