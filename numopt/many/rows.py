"""The vectorised loop's operations on its ``(M, n)`` buffers, one row per problem.

:func:`numopt.many.vectorized.run` is written once over these operations; the rows
they take are problem numbers (increasing int64 arrays).  :class:`HostRows` does them
with NumPy on host buffers; :class:`numopt.many.device.DeviceRows` with CUDA kernels
on device buffers (:mod:`numopt.kernels.cuda_rows`), the per-problem numbers (losses,
norms) coming back to the host, where the loop's bookkeeping runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numopt.many import checkpoint as many_checkpoint


def every_row(rows: np.ndarray, m: int) -> Any:
    """``rows`` (increasing rows of ``m``) as an index of those rows: every row's
    slice (views, not fancy-index copies) when it holds them all."""
    return slice(None) if rows.size == m else rows


def row_max(a: np.ndarray) -> np.ndarray:
    """``max|a_i|`` per row, NaN where a row holds a NaN or ±inf (as the loop's norms)."""
    with np.errstate(invalid="ignore"):
        if a.shape[1] > 16:
            m = np.abs(a).max(axis=1)
        else:  # column by column: NumPy's reduction over a short row is slow
            m = np.abs(a[:, 0])
            for j in range(1, a.shape[1]):
                np.maximum(m, np.abs(a[:, j]), out=m)
    m[~np.isfinite(m)] = np.nan
    return m


def projected(X, G, LO, HI, sign) -> np.ndarray:
    """Per row, ``max|P(x - s g) - x|`` as :func:`numopt.kernels.norms.projected_grad_norm`."""
    gs = G * G.dtype.type(sign)
    room = np.where(gs > 0, X - LO, HI - X)
    a = np.abs(gs)
    d = np.where(a <= room, a, room)
    bad = ~(a < np.inf) | np.isnan(d)
    d = np.where(bad, np.inf, d)
    return row_max(d)


class HostRows:
    """The operations on NumPy buffers; ``X`` is the problems' own ``(M, n)`` array."""

    def __init__(self, problems: Any) -> None:
        self.m = problems.M
        self.X, self.LO, self.HI = problems.X, problems.LO, problems.HI

    def evaluate(self, batch: Any, G: np.ndarray, active: np.ndarray) -> np.ndarray:
        """The losses of the problems ``active`` (host float64); their gradients into
        ``G``'s rows.  The objective sees those rows only."""
        running = every_row(active, self.m)
        f, g = batch(self.X[running], active)
        G[running] = g
        return f

    def absmax(self, a: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``max|a_r|`` for each row ``r`` of ``rows`` (NaN where not finite)."""
        return row_max(a[every_row(rows, self.m)])

    def absdiffmax(self, a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``max|a_r - b_r|`` for each row of ``rows``."""
        r = every_row(rows, self.m)
        return row_max(a[r] - b[r])

    def projected(self, G: np.ndarray, sign: float, rows: np.ndarray) -> np.ndarray:
        """The projected gradient's largest entry for each row of ``rows`` (bounds given)."""
        r = every_row(rows, self.m)
        return projected(self.X[r], G[r], self.LO[r], self.HI[r], sign)

    def copy(self, dst: np.ndarray, src: np.ndarray, rows: np.ndarray) -> None:
        """``dst[r] = src[r]`` for the rows ``rows``."""
        r = every_row(rows, self.m)
        dst[r] = src[r]

    @staticmethod
    def fill(dst: np.ndarray, rows: np.ndarray, value: float) -> None:
        """``dst[r] = value`` for the rows ``rows``."""
        dst[rows] = value

    @staticmethod
    def copy_of(a: np.ndarray) -> np.ndarray:
        return a.copy()

    @staticmethod
    def full_like(a: np.ndarray, value: float) -> np.ndarray:
        return np.full_like(a, value)

    @staticmethod
    def host(a: np.ndarray) -> np.ndarray:
        """``a``'s values on the host (``a`` itself here)."""
        return a

    @staticmethod
    def restore(dst: np.ndarray, arrays: dict, name: str) -> None:
        """The checkpoint's array ``name`` into ``dst`` (checked)."""
        many_checkpoint.restore(dst, arrays, name)
