"""``minimize`` on the GPU (``device="cuda"``) against the same run on the host.

Every run is small (4 parameters, about 10 updates): the simulator runs each CUDA
thread as a Python thread.  The same tests run on a real GPU with
``NUMOPT_TEST_GPU=1``, where the kernels may contract ``a*b + c`` into an FMA, so
the comparisons with the host allow a relative 1000 ε there instead of 4 ulps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import config, cuda

import numopt
from numopt.kernels import arrays as _arrays
from numopt.problem import batching

SIMULATOR = bool(config.ENABLE_CUDASIM)
A = np.array([1.0, 2.0, 3.0, 0.5])
B = np.array([1.0, -1.0, 0.5, 2.0])
HP = {
    "gd": {"learning_rate": 0.2},
    "momentum": {"learning_rate": 0.1, "beta": 0.8, "nesterov": True},
    "rmsprop": {"learning_rate": 0.05},
    "adam": {"learning_rate": 0.1, "weight_decay": 0.01},
    "adamw": {"learning_rate": 0.1},
}


def close(got, want):
    """Equal to a few ulps in the simulator; to 1000 ε on a real GPU (FMA contraction)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype
    if SIMULATOR:
        np.testing.assert_array_max_ulp(got, want, maxulp=4)
    else:  # pragma: no cover - real GPU
        np.testing.assert_allclose(got, want, rtol=1000 * np.finfo(want.dtype).eps, atol=0)


def host(a):
    return a if isinstance(a, np.ndarray) else a.copy_to_host()


def quadratic(x):
    """f = ½ Σ A (x − B)², and its gradient: on the device when x is a device array."""
    h = host(x)
    r = h - B.astype(h.dtype)
    g = (A.astype(h.dtype) * r).astype(h.dtype)
    f = 0.5 * float(r @ (A * r))
    return f, (g if isinstance(x, np.ndarray) else cuda.to_device(g))


def host_gradient(x):
    f, g = quadratic(host(x))
    return f, g


def run(x0, gpu, fg=quadratic, method="adam", **options):
    """minimize with the test's settings; ``gpu=True`` adds ``device="cuda"``."""
    opts = {**HP[method], "maxiter": 10, **options}
    if gpu:
        opts["device"] = "cuda"
    return numopt.minimize(fg, x0, jac=True, method=method, options=opts)


