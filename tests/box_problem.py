"""The box-bounded problem of the bounds tests: f = ½ Σ a (x − c)² over a box.

Its minimum c lies outside the box in 3 coordinates; f is separable, so the minimum
over the box is the projection of c onto it.
"""

from __future__ import annotations

import numpy as np

A = np.array([1.0, 2.0, 3.0, 0.5])
C = np.array([2.0, -3.0, 0.5, 1.5])
LO = np.array([-1.0, -1.0, -1.0, 0.0])
HI = np.array([1.0, 1.0, 1.0, 1.0])
SOLUTION = np.clip(C, LO, HI)  # separable: the minimum over the box is the projection
ON_BOUNDARY = [0, 1, 3]


def fg(x):
    r = x - C.astype(x.dtype)
    return 0.5 * float(r @ (A * r)), (A * r).astype(x.dtype)


def pairs(lo=LO, hi=HI):
    return list(zip(lo.tolist(), hi.tolist(), strict=True))


def inside(x, lo, hi):
    x = np.asarray(x)
    return bool(np.all(x >= lo.astype(x.dtype)) and np.all(x <= hi.astype(x.dtype)))
