"""The schedule objects: the step argument, small objects with a readable repr that
rebuilds them, state, every bad parameter named, one class per schedule (its
factory is the class), and properties over random schedules."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numopt import schedules as S


def values(schedule, steps):
    return [schedule(s) for s in steps]


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
