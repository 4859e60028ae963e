"""``numopt.minimize`` end to end: time, peak memory, and what an update allocates.

**Time per iteration.**  asv has no per-iteration unit, so every ``time_minimize``
here times one whole ``minimize`` call of a *fixed* number of updates: ``gtol=0``
(no early stop) and ``maxiter=ITERATIONS`` (200), or for the mini-batch problem 2
epochs of batches of 256 over 20 000 samples (79 batches per epoch: 158 updates,
plus the final loss on all the data).  Divide the reported time by 200 (or 158)
for the time per iteration; the counts are fixed so that results stay comparable
over commits.  ``setup`` runs the same call once (compiling or loading the kernels)
and checks that it made exactly that many updates.

Problems, for every rule in ``numopt.RULES`` with its settings from
``common.SETTINGS``: the Rosenbrock function in 2-D and 100-D (SciPy's ``rosen`` /
``rosen_der``), a dense SPD quadratic with N = 1000 (``common.quadratic``: one
1000 × 1000 mat-vec per iteration), and mini-batch logistic regression (20 000 × 20
synthetic samples).

**Large N.**  ``LargeN`` times 20 updates at N = 10⁶ through ``minimize`` (Python
and compiled loop) and through the hand-written loop ``fun(x, g, a); opt.step(x,
g)``: the ratio is what ``minimize``'s own passes (the gradient's norm, the best
point) cost over the update.

**Peak memory.**  ``peakmem_minimize_large`` is a whole Adam run on N = 10⁷ float64
parameters (80 MB per array) for 20 iterations.  Expected peak: the interpreter
with NumPy, SciPy, Numba and numopt loaded (130-200 MB depending on the
environment) plus 7 N-sized arrays = 560 MB: the caller's ``x0``; numopt's ``x``,
``g`` and best ``x``; Adam's ``m`` and ``v``; and the objective's one gradient
temporary (``x - 1``), plus a few tens of MB for Numba's thread pool.  asv measured
746 MB in the development venv and 795-807 MB in its own virtualenv (2026-11-25,
2-core machine).  A per-update N-sized temporary in numopt would add 80 MB and show
as a jump.

**Allocations of an update.**  ``StepAllocation.track_peak_bytes`` is the peak that
``tracemalloc`` (to which NumPy reports its allocations) sees during 10
``opt.step`` calls at N = 10⁶, after one warm step: 464 bytes of Python objects for
every fused kernel (2026-11-25), i.e. no temporaries.  The ``"numpy"`` backend (the
readable reference) is the control: its temporaries show as megabytes.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
from scipy.optimize import rosen, rosen_der

import numopt

from ._numba_objectives import weighted_sphere_inplace
from .common import (
    logistic_data,
    minimize_logistic,
    quadratic,
    rosenbrock_x0,
    rule_names,
    settings,
    shifted_sphere,
)

#: Updates per timed ``minimize`` call (full-batch problems).
ITERATIONS = 200
#: Size and length of the peak-memory run (the test suite shrinks PEAKMEM_N).
PEAKMEM_N = 10**7
PEAKMEM_ITERATIONS = 20
#: Size of the large-N comparison (the test suite shrinks it).
LARGE_N = 10**6
#: Size of the allocation count.
ALLOC_N = 10**6


def _check_updates(res, expected: int) -> None:
    if res.nit != expected:
        raise RuntimeError(
            f"{res.method} made {res.nit} updates, not {expected}: {res.message} "
            "(a timing of a shortened run would mean nothing)"
        )


class Rosenbrock:
    """200 updates on the Rosenbrock function from (-1.2, 1, -1.2, 1, ...)."""

    params = (rule_names(), [2, 100])
    param_names = ["rule", "n"]

    def setup(self, rule, n):
        self.x0 = rosenbrock_x0(n)
        self.options = {**settings("rosenbrock", rule), "maxiter": ITERATIONS, "gtol": 0}
        _check_updates(self._run(rule), ITERATIONS)

    def _run(self, rule):
        return numopt.minimize(rosen, self.x0, jac=rosen_der, method=rule, options=self.options)

    def time_minimize(self, rule, n):
        self._run(rule)


class Quadratic:
    """200 updates on a dense SPD quadratic, N = 1000, condition number 10, from 0."""

    params = (rule_names(),)
    param_names = ["rule"]

    def setup(self, rule):
        self.fun, self.jac, _ = quadratic(1000)
        self.x0 = np.zeros(1000)
        self.options = {**settings("quadratic", rule), "maxiter": ITERATIONS, "gtol": 0}
        _check_updates(self._run(rule), ITERATIONS)

    def _run(self, rule):
        return numopt.minimize(self.fun, self.x0, jac=self.jac, method=rule, options=self.options)

    def time_minimize(self, rule):
        self._run(rule)


class LogisticMiniBatch:
    """2 epochs of batches of 256 over 20 000 samples × 20 features: 158 updates."""

    params = (rule_names(batched=True),)
    param_names = ["rule"]
    updates = 158

    def setup(self, rule):
        self.X, self.y = logistic_data()
        self.options = {**settings("logistic", rule), "batch_size": 256, "epochs": 2, "seed": 0}
        _check_updates(self._run(rule), self.updates)

    def _run(self, rule):
        return minimize_logistic(self.X, self.y, rule, self.options)

    def time_minimize(self, rule):
        self._run(rule)


class LargeN:
    """``minimize`` at N = 10⁶ against the loop users write by hand (module docstring).

    ``weighted_sphere_inplace`` (a Numba ``prange`` objective, ``jac="inplace"``), 20
    updates, float64: ``time_hand`` is ``fun(x, g, a); opt.step(x, g)``,
    ``time_minimize`` the same updates through ``minimize`` (``gtol=1e-12``: no early
    stop), from Python or compiled.  Their ratio is what ``minimize``'s bookkeeping
    costs (``benchmarks/large_n.py`` measures it per iteration, to N = 10⁸).
    """

    params = (["adam", "gd"], [False, True])
    param_names = ["rule", "compiled"]
    iterations = 20

    def setup(self, rule, compiled):
        rng = np.random.default_rng(0)
        self.x0, self.a = rng.standard_normal(LARGE_N), rng.uniform(0.5, 2.0, LARGE_N)
        self.options = {"learning_rate": 1e-3, "maxiter": self.iterations, "gtol": 1e-12,
                        "compiled": compiled}  # fmt: skip
        _check_updates(self._run(rule), self.iterations)
        self.time_hand(rule, compiled)

    def _run(self, rule):
        return numopt.minimize(
            weighted_sphere_inplace, self.x0, args=(self.a,), jac="inplace", method=rule,
            options=self.options,
        )  # fmt: skip

    def time_minimize(self, rule, compiled):
        self._run(rule)

    def time_hand(self, rule, compiled):
        x, opt = self.x0.copy(), numopt.RULES[rule](1e-3)
        g = np.empty_like(x)
        for _ in range(self.iterations):
            weighted_sphere_inplace(x, g, self.a)
            opt.step(x, g)


class PeakMemory:
    """A whole Adam run at N = 10⁷ float64 (see the module docstring for the budget)."""

    timeout = 300

    def setup(self):
        self.x0 = np.full(PEAKMEM_N, 3.0)  # touched: np.zeros pages would not count yet
        self.options = {"learning_rate": 0.1, "maxiter": PEAKMEM_ITERATIONS, "gtol": 0}
        # load the kernel the run will use (parallel at this size) on a small array
        small = np.zeros(min(PEAKMEM_N, 2**14))
        numopt.minimize(shifted_sphere, small, jac=True, method="adam", options=self.options)

    def peakmem_minimize_large(self):
        numopt.minimize(shifted_sphere, self.x0, jac=True, method="adam", options=self.options)


class StepAllocation:
    """Peak bytes traced by ``tracemalloc`` during 10 steps at N = 10⁶ (module docstring)."""

    params = (rule_names(), ["serial", "parallel", "numpy"])
    param_names = ["rule", "backend"]
    unit = "bytes"

    def setup(self, rule, backend):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(ALLOC_N)
        self.g = 1e-3 * rng.standard_normal(ALLOC_N)
        self.opt = numopt.RULES[rule](backend=backend)
        self.opt.step(self.x, self.g)  # compile or load the kernel; allocate the state

    def track_peak_bytes(self, rule, backend):
        step, x, g = self.opt.step, self.x, self.g
        tracemalloc.start()
        try:
            for _ in range(10):
                step(x, g)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
