"""Learning-rate schedules against hand-worked values of the PyTorch / optax / Keras formulas.

No torch, optax or Keras here: the expected numbers are worked by hand from the
documented formulas (exact where the arithmetic is exact), and only the SGDR restart
bookkeeping and the 1cycle phase loop are re-implemented, line by line from PyTorch,
to check many steps at once.
"""

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numopt import schedules as S

R = 1e-12  # relative tolerance where the arithmetic is not exact
SQRT2 = math.sqrt(2.0)
COS_PI_4 = SQRT2 / 2  # cos(pi/4)
COS_PI_8 = math.sqrt(2 + SQRT2) / 2  # cos(pi/8)


def values(schedule, steps):
    return [schedule(s) for s in steps]


# -- constant and the step-count decays ----------------------------------------------
def test_constant():
    lr = S.constant(0.1)
    assert values(lr, [0, 1, 10**9]) == [0.1, 0.1, 0.1]
    assert type(lr(3)) is float


def test_step_decay_exact():
    lr = S.step_decay(1.0, step_size=3, gamma=0.5)
    # 1.0 * 0.5 ** (step // 3)
    assert values(lr, [0, 1, 2, 3, 5, 6, 8, 9, 30]) == [
        1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 2.0**-10,
    ]  # fmt: skip


def test_step_decay_torch_doc_example():
    # torch StepLR(step_size=30, gamma=0.1) from lr=0.05: 0.05 / 0.005 / 0.0005
    lr = S.step_decay(0.05, step_size=30)
    assert values(lr, [0, 29]) == [0.05, 0.05]
    assert values(lr, [30, 59]) == pytest.approx([0.005, 0.005], rel=R)
    assert values(lr, [60, 89]) == pytest.approx([0.0005, 0.0005], rel=R)
    assert lr(90) == pytest.approx(0.00005, rel=R)


def test_step_decay_gamma_one_is_constant():
    assert values(S.step_decay(0.3, 1, gamma=1.0), [0, 1, 1000]) == [0.3, 0.3, 0.3]


def test_multi_step_exact():
    lr = S.multi_step(1.0, milestones=[2, 5], gamma=0.5)
    assert values(lr, [0, 1, 2, 4, 5, 6, 1000]) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25]


def test_multi_step_torch_doc_example():
    # torch MultiStepLR(milestones=[30, 80], gamma=0.1) from lr=0.05
    lr = S.multi_step(0.05, [30, 80])
    assert values(lr, [0, 29]) == [0.05, 0.05]
    assert values(lr, [30, 79]) == pytest.approx([0.005, 0.005], rel=R)
    assert values(lr, [80, 10**6]) == pytest.approx([0.0005, 0.0005], rel=R)


def test_multi_step_accepts_numpy_milestones_and_no_milestones():
    lr = S.multi_step(1.0, np.array([2, 4]), gamma=0.5)
    assert lr.milestones == (2, 4) and all(type(m) is int for m in lr.milestones)
    assert values(S.multi_step(0.1, []), [0, 10**6]) == [0.1, 0.1]


def test_exponential():
    lr = S.exponential(2.0, decay_rate=0.5, transition_steps=2)
    # 2 * 0.5 ** (step / 2)
    assert lr(0) == 2.0
    assert lr(1) == pytest.approx(SQRT2, rel=R)
    assert lr(2) == 1.0
    assert lr(3) == pytest.approx(SQRT2 / 2, rel=R)
    assert lr(4) == 0.5


def test_exponential_staircase():
    lr = S.exponential(2.0, decay_rate=0.5, transition_steps=2, staircase=True)
    assert values(lr, [0, 1, 2, 3, 4, 5]) == [2.0, 2.0, 1.0, 1.0, 0.5, 0.5]


def test_exponential_is_torch_exponential_lr():
    # torch ExponentialLR(gamma=0.9) from lr=0.1: 0.1 * 0.9 ** epoch
    lr = S.exponential(0.1, 0.9)
    assert values(lr, [0, 1, 3]) == pytest.approx([0.1, 0.09, 0.0729], rel=R)


def test_inverse_time():
    lr = S.inverse_time(1.0, decay_rate=0.5, decay_steps=2)
    # 1 / (1 + 0.5 * step / 2) = 1 / (1 + step / 4)
    assert lr(0) == 1.0
    assert lr(1) == pytest.approx(0.8, rel=R)
    assert lr(2) == pytest.approx(2 / 3, rel=R)
    assert lr(4) == 0.5
    assert lr(36) == pytest.approx(0.1, rel=R)


def test_inverse_time_staircase():
    lr = S.inverse_time(1.0, decay_rate=0.5, decay_steps=2, staircase=True)
    # 1 / (1 + 0.5 * (step // 2))
    assert values(lr, [0, 1]) == [1.0, 1.0]
    assert values(lr, [2, 3]) == pytest.approx([2 / 3, 2 / 3], rel=R)
    assert values(lr, [4, 5]) == [0.5, 0.5]


def test_polynomial():
    lr = S.polynomial(1.0, end=0.1, power=2, transition_steps=4)
    # 0.9 * (1 - step/4) ** 2 + 0.1
    expected = [1.0, 0.9 * 0.5625 + 0.1, 0.9 * 0.25 + 0.1, 0.9 * 0.0625 + 0.1, 0.1, 0.1, 0.1]
    assert values(lr, [0, 1, 2, 3, 4, 5, 10**6]) == pytest.approx(expected, rel=R)
    assert expected[1:4] == pytest.approx([0.60625, 0.325, 0.15625], rel=R)


def test_polynomial_linear_ramp_up():
    lr = S.polynomial(0.1, end=1.0, power=1, transition_steps=4)  # as optax linear_schedule
    assert values(lr, [0, 1, 2, 3, 4, 9]) == pytest.approx(
        [0.1, 0.325, 0.55, 0.775, 1.0, 1.0], rel=R
    )


def test_cosine_annealing():
    lr = S.cosine_annealing(1.0, decay_steps=4, alpha=0.1)
    # 0.9 * (1 + cos(pi * step / 4)) / 2 + 0.1
    expected = [
        1.0,
        0.9 * (1 + COS_PI_4) / 2 + 0.1,
        0.55,
        0.9 * (1 - COS_PI_4) / 2 + 0.1,
        0.1,
        0.1,
        0.1,
    ]
    assert values(lr, [0, 1, 2, 3, 4, 5, 10**6]) == pytest.approx(expected, rel=R)
    assert lr(0) == 1.0