# -- the same result as on the host -----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", sorted(HP))
def test_device_run_equals_host_run(method, dtype):
    x0 = np.zeros(4, dtype)
    ref = run(x0, False, method=method, history=True)
    res = run(x0, True, method=method, history=True, return_device=True)
    assert type(res.x) is np.ndarray and res.x.dtype == dtype
    close(res.x, ref.x)
    close(res.jac, ref.jac)
    close(res.x_best, ref.x_best)
    close(res.x_device.copy_to_host(), res.x)
    assert (res.nit, res.nfev, res.status) == (ref.nit, ref.nfev, ref.status)
    np.testing.assert_allclose(res.fun, ref.fun, rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(res.history["grad_norm"], ref.history["grad_norm"], rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(x0), 0)  # x0 untouched


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_device_x0_runs_on_the_device_and_is_not_modified(dtype):
    d_x0 = cuda.to_device(np.zeros(4, dtype))
    seen = []

    def fg(x):
        seen.append(_arrays.on_device(x))
        return quadratic(x)

    res = run(d_x0, False, fg=fg, return_device=True)  # device="auto": x0 decides
    assert all(seen) and res.x.dtype == dtype
    close(res.x, run(np.zeros(4, dtype), False).x)
    np.testing.assert_array_equal(d_x0.copy_to_host(), 0)


def test_backend_cuda_means_a_device_run():
    seen = []

    def fg(x):
        seen.append(_arrays.on_device(x))
        return quadratic(x)

    numopt.minimize(
        fg, np.zeros(4), method="adam", jac=True, options={"backend": "cuda", "maxiter": 2}
    )
    assert seen and all(seen)


@pytest.mark.parametrize("kind", ["device", "host", "float64-on-float32", "inplace", "jac"])
def test_gradient_kinds_give_the_same_run(kind):
    dtype = np.float32
    x0 = np.zeros(4, dtype)
    ref = run(x0, True)
    if kind == "device":
        res = run(x0, True, fg=quadratic)
    elif kind == "host":
        res = run(x0, True, fg=host_gradient)  # copied in from the host each time
    elif kind == "float64-on-float32":

        def fg(x):
            f, g = quadratic(host(x).astype(np.float64))
            return f, cuda.to_device(g)  # float64 gradient, cast on the device

        res = run(x0, True, fg=fg)
        ref = run(x0, False, fg=lambda x: quadratic(x.astype(np.float64)))
    elif kind == "inplace":

        def f_inplace(x, grad):
            f, g = quadratic(host(x))
            grad.copy_to_device(g)  # the run's own gradient buffer
            return f

        res = numopt.minimize(
            f_inplace,
            x0,
            method="adam",
            jac="inplace",
            options={**HP["adam"], "maxiter": 10, "device": "cuda"},
        )
    else:
        res = numopt.minimize(
            lambda x: quadratic(x)[0],
            x0,
            method="adam",
            jac=lambda x: quadratic(x)[1],
            options={**HP["adam"], "maxiter": 10, "device": "cuda"},
        )
    close(res.x, ref.x)
    assert res.nfev == ref.nfev


@cuda.jit
def _quadratic_kernel(x, a, b, g, f):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        g[i] = a[i] * (x[i] - b[i])
    if cuda.grid(1) == 0:  # the loss, by one thread (a tiny test problem)
        s = 0.0
        for i in range(x.size):
            s += 0.5 * a[i] * (x[i] - b[i]) * (x[i] - b[i])
        f[0] = s


def test_objective_computed_on_the_device_with_a_device_loss():
    d_a, d_b = cuda.to_device(A), cuda.to_device(B)
    g, f = cuda.device_array(4), cuda.device_array(1)

    def fg(x):
        _quadratic_kernel[1, 32](x, d_a, d_b, g, f)
        return f, g  # a 1-element device loss and a device gradient

    res = run(np.zeros(4), True, fg=fg, method="gd")
    close(res.x, run(np.zeros(4), False, method="gd").x)


# -- stopping, non-finite values, results -------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gtol_on_the_device(dtype):
    x0 = np.zeros(4, dtype)
    opts = {"learning_rate": 0.5, "gtol": 1e-2, "maxiter": 50}
    ref = run(x0, False, method="gd", **opts)
    res = run(x0, True, method="gd", **opts)
    assert res.status == ref.status == 0 and res.nit == ref.nit
    close(res.x, ref.x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_xtol_on_the_device(dtype):
    x0 = np.zeros(4, dtype)
    opts = {"learning_rate": 0.5, "xtol": 2e-2, "gtol": 0, "maxiter": 50}
    ref = run(x0, False, method="gd", **opts)
    res = run(x0, True, method="gd", **opts)
    assert res.status == ref.status == 5 and res.nit == ref.nit
    close(res.x, ref.x)


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_non_finite_values_stop_at_the_best_point(where):
    def make():
        calls = []

        def fg(x):
            f, g = quadratic(x)
            calls.append(f)
            if len(calls) == 4:
                if where == "loss":
                    return math.nan, g
                bad = host(g).copy()
                bad[2] = np.inf
                return f, (bad if isinstance(x, np.ndarray) else cuda.to_device(bad))
            return f, g

        return fg

    ref = run(np.zeros(4), False, fg=make())
    res = run(np.zeros(4), True, fg=make())
    assert res.status == ref.status == 3 and where in res.message
    assert res.message == ref.message
    assert np.all(np.isfinite(res.x)) and res.nit == ref.nit == 3
    close(res.x, ref.x)
    close(res.x_best, ref.x_best)
    assert np.isnan(res.jac).all() == np.isnan(ref.jac).all()
    np.testing.assert_allclose(res.fun, ref.fun, rtol=1e-12)


def test_callbacks_get_device_copies():
    got = []

    def cb(intermediate_result):
        got.append(intermediate_result.x)

    res = numopt.minimize(
        quadratic,
        np.zeros(4),
        method="adam",
        jac=True,
        callback=cb,
        options={"maxiter": 4, "device": "cuda"},
    )
    assert len(got) == 4 and all(_arrays.on_device(x) for x in got)
    np.testing.assert_array_equal(got[-1].copy_to_host(), res.x)
    assert not np.array_equal(got[0].copy_to_host(), got[-1].copy_to_host())  # copies


def test_structured_x0_with_device_and_host_leaves():
    x0 = {"w": cuda.to_device(np.zeros((2, 1))), "b": np.zeros(2)}

    def fg(p):
        assert _arrays.on_device(p["w"]) and _arrays.on_device(p["b"])
        w, b = host(p["w"]), host(p["b"])
        f, g = quadratic(np.concatenate([w.ravel(), b]))
        g = host(g)
        return f, {"w": cuda.to_device(g[:2].reshape(2, 1)), "b": g[2:]}  # mixed is fine

    res = numopt.minimize(fg, x0, method="adam", jac=True, options={**HP["adam"], "maxiter": 10})
    ref = run(np.zeros(4), False)
    close(np.concatenate([res.x["w"].ravel(), res.x["b"]]), ref.x)
    assert res.x["w"].shape == (2, 1) and type(res.x["b"]) is np.ndarray


# -- checkpoints ------------------------------------------------------------------------
@pytest.mark.parametrize(("first", "then"), [("cuda", "cuda"), ("cpu", "cuda"), ("cuda", "cpu")])
def test_checkpoint_and_resume_across_devices(tmp_path, first, then):
    path = tmp_path / "run.npz"
    opts = {**HP["adam"], "checkpoint": str(path), "xtol": 1e-12, "history": True}

    def options(device, maxiter):
        return {**opts, "maxiter": maxiter, "device": device}

    numopt.minimize(quadratic, np.zeros(4), method="adam", jac=True, options=options(first, 5))
    later = numopt.minimize(
        quadratic,
        np.zeros(4),
        method="adam",
        jac=True,
        options={**options(then, 10), "resume": str(path)},
    )
    whole = numopt.minimize(
        quadratic, np.zeros(4), method="adam", jac=True, options=options(then, 10)
    )
    assert later.nit == whole.nit == 10
    if first == then:
        np.testing.assert_array_equal(later.x, whole.x)  # bit for bit
    else:
        close(later.x, whole.x)
    assert len(later.history["fun"]) == len(whole.history["fun"])


# -- mini-batches with data on the device -------------------------------------------------
def linear_loss(w, X, y):
    Xh, yh, wh = host(X), host(y), host(w)
    r = Xh @ wh - yh
    g = Xh.T @ r / len(yh)
    return 0.5 * float(r @ r) / len(yh), (g if isinstance(w, np.ndarray) else cuda.to_device(g))


def test_minibatches_of_device_data_equal_host_minibatches():
    # Numba device arrays: shuffled batches in the simulator (its stand-in indexes like
    # NumPy); in order on a real GPU (DeviceNDArray has no fancy indexing; CuPy and
    # PyTorch data are tested below)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    opts = {"learning_rate": 0.1, "batch_size": 5, "epochs": 2, "seed": 3, "maxiter": None}
    opts["shuffle"] = SIMULATOR
    ref = numopt.minimize(
        linear_loss, np.zeros(3), args=(X, y), jac=True, method="sgd", options=opts
    )
    res = numopt.minimize(
        linear_loss,
        np.zeros(3),
        args=(cuda.to_device(X), cuda.to_device(y)),  # found as data without data_args
        jac=True,
        method="sgd",
        options={**opts, "device": "cuda"},
    )
    assert res.nit == ref.nit == 6 and res.epochs == 2
    close(res.x, ref.x)


def test_numba_device_data_cannot_be_shuffled(monkeypatch):
    # Numba's DeviceNDArray has no fancy indexing; the simulator's stand-in does, so
    # pretend it does not.
    monkeypatch.setattr(batching, "gathers", lambda a: not _arrays.on_device(a))
    X, y = cuda.to_device(np.ones((6, 2))), cuda.to_device(np.ones(6))
    kw = {"args": (X, y), "jac": True, "method": "sgd"}
    opts = {"batch_size": 2, "epochs": 1, "device": "cuda"}
    with pytest.raises(TypeError, match=r"args\[0\] is a Numba device array"):
        numopt.minimize(linear_loss, np.zeros(2), options=opts, **kw)
    res = numopt.minimize(linear_loss, np.zeros(2), options={**opts, "shuffle": False}, **kw)
    assert res.nit == 3


# -- bad inputs ---------------------------------------------------------------------------
def _device_x0():
    return cuda.to_device(np.zeros(4))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: run(_device_x0(), False, device="cpu"),
            TypeError,
            "x0 holds CUDA device arrays but options\\['device'\\] is 'cpu'",
        ),
        (lambda: run(np.zeros(4), False, device="gpu"), ValueError, "device must be one of"),
        (
            lambda: run(np.zeros(4), True, backend="serial"),
            ValueError,
            "backend='serial' runs on the CPU but this run is on the GPU",
        ),
        (
            lambda: run(np.zeros(4), False, device="cpu", backend="cuda"),
            ValueError,
            "backend='cuda' runs on the GPU but options\\['device'\\] is 'cpu'",
        ),
        (
            lambda: numopt.minimize(
                lambda x: 0.0, np.zeros(4), method="adam", options={"device": "cuda"}
            ),
            ValueError,
            "jac=None means finite differences",
        ),
        (
            lambda: run(cuda.to_device(np.array([0.0, np.nan, 0.0, 0.0])), False),
            ValueError,
            "x0 contains NaN or infinity",
        ),
        (
            lambda: run(cuda.to_device(np.zeros(4, np.int64)), False),
            TypeError,
            "x0 is a CUDA device array of dtype int64",
        ),
        (
            lambda: run(np.zeros(4), True, fg=lambda x: (0.0, cuda.to_device(np.zeros(5)))),
            ValueError,
            r"jac has shape \(5,\) but x0 has shape \(4,\)",
        ),
        (
            lambda: run(np.zeros(4), True, fg=lambda x: (0.0, cuda.to_device(np.zeros(8))[::2])),
            ValueError,
            "jac is a non-contiguous device array",
        ),
        (
            lambda: run(np.zeros(4), True, fg=lambda x: (cuda.to_device(np.zeros(2)), x)),
            TypeError,
            "fun must return a real scalar.*device array of shape \\(2,\\)",
        ),
        (
            lambda: run(np.zeros(4), False, return_device=True),
            ValueError,
            "return_device=True needs a run on the GPU",
        ),
    ],
    ids=[
        "device-x0-on-cpu",
        "unknown-device",
        "cpu-backend-on-gpu",
        "cuda-backend-on-cpu",
        "finite-differences",
        "nan-x0",
        "int-x0",
        "gradient-shape",
        "gradient-strided",
        "loss-not-scalar",
        "return-device-on-host",
    ],
)
def test_bad_device_inputs(make, error, match):
    with pytest.raises(error, match=match):
        make()


