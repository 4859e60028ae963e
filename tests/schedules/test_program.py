"""Schedules lowered for the compiled loop give the Python schedules' float64 bits.

Every comparison is on the bits (``-0.0`` differs from ``0.0``), from Python through
the dispatcher and from inside a compiled loop, over steps 0..2000 and some large
steps; the plateau rule's state is compared after every loss.
"""

import math
import sys

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from numopt import schedules as S
from numopt.schedules import program
from numopt.schedules.program import NotCompilable, ScheduleProgram, lower, observe, rate

STEPS = np.array([*range(2001), 4095, 10**4, 10**6, 10**9, 2**31, 2**40, 2**53 - 1], np.int64)


@njit  # no cache: a cached caller would keep a stale copy of an edited rate()
def compiled_rates(steps, ints, floats, state):
    """rate called from compiled code, as the compiled loop calls it."""
    out = np.empty(steps.size)
    for k in range(steps.size):
        out[k] = rate(steps[k], ints, floats, state)
    return out


def bits(values):
    return np.asarray(values, np.float64).view(np.int64)


def assert_same_rates(schedule, steps=STEPS):
    p = lower(schedule)
    python = bits([schedule(int(s)) for s in steps])
    compiled = bits(compiled_rates(steps, p.ints, p.floats, p.state))
    bad = np.flatnonzero(compiled != python)
    assert bad.size == 0, (schedule, steps[bad[:5]], compiled[bad[:5]].view(float))
    dispatched = [rate(s, p.ints, p.floats, p.state) for s in steps]  # from Python too
    assert all(type(v) is float for v in dispatched)
    assert np.array_equal(bits(dispatched), python)
    return p


# -- every kind, several parameter sets ----------------------------------------------
def plateau(**kw):
    params = {"initial": 1.0, "factor": 0.5, "patience": 2, "threshold": 0.1, "cooldown": 1}
    params.update(kw)
    return S.ReduceLROnPlateau(**params)