def test_cosine_annealing_is_torch_cosine_annealing_lr_up_to_t_max():
    # torch CosineAnnealingLR closed form with eta_min = alpha * initial, epoch <= T_max
    initial, t_max, alpha = 0.1, 10, 0.2
    eta_min = alpha * initial
    lr = S.cosine_annealing(initial, t_max, alpha)
    for t in range(t_max + 1):
        torch = eta_min + (initial - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2
        assert lr(t) == pytest.approx(torch, rel=R)
    assert lr(t_max + 1) == pytest.approx(eta_min, rel=R)  # held (torch would rise again)


def test_cosine_warm_restarts_growing_periods():
    lr = S.cosine_warm_restarts(1.0, first_period=2, period_mult=2)
    # periods [0, 2), [2, 6), [6, 14), [14, 30): (1 + cos(pi * T_cur / T_i)) / 2
    expected = {
        0: 1.0,
        1: 0.5,
        2: 1.0,
        3: (1 + COS_PI_4) / 2,
        4: 0.5,
        5: (1 - COS_PI_4) / 2,
        6: 1.0,
        10: 0.5,
        13: (1 - COS_PI_8) / 2,
        14: 1.0,
        29: (1 - math.cos(math.pi / 16)) / 2,
        30: 1.0,
    }
    for step, value in expected.items():
        assert lr(step) == pytest.approx(value, rel=R, abs=1e-15), step


def test_cosine_warm_restarts_fixed_period_with_eta_min():
    lr = S.cosine_warm_restarts(1.0, first_period=3, eta_min=0.1)
    # 0.1 + 0.9 * (1 + cos(pi * (step % 3) / 3)) / 2
    expected = [1.0, 0.1 + 0.9 * 0.75, 0.1 + 0.9 * 0.25]
    assert values(lr, range(9)) == pytest.approx(expected * 3, rel=R)
    assert lr(3 * 10**6) == 1.0


def test_cosine_warm_restarts_restart_is_exact_where_torch_float_log_is_not():
    # T_0=1, T_mult=10: periods start at 0, 1, 11, 111, 1111.  torch's closed form takes
    # int(log(111 * 9 + 1, 10)) = int(2.9999999999999996) = 2 and so gives eta_min at
    # step 111; the restart is there, so the rate is back to initial.
    assert math.log(111 * 9 + 1, 10) < 3
    lr = S.cosine_warm_restarts(1.0, first_period=1, period_mult=10, eta_min=0.1)
    assert values(lr, [0, 1, 11, 111, 1111, 11111]) == [1.0] * 6
    assert lr(110) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 99 / 100)) / 2, rel=R)


def _torch_sgdr_iterative(t0, t_mult, n):
    """torch CosineAnnealingWarmRestarts.step() without epoch: integer bookkeeping."""
    t_cur, t_i, out = 0, t0, []
    for _ in range(n):
        out.append((t_cur, t_i))
        t_cur += 1
        if t_cur >= t_i:
            t_cur %= t_i
            t_i *= t_mult
    return out


@pytest.mark.parametrize(("t0", "t_mult"), [(1, 1), (5, 1), (1, 2), (3, 2), (2, 3), (1, 10)])
def test_cosine_warm_restarts_matches_torch_stepwise(t0, t_mult):
    lr = S.cosine_warm_restarts(0.5, t0, t_mult, eta_min=0.01)
    for step, (t_cur, t_i) in enumerate(_torch_sgdr_iterative(t0, t_mult, 1500)):
        torch = 0.01 + (0.5 - 0.01) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
        assert lr(step) == pytest.approx(torch, rel=R), step


