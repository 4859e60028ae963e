"""``opt.bounds`` on the stateful optimizers: x's shape, order and dtype, SciPy's
``Bounds``, copies, and every bad value refused without a change."""

from __future__ import annotations

import numpy as np
import pytest
from box_problem import inside
from scipy.optimize import Bounds

import numopt


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_opt_bounds_follow_x_shape_order_and_dtype(order, dtype):
    rng = np.random.default_rng(0)
    lo = -rng.random((3, 4))
    x = np.asarray(rng.standard_normal((3, 4)).clip(lo, 0.5), dtype, order=order)
    g = np.asarray(rng.standard_normal((3, 4)) * 5, dtype, order=order)
    opt = numopt.Adam(learning_rate=0.5, backend="serial")
    opt.bounds = (lo, np.array([0.5, 0.5, 0.5, 0.5]))  # hi broadcast along rows
    assert opt.bounds[1].shape == (4,)
    ref = numopt.Adam(learning_rate=0.5, backend="numpy")
    want = x.copy(order="K")
    for _ in range(3):
        opt.step(x, g)
        ref.step(want, g)
        np.clip(want, lo.astype(dtype), dtype(0.5), out=want)
    assert x.flags.f_contiguous == (order == "F")
    np.testing.assert_array_max_ulp(x, want, maxulp=4)
    assert inside(x, lo, np.full((3, 4), 0.5))


def test_opt_bounds_from_scipy_bounds_and_state_dict():
    opt = numopt.GD(learning_rate=1.0)
    opt.bounds = Bounds(0.0, [1.0, 2.0])
    x = np.array([0.5, 0.5])
    opt.step(x, np.array([-3.0, 3.0]))
    np.testing.assert_array_equal(x, [1.0, 0.0])
    assert "bounds" not in opt.state_dict()
    opt.reset()  # forgets the state, keeps the bounds
    assert opt.bounds is not None


def test_opt_bounds_are_copied_when_set():
    lo = np.zeros(2)
    opt = numopt.GD(learning_rate=1.0)
    opt.bounds = (lo, None)
    lo[:] = -10  # later changes to the caller's array do not reach the optimizer
    x = np.zeros(2)
    opt.step(x, np.ones(2))
    np.testing.assert_array_equal(x, [0.0, 0.0])


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        ((1.0, 0.0), ValueError, r"lower bound 1.0 > upper bound 0.0"),
        ((np.zeros(3), [1.0, -1.0, 1.0]), ValueError, r"upper bound -1.0 at index 1"),
        ((np.nan, 1.0), ValueError, "bounds lower bound contains NaN"),
        ((0.0, [1.0, np.nan]), ValueError, "bounds upper bound contains NaN"),
        ((np.inf, None), ValueError, r"a lower bound is \+inf"),
        ((None, -np.inf), ValueError, "an upper bound is -inf"),
        (("a", 1.0), TypeError, "bounds lower bound must be None, a real number"),
        ((0.0, 1 + 2j), TypeError, "must hold real numbers, got dtype complex128"),
        ((True, 2.0), TypeError, "bounds lower bound must be None, a real number"),
        ((0.0, 1.0, 2.0), TypeError, r"bounds must be a pair \(lo, hi\)"),
        (5.0, TypeError, r"bounds must be a pair \(lo, hi\)"),
        ((np.zeros(2), np.ones(3)), ValueError, "do not broadcast together"),
    ],
)
def test_opt_bounds_bad_values(value, error, pattern):
    opt = numopt.Adam()
    with pytest.raises(error, match=pattern):
        opt.bounds = value
    assert opt.bounds is None  # a refused value changes nothing


def test_opt_bounds_that_do_not_fit_x():
    opt = numopt.Adam()
    opt.bounds = (np.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"shape \(3,\), which does not broadcast to x's shape"):
        opt.step(np.zeros(4), np.ones(4))
    assert opt.step_count == 0
    opt.bounds = (-1e300, 1e300)
    with pytest.raises(ValueError, match="lower bound -1e\\+300 overflows float32"):
        opt.step(np.zeros(2, np.float32), np.ones(2, np.float32))
