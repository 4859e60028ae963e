"""Convergence quality, tracked over commits: a change that slows convergence shows
up here as clearly as one that slows the code."""

from __future__ import annotations

import numpy as np
from scipy.optimize import rosen, rosen_der

import numopt

from .common import LEARNING_RATE, logistic, logistic_data, quadratic, rules


class Iterations:
    """Updates to reach ``max|g| <= 1e-6`` with a fixed learning rate per rule.

    RMSprop (which hovers at a constant rate) and AdamW (whose decoupled decay moves
    its fixed point off the gradient's zero) never get there: see ``Distance``.
    """

    params = (["gd", "momentum", "adam"],)
    param_names = ["rule"]
    unit = "iterations"

    def setup(self, rule):
        self.fun, self.jac, _ = quadratic(50)

    def track_quadratic(self, rule):
        options = {"learning_rate": 0.05, "maxiter": 50000, "gtol": 1e-6}
        return numopt.minimize(
            self.fun, np.zeros(50), jac=self.jac, method=rule, options=options
        ).nit

    def track_rosenbrock(self, rule):
        options = {"learning_rate": LEARNING_RATE[rule], "maxiter": 50000, "gtol": 1e-6}
        return numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method=rule, options=options).nit


class Distance:
    """``max|x - x*|`` after a fixed budget of 2000 updates, every rule."""

    params = (rules(),)
    param_names = ["rule"]
    unit = "distance"

    def setup(self, rule):
        self.fun, self.jac, self.x_star = quadratic(50)

    def track_quadratic(self, rule):
        options = {"learning_rate": 0.01, "maxiter": 2000, "gtol": 0}
        res = numopt.minimize(self.fun, np.zeros(50), jac=self.jac, method=rule, options=options)
        return float(np.max(np.abs(res.x - self.x_star)))

    def track_rosenbrock(self, rule):
        options = {"learning_rate": LEARNING_RATE[rule], "maxiter": 2000, "gtol": 0}
        res = numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method=rule, options=options)
        return float(np.max(np.abs(res.x - 1.0)))


class FinalLoss:
    """Logistic loss on all the data after 3 epochs of batches of 128 (seeded)."""

    params = (["sgd", "momentum", "rmsprop", "adam", "adamw"],)
    param_names = ["rule"]
    unit = "loss"

    def setup(self, rule):
        self.X, self.y = logistic_data(n=5000)

    def track_logistic_minibatch(self, rule):
        options = {"learning_rate": 1e-2, "batch_size": 128, "epochs": 3, "seed": 0}
        res = numopt.minimize(
            logistic, np.zeros(20), args=(self.X, self.y), jac=True, method=rule, options=options
        )
        return res.fun