# -- warm-up, 1cycle, piecewise and joined schedules ---------------------------------
def test_warmup_then_cosine():
    lr = S.warmup(S.cosine_annealing(1.0, decay_steps=4), warmup_steps=4)
    # 0, 1/4, 2/4, 3/4, then cosine(step - 4)
    assert values(lr, [0, 1, 2, 3, 4]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert lr(5) == pytest.approx((1 + COS_PI_4) / 2, rel=R)
    assert lr(6) == pytest.approx(0.5, rel=R)
    assert values(lr, [8, 9, 1000]) == pytest.approx([0.0, 0.0, 0.0], abs=1e-16)


def test_warmup_of_a_float_with_start_value():
    lr = S.warmup(0.5, warmup_steps=2, start_value=0.1)
    assert lr.schedule == S.constant(0.5)
    # 0.1 + (0.5 - 0.1) * step / 2
    assert values(lr, [0, 1, 2, 100]) == pytest.approx([0.1, 0.3, 0.5, 0.5], rel=R)


def test_warmup_zero_steps_and_callable():
    assert values(S.warmup(S.step_decay(1.0, 2, 0.5), 0), [0, 2]) == [1.0, 0.5]
    lr = S.warmup(lambda s: 1.0 / (1 + s), warmup_steps=2)
    assert values(lr, [0, 1, 2, 3]) == [0.0, 0.5, 1.0, 0.5]


def test_warmup_matches_optax_warmup_cosine_decay():
    # optax warmup_cosine_decay_schedule(0, peak=1, warmup_steps=10, decay_steps=30):
    # linear 0 -> 1 over 10 steps, then cosine_decay_schedule(1, 30 - 10) at step - 10
    lr = S.warmup(S.cosine_annealing(1.0, 20), 10)
    assert lr(5) == 0.5
    assert lr(10) == 1.0
    assert lr(20) == pytest.approx(0.5, rel=R)
    assert lr(30) == pytest.approx(0.0, abs=1e-16)


def _torch_one_cycle(step, max_lr, total, pct_start, div, final_div, anneal):
    """torch OneCycleLR.get_lr for one group, three_phase=False, transcribed."""
    initial = max_lr / div
    phases = [
        (float(pct_start * total) - 1, initial, max_lr),
        (total - 1, max_lr, initial / final_div),
    ]
    start_step = 0.0
    for i, (end_step, start, end) in enumerate(phases):
        if step <= end_step or i == len(phases) - 1:
            pct = (step - start_step) / (end_step - start_step)
            if anneal == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (end - start) * pct + start
        start_step = end_step
    raise AssertionError


def test_one_cycle_cos_hand_values():
    lr = S.one_cycle(1.0, total_steps=6, pct_start=0.5, div_factor=4, final_div_factor=10)
    # initial 0.25, max 1, min 0.025; phase 1 on steps [0, 2], phase 2 on [2, 5]
    assert lr(0) == 0.25
    assert lr(1) == pytest.approx(0.625, rel=R)  # pct 1/2
    assert lr(2) == 1.0
    assert lr(3) == pytest.approx(0.025 + 0.4875 * 1.5, rel=R)  # pct 1/3: cos = 1/2
    assert lr(4) == pytest.approx(0.025 + 0.4875 * 0.5, rel=R)  # pct 2/3: cos = -1/2
    assert lr(5) == pytest.approx(0.025, rel=R)
    # held after the cycle; torch would extrapolate 0.26875 at step 6, then raise
    assert values(lr, [6, 7, 10**6]) == [lr(5)] * 3


def test_one_cycle_linear_hand_values():
    lr = S.one_cycle(1.0, 6, pct_start=0.5, div_factor=4, final_div_factor=10, anneal="linear")
    expected = [0.25, 0.625, 1.0, 1.0 - 0.975 / 3, 1.0 - 0.975 * 2 / 3, 0.025, 0.025]
    assert values(lr, range(7)) == pytest.approx(expected, rel=R)


def test_one_cycle_torch_defaults():
    lr = S.one_cycle(0.1, total_steps=100)
    # initial 0.1/25, phase end 0.3 * 100 - 1 = 29, min 0.004 / 1e4
    assert lr(0) == pytest.approx(0.004, rel=R)
    assert lr(29) == pytest.approx(0.1, rel=R)
    assert values(lr, [99, 100, 1000]) == pytest.approx([4e-7] * 3, rel=R)


@pytest.mark.parametrize(
    ("max_lr", "total", "pct", "div", "final", "anneal"),
    [
        (0.1, 100, 0.3, 25.0, 1e4, "cos"),
        (0.1, 100, 0.3, 25.0, 1e4, "linear"),
        (2.0, 37, 0.25, 10.0, 100.0, "cos"),
        (1.0, 10, 0.0, 4.0, 10.0, "cos"),
        (1.0, 10, 1.0, 4.0, 10.0, "linear"),
        (1.0, 3, 0.2, 5.0, 3.0, "cos"),
        (1.0, 1, 0.5, 5.0, 3.0, "cos"),
    ],
)
def test_one_cycle_matches_torch_loop(max_lr, total, pct, div, final, anneal):
    lr = S.one_cycle(max_lr, total, pct, div, final, anneal)
    for step in range(total):
        torch = _torch_one_cycle(step, max_lr, total, pct, div, final, anneal)
        assert lr(step) == pytest.approx(torch, rel=R), step
    assert lr(total + 5) == lr(total - 1)


def test_one_cycle_pct_start_zero_starts_in_the_decay():
    lr = S.one_cycle(1.0, 4, pct_start=0.0, div_factor=4, final_div_factor=10)
    # phase 2 spans [-1, 3]: pct = (step + 1) / 4
    assert lr(0) == pytest.approx(0.025 + 0.4875 * (1 + COS_PI_4), rel=R)
    assert lr(1) == pytest.approx(0.025 + 0.4875, rel=R)
    assert lr(3) == pytest.approx(0.025, rel=R)


def test_piecewise_constant():
    lr = S.piecewise_constant([3, 6], [1.0, 0.5, 0.1])
    assert values(lr, [0, 2, 3, 5, 6, 10**6]) == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_join():
    lr = S.join([S.polynomial(0.1, 1.0, 1, 4), S.cosine_annealing(1.0, 4), 0.05], [4, 8])
    assert values(lr, [0, 2, 3]) == pytest.approx([0.1, 0.55, 0.775], rel=R)
    assert lr(4) == 1.0  # cosine restarted at its own step 0
    assert lr(5) == pytest.approx((1 + COS_PI_4) / 2, rel=R)
    assert lr(7) == pytest.approx((1 - COS_PI_4) / 2, rel=R)
    assert values(lr, [8, 9, 10**6]) == [0.05, 0.05, 0.05]


def test_join_evaluates_each_segment_from_its_own_start():
    seen = []
    lr = S.join([0.3, S.from_callable(lambda s: seen.append(s) or 0.2)], [5])
    assert values(lr, [4, 5, 7]) == [0.3, 0.2, 0.2]
    assert seen == [0, 2]


# -- from_callable and as_schedule ---------------------------------------------------
def test_from_callable_values_and_numpy_scalars():
    lr = S.from_callable(lambda s: 0.1 / (1 + s))
    assert values(lr, [0, 4]) == pytest.approx([0.1, 0.02], rel=R)
    lr = S.from_callable(lambda s: np.float32(0.5))
    assert lr(0) == 0.5 and type(lr(0)) is float
    assert S.from_callable(lambda s: 0)(1) == 0.0 and type(S.from_callable(lambda s: 1)(1)) is float


def named_schedule(step):
    return {"lr": 0.1}


@pytest.mark.parametrize(
    ("fn", "exc", "match"),
    [
        (named_schedule, TypeError, r"from_callable\(named_schedule\) returned .* at step 3"),
        (lambda s: "0.1", TypeError, r"from_callable\(<lambda>\) returned '0.1' at step 3"),
        (lambda s: True, TypeError, r"returned True at step 3 \(bool\)"),
        (lambda s: float("nan"), ValueError, r"returned nan at step 3; expected a finite"),
        (lambda s: np.inf, ValueError, r"returned inf at step 3"),
        (lambda s: -0.1, ValueError, r"returned -0.1 at step 3; .* >= 0"),
        (lambda s: None, TypeError, r"returned None"),
    ],
)
def test_from_callable_checks_what_it_returns(fn, exc, match):
    with pytest.raises(exc, match=match):
        S.from_callable(fn)(3)


def test_as_schedule():
    assert S.as_schedule(0.1) == S.constant(0.1)
    assert S.as_schedule(1) == S.constant(1.0)
    assert S.as_schedule(np.float64(0.2)) == S.constant(0.2)
    s = S.exponential(0.1, 0.5)
    assert S.as_schedule(s) is s
    f = S.as_schedule(lambda step: 0.3)
    assert isinstance(f, S.FromCallable) and f(7) == 0.3


@pytest.mark.parametrize(
    ("value", "exc", "match"),
    [
        (True, TypeError, r"learning_rate must be a float > 0, a Schedule or a callable.*bool"),
        ("0.1", TypeError, r"learning_rate must be .* got '0.1' \(str\)"),
        (None, TypeError, r"learning_rate must be .* got None"),
        ([0.1], TypeError, r"learning_rate must be .* got \[0.1\] \(list\)"),
        (0.0, ValueError, r"learning_rate must be > 0, got 0.0"),
        (-1, ValueError, r"learning_rate must be > 0, got -1.0"),
        (float("nan"), ValueError, r"learning_rate must be finite, got nan"),
        (float("inf"), ValueError, r"learning_rate must be finite, got inf"),
    ],
)
def test_as_schedule_rejects(value, exc, match):
    with pytest.raises(exc, match=match):
        S.as_schedule(value)


# -- the step argument, objects, state -----------------------------------------------
ALL = [
    S.constant(0.1),
    S.step_decay(0.1, 3),
    S.multi_step(0.1, [2, 5]),
    S.exponential(0.1, 0.9, 2, True),
    S.inverse_time(0.1, 0.5, 2),
    S.polynomial(0.1, 0.01, 2.0, 10),
    S.cosine_annealing(0.1, 10, 0.1),
    S.cosine_warm_restarts(0.1, 3, 2, 0.01),
    S.warmup(S.cosine_annealing(0.1, 10), 5, 0.01),
    S.one_cycle(0.1, 50),
    S.piecewise_constant([3], [0.1, 0.01]),
    S.join([0.1, S.exponential(0.1, 0.5)], [4]),
    S.from_callable(lambda s: 0.1),
    S.ReduceLROnPlateau(0.1),
]
IDS = [type(s).__name__ for s in ALL]


@pytest.mark.parametrize("schedule", ALL, ids=IDS)
def test_step_must_be_an_integer_at_least_zero(schedule):
    with pytest.raises(ValueError, match=r"step must be an integer >= 0, got -1"):
        schedule(-1)
    for bad in (1.0, True, "3", None, np.float64(2.0)):
        with pytest.raises(TypeError, match=r"step must be an integer >= 0, got"):
            schedule(bad)
    assert schedule(np.int64(3)) == schedule(3)
    assert type(schedule(np.int32(3))) is float


@pytest.mark.parametrize("schedule", ALL, ids=IDS)
def test_objects_are_small_with_a_readable_repr(schedule):
    r = repr(schedule)
    assert r.startswith(type(schedule).__name__ + "(")
    assert not hasattr(schedule, "__dict__")
    first = r[len(type(schedule).__name__) + 1 :].split("=")[0]
    with pytest.raises(AttributeError):
        setattr(schedule, first, 1.0)


@pytest.mark.parametrize("schedule", [s for s in ALL if not isinstance(s, S.FromCallable)])
def test_repr_rebuilds_the_schedule(schedule):
    rebuilt = eval(repr(schedule), vars(S))
    if isinstance(schedule, S.ReduceLROnPlateau):
        assert repr(rebuilt) == repr(schedule)
    else:
        assert rebuilt == schedule
    assert values(rebuilt, range(12)) == values(schedule, range(12))


@pytest.mark.parametrize("schedule", ALL[:-1], ids=IDS[:-1])
def test_pure_schedules_have_empty_state(schedule):
    assert schedule.needs_loss is False
    assert schedule.state_dict() == {}
    schedule.load_state_dict({})
    schedule.update(1.0)  # a no-op
    with pytest.raises(ValueError, match=r"state_dict .*got keys \['lr'\]|unknown"):
        schedule.load_state_dict({"lr": 0.1})
    with pytest.raises(TypeError, match=r"state_dict must be a dict"):
        schedule.load_state_dict([])


# -- ReduceLROnPlateau ---------------------------------------------------------------
def plateau(**kw):
    params = {
        "initial": 1.0,
        "factor": 0.5,
        "patience": 2,
        "threshold": 0.1,
        "threshold_mode": "rel",
        "cooldown": 1,
        "min_lr": 0.3,
    }
    params.update(kw)
    return S.ReduceLROnPlateau(**params)


# Hand trace of torch's rule with the parameters of plateau(): better means
# loss < best * 0.9; reduce when num_bad_epochs > 2; cooldown 1; floor 0.3.
LOSSES = [10, 9.5, 9.1, 8, 7.5, 7.3, 7.21, 7.25, 7.3, 7.3, 7.3, 7.3, 7.3, 7.3, 7.3, 6]
TRACE = [
    # (lr, best, num_bad_epochs, cooldown_counter) after each update
    (1.0, 10, 0, 0),  # first loss: always better than inf
    (1.0, 10, 1, 0),  # 9.5 >= 9.0
    (1.0, 10, 2, 0),  # 9.1 >= 9.0
    (1.0, 8, 0, 0),  # 8 < 9.0: improvement just in time
    (1.0, 8, 1, 0),  # 7.5 >= 7.2
    (1.0, 8, 2, 0),
    (0.5, 8, 0, 1),  # 3 > patience: 1.0 -> 0.5, cooldown 1
    (0.5, 8, 0, 0),  # bad, but in cooldown: counter 1 -> 0, bad count reset
    (0.5, 8, 1, 0),
    (0.5, 8, 2, 0),
    (0.3, 8, 0, 1),  # max(0.25, min_lr 0.3) = 0.3
    (0.3, 8, 0, 0),  # cooldown
    (0.3, 8, 1, 0),
    (0.3, 8, 2, 0),
    (0.3, 8, 0, 1),  # max(0.15, 0.3) = 0.3: 0.3 - 0.3 <= eps, unchanged; cooldown anyway
    (0.3, 6, 0, 0),  # 6 < 7.2: better; cooldown 1 -> 0
]


def test_plateau_reproduces_torch_trace():
    lr = plateau()
    assert lr(0) == 1.0 and lr.best == math.inf and lr.needs_loss
    for k, (loss, (want_lr, best, bad, cool)) in enumerate(zip(LOSSES, TRACE, strict=True)):
        lr.update(loss)
        got = (lr(k), lr.best, lr.num_bad_epochs, lr.cooldown_counter)
        assert got == (want_lr, best, bad, cool), f"after update {k + 1}"
    assert lr.num_updates == len(LOSSES)
    assert lr.lr == 0.3


def test_plateau_patience_zero_torch_doc():
    # torch docs: with patience=0 the first epoch sets the baseline, a worse second one
    # reduces at once, and each later non-improving epoch reduces again.
    lr = S.ReduceLROnPlateau(1.0, factor=0.5, patience=0)
    lrs = []
    for loss in [1.0, 2.0, 2.0, 0.5, 0.5]:
        lr.update(loss)
        lrs.append(lr(0))
    assert lrs == [1.0, 0.5, 0.25, 0.25, 0.125]


def test_plateau_threshold_rel_and_abs_and_max_mode():
    rel = S.ReduceLROnPlateau(1.0, patience=0, threshold=0.1)
    rel.update(10.0)
    rel.update(9.0)  # not < 9.0
    assert rel.best == 10.0 and rel.lr == pytest.approx(0.1, rel=R)
    ab = S.ReduceLROnPlateau(1.0, patience=0, threshold=0.5, threshold_mode="abs")
    ab.update(10.0)
    ab.update(9.4)  # < 9.5
    assert ab.best == 9.4 and ab.lr == 1.0
    ab.update(8.9)  # not < 8.9
    assert ab.lr == pytest.approx(0.1, rel=R)
    mx = S.ReduceLROnPlateau(1.0, patience=0, threshold=0.1, mode="max")
    assert mx.best == -math.inf
    mx.update(1.0)
    mx.update(1.1)  # not > 1.1 (1.0 * 1.1 rounds to 1.1)
    assert mx.best == 1.0 and mx.lr == pytest.approx(0.1, rel=R)
    mx.update(1.2)
    assert mx.best == 1.2
    mxa = S.ReduceLROnPlateau(1.0, patience=0, threshold=1.0, threshold_mode="abs", mode="max")
    mxa.update(-5.0)
    mxa.update(-3.5)  # > -4.0
    assert mxa.best == -3.5 and mxa.lr == 1.0


def test_plateau_rel_threshold_with_negative_best_follows_torch():
    # best * (1 - threshold) is above a negative best: a slightly worse loss "improves"
    lr = S.ReduceLROnPlateau(1.0, patience=0, threshold=0.1)
    lr.update(-10.0)
    lr.update(-9.5)  # -9.5 < -9.0
    assert lr.best == -9.5 and lr.lr == 1.0


def test_plateau_eps_skips_tiny_reductions():
    lr = S.ReduceLROnPlateau(1e-8, factor=0.5, patience=0, eps=1e-8)
    lr.update(1.0)
    lr.update(1.0)  # 1e-8 - 5e-9 is not > 1e-8
    assert lr.lr == 1e-8
    lr = S.ReduceLROnPlateau(1e-8, factor=0.5, patience=0, eps=0.0)
    lr.update(1.0)
    lr.update(1.0)
    assert lr.lr == 5e-9
    lr = S.ReduceLROnPlateau(1.0, factor=0.5, patience=0, eps=0.5)
    lr.update(1.0)
    lr.update(1.0)  # 1.0 - 0.5 == eps: strictly more is needed
    assert lr.lr == 1.0


def test_plateau_rejects_bad_losses_without_changing_state():
    lr = plateau()
    lr.update(np.float32(3.0))
    lr.update(np.array(2.0))
    before = lr.state_dict()
    for bad in (float("nan"), math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"loss must be finite, got"):
            lr.update(bad)
    for bad in ("1.0", True, None, [1.0]):
        with pytest.raises(TypeError, match=r"loss must be a real number"):
            lr.update(bad)
    assert lr.state_dict() == before


def test_plateau_state_dict_round_trip_mid_run():
    a = plateau()
    for loss in LOSSES[:7]:
        a.update(loss)
    state = a.state_dict()
    assert state == {
        "lr": 0.5,
        "best": 8.0,
        "num_bad_epochs": 0,
        "cooldown_counter": 1,
        "num_updates": 7,
    }
    assert all(type(v) in (int, float) for v in state.values())
    b = plateau()
    b.load_state_dict(json.loads(json.dumps(state)))
    assert b.state_dict() == state
    for loss in LOSSES[7:]:
        a.update(loss)
        b.update(loss)
        assert (b(0), b.state_dict()) == (a(0), a.state_dict())
    fresh = plateau()
    fresh.load_state_dict(plateau().state_dict())  # best = inf survives
    assert fresh.best == math.inf


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"lr": -1.0}, ValueError, r"state_dict\['lr'\] must be >= 0"),
        ({"best": float("nan")}, ValueError, r"state_dict\['best'\] must not be NaN"),
        ({"best": "x"}, TypeError, r"state_dict\['best'\] must be a real number"),
        ({"num_bad_epochs": 1.5}, TypeError, r"state_dict\['num_bad_epochs'\] must be an int"),
        ({"cooldown_counter": -1}, ValueError, r"state_dict\['cooldown_counter'\] must be an"),
        ({"extra": 1}, ValueError, r"state_dict must have exactly the keys"),
    ],
)
def test_plateau_load_state_dict_checks_before_changing(change, exc, match):
    lr = plateau()
    lr.update(5.0)
    before = lr.state_dict()
    with pytest.raises(exc, match=match):
        lr.load_state_dict({**before, **change})
    assert lr.state_dict() == before


