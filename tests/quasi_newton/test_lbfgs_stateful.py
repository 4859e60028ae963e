"""``numopt.LBFGS`` as a stateful optimizer: ``f = opt.step(x, closure)`` with torch's
closure convention, one iteration per call — the same iterates as ``minimize``, its
``state_dict`` continuing bit for bit, bounds, a failed search, an interrupted one."""

from __future__ import annotations

import io
import pickle
import re

import numpy as np
import pytest
from bounded_problems import BOUNDED, X_MIN
from mgh import problem
from scipy.optimize import minimize

import numopt
from numopt.quasi_newton.workspace import I

ROSEN = problem("rosenbrock")
XROSEN = problem("extended_rosenbrock_10")
BOX = next(p for p in BOUNDED if p.name == "extended_rosenbrock_10_mixed")


def closure_of(p, counter=None):
    def closure(x):
        if counter is not None:
            counter.append(1)
        return p.fun(x), p.jac(x)

    return closure


def iterates_of_minimize(p, **options):
    """Every iterate of minimize's run from Python, and its result."""
    seen = []
    res = numopt.minimize(
        p.fun,
        p.x0.copy(),
        jac=p.jac,
        method="l-bfgs-b",
        bounds=p.bounds,
        callback=lambda intermediate_result: seen.append(intermediate_result.x),
        options={"compiled": False, **options},
    )
    return seen, res


def test_a_step_loop_reaches_scipys_minimiser_through_minimizes_iterates():
    seen, res = iterates_of_minimize(ROSEN)
    opt, x, calls = numopt.LBFGS(), ROSEN.x0.copy(), []
    for k in range(res.nit):
        f = opt.step(x, closure_of(ROSEN, calls))
        np.testing.assert_array_equal(x, seen[k])  # the same update, bit for bit
        assert f == ROSEN.fun(x) and not opt.failed
    assert opt.step_count == res.nit and len(calls) == res.nfev
    ref = minimize(ROSEN.fun, ROSEN.x0.copy(), jac=ROSEN.jac, method="L-BFGS-B")
    # SciPy's minimiser: both stop near (1, 1) where |g| ~ 1e-5 (|Δx| measured 4e-15)
    np.testing.assert_allclose(x, ref.x, atol=1e-9)
    for _ in range(5):  # more steps at the minimum: f does not increase
        f_next = opt.step(x, closure_of(ROSEN))
        assert f_next <= f or opt.failed
        f = f_next


def test_x_of_any_shape_float32_and_the_loss_returned():
    x = XROSEN.x0.reshape(2, 5).astype(np.float32)
    opt = numopt.LBFGS(maxcor=5)

    def closure(x):
        flat = x.reshape(-1).astype(np.float64)
        return XROSEN.fun(flat), XROSEN.jac(flat).reshape(2, 5)

    for _ in range(60):
        f = opt.step(x, closure)
    assert x.dtype == np.float32 and x.shape == (2, 5)
    assert f < 1e-6  # float32: f near 0 is (1e-4)^2-ish rounding at worst
    np.testing.assert_allclose(x, 1.0, atol=1e-3)


@pytest.mark.parametrize("at", [1, 7, 20])
def test_state_dict_continues_bit_for_bit(at):
    ref_opt, ref_x = numopt.LBFGS(maxcor=4), XROSEN.x0.copy()
    for _ in range(at):
        ref_opt.step(ref_x, closure_of(XROSEN))
    sd = ref_opt.state_dict()
    assert sd["rule"] == "l-bfgs-b" and sd["step"] == at
    assert sd["hyperparameters"] == {"maxcor": 4, "maxls": 20, "eps": 1e-8}
    buf = io.BytesIO()
    pickle.dump(sd, buf)  # plain data: it pickles (and np.savez's arrays, as checkpoints)
    restored = pickle.loads(buf.getvalue())
    opt, x = numopt.LBFGS(maxcor=4), ref_x.copy()
    opt.load_state_dict(restored)
    assert opt.step_count == at
    for _ in range(15):
        f_ref = ref_opt.step(ref_x, closure_of(XROSEN))
        calls = []
        f = opt.step(x, closure_of(XROSEN, calls))
        np.testing.assert_array_equal(x, ref_x)
        assert f == f_ref and calls  # (its own closure: no re-evaluation at the start)
    np.testing.assert_array_equal(
        opt.state_dict()["state"]["S"], ref_opt.state_dict()["state"]["S"]
    )


def test_state_dict_is_a_copy_and_an_empty_one_resets():
    opt, x = numopt.LBFGS(), ROSEN.x0.copy()
    assert "state" not in opt.state_dict()
    opt.step(x, closure_of(ROSEN))
    sd = opt.state_dict()
    sd["state"]["S"][:] = np.nan  # changing the copy changes nothing
    opt.step(x, closure_of(ROSEN))
    assert np.all(np.isfinite(opt.state_dict()["state"]["S"]))
    opt.load_state_dict(numopt.LBFGS().state_dict())
    assert opt.step_count == 0


def test_bounds_hold_and_give_minimizes_bounded_run():
    seen, res = iterates_of_minimize(BOX)
    opt = numopt.LBFGS()
    opt.bounds = (BOX.bounds.lb, BOX.bounds.ub)
    x = BOX.x0.copy()
    for k in range(res.nit):
        opt.step(x, closure_of(BOX))
        assert np.all(BOX.bounds.lb <= x) and np.all(x <= BOX.bounds.ub)
        np.testing.assert_array_equal(x, seen[k])
    # the hand-derived minimiser, to the accuracy gtol = 1e-5 leaves
    np.testing.assert_allclose(x, X_MIN[BOX.name], atol=1e-5)
    with pytest.raises(ValueError, match="before the first step"):
        opt.bounds = (0.0, 1.0)
    opt.reset()
    opt.bounds = (0.0, 1.0)
    assert opt.step_count == 0 and opt.bounds is not None


