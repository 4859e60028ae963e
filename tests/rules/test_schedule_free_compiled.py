"""Schedule-Free in compiled code: the average's weights live in one array of the
optimizer's, which Python and compiled code move on alike.

The weights ``(t, max η, Σ w)`` depend on every learning rate so far, so they are state
(in ``state_dict``), not a memo.  They sit in the optimizer's own ``h``
(:meth:`~numopt.rules.schedule_free._ScheduleFree._live`), which the compiled loop of
``minimize`` and ``step()``'s fast path are handed in place: a compiled run leaves the
weights, the averaged point and the checkpoint that the Python loop leaves.  (The fast
path's bits are tested with every rule's in ``test_fast_step.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import numopt
from numopt.rules import schedule_free
from numopt.schedules import Warmup

RULES = ["schedule_free_sgd", "schedule_free_adamw"]


@njit
def _mix_compiled(t, lr, h):
    return schedule_free.mix(t, lr, h)


@njit
def _weighted(x, w):
    """``½ Σ w_i x_i²`` and its gradient (a Numba objective: both loops run it)."""
    return 0.5 * np.sum(w * x * x), w * x


@settings(max_examples=30, deadline=None)
@given(
    rates=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=12),
    power=st.sampled_from([0.0, 1.0, 2.0, 2.5]),
)
def test_mix_moves_the_weights_as_the_host_does(rates, power):
    """Python and compiled ``mix`` give the same ``c_t`` and weights, step after step
    (asked twice for a step, the second answer is the first)."""
    opt = numopt.ScheduleFreeSGD(learning_rate=1.0, weight_lr_power=power)
    h = np.array(opt._factor_args(), np.float64)
    for t, lr in enumerate(rates, start=1):
        want = opt._mix(t, lr)
        assert _mix_compiled(t, lr, h) == want
        assert _mix_compiled(t, lr, h) == want
        assert tuple(h[5:8]) == opt._weights


def test_weights_out_of_step_are_an_error_in_both():
    opt = numopt.ScheduleFreeAdamW()
    with pytest.raises(RuntimeError, match="weights are at step 0, not 2"):
        opt._mix(3, 0.1)
    h = np.array(opt._factor_args(), np.float64)
    with pytest.raises(RuntimeError, match="not at the step before this one"):
        _mix_compiled(3, 0.1, h)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", RULES)
def test_minimize_compiled_leaves_the_python_loops_bits_and_weights(rule, dtype):
    """A warm-up moves ``max η`` along; the averaged ``x``, the last iterate and the
    optimizer's weights (an optimizer object passed as ``method``) agree exactly."""
    w = np.linspace(0.5, 3.0, 9).astype(dtype)
    x0 = np.linspace(-2.0, 2.0, 9).astype(dtype)
    runs, weights = {}, {}
    for compiled in (False, True):
        opt = numopt.RULES[rule](learning_rate=Warmup(0.05, 40))
        runs[compiled] = numopt.minimize(
            _weighted, x0, args=(w,), jac=True, method=opt,
            options={"maxiter": 200, "gtol": 0.0, "compiled": compiled},
        )  # fmt: skip
        weights[compiled] = opt.state_dict()["averaging"]
    python, compiled = runs[False], runs[True]
    assert compiled.compiled is True and python.compiled is False
    assert compiled.nit == python.nit == 200
    for field in ("x", "x_iterate", "x_best"):
        assert np.array_equal(compiled[field], python[field]), field
    assert compiled.fun == python.fun
    assert weights[True] == weights[False]
    assert weights[True]["max_learning_rate"] == 0.05


@pytest.mark.parametrize("rule", RULES)
def test_a_compiled_run_resumes_from_its_checkpoint_bit_for_bit(rule, tmp_path):
    w, x0 = np.linspace(0.5, 3.0, 9), np.linspace(-2.0, 2.0, 9)
    options = {"learning_rate": Warmup(0.05, 20), "gtol": 0.0, "compiled": True}
    kwargs = {"args": (w,), "jac": True, "method": rule}
    whole = numopt.minimize(_weighted, x0, **kwargs, options={**options, "maxiter": 60})
    path = tmp_path / "run.npz"
    numopt.minimize(_weighted, x0, **kwargs, options={**options, "maxiter": 25, "checkpoint": path})
    resumed = numopt.minimize(
        _weighted, x0, **kwargs, options={**options, "maxiter": 60, "resume": path}
    )
    assert resumed.compiled is True and resumed.nit == whole.nit == 60
    assert np.array_equal(resumed.x, whole.x)
    assert np.array_equal(resumed.x_iterate, whole.x_iterate)


def test_minimize_many_runs_them_problem_by_problem():
    X0 = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    w = np.array([1.0, 2.0, 3.0])
    res = numopt.minimize_many(
        _weighted, X0, args=(w,), jac=True, method="schedule_free_sgd",
        options={"learning_rate": 0.1, "maxiter": 20},
    )  # fmt: skip
    assert res.compiled is False
    assert "returns each problem's average" in res.compiled_reason
    one = numopt.minimize(
        _weighted, X0[2], args=(w,), jac=True, method="schedule_free_sgd",
        options={"learning_rate": 0.1, "maxiter": 20},
    )  # fmt: skip
    assert np.array_equal(res.x[2], one.x)