def test_plateau_parameters_are_fixed_and_reset():
    lr = plateau()
    with pytest.raises(AttributeError, match="fixed"):
        lr.factor = 0.9
    lr.update(1.0)
    lr.reset()
    assert lr.state_dict() == plateau().state_dict()


def test_composites_forward_losses_and_state():
    inner = plateau()
    lr = S.warmup(inner, warmup_steps=2, start_value=0.0)
    assert lr.needs_loss
    assert values(lr, [0, 1, 2, 50]) == [0.0, 0.5, 1.0, 1.0]
    for loss in LOSSES[:7]:
        lr.update(loss)
    assert values(lr, [1, 2]) == [0.25, 0.5]
    assert lr.state_dict() == {f"schedule.{k}": v for k, v in inner.state_dict().items()}
    joined = S.join([0.1, lr, S.warmup(plateau(), 1)], [3, 10])
    assert joined.needs_loss
    joined.update(7.0)
    state = joined.state_dict()
    assert sorted(state) == sorted(
        [f"schedules.1.schedule.{k}" for k in inner.state_dict()]
        + [f"schedules.2.schedule.{k}" for k in inner.state_dict()]
    )
    copy = S.join([0.1, S.warmup(plateau(), 2), S.warmup(plateau(), 1)], [3, 10])
    copy.load_state_dict(state)
    assert copy.state_dict() == state
    assert values(copy, range(15)) == values(joined, range(15))
    with pytest.raises(ValueError, match=r"state_dict has key 'schedules.3.lr', unknown to Join"):
        copy.load_state_dict({"schedules.3.lr": 0.1})
    with pytest.raises(ValueError, match=r"unknown to Warmup"):
        lr.load_state_dict({"lr": 0.1})