# -- CuPy and PyTorch (real GPU only, when installed) -------------------------------------
def _library(name):
    if SIMULATOR:
        pytest.skip("CuPy and PyTorch arrays need a real GPU")
    module = pytest.importorskip(name)  # pragma: no cover - real GPU
    if name == "torch" and not module.cuda.is_available():  # pragma: no cover
        pytest.skip("torch without CUDA")
    return module  # pragma: no cover


@pytest.mark.parametrize("name", ["cupy", "torch"])
def test_cupy_and_torch_x0_and_objective(name):  # pragma: no cover - real GPU
    lib = _library(name)
    if name == "cupy":
        x0, a, b = lib.zeros(4), lib.asarray(A), lib.asarray(B)
        kind = lib.ndarray
    else:
        x0 = lib.zeros(4, dtype=lib.float64, device="cuda")
        a, b = lib.as_tensor(A, device="cuda"), lib.as_tensor(B, device="cuda")
        kind = lib.Tensor
    seen = []

    def fg(x):
        seen.append(type(x))
        r = x - b
        return 0.5 * (a * r * r).sum(), a * r  # a 0-d device loss, a device gradient

    res = numopt.minimize(fg, x0, method="adam", jac=True, options={**HP["adam"], "maxiter": 10})
    assert seen and all(issubclass(t, kind) for t in seen)
    close(res.x, run(np.zeros(4), False).x)


@pytest.mark.parametrize("name", ["cupy", "torch"])
def test_shuffled_minibatches_of_cupy_and_torch_data(name):  # pragma: no cover - real GPU
    lib = _library(name)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    to = lib.asarray if name == "cupy" else (lambda v: lib.as_tensor(v, device="cuda"))

    def loss(w, Xb, yb):
        Xh = lib.asnumpy(Xb) if name == "cupy" else Xb.cpu().numpy()
        yh = lib.asnumpy(yb) if name == "cupy" else yb.cpu().numpy()
        return linear_loss(w, Xh, yh)

    opts = {"learning_rate": 0.1, "batch_size": 5, "epochs": 2, "seed": 3, "maxiter": None}
    ref = numopt.minimize(
        linear_loss, np.zeros(3), method="adam", args=(X, y), jac=True, options=opts
    )
    res = numopt.minimize(
        loss,
        np.zeros(3),
        method="adam",
        args=(to(X), to(y)),
        jac=True,
        options={**opts, "device": "cuda"},
    )
    close(res.x, ref.x)