CASES = [
    S.constant(0.1),
    S.constant(3e-7),
    S.step_decay(0.1, 3),
    S.step_decay(0.37, 7, 0.913),
    S.step_decay(1.0, 1, 0.5),
    S.step_decay(0.3, 1, 1.0),
    S.multi_step(0.1, [2, 5]),
    S.multi_step(0.05, [30, 80, 700, 1500], 0.3),
    S.multi_step(0.2, []),
    S.exponential(0.1, 0.9),
    S.exponential(2.0, 0.5, 2),
    S.exponential(0.1, 0.9, 2, True),
    S.exponential(0.77, 0.999, 13, False),
    S.exponential(0.77, 0.37, 13, True),
    S.inverse_time(0.1, 0.5),
    S.inverse_time(1.0, 0.5, 2),
    S.inverse_time(0.3, 1.7, 9, True),
    S.inverse_time(0.3, 0.0, 9),
    S.polynomial(0.1, 0.01, 2.0, 10),
    S.polynomial(1.0, 0.1, 2, 4),
    S.polynomial(0.1, 1.0, 1, 4),
    S.polynomial(0.7, 0.0, 0.37, 1333),
    S.polynomial(0.7, 0.2, 3.3, 1),
    S.cosine_annealing(0.1, 10, 0.1),
    S.cosine_annealing(1.0, 4, 0.1),
    S.cosine_annealing(0.37, 1777),
    S.cosine_annealing(0.37, 1, 1.0),
    S.cosine_warm_restarts(0.1, 3, 2, 0.01),
    S.cosine_warm_restarts(1.0, 2, 2),
    S.cosine_warm_restarts(1.0, 3, 1, 0.1),
    S.cosine_warm_restarts(1.0, 1, 10, 0.1),
    S.cosine_warm_restarts(0.5, 5, 3, 0.01),
    S.cosine_warm_restarts(0.5, 1, 1),
    S.cosine_warm_restarts(0.5, 2000, 7, 0.25),
    S.one_cycle(0.1, 50),
    S.one_cycle(0.1, 100, anneal="linear"),
    S.one_cycle(1.0, 6, 0.5, 4, 10),
    S.one_cycle(1.0, 6, 0.5, 4, 10, "linear"),
    S.one_cycle(2.0, 37, 0.25, 10.0, 100.0),
    S.one_cycle(1.0, 10, 0.0, 4.0, 10.0),
    S.one_cycle(1.0, 10, 1.0, 4.0, 10.0, "linear"),
    S.one_cycle(1.0, 1, 0.5, 5.0, 3.0),
    S.one_cycle(0.3, 1500, 0.37, 13.0, 1e3, "cos"),
    S.piecewise_constant([3], [0.1, 0.01]),
    S.piecewise_constant([3, 6, 1000], [1.0, 0.5, 0.1, 0.37]),
    S.warmup(S.cosine_annealing(0.1, 10), 5, 0.01),
    S.warmup(0.5, 2, 0.1),
    S.warmup(S.step_decay(1.0, 2, 0.5), 0),
    S.warmup(S.polynomial(0.3, 0.0, 2.0, 500), 300, 0.7),
    S.warmup(S.warmup(S.exponential(0.3, 0.9, 10), 20, 0.05), 7, 0.2),
    S.warmup(S.warmup(S.constant(0.3), 0, 0.1), 7),
    S.join([0.1, S.exponential(0.1, 0.5)], [4]),
    S.join([S.polynomial(0.1, 1.0, 1, 4), S.cosine_annealing(1.0, 4), 0.05], [4, 8]),
    S.warmup(
        S.join(
            [
                S.cosine_warm_restarts(0.2, 10, 2, 0.01),
                S.warmup(S.join([S.one_cycle(0.3, 100), 0.01], [100]), 13, 0.001),
                S.multi_step(0.05, [5, 17]),
            ],
            [300, 900],
        ),
        50,
        1e-4,
    ),
    S.join(
        [
            S.warmup(S.join([0.2, S.inverse_time(0.1, 2.0, 3)], [2]), 10),
            S.piecewise_constant([1], [0.3, 0.1]),
        ],
        [1000],
    ),
    # -0.0 passes the ">= 0" checks; the bits must still agree
    S.warmup(S.constant(0.3), 5, -0.0),
    S.warmup(S.warmup(S.cosine_annealing(0.3, 9, -0.0), 3, -0.0), 2, -0.0),
    S.polynomial(0.3, -0.0, 2.0, 7),
    S.cosine_warm_restarts(0.3, 4, 2, -0.0),
    plateau(),
    S.warmup(plateau(), 10, 0.01),
    S.join([0.1, plateau(mode="max"), S.warmup(plateau(threshold_mode="abs"), 3)], [3, 10]),
]


@pytest.mark.parametrize("schedule", CASES, ids=[repr(s)[:60] for s in CASES])
def test_rate_is_the_python_schedule_bit_for_bit(schedule):
    p = assert_same_rates(schedule)
    assert p.needs_loss is schedule.needs_loss


def test_fixed_argument_types():
    types = {
        tuple(numba.typeof(a) for a in (p.ints, p.floats, p.state))
        for p in map(lower, [*CASES, 0.1])
    }
    assert types == {(numba.int64[:, ::1], numba.float64[:, ::1], numba.float64[::1])}


def walk(schedule):
    """The schedule and every schedule inside it."""
    yield schedule
    for child in getattr(schedule, "schedules", None) or [getattr(schedule, "schedule", None)]:
        if child is not None:
            yield from walk(child)


COMPILED_CLASSES = {getattr(S, name) for name in S.__all__ if name[0].isupper()} - {
    S.Schedule,
    S.FromCallable,  # a Python function: never compiled
}


def test_every_schedule_class_encodes_itself_with_its_own_kind():
    # Each class lowers to its own kind of node, and CASES (checked bit for bit above)
    # hold every class, so every branch of the compiled evaluation is exercised.
    seen = {type(s) for case in CASES for s in walk(case)}
    assert seen == COMPILED_CLASSES
    kinds = {}
    for case in CASES:
        for s in walk(case):
            kinds.setdefault(type(s), int(lower(s).ints[1, program.KIND]))
    assert len(set(kinds.values())) == len(kinds) == len(COMPILED_CLASSES)
    assert 0 not in kinds.values()
    for cls in COMPILED_CLASSES:
        assert "_encode" in vars(cls), cls  # its own, not an inherited one