# -- bad parameters ------------------------------------------------------------------
BASE = {
    S.constant: {"value": 0.1},
    S.step_decay: {"initial": 0.1, "step_size": 10},
    S.multi_step: {"initial": 0.1, "milestones": [10, 20]},
    S.exponential: {"initial": 0.1, "decay_rate": 0.9},
    S.inverse_time: {"initial": 0.1, "decay_rate": 0.5},
    S.polynomial: {"initial": 0.1, "end": 0.0, "power": 1.0, "transition_steps": 10},
    S.cosine_annealing: {"initial": 0.1, "decay_steps": 10},
    S.cosine_warm_restarts: {"initial": 0.1, "first_period": 10},
    S.warmup: {"schedule": 0.1, "warmup_steps": 5},
    S.one_cycle: {"max_lr": 0.1, "total_steps": 100},
    S.piecewise_constant: {"boundaries": [10], "values": [0.1, 0.01]},
    S.join: {"schedules": [0.1, 0.01], "boundaries": [10]},
    S.from_callable: {"fn": abs},
    S.ReduceLROnPlateau: {"initial": 0.1},
}
NAN, INF = float("nan"), float("inf")
BAD = [
    (S.constant, {"value": 0.0}, ValueError, r"^value must be > 0, got 0.0$"),
    (S.constant, {"value": -0.1}, ValueError, r"^value must be > 0, got -0.1$"),
    (S.constant, {"value": "0.1"}, TypeError, r"^value must be a real number, got '0.1' \(str\)$"),
    (S.constant, {"value": True}, TypeError, r"^value must be a real number, got True \(bool\)$"),
    (S.constant, {"value": NAN}, ValueError, r"^value must be finite, got nan$"),
    (S.constant, {"value": INF}, ValueError, r"^value must be finite, got inf$"),
    (S.constant, {"value": None}, TypeError, r"^value must be a real number, got None"),
    (S.step_decay, {"initial": -1}, ValueError, r"^initial must be > 0, got -1.0$"),
    (S.step_decay, {"initial": [0.1]}, TypeError, r"^initial must be a real number"),
    (S.step_decay, {"step_size": 0}, ValueError, r"^step_size must be an integer >= 1, got 0$"),
    (S.step_decay, {"step_size": 2.0}, TypeError, r"^step_size must be an integer >= 1, got 2.0"),
    (S.step_decay, {"step_size": True}, TypeError, r"^step_size must be an integer"),
    (S.step_decay, {"gamma": 1.5}, ValueError, r"^gamma must be in \(0, 1\], got 1.5$"),
    (S.step_decay, {"gamma": 0}, ValueError, r"^gamma must be in \(0, 1\], got 0.0$"),
    (S.step_decay, {"gamma": NAN}, ValueError, r"^gamma must be finite, got nan$"),
    (S.multi_step, {"milestones": [3, 3]}, ValueError, r"^milestones must be strictly incr"),
    (S.multi_step, {"milestones": [5, 2]}, ValueError, r"milestones\[1\] = 2 <= milestones\[0\]"),
    (S.multi_step, {"milestones": [0, 2]}, ValueError, r"^milestones\[0\] must be an integer >="),
    (S.multi_step, {"milestones": [1.5]}, TypeError, r"^milestones\[0\] must be an integer"),
    (S.multi_step, {"milestones": "30"}, TypeError, r"^milestones must be a sequence, got '30'"),
    (S.multi_step, {"milestones": 30}, TypeError, r"^milestones must be a sequence, got 30"),
    (S.multi_step, {"gamma": -0.1}, ValueError, r"^gamma must be in \(0, 1\]"),
    (S.multi_step, {"initial": 0}, ValueError, r"^initial must be > 0"),
    (S.exponential, {"decay_rate": 1.5}, ValueError, r"^decay_rate must be in \(0, 1\], got 1.5$"),
    (S.exponential, {"decay_rate": 0.0}, ValueError, r"^decay_rate must be in \(0, 1\]"),
    (S.exponential, {"transition_steps": 0}, ValueError, r"^transition_steps must be an integer"),
    (S.exponential, {"staircase": 1}, TypeError, r"^staircase must be True or False, got 1"),
    (S.exponential, {"initial": NAN}, ValueError, r"^initial must be finite"),
    (S.inverse_time, {"decay_rate": -1}, ValueError, r"^decay_rate must be >= 0, got -1.0$"),
    (S.inverse_time, {"decay_steps": 0}, ValueError, r"^decay_steps must be an integer >= 1"),
    (S.inverse_time, {"decay_steps": 1.5}, TypeError, r"^decay_steps must be an integer"),
    (S.inverse_time, {"staircase": "yes"}, TypeError, r"^staircase must be True or False"),
    (S.inverse_time, {"initial": INF}, ValueError, r"^initial must be finite"),
    (S.polynomial, {"initial": 0}, ValueError, r"^initial must be > 0"),
    (S.polynomial, {"end": -0.1}, ValueError, r"^end must be >= 0, got -0.1$"),
    (S.polynomial, {"end": INF}, ValueError, r"^end must be finite"),
    (S.polynomial, {"power": 0}, ValueError, r"^power must be > 0, got 0.0$"),
    (S.polynomial, {"power": "2"}, TypeError, r"^power must be a real number"),
    (S.polynomial, {"transition_steps": 0}, ValueError, r"^transition_steps must be an integer"),
    (S.cosine_annealing, {"decay_steps": 0}, ValueError, r"^decay_steps must be an integer >= 1"),
    (S.cosine_annealing, {"decay_steps": 1e3}, TypeError, r"^decay_steps must be an integer"),
    (S.cosine_annealing, {"alpha": 1.5}, ValueError, r"^alpha must be in \[0, 1\], got 1.5$"),
    (S.cosine_annealing, {"alpha": -0.1}, ValueError, r"^alpha must be in \[0, 1\]"),
    (S.cosine_annealing, {"initial": -INF}, ValueError, r"^initial must be finite"),
    (S.cosine_warm_restarts, {"first_period": 0}, ValueError, r"^first_period must be an int"),
    (S.cosine_warm_restarts, {"period_mult": 0}, ValueError, r"^period_mult must be an integer"),
    (S.cosine_warm_restarts, {"period_mult": 1.5}, TypeError, r"^period_mult must be an int"),
    (S.cosine_warm_restarts, {"eta_min": -1}, ValueError, r"^eta_min must be >= 0"),
    (S.cosine_warm_restarts, {"eta_min": 0.2}, ValueError, r"^eta_min must be <= initial \(0.1"),
    (S.cosine_warm_restarts, {"initial": 0}, ValueError, r"^initial must be > 0"),
    (S.warmup, {"schedule": "x"}, TypeError, r"^schedule must be a float > 0, a Schedule or"),
    (S.warmup, {"schedule": None}, TypeError, r"^schedule must be a float > 0"),
    (S.warmup, {"schedule": 0}, ValueError, r"^schedule must be > 0, got 0.0$"),
    (S.warmup, {"warmup_steps": -1}, ValueError, r"^warmup_steps must be an integer >= 0"),
    (S.warmup, {"warmup_steps": True}, TypeError, r"^warmup_steps must be an integer"),
    (S.warmup, {"start_value": -0.5}, ValueError, r"^start_value must be >= 0, got -0.5$"),
    (S.one_cycle, {"max_lr": 0}, ValueError, r"^max_lr must be > 0"),
    (S.one_cycle, {"total_steps": 0}, ValueError, r"^total_steps must be an integer >= 1, got 0"),
    (S.one_cycle, {"total_steps": 10.0}, TypeError, r"^total_steps must be an integer"),
    (S.one_cycle, {"pct_start": 1.5}, ValueError, r"^pct_start must be in \[0, 1\], got 1.5$"),
    (S.one_cycle, {"pct_start": -0.1}, ValueError, r"^pct_start must be in \[0, 1\]"),
    (
        S.one_cycle,
        {"pct_start": 0.1, "total_steps": 10},
        ValueError,
        r"^pct_start \* total_steps must not be 1 .*pct_start=0.1, total_steps=10",
    ),
    (S.one_cycle, {"div_factor": 0}, ValueError, r"^div_factor must be > 0"),
    (S.one_cycle, {"final_div_factor": -1}, ValueError, r"^final_div_factor must be > 0"),
    (S.one_cycle, {"anneal": "cosine"}, ValueError, r"^anneal must be one of 'cos', 'linear'"),
    (S.one_cycle, {"anneal": None}, TypeError, r"^anneal must be one of 'cos', 'linear'"),
    (S.piecewise_constant, {"boundaries": [5, 2], "values": [1, 2, 3]}, ValueError, r"^bounda"),
    (S.piecewise_constant, {"boundaries": [0]}, ValueError, r"^boundaries\[0\] must be an int"),
    (
        S.piecewise_constant,
        {"values": [0.1]},
        ValueError,
        r"^values must have one more entry than boundaries, got len\(values\) = 1 and len",
    ),
    (S.piecewise_constant, {"values": [0.1, 0.0]}, ValueError, r"^values\[1\] must be > 0"),
    (S.piecewise_constant, {"values": [0.1, NAN]}, ValueError, r"^values\[1\] must be finite"),
    (S.piecewise_constant, {"values": "ab"}, TypeError, r"^values must be a sequence"),
    (S.piecewise_constant, {"boundaries": None}, TypeError, r"^boundaries must be a sequence"),
    (S.join, {"schedules": [0.1]}, ValueError, r"^schedules must have one more entry than bou"),
    (S.join, {"schedules": [0.1, "x"]}, TypeError, r"^schedules\[1\] must be a float > 0, a S"),
    (S.join, {"schedules": [0.1, -1.0]}, ValueError, r"^schedules\[1\] must be > 0"),
    (S.join, {"schedules": 5}, TypeError, r"^schedules must be a sequence"),
    (S.join, {"boundaries": [0]}, ValueError, r"^boundaries\[0\] must be an integer >= 1"),
    (S.join, {"boundaries": [2.5]}, TypeError, r"^boundaries\[0\] must be an integer"),
    (S.from_callable, {"fn": 0.1}, TypeError, r"^fn must be a callable step -> float, got 0.1"),
    (S.ReduceLROnPlateau, {"initial": 0}, ValueError, r"^initial must be > 0"),
    (S.ReduceLROnPlateau, {"factor": 1.0}, ValueError, r"^factor must be in \(0, 1\), got 1.0$"),
    (S.ReduceLROnPlateau, {"factor": 0}, ValueError, r"^factor must be in \(0, 1\)"),
    (S.ReduceLROnPlateau, {"patience": -1}, ValueError, r"^patience must be an integer >= 0"),
    (S.ReduceLROnPlateau, {"patience": 1.5}, TypeError, r"^patience must be an integer"),
    (S.ReduceLROnPlateau, {"threshold": -1e-4}, ValueError, r"^threshold must be >= 0"),
    (
        S.ReduceLROnPlateau,
        {"threshold": 1.0},
        ValueError,
        r"^threshold must be in \[0, 1\) when threshold_mode='rel', got 1.0$",
    ),
    (S.ReduceLROnPlateau, {"threshold_mode": "relative"}, ValueError, r"^threshold_mode must"),
    (S.ReduceLROnPlateau, {"cooldown": -1}, ValueError, r"^cooldown must be an integer >= 0"),
    (S.ReduceLROnPlateau, {"min_lr": -1}, ValueError, r"^min_lr must be >= 0"),
    (S.ReduceLROnPlateau, {"min_lr": 0.2}, ValueError, r"^min_lr must be <= initial \(0.1\)"),
    (S.ReduceLROnPlateau, {"eps": -1}, ValueError, r"^eps must be >= 0"),
    (S.ReduceLROnPlateau, {"eps": NAN}, ValueError, r"^eps must be finite"),
    (S.ReduceLROnPlateau, {"mode": "minimum"}, ValueError, r"^mode must be one of 'min', 'max'"),
    (S.ReduceLROnPlateau, {"mode": 0}, TypeError, r"^mode must be one of 'min', 'max', got 0"),
]


