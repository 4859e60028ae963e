"""``opt.step``'s fast path (numopt/rules/fast_step.py) gives the slow path's bits.

After :data:`~numopt.rules.fast_step.AFTER` alike steps an optimizer steps through one
compiled call; everything it does not match (another dtype, layout, shape, kind of
array, a changed hyperparameter, bounds, a reset or a loaded state) goes back to the
slow path, whose checks and messages stay the same.
"""

from __future__ import annotations

import numpy as np
import pytest
from rule_table import VARIANTS, make

import numopt
from numopt.rules import fast_step

#: The variants whose steps can take the fast path (a factor function, one pass;
#: NAdam's too, whose host ``_factors`` keeps its Π_t memo on the optimizer).
FAST = sorted(
    v
    for v, (cls, fixed, _) in VARIANTS.items()
    if cls.spec.factor_fn is not None and cls.spec.passes is None
)


@pytest.fixture
def soon(monkeypatch):
    """The fast path from the third step on (its rule is the same at any count)."""
    monkeypatch.setattr(fast_step, "AFTER", 2)


def trajectory(opt, x, grads):
    for g in grads:
        opt.step(x, g)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", FAST)
def test_fast_steps_equal_the_reference_bit_for_bit(soon, variant, dtype):
    rng = np.random.default_rng(len(variant))
    x0 = rng.standard_normal((3, 4)).astype(dtype)
    grads = rng.standard_normal((12, 3, 4)).astype(dtype)
    fast = make(variant, "serial", learning_rate=0.05)
    slow = make(variant, "numpy", learning_rate=0.05)
    got = trajectory(fast, x0.copy(), grads)
    assert fast._fast is not None, "the fast path was not taken"
    assert np.array_equal(got, trajectory(slow, x0.copy(), grads))
    assert fast.step_count == 12
    for name, a in fast.state_dict()["state"].items():
        assert np.array_equal(a, slow.state_dict()["state"][name]), name


def test_the_default_count_and_the_auto_backend_reach_it():
    x, g = np.ones(100), np.full(100, 0.5)
    opt = numopt.Adam(learning_rate=1e-3)
    ref = numopt.Adam(learning_rate=1e-3, backend="numpy")
    y = x.copy()
    for _ in range(fast_step.AFTER - 1):
        opt.step(x, g)
        ref.step(y, g)
    assert opt._fast is None
    for _ in range(3):
        opt.step(x, g)
        ref.step(y, g)
    assert opt._fast is not None
    assert np.array_equal(x, y)


def test_a_change_of_hyperparameter_backend_or_bounds_takes_the_slow_path(soon):
    rng = np.random.default_rng(1)
    x0, grads = rng.standard_normal(6), rng.standard_normal((9, 6))
    opt = numopt.AdamW(learning_rate=0.1, backend="serial")
    ref = numopt.AdamW(learning_rate=0.1, backend="numpy")
    x, y = x0.copy(), x0.copy()
    for k, g in enumerate(grads):
        if k == 4:
            opt.learning_rate = ref.learning_rate = 0.01
        if k == 6:
            opt.bounds = ref.bounds = (-0.5, 0.5)
        opt.step(x, g)
        ref.step(y, g)
        assert np.array_equal(x, y), k
    assert opt._fast is None  # bounded: never fast
    opt.bounds = None
    opt.backend = "numpy"
    for g in grads[:4]:
        opt.step(x, g)
    assert opt._fast is None


def test_reset_and_load_state_dict_take_the_slow_path(soon):
    rng = np.random.default_rng(2)
    grads = rng.standard_normal((8, 5))
    opt = numopt.Adam(learning_rate=0.1, backend="serial")
    x = trajectory(opt, np.zeros(5), grads)
    saved, x_saved = opt.state_dict(), x.copy()
    trajectory(opt, x, grads)
    opt.load_state_dict(saved)
    again = trajectory(opt, x_saved.copy(), grads)
    assert np.array_equal(again, x)
    opt.reset()
    fresh = numopt.Adam(learning_rate=0.1, backend="serial")
    assert np.array_equal(
        trajectory(opt, np.zeros(5), grads), trajectory(fresh, np.zeros(5), grads)
    )


def test_other_arrays_go_the_slow_way_with_its_messages(soon):
    opt = numopt.Adam(learning_rate=0.1, backend="serial")
    x, g = np.ones((4, 6)), np.full((4, 6), 0.5)
    trajectory(opt, x, [g] * 4)
    assert opt._fast is not None
    with pytest.raises(ValueError, match="g has shape"):
        opt.step(x, g[:, :5])
    with pytest.raises(TypeError, match="g has dtype float32"):
        opt.step(x, g.astype(np.float32))
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step(frozen, g)
    with pytest.raises(ValueError, match="shape"):
        opt.step(np.ones(24), np.ones(24))  # the state's size, another shape
    # a Fortran-ordered x: the slow path refuses the other memory order
    with pytest.raises(ValueError, match="order"):
        opt.step(np.asfortranarray(x), np.asfortranarray(g))
    before = x.copy()
    opt.step(x, g)  # and the fast path again, from where it was
    ref = numopt.Adam(learning_rate=0.1, backend="numpy")
    y = np.ones((4, 6))
    trajectory(ref, y, [g] * 5)
    assert np.array_equal(x, y) and not np.array_equal(x, before)


def test_a_list_of_arrays_is_not_taken_for_an_array(soon):
    opt = numopt.Adam(learning_rate=0.1, backend="serial")
    ref = numopt.Adam(learning_rate=0.1, backend="numpy")
    x, y, g = np.ones(3), np.ones(3), np.full(3, 0.5)
    trajectory(opt, x, [g] * 4)
    trajectory(ref, y, [g] * 4)
    assert opt._fast is not None
    xs, ys = [x], [y]
    opt.step(xs, [g])  # the structured step (the state fits one array of 3)
    ref.step(ys, [g])
    assert np.array_equal(xs[0], ys[0])


@pytest.mark.parametrize("backend", ["parallel", "auto"])
def test_the_prange_loop_takes_it_too(soon, backend):
    n = 2**13 + 5  # above the serial/parallel switch-over
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((6, n))
    opt = numopt.AdamW(learning_rate=0.01, backend=backend)
    ref = numopt.AdamW(learning_rate=0.01, backend="numpy")
    got = trajectory(opt, np.ones(n), grads)
    assert opt._fast is not None
    assert np.array_equal(got, trajectory(ref, np.ones(n), grads))