def test_inlined_modules_hold_every_compiled_formula_and_kind():
    # numopt._compiled names its cached loop after these modules' sources: a formula
    # or a kind number outside them would leave a stale loop in Numba's cache.
    modules = set(program.INLINED_MODULES)
    assert program in modules
    for value in vars(program).values():
        if isinstance(value, numba.core.registry.CPUDispatcher):
            assert sys.modules[value.py_func.__module__] in modules, value
    for cls in COMPILED_CLASSES:
        assert sys.modules[cls.__module__] in modules, cls


def test_a_float_lowers_to_a_constant():
    for value in (0.1, 1, np.float64(0.3), np.float32(0.3)):
        p = lower(value)
        assert rate(0, p.ints, p.floats, p.state) == float(value)
        assert rate(10**9, p.ints, p.floats, p.state) == float(value)
        assert not p.needs_loss
        p.store(value)  # nothing to store
        observe(1.0, p.ints, p.floats, p.state)  # a no-op


# -- random schedules ----------------------------------------------------------------
positive = st.floats(1e-6, 10.0)
nonneg = st.floats(0.0, 10.0)
unit_open_closed = st.floats(0.0, 1.0, exclude_min=True)
periods = st.integers(1, 1000)


def sorted_steps(min_size, max_size):
    return st.lists(periods, min_size=min_size, max_size=max_size, unique=True).map(sorted)


@st.composite
def one_cycles(draw):
    total = draw(periods)
    pct = draw(st.floats(0.0, 1.0).filter(lambda p: p * total != 1))
    return S.one_cycle(
        draw(positive),
        total,
        pct,
        draw(st.floats(1.0, 1e3)),
        draw(st.floats(1.0, 1e5)),
        draw(st.sampled_from(["cos", "linear"])),
    )


leaves = st.one_of(
    st.builds(S.constant, positive),
    st.builds(S.step_decay, positive, periods, unit_open_closed),
    st.builds(S.multi_step, positive, sorted_steps(0, 5), unit_open_closed),
    st.builds(S.exponential, positive, unit_open_closed, periods, st.booleans()),
    st.builds(S.inverse_time, positive, nonneg, periods, st.booleans()),
    st.builds(S.polynomial, positive, nonneg, st.floats(0.1, 10.0), periods),
    st.builds(S.cosine_annealing, positive, periods, st.floats(0.0, 1.0)),
    positive.flatmap(
        lambda init: st.builds(
            S.cosine_warm_restarts, st.just(init), periods, st.integers(1, 5), st.floats(0.0, init)
        )
    ),
    one_cycles(),
    sorted_steps(1, 4).flatmap(
        lambda b: st.builds(
            S.piecewise_constant,
            st.just(b),
            st.lists(positive, min_size=len(b) + 1, max_size=len(b) + 1),
        )
    ),
)


def composites(children):
    joins = sorted_steps(1, 3).flatmap(
        lambda b: st.builds(
            S.join, st.lists(children, min_size=len(b) + 1, max_size=len(b) + 1), st.just(b)
        )
    )
    return st.one_of(st.builds(S.warmup, children, st.integers(0, 100), nonneg), joins)


