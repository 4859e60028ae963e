"""The options of the seed rules that change the state's layout (``amsgrad``,
``centered``, ``momentum > 0``): fixed once the state exists, carried by
``state_dict``, and resumed bit for bit from a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
from least_squares import X, Y, loss

import numopt

# -- options that change the state's layout -----------------------------------------------


def test_state_names_follow_the_options():
    assert numopt.Adam().state_names == ("m", "v")
    assert numopt.Adam(amsgrad=True).state_names == ("m", "v", "v_max")
    assert numopt.AdamW(amsgrad=True).state_names == ("m", "v", "v_max")
    assert numopt.RMSprop().state_names == ("s",)
    assert numopt.RMSprop(centered=True).state_names == ("s", "grad_avg")
    assert numopt.RMSprop(momentum=0.5).state_names == ("s", "momentum_buffer")
    assert numopt.RMSprop(centered=True, momentum=0.5).state_names == (
        "s",
        "grad_avg",
        "momentum_buffer",
    )
    assert numopt.Momentum(dampening=0.5, weight_decay=0.1).state_names == ("v",)
    # The class attribute keeps the default options' layout.
    assert numopt.Adam.state_names == ("m", "v")
    assert numopt.RMSprop.state_names == ("s",)


def test_layout_options_are_free_before_the_first_step():
    opt = numopt.Adam(0.1)
    opt.amsgrad = True
    assert opt.state_names == ("m", "v", "v_max")
    x = np.ones(3)
    opt.step(x, x.copy())
    assert set(opt.state) == {"m", "v", "v_max"}


@pytest.mark.parametrize(
    ("make", "name", "value"),
    [
        (lambda: numopt.Adam(0.1), "amsgrad", True),
        (lambda: numopt.AdamW(0.1, amsgrad=True), "amsgrad", False),
        (lambda: numopt.RMSprop(0.1), "centered", True),
        (lambda: numopt.RMSprop(0.1), "momentum", 0.5),
        (lambda: numopt.RMSprop(0.1, momentum=0.5), "momentum", 0.0),
    ],
    ids=[
        "adam-amsgrad-on",
        "adamw-amsgrad-off",
        "rmsprop-centered",
        "rmsprop-momentum-on",
        "rmsprop-momentum-off",
    ],
)
def test_layout_options_are_fixed_once_the_state_exists(make, name, value):
    opt = make()
    x = np.array([1.0, -2.0, 3.0])
    opt.step(x, x.copy())
    before = opt.state_dict()
    with pytest.raises(ValueError, match=rf"{name}={value!r} would change the state.*reset\(\)"):
        setattr(opt, name, value)
    after = opt.state_dict()
    assert after["hyperparameters"] == before["hyperparameters"]
    assert set(after["state"]) == set(before["state"])
    # reset() forgets the state: then the option may change, and the next step is a
    # first step with the new layout.
    opt.reset()
    setattr(opt, name, value)
    opt.step(x, x.copy())
    assert set(opt.state) == set(opt.state_names)
    assert getattr(opt, name) == value


def test_options_that_keep_the_layout_may_change_mid_run():
    """μ between positive values, dampening and weight decay switch kernels, not state."""
    x = np.array([1.0, -2.0, 3.0])
    rms = numopt.RMSprop(0.01, momentum=0.5)
    rms.step(x, x.copy())
    rms.momentum = 0.9
    rms.weight_decay = 0.1
    rms.step(x, x.copy())
    mom = numopt.Momentum(0.01)
    mom.step(x, x.copy())
    mom.dampening, mom.weight_decay = 0.5, 0.1  # from the plain body to the damped one
    want = x.copy()
    v = mom.state["v"].copy()
    g = x.copy()
    mom.step(x, g)
    v = 0.9 * v + 0.5 * (g + 0.1 * want)  # t = 2: dampened
    np.testing.assert_allclose(mom.state["v"], v, rtol=1e-15)
    np.testing.assert_allclose(x, want - 0.01 * v, rtol=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "serial"])
@pytest.mark.parametrize(
    ("cls", "hp"),
    [
        (numopt.Adam, {"amsgrad": True}),
        (numopt.AdamW, {"amsgrad": True}),
        (numopt.RMSprop, {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
        (numopt.RMSprop, {"momentum": 0.5}),
        (numopt.Momentum, {"dampening": 0.3, "weight_decay": 0.1, "nesterov": True}),
    ],
    ids=["adam", "adamw", "rmsprop-centered-momentum", "rmsprop-momentum", "momentum"],
)
def test_state_dict_carries_the_layout(cls, hp, backend):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(6)]
    a = cls(0.05, backend=backend, **hp)
    xa = x0.copy()
    for g in grads[:3]:
        a.step(xa, g)
    sd = a.state_dict()
    assert set(sd["state"]) == set(a.state_names)
    b = cls(backend=backend)  # default options: the state dict brings the layout
    b.load_state_dict(sd)
    assert b.state_names == a.state_names
    xb = xa.copy()
    for g in grads[3:]:
        a.step(xa, g)
        b.step(xb, g)
    np.testing.assert_array_equal(xb, xa)
    for name in a.state_names:
        np.testing.assert_array_equal(b.state[name], a.state[name])


def test_load_state_dict_checks_the_arrays_against_its_own_options():
    a = numopt.Adam(0.1, amsgrad=True)
    x = np.ones(3)
    a.step(x, x.copy())
    sd = a.state_dict()
    del sd["state"]["v_max"]
    b = numopt.Adam(0.2)
    b.step(np.ones(3), np.ones(3))
    before = b.state_dict()
    with pytest.raises(ValueError, match=r"must have the arrays \['m', 'v', 'v_max'\]"):
        b.load_state_dict(sd)
    assert b.state_names == ("m", "v")
    assert b.state_dict()["hyperparameters"] == before["hyperparameters"]
    # A complete dict may switch an optimizer that has state to the other layout.
    sd["state"]["v_max"] = a.state["v_max"].copy()
    b.load_state_dict(sd)
    assert b.state_names == ("m", "v", "v_max") and b.amsgrad is True


# -- checkpoint resume with the extra state arrays -----------------------------------------


RESUME = {
    "adam-amsgrad": ("adam", {"amsgrad": True, "weight_decay": 0.01}),
    "adamw-amsgrad": ("adamw", {"amsgrad": True}),
    "rmsprop-centered-momentum": (
        "rmsprop",
        {"centered": True, "momentum": 0.5, "weight_decay": 0.01, "eps_placement": "outside"},
    ),
    "momentum-dampening": (
        "momentum",
        {"dampening": 0.3, "weight_decay": 0.01, "nesterov": True, "maximize": False},
    ),
}


def _run(method, extra, batched, **options):
    opts = {
        "learning_rate": numopt.schedules.cosine_annealing(0.05, decay_steps=30),
        "gtol": 0.0,
        **extra,
        **options,
    }
    if batched:
        opts.update(batch_size=12, seed=3)
        opts.setdefault("epochs", 5)
    else:
        opts.setdefault("maxiter", 20)
    return numopt.minimize(loss, np.zeros(3), args=(X, Y), jac=True, method=method, options=opts)


@pytest.mark.parametrize("batched", [False, True], ids=["full-batch", "mini-batch"])
@pytest.mark.parametrize("case", sorted(RESUME))
def test_checkpoint_resume_is_bit_identical(case, batched, tmp_path):
    method, extra = RESUME[case]
    whole = _run(method, extra, batched)
    path = tmp_path / "run.npz"
    first = _run(method, extra, batched, checkpoint=path, maxiter=7)
    assert first.nit == 7
    with np.load(path) as saved:
        opt = numopt.RULES[method](**extra)
        assert {f"opt_{n}" for n in opt.state_names} <= set(saved.files)
    second = _run(method, extra, batched, resume=path)
    np.testing.assert_array_equal(second.x, whole.x)
    assert second.nit == whole.nit and second.fun == whole.fun


def test_resume_with_another_layout_option_is_an_error(tmp_path):
    path = tmp_path / "run.npz"
    _run("adam", {"amsgrad": True}, False, checkpoint=path, maxiter=3)
    with pytest.raises(ValueError, match="made with amsgrad=True, this run has False"):
        _run("adam", {}, False, resume=path)
