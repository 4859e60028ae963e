"""L-BFGS-B (``method="l-bfgs-b"``) on the extended Rosenbrock function, n = 2, 100, 1000.

Each benchmark runs one whole ``minimize`` call from ``(-1.2, 1, -1.2, 1, ...)`` to
``gtol = 1e-5`` (memory 10, float64), for each contender of
``benchmarks/lbfgs.py`` that numopt owns, plus SciPy for scale:

* ``numopt compiled`` — ``jac="inplace"`` on the ``@njit`` objective
  ``xrosen_fg_inplace`` of ``benchmarks/_numba_objectives.py``,
  ``options={"compiled": True}``: the whole loop compiled;
* ``numopt python`` — the same call with ``"compiled": False``;
* ``scipy`` — ``scipy.optimize.minimize(method="L-BFGS-B")`` on the same objective
  returning ``(f, g)`` (``jac=True``): the reference, so a slower machine shows as
  every contender slowing together.

``time_minimize`` is a run to convergence, so a change in the number of iterations
changes it too: ``track_nit`` and ``track_nfev`` (deterministic) say whether it did
(36 iterations and 44 evaluations at n = 2 on 2026-12-04, the same as SciPy's).
``time_one_iteration`` is a ``maxiter=1`` call: ``minimize``'s cost per call
(options, buffers, the result) plus one iteration.  BLAS is limited to one thread
(threadpoolctl) during the benchmarks, as in ``lbfgs.py``.  ``setup`` runs the call
once first (compiling the loop, or loading it from Numba's cache); it skips
(``NotImplementedError``) a numopt without L-BFGS-B.
"""

from __future__ import annotations

import numopt

from .lbfgs import MAXITER, build, xrosen_x0
from .machine import blas_limit

CONTENDERS = ["numopt compiled", "numopt python", "scipy"]


class ExtendedRosenbrockLBFGSB:
    """A whole L-BFGS-B run to gtol 1e-5, and a 1-iteration run."""

    params = (CONTENDERS, [2, 100, 1000])
    param_names = ["contender", "n"]

    def setup(self, contender, n):
        if not hasattr(numopt, "LBFGS"):
            raise NotImplementedError("this numopt has no L-BFGS-B")
        self._blas = blas_limit(1)
        self._blas.__enter__()
        self.run = build(contender, xrosen_x0(n))
        self.outcome = self.run(MAXITER)  # compiles or loads the loop
        if not self.outcome.fun < 1e-8:
            raise RuntimeError(f"{contender} stopped at f = {self.outcome.fun}")
        self.run(1)

    def teardown(self, contender, n):
        self._blas.__exit__(None, None, None)

    def time_minimize(self, contender, n):
        self.run(MAXITER)

    def time_one_iteration(self, contender, n):
        self.run(1)

    def track_nit(self, contender, n):
        return self.outcome.nit

    track_nit.unit = "iterations"

    def track_nfev(self, contender, n):
        return self.outcome.nfev

    track_nfev.unit = "evaluations"
