"""Box bounds on the GPU: the bounded CUDA kernel, the device projected-gradient norm,
the clip of x0, ``opt.bounds`` with device arrays and ``minimize(bounds=...)`` on the
device (run in Numba's simulator; on a real GPU with ``NUMOPT_TEST_GPU=1``)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from numba import config, cuda

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rule_table import BOUNDED_VARIANTS, make

import numopt
from numopt.kernels import cuda_arrays as cuda_bounds
from numopt.kernels.norms import projected_grad_norm

SIMULATOR = bool(config.ENABLE_CUDASIM)
# The simulator computes like NumPy; a real GPU may contract a*b+c into an FMA.
MAXULP = 4 if SIMULATOR else 64


def problem(n, dtype, steps=3, seed=0):
    rng = np.random.default_rng(seed)
    lo = np.where(rng.random(n) < 0.2, -np.inf, -0.5 - rng.random(n)).astype(dtype)
    hi = np.where(rng.random(n) < 0.2, np.inf, 0.5 + rng.random(n)).astype(dtype)
    x0 = np.clip(rng.standard_normal(n).astype(dtype), lo, hi)
    return x0, [(rng.standard_normal(n) * 3).astype(dtype) for _ in range(steps)], lo, hi


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 5, 300])  # 300 > the simulator's grid: grid-stride
@pytest.mark.parametrize("variant", BOUNDED_VARIANTS)
def test_bounded_cuda_kernel_is_the_step_then_clip(variant, n, dtype):
    x0, grads, lo, hi = problem(n, dtype)
    ref = make(variant, "numpy")
    want = x0.copy()
    plain = make(variant, "cuda")  # the unbounded kernel, clipped on the host
    d_plain = cuda.to_device(x0)
    opt = make(variant, "auto")
    opt.bounds = (lo, hi)
    d_x = cuda.to_device(x0)
    for g in grads:
        ref.step(want, g)
        np.clip(want, lo, hi, out=want)
        plain.step(d_plain, cuda.to_device(g))
        d_plain.copy_to_device(np.clip(d_plain.copy_to_host(), lo, hi))
        assert opt.step(d_x, cuda.to_device(g)) is d_x
    got = d_x.copy_to_host()
    assert got.dtype == dtype
    np.testing.assert_array_max_ulp(got, want, maxulp=MAXULP)
    if SIMULATOR:  # same arithmetic in both kernels: the clamp changes no bit
        np.testing.assert_array_equal(got, d_plain.copy_to_host())
    assert np.all(got >= lo) and np.all(got <= hi)
    for name, a in ref.state.items():
        np.testing.assert_array_max_ulp(opt.state[name].copy_to_host(), a, maxulp=MAXULP)


def test_bounded_kernel_clamps_like_np_clip_and_keeps_nan():
    theta = np.array([-0.0, 0.0, 0.5, 0.5, 0.5])
    g = np.array([0.0, 0.0, np.nan, np.inf, -np.inf])
    lo = np.array([0.0, -0.0, 0.0, 0.0, 0.0])
    hi = np.ones(5)
    want = np.clip(theta - g, lo, hi)
    opt = numopt.GD(learning_rate=1.0)
    opt.bounds = (lo, hi)
    d_x = cuda.to_device(theta)
    opt.step(d_x, cuda.to_device(g))
    got = d_x.copy_to_host()
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want)) and math.isnan(got[2])


def test_device_bounds_and_host_bounds_give_the_same_steps():
    x0, grads, lo, hi = problem(40, np.float32)
    results = []
    for bounds in ((lo, hi), (cuda.to_device(lo), cuda.to_device(hi)), (lo.astype(float), hi)):
        opt = numopt.Adam(learning_rate=0.3)
        opt.bounds = bounds
        d_x = cuda.to_device(x0)
        for g in grads:
            opt.step(d_x, cuda.to_device(g))
        results.append(d_x.copy_to_host())
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)


def test_device_bounds_are_checked():
    opt = numopt.Adam()
    with pytest.raises(ValueError, match=r"lower bound 1\.0 > upper bound 0\.0 at index 1"):
        opt.bounds = (cuda.to_device(np.array([0.0, 1.0])), cuda.to_device(np.zeros(2)))
    with pytest.raises(ValueError, match="contains NaN"):
        opt.bounds = (cuda.to_device(np.array([np.nan])), None)
    opt.bounds = (cuda.to_device(np.zeros(3)), None)
    with pytest.raises(ValueError, match="does not broadcast to x's shape"):
        opt.step(cuda.to_device(np.zeros(4)), cuda.to_device(np.ones(4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 300])
def test_device_projected_norm_equals_the_host_one(n, dtype):
    x0, grads, lo, hi = problem(n, dtype, steps=1)
    x = x0.copy()
    x[::3] = np.where(np.isfinite(lo[::3]), lo[::3], x[::3])  # some entries on a bound
    norm = cuda_bounds.ProjectedNorm()
    d = [cuda.to_device(a) for a in (x, grads[0], lo, hi)]
    for sign in (1.0, -1.0):
        assert norm(*d, sign) == projected_grad_norm(x, grads[0], lo, hi, sign)
    bad = grads[0].copy()
    bad[-1] = np.nan
    assert math.isnan(norm(d[0], cuda.to_device(bad), d[2], d[3]))
    assert norm(*(cuda.to_device(a[:0]) for a in (x, x, lo, hi))) == 0.0


def test_device_clip_reports_whether_x_moved():
    lo, hi = np.zeros(50), np.ones(50)
    inside = cuda.to_device(np.full(50, 0.5))
    assert not cuda_bounds.clip(inside, cuda.to_device(lo), cuda.to_device(hi))
    x = np.linspace(-1, 2, 50)
    d_x = cuda.to_device(x)
    assert cuda_bounds.clip(d_x, cuda.to_device(lo), cuda.to_device(hi))
    np.testing.assert_array_equal(d_x.copy_to_host(), np.clip(x, lo, hi))


# -- minimize(bounds=...) on the device ---------------------------------------------------
A = np.array([1.0, 2.0, 3.0, 0.5])
C = np.array([2.0, -3.0, 0.5, 1.5])
BOUNDS = [(-1.0, 1.0), (-1.0, 1.0), (-1.0, 1.0), (0.0, 1.0)]


def quadratic(x):
    h = x if isinstance(x, np.ndarray) else x.copy_to_host()
    r = h - C.astype(h.dtype)
    g = (A * r).astype(h.dtype)
    return 0.5 * float(r @ (A * r)), (g if isinstance(x, np.ndarray) else cuda.to_device(g))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minimize_with_bounds_on_the_device_equals_the_host_run(dtype):
    x0 = np.array([5.0, 0.0, 0.0, -2.0], dtype)  # outside: clipped with a warning
    opts = {"learning_rate": 0.3, "maxiter": 12, "history": True}
    with pytest.warns(scipy.optimize.OptimizeWarning, match="not within the specified bounds"):
        ref = numopt.minimize(quadratic, x0, jac=True, method="gd", bounds=BOUNDS, options=opts)
    seen = []
    with pytest.warns(scipy.optimize.OptimizeWarning):
        res = numopt.minimize(
            quadratic,
            x0,
            jac=True,
            method="gd",
            bounds=BOUNDS,
            callback=lambda xk: seen.append(xk.copy_to_host()),
            options={**opts, "device": "cuda"},
        )
    lo, hi = np.array(BOUNDS).T.astype(dtype)
    assert seen and all(np.all(x >= lo) and np.all(x <= hi) for x in seen)
    np.testing.assert_array_max_ulp(res.x, ref.x, maxulp=MAXULP)
    assert (res.nit, res.status) == (ref.nit, ref.status)
    np.testing.assert_allclose(res.history["grad_norm"], ref.history["grad_norm"], rtol=1e-5)


def test_minimize_with_bounds_on_the_device_stops_on_the_projected_gradient():
    res = numopt.minimize(
        quadratic,
        np.zeros(4),
        jac=True,
        method="gd",
        bounds=BOUNDS,
        options={"learning_rate": 0.3, "gtol": 1e-6, "maxiter": 100, "device": "cuda"},
    )
    assert res.status == 0, res.message
    np.testing.assert_allclose(res.x, np.clip(C, *np.array(BOUNDS).T), atol=1e-6)
