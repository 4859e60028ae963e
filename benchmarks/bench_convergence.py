"""Convergence quality over commits (asv ``track_``), every rule in ``numopt.RULES``.

A change that makes a rule converge more slowly shows up here as clearly as one
that makes it run more slowly.  Everything is deterministic (fixed problems, seeded
data and shuffling), so any change in these numbers is a change in numopt or in its
dependencies' arithmetic, not noise.

* ``Iterations``: updates (``res.nit``) to reach ``max|g| <= 1e-6`` on the 100-D
  quadratic with condition number 10 (``common.quadratic(100)``, from 0) and on the
  2-D Rosenbrock function (from (-1.2, 1)), with each rule's settings from
  ``common.SETTINGS`` (found by trying; a decaying rate for RMSprop,
  ``weight_decay=0`` for AdamW: see there).  A run that does not converge within
  ``MAXITER`` updates raises, so the benchmark fails instead of recording the cap.
* ``FinalLoss``: mini-batch logistic regression (20 000 samples × 20 features,
  batches of 256, 2 epochs = 158 updates, seed 0): the loss on all the data at the
  end, and the excess over the optimum (f* = 0.26732, by L-BFGS-B), which is what
  moves when convergence changes (asv flags relative changes; the raw loss barely
  moves in relative terms).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import rosen, rosen_der

import numopt

from .common import (
    logistic_data,
    logistic_optimum,
    minimize_logistic,
    quadratic,
    rule_names,
    settings,
)

GTOL = 1e-6
MAXITER = 100_000


def _converged(res) -> int:
    if not res.success:
        raise RuntimeError(f"{res.method} did not converge: {res.message} (nit={res.nit})")
    return res.nit


class Iterations:
    """Updates to reach ``max|g| <= 1e-6`` (see the module docstring)."""

    params = (rule_names(),)
    param_names = ["rule"]
    unit = "iterations"
    timeout = 120

    def setup(self, rule):
        self.options = {"gtol": GTOL, "maxiter": MAXITER}
        self.quadratic = settings("quadratic", rule)
        self.rosenbrock = settings("rosenbrock", rule)
        self.fun, self.jac, _ = quadratic(100)

    def track_quadratic(self, rule):
        res = numopt.minimize(
            self.fun,
            np.zeros(100),
            jac=self.jac,
            method=rule,
            options={**self.quadratic, **self.options},
        )
        return _converged(res)

    def track_rosenbrock(self, rule):
        res = numopt.minimize(
            rosen,
            [-1.2, 1.0],
            jac=rosen_der,
            method=rule,
            options={**self.rosenbrock, **self.options},
        )
        return _converged(res)


class FinalLoss:
    """Logistic loss after 2 epochs of mini-batches (see the module docstring)."""

    params = (rule_names(batched=True),)
    param_names = ["rule"]
    unit = "loss"

    def setup(self, rule):
        self.options = {**settings("logistic", rule), "batch_size": 256, "epochs": 2, "seed": 0}
        self.X, self.y = logistic_data()
        self.optimum = logistic_optimum(self.X, self.y)

    def _run(self, rule):
        return minimize_logistic(self.X, self.y, rule, self.options).fun

    def track_final_loss(self, rule):
        return self._run(rule)

    def track_excess_loss(self, rule):
        return self._run(rule) - self.optimum
