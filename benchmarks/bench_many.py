"""``numopt.minimize_many`` on M exponential-decay fits (``benchmarks/_decay.py``).

Each benchmark is one ``minimize_many`` call on M three-parameter fits of 50 points
(float64, ``jac="inplace"`` on the ``@njit`` objective), with all of Numba's
threads: L-BFGS-B to gtol 1e-8 (``ftol = 0``), and 200 steps of Adam (learning
rate 0.02).  ``benchmarks/many.py`` compares the same calls with JAX's vmap, optax
and SciPy loops, side by side.  ``track_nit`` (the median of the problems'
iterations, deterministic) says whether a change of time came with a change of
iterations.  ``setup`` runs the call once first (compiling the loop, or loading it
from Numba's cache); it skips (``NotImplementedError``) a numopt without
``minimize_many``.
"""

from __future__ import annotations

import numpy as np

import numopt

from ._decay import T, decay_fg_inplace, problems
from .many import LBFGS_OPTIONS, LEARNING_RATE

OPTIONS = {
    "l-bfgs-b": LBFGS_OPTIONS,
    "adam": {"learning_rate": LEARNING_RATE, "maxiter": 200, "gtol": 0.0},
}


class ManyDecayFits:
    """One ``minimize_many`` call on M fits."""

    params = (list(OPTIONS), [100, 10_000])
    param_names = ["method", "M"]

    def setup(self, method, m):
        if not hasattr(numopt, "minimize_many"):
            raise NotImplementedError("this numopt has no minimize_many")
        self.X0, self.Y = problems(m)
        self.res = self.call(method)  # compiles or loads the loop
        if not self.res.compiled:
            raise RuntimeError("minimize_many did not compile its loop")

    def call(self, method):
        return numopt.minimize_many(
            decay_fg_inplace, self.X0, args=(T, self.Y), method=method, jac="inplace",
            options=OPTIONS[method],
        )  # fmt: skip

    def time_minimize_many(self, method, m):
        self.call(method)

    def track_nit(self, method, m):
        return float(np.median(self.res.nit))

    track_nit.unit = "iterations"