trees = st.recursive(leaves, composites, max_leaves=6)
some_steps = st.lists(st.integers(0, 5000) | st.integers(0, 2**53 - 1), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(trees, some_steps)
def test_random_schedules_bit_for_bit(schedule, steps):
    assert_same_rates(schedule, np.array([0, *steps], np.int64))


# -- ReduceLROnPlateau ---------------------------------------------------------------
def plateaus_of(schedule):
    if isinstance(schedule, S.ReduceLROnPlateau):
        return [schedule]
    if isinstance(schedule, S.Warmup):
        return plateaus_of(schedule.schedule)
    if isinstance(schedule, S.Join):
        return [p for s in schedule.schedules for p in plateaus_of(s)]
    return []


def run_both(schedule, losses, steps=(0, 1, 5, 20, 2000)):
    """Feed ``losses`` to the schedule and to its program, comparing after each."""
    p = lower(schedule)
    for loss in losses:
        schedule.update(loss)
        observe(loss, p.ints, p.floats, p.state)
        for s in steps:
            assert bits(rate(s, p.ints, p.floats, p.state)) == bits(schedule(s)), (loss, s)
        assert program_state(p, schedule) == schedule.state_dict()
    return p


def program_state(p, schedule):
    """The program's state as the schedule's state_dict, via store on a twin."""
    twin = eval(repr(schedule), vars(S))
    if not plateaus_of(schedule):
        return {}
    distinct = {id(q): q for q in plateaus_of(schedule)}
    if len(distinct) != len(plateaus_of(schedule)):  # a shared plateau: no twin by repr
        saved = schedule.state_dict()
        p.store(schedule)
        state = schedule.state_dict()
        schedule.load_state_dict(saved)
        return state
    p.store(twin)
    return twin.state_dict()


LOSSES = [10, 9.5, 9.1, 8, 7.5, 7.3, 7.21, 7.25, 7.3, 7.3, 7.3, 7.3, 7.3, 7.3, 7.3, 6]
LOSSES += [6.5, -3.0, -2.9, -2.95, -2.95, -2.95, -2.95, 1e300, -1e300, 0.0, -0.0, 5e-324]


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
@pytest.mark.parametrize("wrap", ["bare", "warmup", "join", "nested"])
def test_plateau_every_mode_and_wrapping(mode, threshold_mode, wrap):
    def make():
        return plateau(mode=mode, threshold_mode=threshold_mode, min_lr=0.01, eps=1e-9)

    schedule = {
        "bare": make,
        "warmup": lambda: S.warmup(make(), 3, 0.1),
        "join": lambda: S.join([0.1, make(), S.step_decay(0.1, 3)], [2, 9]),
        "nested": lambda: S.warmup(S.join([S.warmup(make(), 4), make()], [10]), 2, 0.5),
    }[wrap]()
    losses = LOSSES if mode == "min" else [-x for x in LOSSES]
    run_both(schedule, losses)


def test_the_same_plateau_twice_is_updated_twice():
    shared = plateau(patience=1)
    schedule = S.join([shared, S.warmup(shared, 2)], [5])
    p = run_both(schedule, LOSSES)
    assert p.state.size == 5  # one state for the one object
    assert shared.num_updates == 2 * len(LOSSES)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6) | st.sampled_from([1.0, 2.0, -1.0]), max_size=40),
    st.integers(0, 3),
    st.integers(0, 2),
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
    st.floats(0.0, 0.5),
    st.floats(0.05, 0.95),
    st.sampled_from([0.0, 1e-8, 1e-3]),
)
def test_plateau_random_losses(losses, patience, cooldown, mode, tmode, threshold, factor, eps):
    rule = S.ReduceLROnPlateau(1.0, factor, patience, threshold, tmode, cooldown, 0.05, eps, mode)
    run_both(S.warmup(rule, 2, 0.5), losses, steps=(0, 1, 2, 50))


plateau_leaves = st.builds(
    S.ReduceLROnPlateau,
    positive,
    st.floats(0.05, 0.95),
    st.integers(0, 2),
    st.floats(0.0, 0.5),
    st.sampled_from(["rel", "abs"]),
    st.integers(0, 2),
    st.just(0.0),
    st.sampled_from([0.0, 1e-8]),
    st.sampled_from(["min", "max"]),
)
trees_with_plateaus = st.recursive(leaves | plateau_leaves, composites, max_leaves=5).filter(
    lambda s: s.needs_loss
)


@settings(max_examples=60, deadline=None)
@given(trees_with_plateaus, st.lists(st.floats(-100, 100), max_size=12))
def test_random_schedules_with_plateaus(schedule, losses):
    run_both(schedule, losses, steps=(0, 1, 7, 150, 3000))


def test_lowering_a_used_schedule_continues_exactly():
    a, b = plateau(), plateau()
    wa, wb = S.warmup(a, 5, 0.1), S.warmup(b, 5, 0.1)
    for loss in LOSSES[:9]:
        wa.update(loss)
        wb.update(loss)
    p = lower(wa)  # reads the state after 9 updates
    assert p.state.tolist() == [0.5, 8.0, 1, 0, 9]
    for loss in LOSSES[9:]:
        observe(loss, p.ints, p.floats, p.state)
        wb.update(loss)
        for s in (0, 3, 5, 100):
            assert bits(rate(s, p.ints, p.floats, p.state)) == bits(wb(s))
    assert wa.state_dict() != wb.state_dict()  # observe changes only the program
    p.store(wa)
    assert wa.state_dict() == wb.state_dict()
    assert [wa(s) for s in range(10)] == [wb(s) for s in range(10)]


