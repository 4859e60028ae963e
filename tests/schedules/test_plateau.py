"""ReduceLROnPlateau against a hand trace of torch's rule; composites that hold one.

Thresholds (relative, absolute, max mode), ``eps``, cooldown and the floor; bad
losses refused without a change; its state through ``state_dict``; composites
forwarding losses and state; a property over random losses.
"""

import copy
import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numopt import schedules as S

R = 1e-12  # relative tolerance where the arithmetic is not exact


def values(schedule, steps):
    return [schedule(s) for s in steps]


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


@pytest.mark.parametrize(
    "copy_of",
    [copy.copy, copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_plateau_copies_and_pickles_with_its_state(copy_of):
    lr = S.ReduceLROnPlateau(1.0, factor=0.5, patience=0)
    for loss in [3.0, 4.0, 5.0]:
        lr.update(loss)
    twin = copy_of(lr)
    assert repr(twin) == repr(lr) and twin.state_dict() == lr.state_dict()
    twin.update(6.0)  # the copy goes on alone
    assert twin.lr == lr.lr / 2 and lr.state_dict()["num_updates"] == 3
    with pytest.raises(AttributeError, match="fixed when it is built"):
        twin.factor = 0.9


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
