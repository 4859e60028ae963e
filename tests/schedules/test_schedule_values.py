"""Learning-rate schedules against hand-worked values of the PyTorch / optax / Keras formulas.

No torch, optax or Keras here: the expected numbers are worked by hand from the
documented formulas (exact where the arithmetic is exact), and only the SGDR restart
bookkeeping and the 1cycle phase loop are re-implemented, line by line from PyTorch,
to check many steps at once.
"""

import math

import numpy as np
import pytest

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