def test_store_round_trips_and_checks_the_schedule():
    rule = plateau()
    schedule = S.join([0.1, S.warmup(rule, 2)], [3])
    twin = S.join([0.1, S.warmup(plateau(), 2)], [3])
    p = lower(schedule)
    for loss in LOSSES:
        observe(loss, p.ints, p.floats, p.state)
        twin.update(loss)
    assert schedule.state_dict() != twin.state_dict()
    p.store(schedule)
    assert schedule.state_dict() == twin.state_dict()
    assert lower(schedule).state.tolist() == p.state.tolist()
    assert all(type(v) in (int, float) for v in schedule.state_dict().values())
    fresh = lower(plateau())
    assert fresh.state.tolist() == [1.0, math.inf, 0, 0, 0]
    fresh.store(rule)
    assert rule.state_dict() == plateau().state_dict()  # best = inf survives
    for other in (plateau(), S.join([0.1, S.warmup(rule, 2), 0.2], [3, 5]), 0.1, None):
        with pytest.raises(ValueError, match=r"^schedule must be the schedule this program"):
            p.store(other)


def test_observe_rejects_a_non_finite_loss_before_changing_anything():
    p = lower(S.warmup(plateau(), 2))
    observe(3.0, p.ints, p.floats, p.state)
    before = p.state.copy()
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"loss must be finite"):
            observe(bad, p.ints, p.floats, p.state)
    assert p.state.tolist() == before.tolist()


def test_schedules_without_plateau_ignore_observe():
    schedule = S.join([0.1, S.exponential(0.1, 0.5)], [4])
    p = lower(schedule)
    state = p.state.copy()
    observe(math.nan, p.ints, p.floats, p.state)
    assert not p.needs_loss and p.state.tolist() == state.tolist()
    assert repr(p) == "ScheduleProgram([Join, Constant, Exponential], needs_loss=False)"
    assert isinstance(p, ScheduleProgram)


# -- what does not compile -----------------------------------------------------------
def named_schedule(step):
    return 0.1


class Halving(S.Schedule):
    def _at(self, step):
        return 1.0 / 2**step


class MyStepDecay(S.StepDecay):
    def _at(self, step):
        return 0.5


class MyCosine(S.CosineAnnealing):  # changes nothing, but is not numopt's to vouch for
    pass


@pytest.mark.parametrize(
    ("learning_rate", "match"),
    [
        (S.from_callable(named_schedule), r"^learning_rate is from_callable\(named_schedule\), a"),
        (named_schedule, r"^learning_rate is a callable \(named_schedule\), not a Schedule: the"),
        (lambda s: 0.1, r"^learning_rate is a callable \(<lambda>\)"),
        (njit(named_schedule), r"^learning_rate is a callable"),
        (S.warmup(named_schedule, 3), r"^learning_rate.schedule is from_callable\(named_sch"),
        (
            S.join([0.1, S.warmup(S.join([0.1, abs], [2]), 1)], [3]),
            r"^learning_rate.schedules\[1\].schedule.schedules\[1\] is from_callable\(abs\)",
        ),
        (Halving(), r"^learning_rate is a Halving, a Schedule subclass defined outside numopt"),
        (MyStepDecay(0.1, 3), r"^learning_rate is a MyStepDecay, a Schedule subclass"),
        (MyCosine(0.1, 3), r"^learning_rate is a MyCosine, a Schedule subclass defined outside"),
        (S.join([0.1, Halving()], [2]), r"^learning_rate.schedules\[1\] is a Halving, a Sched"),
        ("0.1", r"^learning_rate must be a float or a numopt.schedules.Schedule to compile, got"),
        (None, r"got None \(NoneType\)"),
        (True, r"got True \(bool\)"),
    ],
)
def test_not_compilable(learning_rate, match):
    with pytest.raises(NotCompilable, match=match) as info:
        lower(learning_rate)
    if callable(learning_rate) and not isinstance(learning_rate, str):
        assert "the compiled loop evaluates only the schedules of numopt" in str(info.value)


@pytest.mark.parametrize("value", [0.0, -0.1, math.nan, math.inf])
def test_bad_numbers_are_value_errors(value):
    with pytest.raises(ValueError, match=r"^learning_rate must be"):
        lower(value)
