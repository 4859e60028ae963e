"""The table that drives most tests: every rule variant and how to draw its hyperparameters."""

from __future__ import annotations

from hypothesis import strategies as st

import numopt

lr = st.floats(1e-4, 1.0)
decay = st.floats(0.0, 0.999)
eps = st.floats(1e-8, 1e-2)
wd = st.floats(0.0, 0.2)

#: id -> (class, fixed options, strategy of the remaining hyperparameters)
VARIANTS = {
    "gd": (numopt.GD, {}, st.fixed_dictionaries({"learning_rate": lr, "weight_decay": wd})),
    "momentum": (
        numopt.Momentum,
        {"nesterov": False},
        st.fixed_dictionaries({"learning_rate": lr, "beta": decay}),
    ),
    "nesterov": (
        numopt.Momentum,
        {"nesterov": True},
        st.fixed_dictionaries({"learning_rate": lr, "beta": decay}),
    ),
    "rmsprop-inside": (
        numopt.RMSprop,
        {"eps_placement": "inside"},
        st.fixed_dictionaries({"learning_rate": lr, "beta": decay, "eps": eps}),
    ),
    "rmsprop-outside": (
        numopt.RMSprop,
        {"eps_placement": "outside"},
        st.fixed_dictionaries({"learning_rate": lr, "beta": decay, "eps": eps}),
    ),
    "adam": (
        numopt.Adam,
        {},
        st.fixed_dictionaries(
            {"learning_rate": lr, "beta1": decay, "beta2": decay, "eps": eps, "weight_decay": wd}
        ),
    ),
    "adamw": (
        numopt.AdamW,
        {},
        st.fixed_dictionaries(
            {"learning_rate": lr, "beta1": decay, "beta2": decay, "eps": eps, "weight_decay": wd}
        ),
    ),
}


def make(variant: str, backend: str, **hp) -> numopt.Optimizer:
    cls, fixed, _ = VARIANTS[variant]
    return cls(backend=backend, **fixed, **hp)
