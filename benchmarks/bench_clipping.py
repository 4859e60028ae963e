"""Gradient clipping and the norm reduction beside the plain step (asv).

* ``ClippedStep``: one Adam step without clipping, with ``clip_norm`` (one more read
  pass over ``g`` for its norm) and with ``clip_value`` (fused: no extra pass), on the
  serial and parallel CPU loops, float32 and float64, N = 10⁵, 10⁷.
* ``Norm``: the fixed-order sum of squares alone
  (:func:`numopt.kernels.reduce.sum_squares`) against ``np.dot(g, g)``, a read pass
  whose order is BLAS's, not fixed.

LAMB's step is in ``bench_kernels.Step`` with every rule (through ``numopt.RULES``);
``python benchmarks/clipping_lamb.py`` reports the ratios side by side.
"""

from __future__ import annotations

import numpy as np

import numopt
from numopt.kernels import reduce

CLIPS = {"none": {}, "clip_norm": {"clip_norm": 1.0}, "clip_value": {"clip_value": 1e-3}}


class ClippedStep:
    """One Adam step, plain or clipped (asv repeats the call and reports the median)."""

    params = (list(CLIPS), ["serial", "parallel"], ["float32", "float64"], [10**5, 10**7])
    param_names = ["clip", "backend", "dtype", "n"]
    timeout = 300

    def setup(self, clip, backend, dtype, n):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(n).astype(dtype)
        self.g = (1e-3 * rng.standard_normal(n)).astype(dtype)
        self.opt = numopt.Adam(backend=backend, **CLIPS[clip])
        self.opt.step(self.x, self.g)  # compile or load the kernels; allocate the state

    def time_step(self, clip, backend, dtype, n):
        self.opt.step(self.x, self.g)


class Norm:
    """The deterministic sum of squares, and NumPy's dot product as a read pass."""

    params = (["float32", "float64"], [10**5, 10**7])
    param_names = ["dtype", "n"]

    def setup(self, dtype, n):
        self.g = np.random.default_rng(0).standard_normal(n).astype(dtype)
        reduce.sum_squares(self.g)  # compile or load

    def time_sum_squares(self, dtype, n):
        reduce.sum_squares(self.g)

    def time_numpy_dot(self, dtype, n):
        np.dot(self.g, self.g)