@pytest.mark.parametrize(
    ("factory", "bad", "exc", "match"),
    BAD,
    ids=[f"{f.__name__}-{next(iter(b))}-{i}" for i, (f, b, _, _) in enumerate(BAD)],
)
def test_bad_parameters(factory, bad, exc, match):
    with pytest.raises(exc, match=match):
        factory(**{**BASE[factory], **bad})


def test_bad_parameter_table_covers_every_argument():
    import inspect

    covered = {(f, name) for f, bad, _, _ in BAD for name in bad}
    for factory in BASE:
        for name in inspect.signature(factory).parameters:
            assert (factory, name) in covered, (factory.__name__, name)


def test_classes_validate_like_the_factories():
    with pytest.raises(ValueError, match=r"^decay_rate must be in \(0, 1\], got 1.5$"):
        S.Exponential(0.1, 1.5)
    with pytest.raises(ValueError, match=r"^gamma must be in"):
        S.StepDecay(0.1, 3, gamma=2.0)


def snake_case(name):
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


SCHEDULE_CLASSES = [
    getattr(S, name)
    for name in S.__all__
    if name[0].isupper() and issubclass(getattr(S, name), S.Schedule)
]


def test_each_factory_name_is_its_class_with_one_docstring():
    # Each schedule is written once: the lower-case name is the class itself (so no
    # second docstring can drift from the class's), and that docstring is complete.
    assert len(SCHEDULE_CLASSES) == 15  # Schedule, ReduceLROnPlateau and 13 with a factory
    factories = {}
    for cls in SCHEDULE_CLASSES:
        if cls in (S.Schedule, S.ReduceLROnPlateau):
            continue
        name = snake_case(cls.__name__)
        assert name in S.__all__, name
        factory = getattr(S, name)
        assert factory is cls or factory.__doc__ is cls.__doc__, name
        factories[name] = factory
    for name in S.__all__:  # every other lower-case public name is as_schedule
        if name[0].islower() and name not in factories:
            assert name == "as_schedule"
    for cls in SCHEDULE_CLASSES:
        doc = cls.__doc__
        assert f"see :func:`{snake_case(cls.__name__)}`" not in doc  # no second copy
        if cls is not S.Schedule:
            assert "\n    Parameters\n    ----------\n" in doc, cls
        assert "\n    Examples\n    --------\n" in doc, cls


