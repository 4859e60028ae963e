"""minimize(bounds=...): every iterate inside the box, the projected solution.

Every iterate of every rule must lie inside the box; a quadratic whose
unconstrained minimum lies outside must converge to the projected solution, and
stop there on the projected gradient (status 0).  The problem is tests/box_problem.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.optimize
from box_problem import HI, LO, ON_BOUNDARY, SOLUTION, fg, inside, pairs
from rule_table import MATRIX_RULES
from scipy.optimize import Bounds, OptimizeWarning

import numopt
import numopt.methods
from numopt.kernels.norms import projected_grad_norm

#: options under which each rule converges on the problem above
OPTIONS = {
    "gd": {"learning_rate": 0.3},
    "sgd": {"learning_rate": 0.3},
    "momentum": {"learning_rate": 0.05, "beta": 0.8},
    "rmsprop": {"learning_rate": lambda k: 0.01 / (1 + k / 200)},
    "adam": {"learning_rate": 0.05},
    "adamw": {"learning_rate": 0.05, "weight_decay": 0.0},
    "adagrad": {"learning_rate": 0.5},
    "adadelta": {"learning_rate": 1.0},
    "adamax": {"learning_rate": 0.05},
    "nadam": {"learning_rate": 0.05},
    "radam": {"learning_rate": 0.05},
    "rprop": {"learning_rate": 0.05},
    "lion": {"learning_rate": lambda k: 0.01 / (1 + k / 100)},
    "lamb": {"learning_rate": 0.05},
    "asgd": {"learning_rate": 0.3, "lambd": 0.0},  # λ > 0 shrinks θ: ∇f ≠ 0 at its fixed point
    "adabelief": {"learning_rate": 0.05},
    "yogi": {"learning_rate": 0.05},
    "adan": {"learning_rate": 0.05},
    "adopt": {"learning_rate": 0.05},
    "ademamix": {"learning_rate": 0.05, "beta3": 0.99},
    "sign_sgd": {"learning_rate": lambda k: 0.01 / (1 + k / 100)},
    "signum": {"learning_rate": lambda k: 0.02 * 0.999**k},
    "lars": {"learning_rate": 5.0, "trust_coefficient": 0.05},
    "sparse_adam": {"learning_rate": 0.05},
    "adafactor": {"learning_rate": 1.0, "eps": (None, 0.05)},
    "prodigy": {"learning_rate": lambda k: 1 / (1 + k / 100)},
}


#: the rules that take bounds (Schedule-Free refuses them: its z would leave the box) and
#: step this problem's vector (Muon steps matrices: tests/rules/test_muon.py has its bounds)
BOUNDED = sorted(
    m for m, cls in numopt.RULES.items() if cls.spec.allows_bounds and m not in MATRIX_RULES
)


def test_every_rule_has_options_here():
    assert set(OPTIONS) == set(BOUNDED)


@pytest.mark.parametrize(
    "method", sorted(m for m, cls in numopt.RULES.items() if not cls.spec.allows_bounds)
)
def test_a_rule_without_bounds_refuses_them(method):
    with pytest.raises(ValueError, match=r"^bounds: .* takes no bounds"):
        numopt.minimize(fg, np.zeros(4), jac=True, method=method, bounds=pairs())
    with pytest.raises(ValueError, match="takes no bounds"):
        numopt.RULES[method]().bounds = (0.0, 1.0)


# -- minimize(bounds=...) ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["serial", "parallel"])
@pytest.mark.parametrize("method", BOUNDED)
def test_every_iterate_is_inside_the_box(method, backend):
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.x.copy())

    res = numopt.minimize(
        fg,
        np.zeros(4),
        jac=True,
        method=method,
        bounds=pairs(),
        callback=callback,
        options={**OPTIONS[method], "maxiter": 300, "backend": backend},
    )
    assert len(seen) >= min(res.nit, 300) - 1 > 0
    for x in [*seen, res.x, res.x_best]:
        assert inside(x, LO, HI), x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", BOUNDED)
def test_converges_to_the_projected_solution(method, dtype):
    gtol = 1e-6 if dtype == np.float64 else 1e-4
    res = numopt.minimize(
        fg,
        np.zeros(4, dtype),
        jac=True,
        method=method,
        bounds=pairs(),
        options={**OPTIONS[method], "maxiter": 20000, "gtol": gtol},
    )
    assert res.x.dtype == dtype
    # the coordinates whose minimum lies outside end exactly on their bound
    np.testing.assert_array_equal(res.x[ON_BOUNDARY], SOLUTION[ON_BOUNDARY].astype(dtype))
    np.testing.assert_allclose(res.x, SOLUTION, atol=1e-4 if dtype == np.float32 else 2e-5)
    if method != "lion":  # Lion's sign steps shrink with its schedule only
        assert res.status == 0 and res.success, res.message


def test_matches_scipy_lbfgsb_on_a_coupled_quadratic():
    H = np.array([[3.0, 1.0, 0.2], [1.0, 2.0, 0.5], [0.2, 0.5, 1.0]])
    b = np.array([4.0, -5.0, 1.0])

    def f(x):
        return 0.5 * x @ H @ x - b @ x

    def grad(x):
        return H @ x - b

    bounds = [(0.0, 1.0), (-1.0, None), (None, 0.5)]
    ref = scipy.optimize.minimize(
        f, np.zeros(3), jac=grad, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-12}
    )
    for method, options in (("gd", {"learning_rate": 0.2}), ("adam", {"learning_rate": 0.02})):
        res = numopt.minimize(
            f,
            np.zeros(3),
            jac=grad,
            method=method,
            bounds=bounds,
            options={**options, "maxiter": 50000, "gtol": 1e-9},
        )
        assert res.status == 0, res.message
        np.testing.assert_allclose(res.x, ref.x, atol=1e-7)


def test_gtol_tests_the_projected_gradient():
    """At the solution max|g| stays large (the bounds hold x back) but the projected
    gradient vanishes: the run stops with status 0."""
    res = numopt.minimize(
        fg,
        np.zeros(4),
        jac=True,
        method="gd",
        bounds=pairs(),
        options={"learning_rate": 0.3, "gtol": 1e-8, "history": True},
    )
    assert res.status == 0 and res.success
    assert np.max(np.abs(res.jac)) > 1.0  # the raw gradient at the solution
    assert projected_grad_norm(res.x, res.jac, LO, HI) <= 1e-8
    # history records the projected norm: at x0 = 0, max|g| = 6 but the box leaves 1
    assert res.history["grad_norm"][-1] <= 1e-8
    assert np.max(np.abs(fg(np.zeros(4))[1])) == 6.0 and res.history["grad_norm"][0] == 1.0


def test_maximize_uses_the_ascent_step():
    """maximize=True steps along +g: the projected gradient is P(x + g) - x."""
    res = numopt.minimize(
        lambda x: (-fg(x)[0], -fg(x)[1]),
        np.zeros(4),
        jac=True,
        method="gd",
        bounds=pairs(),
        options={"learning_rate": 0.3, "maximize": True, "gtol": 1e-10, "maxiter": 200},
    )
    # maximising -f with an ascent step on -f's gradient... is descending f
    assert res.status == 0
    np.testing.assert_allclose(res.x, SOLUTION, atol=1e-9)


def test_x0_outside_is_clipped_with_scipys_warning():
    seen = []
    with pytest.warns(OptimizeWarning, match="Initial guess is not within the specified bounds"):
        res = numopt.minimize(
            fg,
            np.array([5.0, -5.0, 0.0, 0.5]),
            method="adam",
            jac=True,
            bounds=pairs(),
            callback=lambda xk: seen.append(xk.copy()),
            options={"learning_rate": 0.05, "maxiter": 3},
        )
    assert all(inside(x, LO, HI) for x in seen) and inside(res.x_best, LO, HI)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside (bounds included): no warning
        numopt.minimize(
            fg, HI.copy(), method="adam", jac=True, bounds=pairs(), options={"maxiter": 2}
        )


def test_clipped_x0_is_clipped_like_np_clip():
    x0 = np.array([5.0, -5.0, 0.25, -0.0])
    first = []
    with pytest.warns(OptimizeWarning):
        res = numopt.minimize(
            lambda x: first.append(x.copy()) or fg(x),
            x0,
            jac=True,
            method="gd",
            bounds=pairs(),
            options={"learning_rate": 0.1, "maxiter": 1},
        )
    np.testing.assert_array_equal(first[0], np.clip(x0, LO, HI))
    assert not np.signbit(first[0][3])  # np.clip(-0.0, 0.0, 1.0) is +0.0
    assert res.nit == 1


def test_finite_differences_stay_inside_the_box():
    calls = []

    def f(x):
        calls.append(x.copy())
        if np.any(x < 0):
            return math.nan  # undefined outside the box
        return float(np.sum((x + 1.0) ** 2))

    res = numopt.minimize(
        f,
        np.ones(2),
        jac="3-point",
        method="gd",
        bounds=[(0, None), (0, None)],
        options={"learning_rate": 0.1, "gtol": 1e-6},
    )
    assert res.status == 0, res.message
    np.testing.assert_allclose(res.x, [0.0, 0.0], atol=1e-8)
    assert all(np.all(x >= 0) for x in calls)


def test_non_finite_gradient_is_still_detected():
    def f(x):
        return float(np.sum(x)), np.array([np.nan, -1.0])

    res = numopt.minimize(f, np.zeros(2), method="adam", jac=True, bounds=[(0, 1), (0, 1)])
    assert res.status == 3 and "gradient" in res.message


def test_scipy_custom_method_passes_bounds_on():
    options = {"learning_rate": 0.05, "maxiter": 5000, "gtol": 1e-8}
    res = scipy.optimize.minimize(
        fg, np.zeros(4), jac=True, method=numopt.methods.adam, bounds=pairs(), options=options
    )
    want = numopt.minimize(
        fg, np.zeros(4), method="adam", jac=True, bounds=pairs(), options=options
    )
    np.testing.assert_array_equal(res.x, want.x)
    res = scipy.optimize.minimize(
        fg, np.zeros(4), jac=True, method=numopt.methods.gd, bounds=Bounds(LO, HI)
    )
    assert inside(res.x, LO, HI)


def test_the_compiled_loop_takes_bounds():
    """Numba objectives run compiled with bounds (the bits are compared in
    tests/loop/test_compiled_equals_python.py)."""
    from numba import njit

    @njit(cache=False)
    def f(x):
        r = x - 2.0
        return 0.5 * np.sum(r * r)

    @njit(cache=False)
    def g(x):
        return x - 2.0

    res = numopt.minimize(
        f, np.zeros(3), method="adam", jac=g, bounds=Bounds(-1, 1),
        options={"maxiter": 5, "compiled": True},
    )  # fmt: skip
    assert res.compiled and inside(res.x, -np.ones(3), np.ones(3))


def test_minimize_refuses_an_optimizer_object_with_bounds():
    opt = numopt.Adam()
    opt.bounds = (0, 1)
    with pytest.raises(ValueError, match="give minimize's bounds as minimize"):
        numopt.minimize(fg, np.zeros(4), jac=True, method=opt)
