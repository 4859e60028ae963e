"""Checks of the L-BFGS(-B) test problem set itself (``mgh``, ``bounded_problems``,
``logistic_problem``, ``scipy_reference``), so that the tests built on it can trust it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np
import pytest
from bounded_problems import (
    BOUNDED,
    QUAD_A,
    QUAD_B,
    QUAD_F_MIN,
    QUAD_X_MIN,
    X_MIN,
    beale_infinite_mixed,
)
from logistic_problem import LOGISTIC, SKIP_REASON, breast_cancer_data, logistic_hess
from mgh import UNCONSTRAINED, Problem, problem
from scipy.optimize import minimize
from scipy_reference import SCIPY_DEFAULTS, scipy_lbfgsb

if LOGISTIC is None:
    _LOGISTIC_PARAM = pytest.param(
        None, id="logistic_breast_cancer", marks=pytest.mark.skip(reason=SKIP_REASON)
    )
else:
    _LOGISTIC_PARAM = pytest.param(LOGISTIC, id=LOGISTIC.name)

ALL = [pytest.param(p, id=p.name) for p in UNCONSTRAINED + BOUNDED] + [_LOGISTIC_PARAM]

# Tolerances for "f_min is reached".  SciPy's defaults (gtol 1e-5, ftol 2.2e-9) stop
# short on some problems (Powell singular: f = 2.4e-8 against 0; Gaussian: 1.18e-8
# against 1.128e-8; Wood: next to the saddle point at f = 7.877; trigonometric:
# 1.3e-6 relative), so the check runs with tight ones.
TIGHT = {"maxiter": 15000, "maxfun": 15000, "gtol": 1e-10, "ftol": 1e-15}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    """One BLAS thread: on a busy 2-core machine OpenBLAS's second thread made the
    small L-BFGS-B runs here far slower (0.7 s instead of 3 ms for Wood; 10 s for the
    file instead of 2.5 s)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _points(p: Problem) -> list[np.ndarray]:
    """x0 and a random point near it (inside the bounds), seeded by the name."""
    rng = np.random.default_rng(zlib.crc32(p.name.encode()))
    x = p.x0 + 0.1 * (1.0 + np.abs(p.x0)) * rng.standard_normal(p.n)
    if p.bounds is not None:
        x = np.clip(x, p.bounds.lb, p.bounds.ub)
    return [p.x0.copy(), x]


def _central_difference(p: Problem, x: np.ndarray) -> np.ndarray:
    """Five-point central differences, error O(h^4) + O(eps f / h)."""
    g = np.empty(p.n)
    for i in range(p.n):
        h = 7.4e-4 * max(1.0, abs(x[i]))  # ~ eps^(1/5)
        e = np.zeros(p.n)
        e[i] = h
        f = [p.fun(x + k * e, *p.args) for k in (-2.0, -1.0, 1.0, 2.0)]
        g[i] = (f[0] - 8.0 * f[1] + 8.0 * f[2] - f[3]) / (12.0 * h)
    return g


def test_names_are_unique() -> None:
    names = [p.name for p in UNCONSTRAINED + BOUNDED] + ([LOGISTIC.name] if LOGISTIC else [])
    assert len(names) == len(set(names))
    assert problem("wood").n == 4
    with pytest.raises(KeyError):
        problem("no_such_problem")


@pytest.mark.parametrize("p", ALL)
def test_shapes_and_start(p: Problem) -> None:
    assert p.x0.dtype == np.float64 and p.x0.ndim == 1
    assert not p.x0.flags.writeable
    x = p.x0.copy()
    assert isinstance(p.fun(x, *p.args), float)
    g = p.jac(x, *p.args)
    assert g.shape == (p.n,) and g.dtype == np.float64
    np.testing.assert_array_equal(x, p.x0)  # the evaluators leave x alone
    if p.bounds is not None:
        lb, ub = np.broadcast_to(p.bounds.lb, p.n), np.broadcast_to(p.bounds.ub, p.n)
        assert np.all(lb <= p.x0) and np.all(p.x0 <= ub)


@pytest.mark.parametrize("p", ALL)
def test_jac_matches_central_difference(p: Problem) -> None:
    for x in _points(p):
        g, fd = p.jac(x, *p.args), _central_difference(p, x)
        assert np.linalg.norm(g - fd) <= 1e-6 * np.linalg.norm(g), (x, g, fd)


@pytest.mark.parametrize("p", ALL)
def test_inplace_matches_numpy(p: Problem) -> None:
    for x in _points(p):
        g = np.full(p.n, np.nan)  # every entry must be written
        f = p.inplace(x, g, *p.args)
        f_ref, g_ref = p.fun(x, *p.args), p.jac(x, *p.args)
        assert abs(f - f_ref) <= 1e-12 * abs(f_ref), (f, f_ref)
        np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-12 * np.max(np.abs(g_ref)))


# f(x0) computed by hand from the definitions.
HAND_F0 = {
    "rosenbrock": 24.2,  # 100 (1 - 1.44)^2 + 2.2^2
    "extended_rosenbrock_10": 5 * 24.2,
    "extended_rosenbrock_1000": 500 * 24.2,
    "beale": 14.203125,  # 1.5^2 + 2.25^2 + 2.625^2
    "powell_singular": 215.0,  # 7^2 + 5 + 1 + 10 * 2^4
    "wood": 19192.0,  # 100*100 + 16 + 90*100 + 16 + 10*64 + 4/10
    "brown_badly_scaled": (1.0 - 1e6) ** 2 + (1.0 - 2e-6) ** 2 + 1.0,
    "helical_valley": 2500.0,  # theta = 1/2: 100 * 5^2 + 0
    "freudenstein_roth": 400.5,  # 19.5^2 + 4.5^2
    "variably_dimensioned_10": 3.85 + 38.5**2 + 38.5**4,
    "watson_6": 30.0,  # 29 residuals -1, then 0 and -1
}