def test_factories_take_the_classes_arguments():
    import inspect

    for cls in SCHEDULE_CLASSES:
        if cls in (S.Schedule, S.ReduceLROnPlateau):
            continue
        factory = getattr(S, snake_case(cls.__name__))
        assert inspect.signature(factory) == inspect.signature(cls)
        # the constructor takes the fields the repr shows, so the repr rebuilds the object
        fields = [f.name for f in dataclasses.fields(cls) if f.repr]
        assert list(inspect.signature(cls).parameters) == fields


# -- properties ----------------------------------------------------------------------
positive = st.floats(1e-6, 10.0)
nonneg = st.floats(0.0, 10.0)
unit_open_closed = st.floats(0.0, 1.0, exclude_min=True)
periods = st.integers(1, 1000)
steps = st.integers(0, 10**7)

decaying = st.one_of(
    st.builds(S.step_decay, positive, periods, unit_open_closed),
    st.builds(S.exponential, positive, unit_open_closed, periods, st.booleans()),
    st.builds(S.inverse_time, positive, nonneg, periods, st.booleans()),
    st.floats(1e-6, 10.0).flatmap(
        lambda init: st.builds(
            S.polynomial, st.just(init), st.floats(0.0, init), st.floats(0.1, 10.0), periods
        )
    ),
    st.builds(S.cosine_annealing, positive, periods, st.floats(0.0, 1.0)),
)


