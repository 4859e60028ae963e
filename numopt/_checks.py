"""Validation shared by every layer: hyperparameters, options, schedules, transforms.

Each check ``check(name, value)`` returns the value normalised or raises an error
that names the argument, says what was expected and shows what was given.  The
rules declare which check each hyperparameter takes
(:class:`numopt.rules.spec.Hyper`); ``minimize``'s options likewise
(:mod:`numopt.front.options`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np


def type_error(name: str, expected: str, value: Any) -> TypeError:
    """The error for ``value`` of the wrong type for ``name``."""
    return TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")


def real(name: str, value: Any) -> float:
    """A finite real number (not a bool)."""
    if type(value) is not float:  # (a float, the common case, skips the ABC's check)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise type_error(name, "a real number", value)
        try:
            value = float(value)
        except OverflowError:
            raise ValueError(
                f"{name} must be finite, got an integer too large for a float"
            ) from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def positive(name: str, value: Any) -> float:
    """A finite real number > 0."""
    value = real(name, value)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def nonnegative(name: str, value: Any) -> float:
    """A finite real number >= 0."""
    value = real(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def decay(name: str, value: Any) -> float:
    """A decay rate β with 0 <= β < 1."""
    value = real(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1, got {value!r}")
    return value


def interval(name: str, value: Any, bounds: str) -> float:
    """A real number in ``bounds``, written like ``"(0, 1]"``."""
    value = real(name, value)
    low, high = (float(x) for x in bounds[1:-1].split(","))
    above = value > low if bounds[0] == "(" else value >= low
    below = value < high if bounds[-1] == ")" else value <= high
    if not (above and below):
        raise ValueError(f"{name} must be in {bounds}, got {value!r}")
    return value


def fraction(name: str, value: Any) -> float:
    """A real number in [0, 1] (SGD's ``dampening``)."""
    return interval(name, value, "[0, 1]")


def integer(name: str, value: Any, minimum: int) -> int:
    """An integer (not a bool, not a float) >= ``minimum``."""
    if type(value) is not int:  # (an int, the common case, skips the ABC's check)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise type_error(name, f"an integer >= {minimum}", value)
        value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def boolean(name: str, value: Any) -> bool:
    """A ``bool`` (or NumPy bool); ``0``/``1`` are not accepted, to catch typos."""
    if not isinstance(value, (bool, np.bool_)):
        raise type_error(name, "True or False", value)
    return bool(value)


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    """One of the strings ``options``."""
    expected = "one of " + ", ".join(repr(o) for o in options)
    if not isinstance(value, str):
        raise type_error(name, expected, value)
    if value not in options:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def learning_rate(name: str, value: Any) -> float | Callable[[int], float]:
    """A float > 0, or a schedule: a callable of the 0-based step returning one."""
    if callable(value):
        return value
    return positive(name, value)


def eps_placement(name: str, value: Any) -> str:
    """Where RMSprop adds ε: ``"inside"`` the root (numopt's default) or ``"outside"`` (PyTorch)."""
    return choice(name, value, ("inside", "outside"))


def etas(name: str, value: Any) -> tuple[float, float]:
    """Rprop's factors ``(eta_minus, eta_plus)`` with 0 < eta_minus < 1 < eta_plus."""
    low, high = pair(name, value, "(eta_minus, eta_plus)")
    if not 0 < low < 1 < high:
        raise ValueError(f"{name} must satisfy 0 < eta_minus < 1 < eta_plus, got {value!r}")
    return low, high


def step_sizes(name: str, value: Any) -> tuple[float, float]:
    """Rprop's step-size bounds ``(min, max)`` with 0 < min < max."""
    low, high = pair(name, value, "(min, max)")
    if not 0 < low < high:
        raise ValueError(f"{name} must satisfy 0 < min < max, got {value!r}")
    return low, high


def pair(name: str, value: Any, what: str) -> tuple[float, float]:
    """Two finite real numbers, given as a tuple or list (a JSON round trip makes lists)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise type_error(name, f"a pair {what} of real numbers", value)
    return real(f"{name}[0]", value[0]), real(f"{name}[1]", value[1])


def optional_positive(name: str, value: Any) -> float | None:
    """``None`` (off) or a finite real number > 0 (``clip_norm``, ``clip_value``)."""
    return None if value is None else positive(name, value)


def evaluated_learning_rate(value: float, step: int) -> float:
    """Check a learning rate returned by a schedule at ``step``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"learning_rate schedule returned {value!r} ({type(value).__name__}) at step "
            f"{step}; expected a real number"
        )
    value = float(value)
    if not (value >= 0 and math.isfinite(value)):  # 0 is a schedule's end (no update)
        raise ValueError(
            f"learning_rate schedule returned {value!r} at step {step}; expected a finite "
            "number >= 0"
        )
    return value
