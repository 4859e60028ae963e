"""The stateful optimizer classes, one variant of each rule and option, and random
problems (shared by tests/rules/test_stateful_api.py and test_state_dict.py)."""

from __future__ import annotations

import numpy as np

import numopt

CLASSES = (numopt.GD, numopt.Momentum, numopt.RMSprop, numopt.Adam, numopt.AdamW)
#: The rules added in issue 11 (their own VARIANTS entries below; DEFAULTS is in
#: tests/rules/test_stateful_api.py).
NEW_CLASSES = (
    numopt.Adagrad,
    numopt.Adadelta,
    numopt.Adamax,
    numopt.NAdam,
    numopt.RAdam,
    numopt.Rprop,
    numopt.Lion,
)
CLASSES += NEW_CLASSES

#: id -> (class, non-default hyperparameters): every rule variant.
VARIANTS = {
    "gd": (numopt.GD, {"learning_rate": 0.05, "weight_decay": 0.1}),
    "momentum": (numopt.Momentum, {"learning_rate": 0.05, "beta": 0.7}),
    "nesterov": (numopt.Momentum, {"learning_rate": 0.05, "beta": 0.7, "nesterov": True}),
    "rmsprop-inside": (
        numopt.RMSprop,
        {"learning_rate": 0.05, "beta": 0.8, "eps": 1e-6, "eps_placement": "inside"},
    ),
    "rmsprop-outside": (
        numopt.RMSprop,
        {"learning_rate": 0.05, "beta": 0.8, "eps": 1e-6, "eps_placement": "outside"},
    ),
    "adam": (
        numopt.Adam,
        {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.1},
    ),
    "adamw": (
        numopt.AdamW,
        {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.1},
    ),
    # options that add state arrays or change the kernel body (issue 11)
    "momentum-damped": (
        numopt.Momentum,
        {"learning_rate": 0.05, "beta": 0.7, "dampening": 0.3, "weight_decay": 0.1},
    ),
    "rmsprop-centered-momentum": (
        numopt.RMSprop,
        {"learning_rate": 0.05, "beta": 0.8, "eps": 1e-6, "centered": True, "momentum": 0.5},
    ),
    "adam-amsgrad": (numopt.Adam, {"learning_rate": 0.05, "beta2": 0.95, "amsgrad": True}),
    "adamw-amsgrad": (numopt.AdamW, {"learning_rate": 0.05, "beta2": 0.95, "amsgrad": True}),
    # the rules added in issue 11
    "adagrad": (
        numopt.Adagrad,
        {"learning_rate": 0.05, "lr_decay": 0.1, "initial_accumulator_value": 0.5},
    ),
    "adadelta": (numopt.Adadelta, {"learning_rate": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    "adamax": (numopt.Adamax, {"learning_rate": 0.05, "beta1": 0.8, "weight_decay": 0.1}),
    "nadam-decoupled": (
        numopt.NAdam,
        {"learning_rate": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    "radam": (numopt.RAdam, {"learning_rate": 0.05, "beta2": 0.8, "weight_decay": 0.1}),
    "rprop": (numopt.Rprop, {"learning_rate": 0.05, "etas": (0.4, 1.3)}),
    "lion": (numopt.Lion, {"learning_rate": 0.05, "weight_decay": 0.1}),
    "lamb": (numopt.Lamb, {"learning_rate": 0.05, "beta2": 0.9, "weight_decay": 0.1}),
    # gradient clipping, which every rule takes (numopt.rules.clipping)
    "adam-clipped": (numopt.Adam, {"learning_rate": 0.05, "clip_norm": 0.5, "clip_value": 0.3}),
}


def make(variant: str, backend: str = "auto", **extra):
    cls, hp = VARIANTS[variant]
    return cls(backend=backend, **{**hp, **extra})


def problem(seed: int, shape, dtype=np.float64, steps: int = 4):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]
    return x0, grads
