"""Hand-worked steps of a rule, and how one is run on a backend.

Shared by tests/rules/test_hand_values_seed_rules.py and test_torch_options.py.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest

import numopt

CPU_BACKENDS = ("numpy", "serial", "parallel")


class Step(NamedTuple):
    theta: list[float]  # θ after the step
    state: dict[str, list[float]]  # the state arrays after the step


class Case(NamedTuple):
    cls: type[numopt.Optimizer]
    hp: dict[str, Any]
    x0: list[float]
    grads: list[list[float]] | None  # None: g = 2θ (gradient of ‖θ‖²)
    steps: list[Step]


def close(actual: np.ndarray, expected: list[float], rel: float) -> bool:
    """Element-wise relative comparison; an expected 0 must be exactly 0."""
    return np.asarray(actual).tolist() == pytest.approx(expected, rel=rel, abs=0)


def run_case(case: Case, backend: str, dtype: type, rel: float) -> None:
    opt = case.cls(backend=backend, **case.hp)
    x = np.array(case.x0, dtype=dtype)
    for t, want in enumerate(case.steps, start=1):
        g = 2 * x if case.grads is None else np.array(case.grads[t - 1], dtype=dtype)
        assert opt.step(x, g) is x
        assert x.dtype == dtype
        assert opt.step_count == t
        assert close(x, want.theta, rel), (t, x.tolist(), want.theta)
        assert set(opt.state) == set(want.state)
        for name, values in want.state.items():
            assert opt.state[name].dtype == dtype
            assert close(opt.state[name], values, rel), (t, name, opt.state[name], values)
    # The same state through state_dict(), after the last step.
    sd = opt.state_dict()
    assert sd["step"] == len(case.steps)
    assert set(sd["state"]) == set(case.steps[-1].state)
    for name, values in case.steps[-1].state.items():
        assert close(sd["state"][name], values, rel), (name, sd["state"][name], values)
