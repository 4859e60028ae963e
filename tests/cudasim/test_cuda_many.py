"""``minimize_many(..., vectorized=True)`` on the GPU: the same problems end where the
host's vectorised run ends them, and the row kernels equal the host's row operations.

Run in Numba's CUDA simulator by CI (see ``conftest.py``); ``NUMOPT_TEST_GPU=1`` on
a real GPU.  The objectives copy the device rows to the host and compute there (the
simulator runs kernels thread by thread), except one written as a CUDA kernel.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import cuda
from scipy.optimize import Bounds

import numopt
from numopt.kernels import arrays as _arrays
from numopt.kernels import cuda_rows
from numopt.many import rows as host_rows

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the many-problems benchmark's decay fits: (X0, Y) and the NumPy vectorised objective
from benchmarks._decay import T, decay_fg_rows  # noqa: E402
from benchmarks._decay import problems as decay_problems  # noqa: E402

decay_rows = decay_fg_rows


def host(a):
    return a if isinstance(a, np.ndarray) else a.copy_to_host()


def on_host(P, t, Y):
    """The device form: the rows copied to the host, values returned there."""
    assert cuda.is_cuda_array(P) if hasattr(cuda, "is_cuda_array") else _arrays.on_device(P)
    return decay_rows(host(P), t, host(Y))


def on_device(P, t, Y):
    """The device form returning device arrays (copied device to device)."""
    f, g = on_host(P, t, Y)
    return cuda.to_device(f), cuda.to_device(g)


OPTIONS = {"learning_rate": 0.1, "maxiter": 60, "ftol": 1e-4}  # (stopping at 14 to 60)


def solve(fun, X0, Y, gpu, **kw):
    options = {**OPTIONS, **kw.pop("options", {})}
    if gpu:
        options["device"] = "cuda"
    kw.setdefault("jac", True)
    return numopt.minimize_many(
        fun, X0, args=(T, Y), method="adam", vectorized=True, options=options, **kw
    )


def same_run(res, ref):
    np.testing.assert_array_equal(res.status, ref.status)
    np.testing.assert_array_equal(res.nit, ref.nit)
    np.testing.assert_array_equal(res.nfev, ref.nfev)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.fun, ref.fun, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.x_best, ref.x_best, rtol=1e-12, atol=1e-14)
    assert res.message == ref.message
    assert type(res.x) is np.ndarray


@pytest.mark.parametrize("fun", [on_host, on_device])
def test_device_rows_end_where_the_host_rows_end(fun):
    X0, Y = decay_problems(6)
    ref = solve(decay_rows, X0, Y, gpu=False)
    res = solve(fun, X0, Y, gpu=True)
    same_run(res, ref)
    assert len(set(ref.nit.tolist())) > 1  # the problems stopped at different iterations


def test_device_x0_and_device_data_are_split_and_left_unchanged():
    X0, Y = decay_problems(5, seed=1)
    d_x0, d_y = cuda.to_device(X0), cuda.to_device(Y)
    ref = solve(decay_rows, X0, Y, gpu=False)
    res = numopt.minimize_many(
        on_host, d_x0, args=(T, d_y), method="adam", jac=True, vectorized=True,
        options=OPTIONS,
    )  # fmt: skip
    same_run(res, ref)
    np.testing.assert_array_equal(d_x0.copy_to_host(), X0)


def test_float32_rows_in_blocks_with_float64_device_gradients():
    X0, Y = decay_problems(7, seed=6)
    X0 = X0.astype(np.float32)

    def wide(P, t, Y):  # float64 gradients for float32 rows: cast on the device
        f, g = on_host(P, t, Y)
        return f, cuda.to_device(g.astype(np.float64))

    ref = solve(decay_rows, X0, Y, gpu=False, block_rows=3)
    res = solve(wide, X0, Y, gpu=True, block_rows=3)
    assert res.x.dtype == np.float32
    np.testing.assert_array_equal(res.status, ref.status)
    np.testing.assert_array_equal(res.nit, ref.nit)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:Initial guess is not within")  # (some starts clipped)
def test_per_problem_bounds_and_the_projected_gradient_on_the_device():
    X0, Y = decay_problems(5, seed=2)
    lo = np.tile([0.0, 0.5, -0.1], (5, 1))
    hi = np.tile([2.0, 1.2, 0.1], (5, 1))
    bounds = Bounds(lo, hi)
    ref = solve(decay_rows, X0, Y, gpu=False, bounds=bounds, options={"maxiter": 60})
    res = solve(on_host, X0, Y, gpu=True, bounds=bounds, options={"maxiter": 60})
    same_run(res, ref)
    assert np.all(res.x >= lo) and np.all(res.x <= hi)


def test_xtol_and_a_diverging_problem_on_the_device():
    X0, Y = decay_problems(4, seed=4)
    calls = [0]

    def blows_up(P, t, Y):  # problem 2's loss turns NaN at the 6th call
        calls[0] += 1
        f, g = decay_rows(host(P), t, host(Y))
        if calls[0] == 6:
            f[2] = np.nan
        return f, g

    kw = {"options": {"xtol": 2e-3, "learning_rate": 0.02, "ftol": 0.0}}
    ref = solve(blows_up, X0, Y, gpu=False, **kw)
    calls[0] = 0
    res = solve(blows_up, X0, Y, gpu=True, **kw)
    same_run(res, ref)
    assert res.status.tolist() == [1, 5, 3, 1]  # maxiter, xtol, NaN (its best point)
    assert np.isfinite(res.x[2]).all() and res.nit[1] < 60


def test_a_cuda_kernel_objective_one_thread_per_problem():
    @cuda.jit
    def kernel(P, t, Y, f, G):
        i = cuda.grid(1)
        if i < P.shape[0]:
            s = g0 = g1 = g2 = 0.0
            for j in range(t.size):
                e = math.exp(-P[i, 1] * t[j])
                r = P[i, 0] * e + P[i, 2] - Y[i, j]
                s += 0.5 * r * r
                g0 += r * e
                g1 -= r * P[i, 0] * t[j] * e
                g2 += r
            f[i], G[i, 0], G[i, 1], G[i, 2] = s, g0, g1, g2

    def fg(P, t, Y):
        f = cuda.device_array(P.shape[0])
        G = cuda.device_array(P.shape)
        kernel[1, 32](P, t, Y, f, G)
        return f, G

    X0, Y = decay_problems(4, seed=4)
    res = numopt.minimize_many(
        fg, X0, args=(cuda.to_device(T), cuda.to_device(Y)), method="adam", jac=True,
        vectorized=True, options={**OPTIONS, "maxiter": 15, "device": "cuda"},
    )  # fmt: skip
    ref = solve(decay_rows, X0, Y, gpu=False, options={"maxiter": 15})
    np.testing.assert_array_equal(res.nit, ref.nit)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-9)


def test_checkpoint_on_the_device_resumes_bit_for_bit(tmp_path):
    X0, Y = decay_problems(4, seed=5)
    whole = solve(on_host, X0, Y, gpu=True, options={"maxiter": 12})
    path = tmp_path / "many.npz"
    solve(on_host, X0, Y, gpu=True, options={"maxiter": 5, "checkpoint": path})
    later = solve(on_host, X0, Y, gpu=True, options={"maxiter": 12, "resume": path})
    np.testing.assert_array_equal(later.x, whole.x)
    np.testing.assert_array_equal(later.nit, whole.nit)
    on_the_host = solve(decay_rows, X0, Y, gpu=False, options={"maxiter": 12, "resume": path})
    np.testing.assert_allclose(on_the_host.x, whole.x, rtol=1e-12)
    host_path = tmp_path / "host.npz"
    solve(decay_rows, X0, Y, gpu=False, options={"maxiter": 5, "checkpoint": host_path})
    on_the_device = solve(on_host, X0, Y, gpu=True, options={"maxiter": 12, "resume": host_path})
    np.testing.assert_allclose(on_the_device.x, whole.x, rtol=1e-12)
    np.testing.assert_array_equal(on_the_device.nit, whole.nit)


def test_what_the_gpu_form_refuses():
    X0, Y = decay_problems(3)
    with pytest.raises(ValueError, match="vectorized=True"):
        numopt.minimize_many(on_host, X0, args=(T, Y), method="adam", jac=True,
                             options={"device": "cuda"})  # fmt: skip

    def loss_only(P, t, Y):
        return on_host(P, t, Y)[0]

    with pytest.raises(ValueError, match="finite differences"):
        numopt.minimize_many(loss_only, X0, args=(T, Y), method="adam", vectorized=True,
                             options={"device": "cuda"})  # fmt: skip
    with pytest.raises(ValueError, match="on the GPU the vectorised form needs the gradients"):
        solve(on_host, X0, Y, gpu=True, jac="inplace")
    with pytest.raises(TypeError, match="not a list of device arrays"):
        solve(on_host, [cuda.to_device(x) for x in X0], Y, gpu=True)
    with pytest.raises(ValueError, match="return_device"):
        solve(on_host, X0, Y, gpu=True, options={"return_device": True})
    with pytest.raises(ValueError, match="one gradient row per problem"):
        solve(lambda P, t, Y: (on_host(P, t, Y)[0], np.zeros((2, 3))), X0, Y, gpu=True)
    with pytest.raises(ValueError, match="one loss per problem"):
        solve(lambda P, t, Y: (cuda.to_device(np.zeros(2)), on_host(P, t, Y)[1]), X0, Y,
              gpu=True)  # fmt: skip


def test_row_kernels_equal_the_host_row_operations():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((7, 5))
    b = rng.standard_normal((7, 5))
    a[1, 3], a[4, 0] = np.nan, -np.inf
    lo, hi = np.full_like(a, -0.5), np.full_like(a, 0.5)
    x = np.clip(b, lo, hi)
    rows = np.array([0, 1, 3, 4, 6])
    d = cuda_rows.index(rows)
    da, db, dx, dlo, dhi = (cuda.to_device(v) for v in (a, b, x, lo, hi))

    def same(got, want):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])

    same(cuda_rows.absmax(da, d), host_rows.row_max(a[rows]))
    same(cuda_rows.absdiffmax(da, db, d), host_rows.row_max(a[rows] - b[rows]))
    for sign in (1.0, -1.0):
        want = host_rows.projected(x[rows], a[rows], lo[rows], hi[rows], sign)
        same(cuda_rows.projected(dx, da, dlo, dhi, sign, d), want)
    out = cuda.to_device(np.zeros_like(a))
    cuda_rows.copy(out, db, d)
    cuda_rows.fill(out, cuda_rows.index(np.array([2])), 7.0)
    want = np.zeros_like(a)
    want[rows] = b[rows]
    want[2] = 7.0
    np.testing.assert_array_equal(out.copy_to_host(), want)
