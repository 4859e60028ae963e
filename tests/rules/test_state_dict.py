"""The stateful optimizers' state: its layout (a new shape, dtype or order needs
``reset()``) and ``state_dict``/``load_state_dict``: exact round trips, copies,
every bad dict refused without a change, schedules kept or restored."""

from __future__ import annotations

import numpy as np
import pytest
from stateful_variants import VARIANTS, make, problem

import numopt

# -- the state's layout ------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: np.ones(4), id="shape"),
        pytest.param(lambda: np.ones(3, np.float32), id="dtype"),
        pytest.param(lambda: np.ones((3, 1)), id="ndim"),
    ],
)
def test_layout_change_needs_reset(variant, other):
    opt = make(variant)
    x = np.ones(3)
    opt.step(x, x.copy())
    y = other()
    before = y.copy()
    with pytest.raises(ValueError, match=r"reset\(\)"):
        opt.step(y, y.copy())
    np.testing.assert_array_equal(y, before)
    assert opt.step_count == 1
    opt.reset()
    assert opt.step_count == 0
    assert opt.state == {}
    opt.step(y, y.copy())
    assert opt.step_count == 1
    # After reset() the step is a first step again: like a fresh optimizer's.
    z = other()
    make(variant).step(z, z.copy())
    np.testing.assert_array_equal(y, z)


