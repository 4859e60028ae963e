"""``result.history``'s series while a run records them.

The Python loop appends one float per update; the compiled loop writes into a row
of a buffer the driver gives it.  A :class:`Record` holds both without copying: the
row it is :meth:`~Record.attach`-ed to, with the count of values written there, and
the values appended.  ``numpy.asarray`` of it is one float64 array: the row's
written part itself when that is all there is and it fills at least half the row
(no copy; the buffer's untouched tail is never faulted in), else the parts joined
(a run that stopped early keeps a copy of its few values, not the buffer sized for
all of its planned updates).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Record:
    """One history series: floats appended one by one, array chunks, a buffer row.

    Examples
    --------
    >>> r = Record()
    >>> r.append(1.0)
    >>> r.extend_array(np.array([2.0, 3.0]))
    >>> row = np.empty(4)
    >>> r.attach(row)
    >>> row[:1] = 4.0
    >>> r.written(1)         # the loop wrote one value into the row
    >>> r.append(5.0)        # goes into the row while it has room
    >>> len(r), np.asarray(r), float(row[1])
    (5, array([1., 2., 3., 4., 5.]), 5.0)
    """

    __slots__ = ("_chunks", "_end", "_row", "_tail")

    def __init__(self, values: Any = ()) -> None:
        self._chunks: list[np.ndarray] = []
        self._tail: list[float] = []
        self._row: np.ndarray | None = None
        self._end = 0
        if len(values):
            self.extend_array(np.asarray(values, dtype=float))

    def append(self, value: float) -> None:
        row = self._row
        if row is not None and not self._tail and self._end < row.size:
            row[self._end] = value
            self._end += 1
        else:
            self._tail.append(value)

    def extend_array(self, values: np.ndarray) -> None:
        """Append a chunk of values (copied)."""
        self._flush()
        self._chunks.append(np.array(values, dtype=float))

    def attach(self, row: np.ndarray) -> None:
        """From now on the loop writes this series into ``row`` (float64, 1-D), from its
        start; :meth:`written` says how far.  What was recorded before stays first."""
        self._flush()
        self._row, self._end = row, 0

    def written(self, end: int) -> None:
        """The loop has written the attached row up to ``end`` (exclusive)."""
        self._end = end

    def _flush(self) -> None:
        """Make every part a chunk (the row's written part a view: it is not reused)."""
        self._chunks = self._parts()
        self._row, self._end, self._tail = None, 0, []

    def _parts(self) -> list[np.ndarray]:
        parts = list(self._chunks)
        if self._row is not None and self._end:
            parts.append(self._row[: self._end])
        if self._tail:
            parts.append(np.asarray(self._tail, dtype=float))
        return parts

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks) + self._end + len(self._tail)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        parts = self._parts()
        if copy is False and len(parts) > 1:
            raise ValueError("a history record of several parts cannot be read without a copy")
        row = self._row
        only_row = len(parts) == 1 and row is not None and self._end > 0
        # the row's values alone: a view when they fill half of it, else a copy, which
        # lets the buffer go with the run (a run that stopped early)
        shared = not only_row or 2 * self._end >= row.size
        if not parts:
            out = np.zeros(0)
        elif len(parts) == 1 and (copy is False or (not copy and shared)):
            out = parts[0]
        else:
            out = np.concatenate(parts)  # (a copy, also of one part)
        return out if dtype is None else out.astype(dtype, copy=False)
