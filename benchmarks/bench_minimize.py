"""``minimize`` end to end on small problems, and its peak memory.

Each ``time_`` benchmark runs a fixed number of updates (``ITERATIONS``, or two
epochs of mini-batches) with ``gtol=0`` so the work does not depend on
convergence; divide by the iteration count for time per iteration.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import rosen, rosen_der

import numopt

from .common import LEARNING_RATE, logistic, logistic_data, quadratic, rules

ITERATIONS = 200
#: Size of the peak-memory run (the test suite shrinks it).
PEAKMEM_N = 10**7


class Rosenbrock:
    params = (rules(), [2, 100])
    param_names = ["rule", "n"]

    def setup(self, rule, n):
        self.x0 = np.full(n, -1.2)
        self.x0[1::2] = 1.0
        self.options = {"learning_rate": LEARNING_RATE[rule] / 10, "maxiter": ITERATIONS, "gtol": 0}
        numopt.minimize(rosen, self.x0, jac=rosen_der, method=rule, options={"maxiter": 2})

    def time_minimize(self, rule, n):
        numopt.minimize(rosen, self.x0, jac=rosen_der, method=rule, options=self.options)


class Quadratic:
    params = (rules(),)
    param_names = ["rule"]

    def setup(self, rule):
        self.fun, self.jac, _ = quadratic(1000)
        self.options = {"learning_rate": 1e-2, "maxiter": ITERATIONS, "gtol": 0}
        numopt.minimize(self.fun, np.zeros(1000), jac=self.jac, method=rule, options={"maxiter": 2})

    def time_minimize(self, rule):
        numopt.minimize(self.fun, np.zeros(1000), jac=self.jac, method=rule, options=self.options)


class LogisticMiniBatch:
    """Two epochs of batches of 256 over 20 000 samples × 20 features (157 updates)."""

    params = (["sgd", "momentum", "adam"],)
    param_names = ["rule"]

    def setup(self, rule):
        self.X, self.y = logistic_data()
        self.options = {"learning_rate": 1e-2, "batch_size": 256, "epochs": 2, "seed": 0}

    def time_minimize(self, rule):
        numopt.minimize(
            logistic,
            np.zeros(20),
            args=(self.X, self.y),
            jac=True,
            method=rule,
            options=self.options,
        )


def _separable(x):
    return 0.5 * float(x @ x), x.copy()  # the user's gradient: one new N-array per call


class PeakMemory:
    """A whole Adam run on N = 10**7 float64 parameters (80 MB per array).

    Expected peak: x0 (the caller's), numopt's x, g, best x and the state m, v, plus
    the objective's gradient array: about 7 × 80 MB = 560 MB over the interpreter.
    A per-step N-sized temporary in the update would add 80 MB and show as a jump.
    """

    timeout = 300

    def setup(self):
        self.x0 = np.ones(PEAKMEM_N)

    def peakmem_minimize_adam(self):
        numopt.minimize(
            _separable, self.x0, jac=True, method="adam", options={"maxiter": 10, "gtol": 0}
        )


class StepAllocations:
    """Bytes allocated through NumPy by 10 update steps at N = 10**6: 0 means no temporaries."""

    params = (rules(),)
    param_names = ["rule"]
    unit = "bytes"

    def setup(self, rule):
        self.x = np.ones(10**6)
        self.g = np.full(10**6, 1e-3)
        self.opt = numopt.RULES[rule]()
        self.opt.step(self.x, self.g)

    def track_step_allocations(self, rule):
        import tracemalloc

        tracemalloc.start()
        try:
            for _ in range(10):
                self.opt.step(self.x, self.g)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
