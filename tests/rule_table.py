"""The table that drives most tests: every rule variant and how to draw its hyperparameters."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import numopt

lr = st.floats(1e-4, 1.0)
decay = st.floats(0.0, 0.999)
eps = st.floats(1e-8, 1e-2)
wd = st.floats(0.0, 0.2)
etas = st.tuples(st.floats(0.1, 0.9), st.floats(1.05, 2.0))
step_sizes = st.tuples(st.floats(1e-6, 1e-2), st.floats(0.1, 50.0))
placement = st.sampled_from(["inside", "outside"])
_adam = {"learning_rate": lr, "beta1": decay, "beta2": decay, "eps": eps, "weight_decay": wd}
_belief = {
    "learning_rate": lr,
    "beta1": decay,
    "beta2": decay,
    "eps": eps,
    "eps_root": st.floats(0.0, 1e-6),
}
_adopt = {"learning_rate": lr, "beta1": decay, "beta2": decay, "eps": eps}
_schedule_free = {
    "learning_rate": lr,
    "beta1": st.floats(0.05, 1.0),
    "weight_decay": wd,
    "weight_lr_power": st.floats(0.0, 4.0),
}

#: id -> (class, fixed options, strategy of hyperparameters; a drawn value overrides a
#: fixed one, so the fixed options alone also pick the variant's kernel body)
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
    # torch.optim's options on the seed rules (issue 11)
    "momentum-damped": (
        numopt.Momentum,
        {"nesterov": False, "dampening": 0.5, "weight_decay": 0.1},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta": decay,
                "dampening": st.floats(0.0, 1.0),
                "weight_decay": wd,
            }
        ),
    ),
    "nesterov-damped": (
        numopt.Momentum,
        {"nesterov": True, "dampening": 0.5, "weight_decay": 0.1},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta": decay,
                "dampening": st.floats(0.0, 1.0),
                "weight_decay": wd,
            }
        ),
    ),
    "rmsprop-decay": (
        numopt.RMSprop,
        {"weight_decay": 0.1},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta": decay,
                "eps": eps,
                "eps_placement": placement,
                "weight_decay": st.floats(0.01, 0.2),
            }
        ),
    ),
    "rmsprop-centered": (
        numopt.RMSprop,
        {"centered": True},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta": decay,
                "eps": eps,
                "eps_placement": placement,
                "weight_decay": wd,
            }
        ),
    ),
    "rmsprop-momentum": (
        numopt.RMSprop,
        {"momentum": 0.5},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta": decay,
                "eps": eps,
                "eps_placement": placement,
                "weight_decay": wd,
                "momentum": st.floats(0.01, 0.99),
            }
        ),
    ),
    "rmsprop-centered-momentum": (
        numopt.RMSprop,
        {"centered": True, "momentum": 0.5},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta": decay,
                "eps": eps,
                "eps_placement": placement,
                "weight_decay": wd,
                "momentum": st.floats(0.01, 0.99),
            }
        ),
    ),
    "adam-amsgrad": (numopt.Adam, {"amsgrad": True}, st.fixed_dictionaries(_adam)),
    "adamw-amsgrad": (numopt.AdamW, {"amsgrad": True}, st.fixed_dictionaries(_adam)),
    "adagrad": (
        numopt.Adagrad,
        {},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "lr_decay": st.floats(0.0, 1.0),
                "weight_decay": wd,
                "initial_accumulator_value": st.floats(0.0, 1.0),
                "eps": st.floats(1e-10, 1e-2),
            }
        ),
    ),
    "adadelta": (
        numopt.Adadelta,
        {},
        st.fixed_dictionaries({"learning_rate": lr, "rho": decay, "eps": eps, "weight_decay": wd}),
    ),
    "adamax": (numopt.Adamax, {}, st.fixed_dictionaries(_adam)),
    "nadam": (
        numopt.NAdam,
        {"decoupled_weight_decay": False},
        st.fixed_dictionaries({**_adam, "momentum_decay": st.floats(0.0, 0.1)}),
    ),
    "nadam-decoupled": (
        numopt.NAdam,
        {"decoupled_weight_decay": True},
        st.fixed_dictionaries({**_adam, "momentum_decay": st.floats(0.0, 0.1)}),
    ),
    "radam": (numopt.RAdam, {"decoupled_weight_decay": False}, st.fixed_dictionaries(_adam)),
    "radam-decoupled": (
        numopt.RAdam,
        {"decoupled_weight_decay": True},
        st.fixed_dictionaries(_adam),
    ),
    "rprop": (
        numopt.Rprop,
        {},
        st.fixed_dictionaries({"learning_rate": lr, "etas": etas, "step_sizes": step_sizes}),
    ),
    "lion": (
        numopt.Lion,
        {},
        st.fixed_dictionaries(
            {"learning_rate": lr, "beta1": decay, "beta2": decay, "weight_decay": wd}
        ),
    ),
    # layer-wise: one layer here (tests/rules/test_lamb.py covers layers)
    "lamb": (numopt.Lamb, {}, st.fixed_dictionaries(_adam)),
    # issue 19: torch's ASGD and the rules of optax
    "asgd": (
        numopt.ASGD,
        {"t0": 2.0, "lambd": 0.01},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "lambd": st.floats(0.0, 0.1),
                "alpha": st.floats(0.0, 1.0),
                "t0": st.floats(0.0, 5.0),
                "weight_decay": wd,
            }
        ),
    ),
    "adabelief": (numopt.AdaBelief, {}, st.fixed_dictionaries(_belief)),
    "adabelief-nesterov": (
        numopt.AdaBelief,
        {"nesterov": True},
        st.fixed_dictionaries(_belief),
    ),
    "yogi": (
        numopt.Yogi,
        {},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "beta1": decay,
                "beta2": decay,
                "eps": eps,
                "initial_accumulator_value": st.floats(1e-8, 1e-2),
            }
        ),
    ),
    "adan": (
        numopt.Adan,
        {"weight_decay": 0.1},
        st.fixed_dictionaries({**_adam, "beta3": decay, "eps_root": st.floats(0.0, 1e-6)}),
    ),
    "adopt": (numopt.ADOPT, {}, st.fixed_dictionaries(_adopt)),
    "adopt-nesterov": (numopt.ADOPT, {"nesterov": True}, st.fixed_dictionaries(_adopt)),
    "adopt-unclipped": (numopt.ADOPT, {"clipping": False}, st.fixed_dictionaries(_adopt)),
    "ademamix": (
        numopt.AdEMAMix,
        {"weight_decay": 0.1},
        st.fixed_dictionaries(
            {
                **_adam,
                "beta3": decay,
                "alpha": st.floats(0.0, 10.0),
                "eps_root": st.floats(0.0, 1e-6),
            }
        ),
    ),
    "sign_sgd": (numopt.SignSGD, {}, st.fixed_dictionaries({"learning_rate": lr})),
    "schedule_free_sgd": (
        numopt.ScheduleFreeSGD,
        {"weight_decay": 0.1},
        st.fixed_dictionaries(_schedule_free),
    ),
    "schedule_free_adamw": (
        numopt.ScheduleFreeAdamW,
        {"weight_decay": 0.1},
        st.fixed_dictionaries({**_schedule_free, "beta2": decay, "eps": eps}),
    ),
    # layer-wise like LAMB: one layer here (tests/rules/test_new_rules_vs_optax_torch.py
    # compares two layers with optax)
    "lars": (
        numopt.LARS,
        {"weight_decay": 0.1},
        st.fixed_dictionaries(
            {
                "learning_rate": lr,
                "weight_decay": wd,
                "trust_coefficient": st.floats(1e-3, 1.0),
                "eps": st.floats(0.0, 1e-3),
                "momentum": decay,
                "nesterov": st.booleans(),
            }
        ),
    ),
    "signum": (
        numopt.Signum,
        {},
        st.fixed_dictionaries({"learning_rate": lr, "beta": decay}),
    ),
}


def make(variant: str, backend: str, **hp) -> numopt.Optimizer:
    cls, fixed, _ = VARIANTS[variant]
    return cls(backend=backend, **{**fixed, **hp})


#: The variants whose rule takes bounds (Schedule-Free's do not: its z would leave the box).
BOUNDED_VARIANTS = sorted(v for v, (cls, _, _) in VARIANTS.items() if cls.spec.allows_bounds)


#: The rules that step matrices only (Muon); the tests written for every rule give them
#: each array as a 1×n matrix (:func:`as_matrices`).
MATRIX_RULES = frozenset(
    m for m, cls in numopt.RULES.items() if isinstance(cls.spec.passes, numopt.rules.muon.Matrices)
)


def as_matrices(method, *arrays):
    """``arrays`` unchanged, or for a matrix rule each with an axis before its last: an
    ``x`` of shape (n,) becomes a 1×n matrix, a stack of gradients (k, n) becomes (k, 1, n)."""
    if method not in MATRIX_RULES:
        return arrays if len(arrays) > 1 else arrays[0]
    out = tuple(
        [np.expand_dims(a, -2) for a in x] if isinstance(x, list) else np.expand_dims(x, -2)
        for x in arrays
    )
    return out if len(out) > 1 else out[0]
