"""Layer-wise steps: a trust ratio per layer, in two passes over memory (LAMB, LARS).

A layer-wise rule scales each *layer* (a consecutive part of the flat ``x``) by a
ratio of norms, so every ``u_i`` of a layer is needed before the first ``θ_i`` of it
can move.  :class:`TrustRatio` runs such a step as two passes:

1. ``first(i, theta, g, state, c) -> u_i`` updates element ``i``'s state and returns
   its update direction; the pass sums ``θ_i²`` and ``u_i²`` per layer in the fixed
   blocked order of :mod:`numopt.kernels.reduce` (the same bits for any thread count,
   on the CPU and the GPU);
2. ``second(i, theta, g, state, c, step)`` applies ``step = fl(η · ratio(‖θ‖, ‖u‖))``
   of ``i``'s layer (computed on the host in float64, cast to θ's dtype).

The layers come from the optimizer's ``layers`` attribute (None: one layer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numopt.kernels import reduce
from numopt.kernels.arrays import FlatPair


class TrustRatio:
    """The two passes of a trust-ratio step (see the module docstring).

    Parameters
    ----------
    first, second : callable
        The element functions of pass 1 and pass 2.
    ratio : callable
        ``ratio(theta_norm, update_norm, hp) -> float`` for one layer, ``hp`` the
        optimizer's hyperparameters (LARS's trust coefficient).
    """

    def __init__(self, first: Callable, second: Callable, ratio: Callable) -> None:
        self.first, self.second, self.ratio = first, second, ratio

    def sizes(self, opt: Any, n: int) -> tuple[int, ...]:
        """The layer sizes of a flat ``x`` of ``n`` elements (checked against ``n``)."""
        layers = opt.layers
        if layers is None:
            return (n,)
        if sum(layers) != n:
            raise ValueError(
                f"layers {list(layers)} sum to {sum(layers)} elements but x has {n}; give "
                "the sizes of the layers x is made of (or None for one layer)"
            )
        return layers

    def reference_options(self, opt: Any, layout: Any) -> dict[str, Any]:
        """What the rule's NumPy reference takes besides the hyperparameters (``layout``:
        x's :class:`numopt.kernels.arrays.Layout`)."""
        return {"layers": self.sizes(opt, math.prod(layout.shape))}

    def steps(self, lr: float, sums: np.ndarray, dtype: np.dtype, hp: Any) -> np.ndarray:
        """``fl(η r_ℓ)`` per layer from the sums of squares ``(Σθ², Σu²)`` (float64 rows)."""
        return np.array(
            [
                lr * self.ratio(math.sqrt(p), math.sqrt(q), hp)
                for p, q in zip(sums[0].tolist(), sums[1].tolist(), strict=True)
            ],
            dtype,
        )

    def run(
        self,
        opt: Any,
        pair: FlatPair,
        state: Any,
        factors: tuple,
        lr: float,
        backend: str,
        box: Any,
    ) -> None:
        """One step on validated flat arrays, on the CPU or the GPU (not ``"numpy"``)."""
        dtype = pair.layout.dtype
        sizes = self.sizes(opt, pair.x.size)
        clip_value = opt.hyperparameters.get("clip_value") is not None
        if backend == "cuda":
            from numopt.kernels import cuda_reduce

            c = tuple(dtype.type(f) for f in factors)
            sums = cuda_reduce.two_sums(self.first, pair.x, pair.g, state, c, sizes, clip_value)
            steps = self.steps(lr, sums, dtype, opt.hyperparameters)
            cuda_reduce.segments(
                self.second, pair.x, pair.g, state, c, sizes, steps, box, clip_value
            )
            return
        c = np.array(factors, dtype)
        table = reduce.blocks(sizes)
        scratch = opt._scratch
        if scratch is None or scratch[0] != (dtype, sizes):  # pass 1's buffers, kept
            scratch = opt._scratch = ((dtype, sizes), reduce.scratch(dtype, sizes))
        work = scratch[1]
        first = getattr(reduce.two_sum_loops(self.first, clip_value), backend)
        first(pair.x, pair.g, state, c, table.start, table.stop, table.first, *work)
        steps = self.steps(lr, work.out, dtype, opt.hyperparameters)
        args = (pair.x, pair.g, state, c, table.start, table.segment, table.stop, steps)
        if box is None:
            getattr(reduce.segment_loops(self.second, clip_value), backend)(*args)
        else:
            second = reduce.segment_bounded_loops(self.second, clip_value)
            getattr(second, backend)(*args, box.lo, box.hi)
