"""The stateful optimizer API: construction, validation, shapes, schedules, backends.

The state (its layout, ``state_dict``/``load_state_dict``) is tested in
tests/rules/test_state_dict.py; the variants are tests/stateful_variants.py.
"""

from __future__ import annotations

import functools
import inspect
import math
import re

import numpy as np
import pytest
from stateful_variants import CLASSES, VARIANTS, make, problem

import numopt
from numopt.kernels.cpu import SERIAL_BELOW


def named(name: str) -> str:
    """A ``match=`` pattern for an argument's name as a whole word."""
    return rf"\b{re.escape(name)}\b"


# -- construction ------------------------------------------------------------------------

DEFAULTS = {
    numopt.GD: {"learning_rate": 1e-3, "weight_decay": 0.0},
    numopt.Momentum: {
        "learning_rate": 1e-3,
        "beta": 0.9,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
    },
    numopt.RMSprop: {
        "learning_rate": 1e-2,
        "beta": 0.9,
        "eps": 1e-8,
        "eps_placement": "inside",
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
    },
    numopt.Adam: {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
    },
    numopt.AdamW: {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.01,
        "amsgrad": False,
    },
    numopt.Adagrad: {
        "learning_rate": 1e-2,
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
    },
    numopt.Adadelta: {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    numopt.Adamax: {
        "learning_rate": 2e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
    },
    numopt.NAdam: {
        "learning_rate": 2e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum_decay": 4e-3,
        "decoupled_weight_decay": False,
    },
    numopt.RAdam: {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "decoupled_weight_decay": False,
    },
    numopt.Rprop: {"learning_rate": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)},
    numopt.Lion: {"learning_rate": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    numopt.Muon: {  # torch.optim.Muon's
        "learning_rate": 1e-3,
        "weight_decay": 0.1,
        "momentum": 0.95,
        "nesterov": True,
        "ns_coefficients": (3.4445, -4.7750, 2.0315),
        "eps": 1e-7,
        "ns_steps": 5,
        "adjust_lr_fn": None,
    },
    numopt.SparseAdam: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    numopt.Adafactor: {  # torch.optim.Adafactor's
        "learning_rate": 1e-2,
        "beta2_decay": -0.8,
        "eps": (None, 1e-3),
        "d": 1.0,
        "weight_decay": 0.0,
    },
    numopt.Prodigy: {  # optax.contrib.prodigy's
        "learning_rate": 1.0,
        "beta1": 0.9,
        "beta2": 0.999,
        "beta3": None,
        "eps": 1e-8,
        "estim_lr0": 1e-6,
        "estim_lr_coef": 1.0,
        "weight_decay": 0.0,
        "safeguard_warmup": False,
    },
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_defaults(cls):
    opt = cls()
    assert opt.hyperparameters == {**DEFAULTS[cls], "maximize": False}
    assert opt.backend == "auto"
    assert opt.step_count == 0
    assert opt.state == {}
    assert "state" not in opt.state_dict()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_signature_takes_the_documented_hyperparameters(cls):
    params = inspect.signature(cls).parameters
    every_rule = {
        "backend",
        "maximize",
        "clip_norm",
        "clip_value",
    }  # numopt.rules.clipping: all rules
    assert set(params) - every_rule == set(DEFAULTS[cls])
    assert params["maximize"].default is False
    assert params["clip_norm"].default is None and params["clip_value"].default is None
    for name, value in DEFAULTS[cls].items():
        assert params[name].default == value
    # Only the learning rate is positional.
    positional = [p for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name for p in positional] == ["learning_rate"]
    with pytest.raises(TypeError):
        cls(0.1, 0.5)


def test_hyperparameters_are_normalised():
    opt = numopt.Adam(1, beta1=np.float32(0.5), beta2=0, eps=np.float64(1e-6))
    assert opt.hyperparameters["learning_rate"] == 1.0
    assert all(
        type(opt.hyperparameters[k]) is float for k in ("learning_rate", "beta1", "beta2", "eps")
    )
    assert numopt.Momentum(nesterov=np.True_).hyperparameters["nesterov"] is True


def test_repr():
    assert repr(numopt.Adam()) == (
        "Adam(learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0, "
        "amsgrad=False, maximize=False)"
    )
    assert repr(numopt.GD(0.1)) == "GD(learning_rate=0.1, weight_decay=0.0, maximize=False)"
    assert repr(numopt.RMSprop(eps_placement="outside")) == (
        "RMSprop(learning_rate=0.01, beta=0.9, eps=1e-08, eps_placement='outside', "
        "weight_decay=0.0, momentum=0.0, centered=False, maximize=False)"
    )
    assert repr(numopt.Momentum(nesterov=True, maximize=True)) == (
        "Momentum(learning_rate=0.001, beta=0.9, dampening=0.0, weight_decay=0.0, "
        "nesterov=True, maximize=True)"
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_repr_evaluates_to_an_equal_optimizer(variant):
    opt = make(variant)
    again = eval(repr(opt), vars(numopt))
    assert type(again) is type(opt)
    assert again.hyperparameters == opt.hyperparameters


def test_rules_table():
    assert numopt.RULES == {
        "gd": numopt.GD,
        "sgd": numopt.GD,
        "momentum": numopt.Momentum,
        "rmsprop": numopt.RMSprop,
        "adam": numopt.Adam,
        "adamw": numopt.AdamW,
        "adagrad": numopt.Adagrad,
        "adadelta": numopt.Adadelta,
        "adamax": numopt.Adamax,
        "nadam": numopt.NAdam,
        "radam": numopt.RAdam,
        "rprop": numopt.Rprop,
        "lion": numopt.Lion,
        "lamb": numopt.Lamb,
        "asgd": numopt.ASGD,
        "adabelief": numopt.AdaBelief,
        "yogi": numopt.Yogi,
        "adan": numopt.Adan,
        "adopt": numopt.ADOPT,
        "ademamix": numopt.AdEMAMix,
        "sign_sgd": numopt.SignSGD,
        "signum": numopt.Signum,
        "lars": numopt.LARS,
        "muon": numopt.Muon,
        "sparse_adam": numopt.SparseAdam,
        "adafactor": numopt.Adafactor,
        "prodigy": numopt.Prodigy,
        "schedule_free_sgd": numopt.ScheduleFreeSGD,
        "schedule_free_adamw": numopt.ScheduleFreeAdamW,
    }
    assert numopt.SGD is numopt.GD
    for name, cls in numopt.RULES.items():
        assert cls.name == ("gd" if name == "sgd" else name)


# -- bad hyperparameters -----------------------------------------------------------------

_DECAY = [(-0.1, ValueError), (1.0, ValueError), (1.5, ValueError), (math.nan, ValueError)]
BAD = {
    "learning_rate": [
        (0, ValueError),
        (-1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("0.1", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
    "beta": _DECAY,
    "beta1": _DECAY,
    "beta2": _DECAY,
    "eps": [(0, ValueError), (-1e-8, ValueError), (math.inf, ValueError)],
    "weight_decay": [(-0.1, ValueError), (math.nan, ValueError)],
    "nesterov": [("yes", TypeError), (1, TypeError)],
    "dampening": [(-0.1, ValueError), (1.5, ValueError), (math.nan, ValueError), ("0", TypeError)],
    "momentum": _DECAY,
    "centered": [("yes", TypeError), (1, TypeError)],
    "amsgrad": [("yes", TypeError), (0, TypeError)],
    "eps_placement": [("middle", ValueError)],
    "backend": [("gpu", ValueError)],
    "rho": _DECAY,
    "lr_decay": [(-0.1, ValueError), (math.nan, ValueError), ("0", TypeError)],
    "initial_accumulator_value": [(-0.1, ValueError), (math.inf, ValueError)],
    "momentum_decay": [(-1e-3, ValueError), (None, TypeError)],
    "decoupled_weight_decay": [("yes", TypeError), (1, TypeError)],
    "etas": [((1.2, 0.5), ValueError), ((0.5, 1.0), ValueError), (0.5, TypeError)],
    "step_sizes": [((1.0, 0.1), ValueError), ((0.0, 1.0), ValueError), ((1e-6,), TypeError)],
    "beta3": _DECAY,
    "eps_root": [(-1e-8, ValueError), (math.inf, ValueError), ("0", TypeError)],
    "alpha": [(-0.5, ValueError), (math.nan, ValueError), (lambda t: 5.0, TypeError)],
    "clipping": [("yes", TypeError), (1, TypeError)],
    "lambd": [(-1e-4, ValueError), (math.inf, ValueError)],
    "t0": [(-1.0, ValueError), (math.nan, ValueError), (None, TypeError)],
    "trust_coefficient": [(0.0, ValueError), (-1e-3, ValueError), ("1", TypeError)],
    "weight_lr_power": [(-1.0, ValueError), (math.inf, ValueError), (None, TypeError)],
    "ns_coefficients": [
        ((1.0, 2.0), TypeError),
        ((1.0, math.nan, 2.0), ValueError),
        (3, TypeError),
    ],
    "ns_steps": [(100, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)],
    "adjust_lr_fn": [("rms", ValueError), (1, TypeError)],
}
#: Schedule-Free's β1 is in (0, 1]: 1 is allowed, 0 would divide by zero.
_INTERPOLATION = [(0.0, ValueError), (-0.1, ValueError), (1.5, ValueError), (math.nan, ValueError)]
#: Where one rule's range differs from the others' (LARS's ε may be 0, optax's default).
BAD_FOR = {
    ("LARS", "eps"): [(-1e-8, ValueError), (math.inf, ValueError), ("0", TypeError)],
    ("ScheduleFreeSGD", "beta1"): _INTERPOLATION,
    ("ScheduleFreeAdamW", "beta1"): _INTERPOLATION,
}


def _bad_cases():
    for cls in CLASSES:
        for name in [*DEFAULTS[cls], "backend"]:
            for value, exc in BAD_FOR.get((cls.__name__, name), BAD[name]):
                yield pytest.param(cls, name, value, exc, id=f"{cls.__name__}-{name}={value!r}")


@pytest.mark.parametrize(("cls", "name", "value", "exc"), list(_bad_cases()))
def test_bad_hyperparameter(cls, name, value, exc):
    with pytest.raises(exc, match=named(name)):
        cls(**{name: value})


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_unknown_hyperparameter(cls):
    with pytest.raises(TypeError, match="lr"):
        cls(lr=0.1)  # torch's name; numopt's is learning_rate


# -- bad arrays --------------------------------------------------------------------------


def _readonly():
    x = np.ones(3)
    x.flags.writeable = False
    return x, np.ones(3)


BAD_ARRAYS = {
    "x-list": (lambda: ([1.0, 2.0], np.ones(2)), TypeError, r"^x\b"),
    "x-int": (lambda: (np.ones(2, np.int64), np.ones(2, np.int64)), TypeError, r"^x\b"),
    "x-float16": (lambda: (np.ones(2, np.float16), np.ones(2, np.float16)), TypeError, r"^x\b"),
    "x-complex": (
        lambda: (np.ones(2, np.complex128), np.ones(2, np.complex128)),
        TypeError,
        r"^x\b",
    ),
    "g-float32": (lambda: (np.ones(2), np.ones(2, np.float32)), TypeError, r"^g\b"),
    "g-float64": (lambda: (np.ones(2, np.float32), np.ones(2)), TypeError, r"^g\b"),
    "g-shape": (lambda: (np.ones(2), np.ones(3)), ValueError, r"^g\b"),
    "g-same-size-other-shape": (lambda: (np.ones(4), np.ones((2, 2))), ValueError, r"^g\b"),
    "x-readonly": (_readonly, ValueError, r"^x\b"),
    "x-strided": (lambda: (np.ones(6)[::2], np.ones(3)), ValueError, r"^x\b"),
    "x-2d-not-contiguous": (lambda: (np.ones((4, 4))[:, :2], np.ones((4, 2))), ValueError, r"^x\b"),
    "g-list": (lambda: (np.ones(2), [1.0, 1.0]), TypeError, r"^g\b"),
    "x-none": (lambda: (None, np.ones(2)), TypeError, r"^x\b"),
}


@pytest.mark.parametrize("variant", ["gd", "adam"])
@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_bad_arrays(case, variant):
    factory, exc, pattern = BAD_ARRAYS[case]
    x, g = factory()
    before = np.array(x, copy=True) if x is not None else None
    opt = make(variant)
    with pytest.raises(exc, match=pattern):
        opt.step(x, g)
    assert opt.step_count == 0
    if before is not None:
        np.testing.assert_array_equal(np.asarray(x), before)  # untouched


# -- shapes and layouts ------------------------------------------------------------------


def test_zero_dimensional_x():
    x = np.array(1.0)
    assert numopt.GD(0.1).step(x, np.array(2.0)) is x
    assert x.shape == ()
    assert x == pytest.approx(0.8, rel=1e-15)  # 1 - 0.1·2

    opt = numopt.Adam(0.1)
    x = np.array(1.0)
    opt.step(x, np.array(3.0))
    assert x == pytest.approx(0.9, rel=1e-8)  # first Adam step moves by ~η
    sd = opt.state_dict()
    assert sd["state"]["m"].shape == ()
    assert float(sd["state"]["m"]) == pytest.approx(0.3, rel=1e-15)  # 0.1·3


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fortran_order_matches_c_order(variant):
    x0, grads = problem(11, (3, 5))
    xc = np.ascontiguousarray(x0)
    xf = np.asfortranarray(x0)
    xf_mixed = np.asfortranarray(x0)  # F-ordered x with C-ordered gradients
    opt_c, opt_f, opt_m = make(variant), make(variant), make(variant)
    for g in grads:
        assert opt_c.step(xc, np.ascontiguousarray(g)) is xc
        assert opt_f.step(xf, np.asfortranarray(g)) is xf
        assert opt_m.step(xf_mixed, np.ascontiguousarray(g)) is xf_mixed
    assert xf.flags.f_contiguous and not xf.flags.c_contiguous
    # a norm (LAMB's, clip_norm's) sums in memory order: the same to rounding only
    same = np.testing.assert_array_equal
    if variant in ("lamb", "adam-clipped"):
        same = functools.partial(np.testing.assert_allclose, rtol=1e-14, atol=1e-15)
    same(xf, xc)
    same(xf_mixed, xc)
    sc, sf = opt_c.state_dict()["state"], opt_f.state_dict()["state"]
    for name in opt_c.state_names:
        assert sf[name].shape == (3, 5)
        same(sf[name], sc[name])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_size_zero_step_is_a_counted_no_op(variant):
    opt = make(variant)
    x = np.empty((0, 3))
    for t in (1, 2):
        assert opt.step(x, np.empty((0, 3))) is x
        assert opt.step_count == t
    assert x.shape == (0, 3)
    assert all(a.size == 0 for a in opt.state.values())
    assert set(opt.state) == set(opt.state_names)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_large_array_auto_backend(variant, dtype):
    n = 2**16 + 3
    assert n > SERIAL_BELOW
    x0, grads = problem(2, n, dtype, steps=2)
    x, want = x0.copy(), x0.copy()
    alias = x[:10]  # a view: updates must land in x's own memory
    auto, ref = make(variant, "auto"), make(variant, "numpy")
    for g in grads:
        assert auto.step(x, g) is x
        ref.step(want, g)
    np.testing.assert_array_max_ulp(x, want, maxulp=4)
    np.testing.assert_array_equal(alias, x[:10])
    assert not np.array_equal(x, x0)


def test_auto_backend_dispatch(monkeypatch):
    """``backend="auto"`` runs the serial loop below SERIAL_BELOW, the parallel one above."""
    import numopt.rules.optimizer as optimizer_module

    real = optimizer_module.cpu_loops
    used = []

    def spy(body, clip_value=False, bounded=False, keep=False):
        loops = real(body, clip_value, bounded, keep)

        def wrap(kind):
            def run(*args):
                used.append(kind)
                return getattr(loops, kind)(*args)

            return run

        return type(loops)(wrap("serial"), wrap("parallel"))

    monkeypatch.setattr(optimizer_module, "cpu_loops", spy)
    for n in (3, SERIAL_BELOW - 1, SERIAL_BELOW, 2**16 + 3):
        x = np.ones(n)
        numopt.Adam().step(x, x.copy())
    assert used == ["serial", "serial", "parallel", "parallel"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gradient_may_be_strided_or_alias_x(variant):
    x0, grads = problem(4, 6)
    # A strided gradient gives the same result as its contiguous copy.
    a, b = x0.copy(), x0.copy()
    opt_a, opt_b = make(variant), make(variant)
    for g in grads:
        big = np.zeros(12)
        big[::2] = g
        opt_a.step(a, big[::2])
        opt_b.step(b, g.copy())
    np.testing.assert_array_equal(a, b)
    # g may be x itself (the gradient of ‖x‖²/2).
    c, d = x0.copy(), x0.copy()
    opt_c, opt_d = make(variant), make(variant)
    for _ in range(3):
        opt_c.step(c, c)
        opt_d.step(d, d.copy())
    np.testing.assert_array_equal(c, d)


# -- learning-rate schedules -------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "serial", "parallel"])
def test_schedule_is_called_with_the_zero_based_step(backend):
    calls = []

    def schedule(k):
        calls.append(k)
        return 0.1 * 0.5**k

    opt = numopt.GD(schedule, backend=backend)
    x = np.array([1.0, -2.0])
    g = np.array([1.0, 1.0])
    opt.step(x, g)
    np.testing.assert_allclose(x, [0.9, -2.1], rtol=1e-15)  # 1 - 0.1·1, -2 - 0.1·1
    opt.step(x, g)
    np.testing.assert_allclose(x, [0.85, -2.15], rtol=1e-15)  # 0.9 - 0.05, -2.1 - 0.05
    opt.step(x, g)
    np.testing.assert_allclose(x, [0.825, -2.175], rtol=1e-15)  # 0.85 - 0.025, ...
    assert calls == [0, 1, 2]
    assert opt.learning_rate_at(1) == 0.1
    assert opt.learning_rate_at(2) == 0.05


def test_schedule_drives_adamw_decay():
    """AdamW's decay factor 1 - η_t λ uses the scheduled η_t."""
    opt = numopt.AdamW(lambda k: 0.1 * 0.5**k, weight_decay=0.5)
    x = np.array([2.0])
    opt.step(x, np.array([0.0]))  # m = v = 0: only the decay, θ·(1 - 0.1·0.5)
    assert x[0] == pytest.approx(1.9, rel=1e-15)
    opt.step(x, np.array([0.0]))  # θ·(1 - 0.05·0.5)
    assert x[0] == pytest.approx(1.9 * 0.975, rel=1e-15)


def test_schedule_may_reach_zero_but_not_below():
    opt = numopt.GD(lambda k: 0.0)  # e.g. cosine annealing's end: the step changes nothing
    x = np.ones(2)
    opt.step(x, x.copy())
    np.testing.assert_array_equal(x, 1.0)


@pytest.mark.parametrize(
    ("value", "exc"),
    [
        (-1e-9, ValueError),
        (-1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("0.1", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_schedule_value_raises_at_step_time(value, exc):
    opt = numopt.Adam(lambda k: 0.1 if k == 0 else value)  # construction accepts it
    x = np.ones(2)
    opt.step(x, x.copy())
    before = x.copy()
    with pytest.raises(exc, match=r"learning_rate schedule"):
        opt.step(x, x.copy())
    np.testing.assert_array_equal(x, before)
    assert opt.step_count == 1


# -- backends ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_cuda_backend_rejects_host_arrays(cls):
    opt = cls(backend="cuda")
    x = np.ones(3)
    with pytest.raises(TypeError, match="cuda"):
        opt.step(x, x.copy())
    np.testing.assert_array_equal(x, np.ones(3))
    assert opt.step_count == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_numpy_backend_matches_serial(variant, dtype):
    x0, grads = problem(6, 50, dtype, steps=5)
    xn, xs = x0.copy(), x0.copy()
    on, os_ = make(variant, "numpy"), make(variant, "serial")
    for g in grads:
        on.step(xn, g)
        os_.step(xs, g)
        np.testing.assert_array_max_ulp(xn, xs, maxulp=4)
    for name in on.state_names:
        np.testing.assert_array_max_ulp(on.state[name], os_.state[name], maxulp=4)


# -- regressions: bugs found by these tests, fixed --------------------------------------


@pytest.mark.parametrize("cause", ["cuda-backend-host-arrays", "bad-schedule"])
def test_failed_first_step_leaves_no_state(cause):
    calls = []

    def fails_once(k):
        calls.append(k)
        return -1.0 if len(calls) == 1 else 0.1

    if cause == "cuda-backend-host-arrays":
        opt, expected = numopt.Adam(backend="cuda"), TypeError
    else:
        opt, expected = numopt.Adam(fails_once), ValueError
    x = np.ones(3)
    with pytest.raises(expected):
        opt.step(x, x.copy())
    assert opt.step_count == 0
    assert "state" not in opt.state_dict()
    assert not opt.state
    if cause == "bad-schedule":
        # Nothing was built, so another layout is still welcome.
        y = np.ones(4)
        opt.step(y, y.copy())
        assert opt.step_count == 1


@pytest.mark.parametrize(
    "backend",
    ["numpy", "serial", "parallel"],
)
def test_gradient_overlapping_x_is_read_before_the_update(backend):
    buf = np.arange(1.0, 6.0)  # [1, 2, 3, 4, 5]
    x, g = buf[1:], buf[:-1]  # x = [2, 3, 4, 5], g = [1, 2, 3, 4]: g[i+1] is x[i]
    numopt.GD(0.5, backend=backend).step(x, g)
    # θ - ηg with the gradient as passed: [2 - 0.5, 3 - 1, 4 - 1.5, 5 - 2]
    np.testing.assert_array_equal(x, [1.5, 2.0, 2.5, 3.0])


def test_state_dict_through_plain_lists_fits_a_fortran_ordered_x():
    x0, grads = problem(10, (2, 3), steps=3)
    xa = np.asfortranarray(x0)
    a = numopt.Adam(0.1)
    a.step(xa, np.asfortranarray(grads[0]))
    sd = a.state_dict()
    sd["state"] = {name: np.array(arr.tolist()) for name, arr in sd["state"].items()}
    b = numopt.Adam()
    b.load_state_dict(sd)
    xb = xa.copy(order="F")
    for g in grads[1:]:
        a.step(xa, g)
        b.step(xb, g)
    np.testing.assert_array_equal(xb, xa)


def test_huge_integer_hyperparameter_is_a_named_value_error():
    with pytest.raises(ValueError, match="learning_rate"):
        numopt.GD(10**400)


def test_hyperparameters_change_through_checked_attributes():
    opt = numopt.Adam(0.1)
    assert opt.learning_rate == 0.1 and opt.beta1 == 0.9
    opt.learning_rate = 0.01  # used from the next step on, as a torch scheduler would
    assert opt.hyperparameters["learning_rate"] == 0.01
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        opt.learning_rate = -1.0
    with pytest.raises(AttributeError, match=r"Adam has no hyperparameter 'lr'"):
        opt.lr = 0.5
    with pytest.raises(TypeError):
        opt.hyperparameters["learning_rate"] = 5.0  # a read-only view
    with pytest.raises(ValueError, match="backend must be one of"):
        opt.backend = "gpu"


# -- structured parameters: torch's list of parameters, a dict of arrays -----------------
@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
@pytest.mark.parametrize("rule", ["adam", "momentum", "lamb"])
def test_step_takes_a_list_tuple_or_dict_of_arrays_as_one_flat_array(kind, rule):
    """The arrays are one set of parameters: the same steps as on their concatenation
    (LAMB: each array a layer, as ``layers=`` their sizes on the flat array)."""
    rng = np.random.default_rng(0)
    shapes = [(2, 3), (4,), (1, 2)]
    values = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]

    def structured(arrays):
        if kind == "dict":
            return {f"p{i}": a for i, a in enumerate(arrays)}
        return tuple(arrays) if kind == "tuple" else list(arrays)

    x = structured([v.copy() for v in values])
    leaves = list(x.values()) if kind == "dict" else list(x)
    flat = np.concatenate([v.ravel() for v in values])
    opt, ref = numopt.RULES[rule](0.05), numopt.RULES[rule](0.05)
    if rule == "lamb":
        ref.layers = [int(np.prod(s)) for s in shapes]
    for g in grads:
        assert opt.step(x, structured(g)) is x
        ref.step(flat, np.concatenate([a.ravel() for a in g]))
    np.testing.assert_array_equal(np.concatenate([a.ravel() for a in leaves]), flat)
    after = list(x.values()) if kind == "dict" else list(x)
    assert all(a is b for a, b in zip(leaves, after, strict=True))  # updated in place
    assert opt.step_count == 3 and (rule != "lamb" or opt.layers is None)


def test_structured_step_errors_name_the_array():
    opt = numopt.Adam(0.1)
    with pytest.raises(TypeError, match=r"x\[1\] must be a float32 or float64 numpy.ndarray"):
        opt.step([np.ones(2), np.ones(2, int)], [np.ones(2), np.ones(2)])
    with pytest.raises(TypeError, match=r"x\['b'\] must be .* got list"):
        opt.step({"a": np.ones(2), "b": [1.0]}, {"a": np.ones(2), "b": np.ones(1)})
    ro = np.ones(2)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"x\[0\] is read-only"):
        opt.step([ro], [np.ones(2)])
    with pytest.raises(ValueError, match=r"g must be a dict with keys \['a'\]"):
        opt.step({"a": np.ones(2)}, {"b": np.ones(2)})
    with pytest.raises(ValueError, match=r"g\[0\] has shape \(3,\) but x0 has shape \(2,\)"):
        opt.step([np.ones(2)], [np.ones(3)])
    assert opt.step_count == 0  # nothing was stepped


@pytest.mark.parametrize("method", ["adam", "adafactor", "muon"])
def test_a_list_or_dict_x_keeps_its_arrays_until_reset(method):
    opt = numopt.RULES[method]()
    x = {"W": np.ones((6, 4)), "V": np.ones((4, 6))}
    opt.step(x, {k: np.full_like(v, 0.5) for k, v in x.items()})
    for other in (
        {"W": np.ones((4, 6)), "V": np.ones((4, 6))},  # a shape changed, the size did not
        {"V": np.ones((4, 6)), "W": np.ones((6, 4))},  # the same arrays, another order
    ):
        with pytest.raises(ValueError, match=r"state was built for \{'W': \(6, 4\)"):
            opt.step(other, {k: np.ones_like(v) for k, v in other.items()})
    opt.reset()
    other = {"V": np.ones((4, 6)), "W": np.ones((6, 4))}
    opt.step(other, {k: np.ones_like(v) for k, v in other.items()})
    assert opt.step_count == 1


@pytest.mark.parametrize("rule", [numopt.Lamb, numopt.LARS])
def test_layers_set_by_hand_must_be_a_list_x_s_own(rule):
    x = [np.ones(3), np.ones(2)]
    opt = rule(layers=[2, 3])
    with pytest.raises(ValueError, match=r"layers=\[2, 3\] was set, but x's arrays have the sizes"):
        opt.step(x, [np.ones(3), np.ones(2)])
    same = rule(layers=[3, 2])
    same.step(x, [np.ones(3), np.ones(2)])
    assert same.step_count == 1


def test_shapes_set_by_hand_must_be_a_list_x_s_own():
    x = {"a": np.ones((4, 3)), "b": np.ones(4)}
    opt = numopt.Adafactor(shapes=[(2, 6), (4,)])
    with pytest.raises(ValueError, match=r"shapes=\[\[2, 6\], \[4\]\] was set, but x's arrays"):
        opt.step(x, {k: np.ones_like(v) for k, v in x.items()})
    with pytest.raises(ValueError, match=r"and x\['b'\] has shape \(3,\)"):
        y = {"W": np.ones((6, 3)), "b": np.ones(3)}
        numopt.Muon().step(y, {k: np.ones_like(v) for k, v in y.items()})