def test_memory_order_change_needs_reset():
    opt = numopt.Adam()
    x = np.ones((2, 3))
    opt.step(x, x.copy())
    xf = np.asfortranarray(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reset\(\)"):
        opt.step(xf, xf.copy())


# -- state_dict / load_state_dict --------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "serial", "parallel"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_state_dict_round_trip_is_exact(variant, backend):
    x0, grads = problem(8, (4, 3), steps=7)
    a = make(variant, backend)
    xa = x0.copy()
    for g in grads[:3]:
        a.step(xa, g)
    cls = VARIANTS[variant][0]
    b = cls(backend=backend)  # default hyperparameters: the state dict brings A's
    b.load_state_dict(a.state_dict())
    assert b.step_count == 3
    assert b.hyperparameters == a.hyperparameters
    xb = xa.copy()
    for g in grads[3:]:
        a.step(xa, g.copy())
        b.step(xb, g.copy())
        np.testing.assert_array_equal(xb, xa)
    assert b.step_count == a.step_count == 7
    for name in a.state_names:
        np.testing.assert_array_equal(b.state[name], a.state[name])


def test_state_dict_round_trip_fortran_order():
    x0, grads = problem(9, (3, 4), steps=5)
    xa = np.asfortranarray(x0)
    a = numopt.Adam(0.1)
    for g in grads[:2]:
        a.step(xa, np.asfortranarray(g))
    sd = a.state_dict()
    assert sd["state"]["m"].shape == (3, 4)
    b = numopt.Adam()
    b.load_state_dict(sd)
    xb = xa.copy(order="F")
    for g in grads[2:]:
        a.step(xa, g)
        b.step(xb, g)
    np.testing.assert_array_equal(xb, xa)


def test_state_dict_contents():
    opt = numopt.Adam(0.1, beta1=0.5)
    x = np.array([1.0, 2.0, 3.0])
    opt.step(x, np.array([1.0, 0.0, -1.0]))
    sd = opt.state_dict()
    assert sd["rule"] == "adam"
    assert sd["step"] == 1
    assert sd["hyperparameters"] == opt.hyperparameters
    assert set(sd["state"]) == {"m", "v"}
    np.testing.assert_array_equal(sd["state"]["m"], [0.5, 0.0, -0.5])  # (1-β1)·g
    assert sd["state"]["m"].dtype == np.float64
    assert numopt.GD().state_dict() == {
        "rule": "gd",
        "step": 0,
        "hyperparameters": {"learning_rate": 1e-3, "weight_decay": 0.0, "maximize": False},
    }


def test_state_dict_returns_copies():
    opt = numopt.Adam(0.1)
    x = np.ones(3)
    opt.step(x, x.copy())
    m = opt.state["m"].copy()
    sd = opt.state_dict()
    sd["state"]["m"][:] = 99.0
    sd["state"]["v"][:] = 99.0
    sd["hyperparameters"]["learning_rate"] = 5.0
    sd["step"] = 42
    np.testing.assert_array_equal(opt.state["m"], m)
    assert opt.hyperparameters["learning_rate"] == 0.1
    assert opt.step_count == 1
    assert opt.state_dict()["state"]["m"][0] == m[0]


def test_load_state_dict_copies_the_arrays():
    a = numopt.Adam(0.1)
    x = np.ones(3)
    a.step(x, x.copy())
    sd = a.state_dict()
    b = numopt.Adam()
    b.load_state_dict(sd)
    m = b.state["m"].copy()
    sd["state"]["m"][:] = 99.0
    np.testing.assert_array_equal(b.state["m"], m)


def test_load_before_any_step_then_step():
    a = numopt.RMSprop(0.1, beta=0.5)
    b = numopt.RMSprop()
    b.load_state_dict(a.state_dict())  # no state yet
    assert b.step_count == 0
    assert b.hyperparameters == a.hyperparameters
    xa, xb = np.array([1.0, -1.0]), np.array([1.0, -1.0])
    for g in ([1.0, 2.0], [3.0, -1.0]):
        a.step(xa, np.array(g))
        b.step(xb, np.array(g))
    np.testing.assert_array_equal(xb, xa)
    assert b.step_count == 2


def test_loaded_state_fixes_the_layout():
    a = numopt.Momentum(0.1)
    x = np.ones(3)
    a.step(x, x.copy())
    b = numopt.Momentum()
    b.load_state_dict(a.state_dict())
    y = np.ones(4)
    with pytest.raises(ValueError, match=r"reset\(\)"):
        b.step(y, y.copy())


def test_gd_state_dict_round_trip_without_state_arrays():
    a = numopt.GD(0.1, weight_decay=0.2)
    x = np.ones(3)
    a.step(x, x.copy())
    sd = a.state_dict()
    assert sd["state"] == {}
    b = numopt.GD()
    b.load_state_dict(sd)
    assert b.step_count == 1
    assert b.hyperparameters == {"learning_rate": 0.1, "weight_decay": 0.2, "maximize": False}
    y = x.copy()
    a.step(x, x.copy())
    b.step(y, y.copy())
    np.testing.assert_array_equal(x, y)


def _adam_state_dict():
    opt = numopt.Adam(0.1)
    x = np.ones(3)
    opt.step(x, x.copy())
    return opt.state_dict()


def _edit(**changes):
    def build():
        sd = _adam_state_dict()
        for key, value in changes.items():
            if value is _DELETE:
                del sd[key]
            else:
                sd[key] = value(sd) if callable(value) else value
        return sd

    return build


_DELETE = object()

BAD_STATE_DICTS = {
    "other-rule": (
        lambda: {**_adam_state_dict(), "rule": "adamw"},
        ValueError,
        r"'adamw'",
    ),
    "not-a-dict": (lambda: [("rule", "adam")], TypeError, "state_dict"),
    "missing-rule": (_edit(rule=_DELETE), ValueError, "rule"),
    "missing-step": (_edit(step=_DELETE), ValueError, "step"),
    "missing-hyperparameters": (_edit(hyperparameters=_DELETE), ValueError, "hyperparameters"),
    "negative-step": (_edit(step=-1), ValueError, "step"),
    "float-step": (_edit(step=1.5), ValueError, "step"),
    "bool-step": (_edit(step=True), ValueError, "step"),
    "missing-state": (_edit(state=_DELETE), ValueError, "state"),
    "state-names": (
        _edit(state=lambda sd: {"m": sd["state"]["m"], "s": sd["state"]["v"]}),
        ValueError,
        "state",
    ),
    "state-missing-array": (_edit(state=lambda sd: {"m": sd["state"]["m"]}), ValueError, "state"),
    "state-shapes": (
        _edit(state=lambda sd: {"m": sd["state"]["m"], "v": np.zeros(4)}),
        ValueError,
        "'v'",
    ),
    "state-dtypes": (
        _edit(state=lambda sd: {"m": sd["state"]["m"], "v": np.zeros(3, np.float32)}),
        ValueError,
        "'v'",
    ),
    "state-int": (
        _edit(state=lambda sd: {"m": np.zeros(3, np.int64), "v": np.zeros(3, np.int64)}),
        ValueError,
        "'m'",
    ),
    "state-not-a-dict": (_edit(state=lambda sd: [sd["state"]["m"]]), ValueError, "state"),
    "unknown-hyperparameter": (
        _edit(hyperparameters=lambda sd: {**sd["hyperparameters"], "beta": 0.9}),
        ValueError,
        "beta",
    ),
    "bad-hyperparameter": (
        _edit(hyperparameters=lambda sd: {**sd["hyperparameters"], "beta1": 1.5}),
        ValueError,
        "beta1",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_STATE_DICTS))
def test_load_state_dict_errors_change_nothing(case):
    build, exc, pattern = BAD_STATE_DICTS[case]
    opt = numopt.Adam(0.2, beta2=0.9)
    x = np.array([1.0, 2.0, 3.0])
    opt.step(x, x.copy())
    before = opt.state_dict()
    with pytest.raises(exc, match=pattern):
        opt.load_state_dict(build())
    after = opt.state_dict()
    assert after["step"] == before["step"] == 1
    assert after["hyperparameters"] == before["hyperparameters"]
    for name in ("m", "v"):
        np.testing.assert_array_equal(after["state"][name], before["state"][name])


def test_load_state_dict_names_both_rules():
    with pytest.raises(ValueError, match=r"'adam'.*'adamw'"):
        numopt.AdamW().load_state_dict(_adam_state_dict())


def test_schedule_is_kept_across_load_state_dict():
    """Like torch: hyperparameters come from the dict, a schedule stays the optimizer's own."""

    def schedule(k):
        return 0.1 / (1 + k)

    a = numopt.GD(schedule)
    x = np.ones(2)
    a.step(x, x.copy())
    sd = a.state_dict()
    assert "learning_rate" not in sd["hyperparameters"]
    b = numopt.GD(schedule)
    b.load_state_dict(sd)
    assert b.hyperparameters["learning_rate"] is schedule
    assert b.learning_rate_at(2) == pytest.approx(0.05)
    # A float learning rate in the dict replaces a schedule.
    c = numopt.GD(schedule)
    c.load_state_dict(numopt.GD(0.3).state_dict())
    assert c.hyperparameters["learning_rate"] == 0.3


def test_schedule_with_state_is_saved_and_restored():
    class Halving:
        def __init__(self, lr):
            self.lr = lr

        def __call__(self, k):
            return self.lr * 0.5**k

        def state_dict(self):
            return {"lr": self.lr}

        def load_state_dict(self, d):
            self.lr = d["lr"]

    a = numopt.GD(Halving(0.4))
    x = np.ones(2)
    a.step(x, x.copy())
    sd = a.state_dict()
    assert sd["schedule"] == {"lr": 0.4}
    b = numopt.GD(Halving(1.0))
    b.load_state_dict(sd)
    assert b.hyperparameters["learning_rate"].lr == 0.4
    assert b.learning_rate_at(2) == pytest.approx(0.2)


def test_a_schedule_saved_in_a_state_dict_is_never_silently_dropped():
    """Issue: loading a state dict saved with a schedule into ``Adam()`` ran at the default
    1e-3 without a word.  The schedule is described in the dict; loading needs an
    optimizer built with the same schedule."""
    from numopt import schedules

    a = numopt.Adam(schedules.CosineAnnealing(0.1, 100))
    x = np.ones(3)
    a.step(x, x.copy())
    sd = a.state_dict()
    assert sd["learning_rate_schedule"] == repr(schedules.CosineAnnealing(0.1, 100))
    with pytest.raises(ValueError, match=r"saved with learning_rate = CosineAnnealing\(.*Adam\("):
        numopt.Adam().load_state_dict(sd)
    with pytest.raises(ValueError, match=r"this Adam's is CosineAnnealing\(initial=0\.2"):
        numopt.Adam(schedules.CosineAnnealing(0.2, 100)).load_state_dict(sd)
    b = numopt.Adam(schedules.CosineAnnealing(0.1, 100))
    b.load_state_dict(sd)  # the same schedule: loads, and goes on as a would
    y = x.copy()
    a.step(x, np.full(3, 0.5))
    b.step(y, np.full(3, 0.5))
    np.testing.assert_array_equal(x, y)
    # a Python callable is described by its type; any callable takes it
    c = numopt.GD(lambda k: 0.1)
    c.step(x, x.copy())
    sd = c.state_dict()
    assert sd["learning_rate_schedule"] == "a function callable"
    with pytest.raises(ValueError, match="a function callable, a schedule"):
        numopt.GD(0.1).load_state_dict(sd)
    numopt.GD(lambda k: 0.2).load_state_dict(sd)