@pytest.mark.parametrize("name", sorted(HAND_F0))
def test_value_at_x0_by_hand(name: str) -> None:
    p = problem(name)
    assert p.fun(p.x0) == pytest.approx(HAND_F0[name], rel=1e-14)


WITH_F_MIN = [q for q in ALL if q.values[0] is None or q.values[0].f_min is not None]


@pytest.mark.parametrize("p", WITH_F_MIN)
def test_f_min_is_reached(p: Problem) -> None:
    res = minimize(
        p.fun, p.x0, args=p.args, jac=p.jac, method="L-BFGS-B", bounds=p.bounds, options=TIGHT
    )
    assert abs(res.fun - p.f_min) <= max(1e-6 * abs(p.f_min), 1e-10), (res.fun, p.f_min)


@pytest.mark.parametrize("name", sorted(X_MIN))
def test_known_minimiser_satisfies_kkt(name: str) -> None:
    p = next(q for q in BOUNDED if q.name == name)
    x = X_MIN[name]
    lb, ub = np.broadcast_to(p.bounds.lb, p.n), np.broadcast_to(p.bounds.ub, p.n)
    assert np.all(lb <= x) and np.all(x <= ub)
    assert p.fun(x) == pytest.approx(p.f_min, rel=1e-12)
    g = p.jac(x)
    at_lb, at_ub = x == lb, x == ub
    free = ~(at_lb | at_ub)
    assert np.all(g[at_lb & ~at_ub] >= 0.0) and np.all(g[at_ub & ~at_lb] <= 0.0)
    np.testing.assert_allclose(g[free], 0.0, atol=1e-10)
    assert np.any(~free)  # some bound is active
    res = scipy_lbfgsb(p, gtol=1e-10, ftol=1e-15)
    np.testing.assert_allclose(res["x"], x, atol=1e-6)


def test_hand_solved_quadratic_is_scipys_solution() -> None:
    p = next(q for q in BOUNDED if q.name == "quadratic_3_boundary")
    assert np.all(np.linalg.eigvalsh(QUAD_A) > 0.0)
    np.testing.assert_array_equal(QUAD_A @ QUAD_X_MIN - QUAD_B, [-1.0, 0.0, 1.0])
    assert p.fun(QUAD_X_MIN) == QUAD_F_MIN == -3.34375
    res = scipy_lbfgsb(p)
    assert res["status"] == 0
    np.testing.assert_allclose(res["x"], [1.0, 0.25, 0.0], atol=1e-8)
    assert res["fun"] == pytest.approx(-3.34375, rel=1e-12)


def test_beale_bounded_minimum_is_global() -> None:
    """For fixed x2 the Beale function is a convex quadratic in x1: minimise it exactly
    (clipped to x1 <= 2.5) and scan x2 over [-1, 100]; beyond that, the value tends to
    1.5^2 + 2.25^2 > 7."""
    p = beale_infinite_mixed()
    y = np.array([1.5, 2.25, 2.625])
    x2 = np.linspace(-1.0, 100.0, 400_001)
    a = 1.0 - x2[:, None] ** np.arange(1.0, 4.0)  # residual_i = y_i - x1 a_i
    x1 = np.minimum((a @ y) / np.einsum("ij,ij->i", a, a), 2.5)
    f = np.sum((y - x1[:, None] * a) ** 2, axis=1)
    assert f.min() >= p.f_min - 1e-12
    assert f.min() == pytest.approx(p.f_min, rel=1e-6)
    assert x1[np.argmin(f)] == 2.5  # the cut-off bound is active


@pytest.mark.skipif(LOGISTIC is None, reason=SKIP_REASON)
def test_logistic_data_and_reference_minimum() -> None:
    X, y = LOGISTIC.args[0], LOGISTIC.args[1]
    assert X.shape == (569, 30) and X.flags.c_contiguous and set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(X, breast_cancer_data()[0])
    assert LOGISTIC.fun(LOGISTIC.x0, *LOGISTIC.args) == pytest.approx(np.log(2.0), rel=1e-15)
    x = LOGISTIC.x0.copy()  # Newton's method with the exact Hessian
    for _ in range(12):
        x -= np.linalg.solve(logistic_hess(x, *LOGISTIC.args), LOGISTIC.jac(x, *LOGISTIC.args))
    assert np.linalg.norm(LOGISTIC.jac(x, *LOGISTIC.args)) < 1e-14
    assert LOGISTIC.fun(x, *LOGISTIC.args) == pytest.approx(LOGISTIC.f_min, rel=1e-13)


def test_scipy_reference_helper() -> None:
    p = problem("rosenbrock")
    direct = minimize(p.fun, p.x0, jac=p.jac, method="L-BFGS-B")
    res = scipy_lbfgsb(p)
    assert set(res) == {"x", "fun", "nit", "nfev", "status"}
    assert (res["nit"], res["nfev"], res["status"]) == (direct.nit, direct.nfev, direct.status)
    np.testing.assert_array_equal(res["x"], direct.x)
    assert SCIPY_DEFAULTS["gtol"] == 1e-5 and SCIPY_DEFAULTS["maxcor"] == 10
    assert scipy_lbfgsb(p, maxiter=3)["nit"] == 3
    with pytest.raises(TypeError):
        scipy_lbfgsb(p, tol=1e-3)
