"""Bias corrections ``1 - β^t`` computed once they can still change.

``1 - β^t`` rounds to exactly 1.0 (float64) for every ``t`` past some step — for
β2 = 0.999 from t ≈ 36 700 on.  :func:`saturation_step` finds that step once per β,
so a rule's ``factors`` can skip libm's ``pow`` from there on with the same bits:
``pow(β, t)`` decreases with ``t``, so once ``1 - β^t == 1.0`` it stays so.
"""

from __future__ import annotations

import functools
import math


@functools.lru_cache(maxsize=256)
def saturation_step(beta: float) -> float:
    """The first step ``t >= 1`` with ``1 - math.pow(beta, t) == 1.0``, as a float.

    Examples
    --------
    >>> saturation_step(0.9), saturation_step(0.999), saturation_step(0.0)
    (356.0, 37412.0, 1.0)
    >>> 1 - math.pow(0.9, 355.0) < 1.0 == 1 - math.pow(0.9, 356.0)
    True
    """
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    lo, hi = 0, 1  # 1 - β^lo < 1 (or lo = 0), 1 - β^hi == 1
    while 1 - math.pow(beta, float(hi)) != 1.0:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if 1 - math.pow(beta, float(mid)) == 1.0:
            hi = mid
        else:
            lo = mid
    return float(hi)
