"""``minimize`` without ``method``: L-BFGS-B full batch (as SciPy), Adam with mini-batches."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import rosen, rosen_der

import numopt
from numopt.front import config


def test_full_batch_runs_scipys_l_bfgs_b():
    res = numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der)
    ref = scipy.optimize.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method="L-BFGS-B")
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev)
    # the same algorithm, its dot products summed in another order: last-bit differences
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-9)
    assert res.success


def test_bounded_full_batch_runs_l_bfgs_b():
    bounds = [(-2.0, 0.5), (-2.0, 0.5)]
    res = numopt.minimize(rosen, [-1.2, 0.4], jac=rosen_der, bounds=bounds)
    ref = scipy.optimize.minimize(rosen, [-1.2, 0.4], jac=rosen_der, bounds=bounds)
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev)
    assert res.x[0] == 0.5  # on the bound, exactly
    assert res.x[1] == pytest.approx(0.25, rel=1e-12)


def test_without_a_gradient_the_differences_take_l_bfgs_b_eps():
    """SciPy's L-BFGS-B differences with the absolute step ``eps`` (1e-8): the points
    evaluated in the first iteration (x0, its 2 differences, the accepted trial and its
    2 differences) are SciPy's, bit for bit.  (The next direction's dot products are
    summed in another order than SciPy's BLAS: last-bit differences from then on.)"""

    def recorder(seen):
        def fun(x):
            seen.append(np.array(x))
            return rosen(x)

        return fun

    ours, theirs = [], []
    numopt.minimize(recorder(ours), [-1.2, 1.0], options={"maxiter": 1})
    scipy.optimize.minimize(recorder(theirs), [-1.2, 1.0], method="L-BFGS-B")
    for a, b in zip(ours[:6], theirs[:6], strict=True):
        np.testing.assert_array_equal(a, b)
    wide = []  # eps is an option: a wider step evaluates other points
    numopt.minimize(recorder(wide), [-1.2, 1.0], options={"maxiter": 1, "eps": 1e-4})
    assert wide[1][0] == -1.2 + 1e-4


def test_mini_batches_default_to_adam():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 3)), rng.standard_normal(64)

    def loss(w, X, y):
        r = X @ w - y
        return 0.5 * r @ r / len(y), X.T @ r / len(y)

    opts = {"batch_size": 16, "epochs": 2, "seed": 1}
    default = numopt.minimize(loss, np.zeros(3), args=(X, y), jac=True, options=opts)
    adam = numopt.minimize(loss, np.zeros(3), args=(X, y), jac=True, method="adam", options=opts)
    np.testing.assert_array_equal(default.x, adam.x)


def test_the_gpu_defaults_to_adam():
    assert config.parse({"device": "cuda"}, None, None).method == config.DEFAULT_STOCHASTIC_METHOD
    assert config.parse({}, None, None, device_arrays=True).method == "adam"
    assert config.parse({}, None, None).method == config.DEFAULT_METHOD == "l-bfgs-b"


def test_a_rule_option_without_method_names_the_fix():
    with pytest.raises(ValueError, match=r"\['learning_rate'\] belong to the first-order rules.*"
                       r"method='adam'"):  # fmt: skip
        numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, options={"learning_rate": 0.1})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['lr'\] for method 'l-bfgs-b'; "):
        numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, options={"lr": 0.1})


def test_bad_eps_is_rejected():
    with pytest.raises(ValueError, match="eps"):
        numopt.minimize(rosen, [-1.2, 1.0], options={"eps": 0.0})