@st.composite
def one_cycles(draw, max_lr):
    total = draw(periods)
    pct = draw(st.floats(0.0, 1.0).filter(lambda p: p * total != 1))
    anneal = draw(st.sampled_from(["cos", "linear"]))
    return S.one_cycle(
        max_lr, total, pct, draw(st.floats(1.0, 1e3)), draw(st.floats(1.0, 1e5)), anneal
    )


@st.composite
def any_schedule(draw):
    kind = draw(st.sampled_from(["decaying", "other"]))
    if kind == "decaying":
        return draw(decaying)
    init = draw(positive)
    options = [
        st.builds(
            S.multi_step,
            st.just(init),
            st.lists(periods, max_size=5, unique=True).map(sorted),
            unit_open_closed,
        ),
        st.builds(S.polynomial, st.just(init), nonneg, st.floats(0.1, 10.0), periods),
        st.builds(
            S.cosine_warm_restarts,
            st.just(init),
            periods,
            st.integers(1, 5),
            st.floats(0.0, init),
        ),
        st.builds(S.warmup, decaying, st.integers(0, 100), nonneg),
        one_cycles(init),
        st.lists(periods, min_size=1, max_size=4, unique=True).flatmap(
            lambda b: st.builds(
                S.piecewise_constant,
                st.just(sorted(b)),
                st.lists(positive, min_size=len(b) + 1, max_size=len(b) + 1),
            )
        ),
        st.lists(periods, min_size=1, max_size=3, unique=True).flatmap(
            lambda b: st.builds(
                S.join,
                st.lists(decaying, min_size=len(b) + 1, max_size=len(b) + 1),
                st.just(sorted(b)),
            )
        ),
    ]
    return draw(st.one_of(options))


@settings(max_examples=300, deadline=None)
@given(any_schedule(), st.lists(steps, min_size=1, max_size=8))
def test_every_schedule_returns_a_finite_float_at_least_zero(schedule, some_steps):
    for step in [0, *some_steps]:
        value = schedule(step)
        assert type(value) is float
        assert math.isfinite(value) and value >= 0


@settings(max_examples=300, deadline=None)
@given(decaying, steps, steps)
def test_decaying_schedules_never_increase(schedule, a, b):
    a, b = min(a, b), max(a, b)
    assert schedule(b) <= schedule(a)
    assert schedule(0) >= schedule(a)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), max_size=30),
    st.integers(0, 3),
    st.integers(0, 2),
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
)
def test_plateau_never_goes_below_min_lr_nor_increases(losses, patience, cooldown, mode, tmode):
    lr = S.ReduceLROnPlateau(
        1.0, 0.3, patience, 0.01, tmode, cooldown, min_lr=0.05, eps=0.0, mode=mode
    )
    last = lr(0)
    for loss in losses:
        lr.update(loss)
        assert 0.05 <= lr(0) <= last
        last = lr(0)