def test_x0_outside_the_bounds_is_projected_at_the_first_step():
    opt = numopt.LBFGS()
    opt.bounds = (-0.5, 0.5)
    x = ROSEN.x0.copy()
    opt.step(x, closure_of(ROSEN))
    assert np.all(np.abs(x) <= 0.5)


def test_a_failed_search_leaves_x_and_sets_failed():
    def wrong(x):  # minus the gradient: the search finds no decrease
        return float(x @ x), -2.0 * x

    opt, x = numopt.LBFGS(maxls=5), np.array([1.0, 2.0])
    f = opt.step(x, wrong)
    assert opt.failed and f == 5.0
    np.testing.assert_array_equal(x, [1.0, 2.0])
    assert opt.step(x, wrong) == 5.0 and opt.failed  # again: the same point, the same search
    opt.reset()  # forget the point, its gradient and the memory
    opt.step(x, closure_of(ROSEN))
    assert not opt.failed and opt.step_count == 1


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_exception_in_the_closure_leaves_x_at_the_step_start_and_the_search_goes_on(error):
    """The closure raising in the line search propagates, with x back at the step's
    start; the next step goes on with that search: the run is the uninterrupted one."""
    ref_opt, ref_x = numopt.LBFGS(), ROSEN.x0.copy()
    for _ in range(12):
        ref_opt.step(ref_x, closure_of(ROSEN))
    opt, x = numopt.LBFGS(), ROSEN.x0.copy()
    for _ in range(5):
        opt.step(x, closure_of(ROSEN))
    start = x.copy()

    def failing(x):  # (the step's first call is its search's first trial)
        raise error

    with pytest.raises(error):
        opt.step(x, failing)
    np.testing.assert_array_equal(x, start)
    assert opt.step_count == 5 and opt._work.ints[I.searching] == 1
    while opt.step_count < 12:
        opt.step(x, closure_of(ROSEN))
    np.testing.assert_array_equal(x, ref_x)


def test_errors_name_what_is_wrong():
    opt = numopt.LBFGS()
    x = ROSEN.x0.copy()
    with pytest.raises(TypeError, match="pair"):
        opt.step(x, lambda x: ROSEN.fun(x))
    with pytest.raises(ValueError, match="shape"):
        opt.step(x, lambda x: (ROSEN.fun(x), np.zeros(3)))
    with pytest.raises(TypeError, match="NumPy array"):
        opt.step([-1.2, 1.0], closure_of(ROSEN))
    with pytest.raises(TypeError, match="float32 or float64"):
        opt.step(np.array([1, 2]), closure_of(ROSEN))
    with pytest.raises(ValueError, match="contiguous and writeable"):
        opt.step(np.zeros((2, 2))[:, 0], closure_of(ROSEN))
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="contiguous and writeable"):
        opt.step(frozen, closure_of(ROSEN))
    opt.step(x, closure_of(ROSEN))
    with pytest.raises(ValueError, match="reset"):
        opt.step(np.zeros(4), closure_of(XROSEN))
    with pytest.raises(ValueError, match="reset"):
        opt.step(x.astype(np.float32), closure_of(ROSEN))
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="hyperparameters"):
        numopt.LBFGS(maxcor=3).load_state_dict(sd)
    with pytest.raises(ValueError, match="not 'l-bfgs-b'"):
        numopt.LBFGS().load_state_dict({**sd, "rule": "adam"})
    with pytest.raises(TypeError, match="dict"):
        numopt.LBFGS().load_state_dict([sd])
    broken = {**sd, "state": {k: v for k, v in sd["state"].items() if k != "wn"}}
    with pytest.raises(ValueError, match="wn"):
        numopt.LBFGS().load_state_dict(broken)
    wrong = {**sd, "state": {**sd["state"], "sy": np.zeros((3, 3))}}
    with pytest.raises(ValueError, match="sy"):
        numopt.LBFGS().load_state_dict(wrong)
    with pytest.raises(ValueError, match="maxcor"):
        numopt.LBFGS(maxcor=0)
    with pytest.raises(TypeError, match="maxls"):
        numopt.LBFGS(maxls=2.5)
    with pytest.raises(ValueError, match="backend"):
        numopt.LBFGS(backend="cuda")
    with pytest.raises(TypeError):
        numopt.LBFGS(10)  # keyword-only, as every numopt optimizer
    with pytest.raises(AttributeError, match="learning_rate"):
        numopt.LBFGS().learning_rate


@pytest.mark.parametrize(
    "given, hint",
    [
        ({"history_size": 5}, "did you mean maxcor=5"),
        ({"memory_size": 3}, "maxcor=3"),
        ({"lr": 1.0}, "its keywords are"),
    ],
)
def test_other_libraries_names_are_refused_with_numopts(given, hint):
    name = re.escape(repr(next(iter(given))))
    with pytest.raises(
        TypeError,
        match=rf"^LBFGS\(\) got an unexpected keyword argument {name}.*{re.escape(hint)}",
    ):
        numopt.LBFGS(**given)
