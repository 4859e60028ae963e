"""SparseAdam on the GPU: device tables against the host's steps, element for element.

The host runs the same steps on NumPy copies (the fused row loop, whose bits the NumPy
lines share); the device's θ, m and v must agree to a few ulps (the same bits in the
simulator).  The sparse gradients repeat indices, so coalescing is exercised; they are
given as host and as device arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from numba import config, cuda

import numopt

SIMULATOR = bool(config.ENABLE_CUDASIM)
MAXULP = 4 if SIMULATOR else 64
STEPS = 8
HP = {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.9}


class Exported:
    """A host buffer exported through ``__cuda_array_interface__`` (simulator only)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    @property
    def __cuda_array_interface__(self) -> dict:
        a = self.a
        strides = None if a.flags.c_contiguous else a.strides
        return {
            "shape": a.shape,
            "typestr": a.dtype.str,
            "data": (a.ctypes.data, False),
            "strides": strides,
            "version": 3,
        }


def sparse_steps(shape, dtype, steps=STEPS, k=6, seed=0):
    """A table of ``shape`` and ``steps`` sparse gradients ``(indices, values)`` with
    repeated indices; row 1 is never touched."""
    rng = np.random.default_rng(seed)
    rows = [r for r in range(shape[0]) if r != 1]
    x0 = rng.standard_normal(shape).astype(dtype)
    grads = []
    for _ in range(steps):
        idx = rng.choice(rows, k)
        idx[-1] = idx[0]  # a repeat, summed
        grads.append((idx, (3 * rng.standard_normal((k, *shape[1:]))).astype(dtype)))
    return x0, grads


def assert_close(device_array, host_array):
    np.testing.assert_array_max_ulp(device_array.copy_to_host(), host_array, maxulp=MAXULP)


def assert_same_run(host_opt, x, gpu_opt, d_x):
    assert_close(d_x, x)
    for name in ("m", "v"):
        assert_close(gpu_opt.state[name], host_opt.state[name])
    assert gpu_opt.step_count == host_opt.step_count


def on(where, a):
    """``a`` where the gradient is given: ``"host"`` or ``"device"``."""
    return cuda.to_device(a) if where == "device" else a


# -- sparse gradients ----------------------------------------------------------------
@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("shape", [(12,), (12, 3), (6, 2, 3)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_steps_match_the_host(dtype, shape, where):
    x0, grads = sparse_steps(shape, dtype)
    host, x = numopt.SparseAdam(**HP), x0.copy()
    gpu, d_x = numopt.SparseAdam(**HP), cuda.to_device(x0)
    for idx, values in grads:
        host.step(x, (idx, values))
        assert gpu.step(d_x, (on(where, idx), on(where, values))) is d_x
    assert_same_run(host, x, gpu, d_x)
    got = d_x.copy_to_host()
    np.testing.assert_array_equal(got[1], x0[1])  # never touched: θ, m and v as they were
    assert not gpu.state["m"].copy_to_host().reshape(shape)[1].any()
    assert not gpu.state["v"].copy_to_host().reshape(shape)[1].any()


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize(
    "hp",
    [
        {"maximize": True},
        {"clip_value": 1.0},
        {"clip_norm": 2.0},
        {"clip_norm": 1.5, "clip_value": 2.0, "maximize": True},
    ],
    ids=["maximize", "clip_value", "clip_norm", "both"],
)
def test_maximize_and_clipping_match_the_host(hp, where):
    x0, grads = sparse_steps((10, 3), np.float32)
    host, x = numopt.SparseAdam(**HP, **hp), x0.copy()
    gpu, d_x = numopt.SparseAdam(**HP, **hp), cuda.to_device(x0)
    for idx, values in grads:
        host.step(x, (idx, values))
        gpu.step(d_x, (on(where, idx), on(where, values)))
    assert_same_run(host, x, gpu, d_x)


@pytest.mark.parametrize("mixed", ["indices", "values"])
def test_host_and_device_halves_of_a_gradient_mix(mixed):
    x0, grads = sparse_steps((9, 2), np.float64, steps=3)
    host, x = numopt.SparseAdam(**HP), x0.copy()
    gpu, d_x = numopt.SparseAdam(**HP), cuda.to_device(x0)
    for idx, values in grads:
        host.step(x, (idx, values))
        pair = (
            (cuda.to_device(idx), values) if mixed == "indices" else (idx, cuda.to_device(values))
        )
        gpu.step(d_x, pair)
    assert_same_run(host, x, gpu, d_x)


def test_a_fortran_ordered_3d_table_steps_like_a_c_ordered_one():
    """Each values row is laid out as the table's rows are (here in Fortran order)."""
    x0, grads = sparse_steps((6, 2, 3), np.float64, steps=4)
    host, x = numopt.SparseAdam(**HP), x0.copy()
    fortran, f = numopt.SparseAdam(**HP), np.asfortranarray(x0)
    gpu, d_x = numopt.SparseAdam(**HP), cuda.to_device(np.asfortranarray(x0))
    assert d_x.is_f_contiguous() and not d_x.is_c_contiguous()
    for idx, values in grads:
        host.step(x, (idx, values))
        fortran.step(f, (idx, values))
        gpu.step(d_x, (cuda.to_device(idx), cuda.to_device(values)))
    np.testing.assert_array_equal(f, x)
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x, maxulp=MAXULP)


@pytest.mark.skipif(not SIMULATOR, reason="reads a host buffer through the interface")
def test_interface_arrays_are_stepped_in_place():
    x0, grads = sparse_steps((8, 2), np.float32, steps=3)
    host, x = numopt.SparseAdam(**HP), x0.copy()
    gpu, table = numopt.SparseAdam(**HP), x0.copy()
    exported = Exported(table)
    for idx, values in grads:
        host.step(x, (idx, values))
        assert gpu.step(exported, (Exported(idx), Exported(values))) is exported
    np.testing.assert_array_max_ulp(table, x, maxulp=MAXULP)  # the buffer itself moved


def test_no_indices_changes_nothing_but_the_step_count():
    x0 = np.arange(6.0).reshape(3, 2)
    gpu, d_x = numopt.SparseAdam(**HP, clip_norm=1.0), cuda.to_device(x0)
    gpu.step(d_x, (np.zeros(0, np.int64), np.zeros((0, 2))))
    gpu.step(d_x, (cuda.to_device(np.zeros(0, np.int64)), cuda.to_device(np.zeros((0, 2)))))
    np.testing.assert_array_equal(d_x.copy_to_host(), x0)
    assert gpu.step_count == 2 and not gpu.state["v"].copy_to_host().any()


# -- dense device gradients --------------------------------------------------------------
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(
    "hp", [{}, {"clip_norm": 1.0, "maximize": True}, {"clip_value": 0.5}], ids=str
)
def test_a_dense_device_gradient_touches_its_nonzero_rows(hp, order):
    rng = np.random.default_rng(3)
    x0 = np.asarray(rng.standard_normal((10, 3)), order=order)
    host, x = numopt.SparseAdam(**HP, **hp), x0.copy(order="K")
    gpu, d_x = numopt.SparseAdam(**HP, **hp), cuda.to_device(x0)
    for step in range(4):
        g = rng.standard_normal((10, 3))
        g[[1, 4, 7]] = 0.0  # rows never touched
        g[2 + step, 1:] = 0.0  # a row with one non-zero is touched
        g = np.asarray(g, order=order)
        host.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    assert_same_run(host, x, gpu, d_x)
    np.testing.assert_array_equal(d_x.copy_to_host()[[1, 4, 7]], x0[[1, 4, 7]])
    assert not gpu.state["m"].copy_to_host().reshape(10, 3, order=order)[[1, 4, 7]].any()


def test_dense_and_sparse_device_gradients_step_alike():
    x0, grads = sparse_steps((7, 2), np.float64, steps=4, k=3)
    sparse, a = numopt.SparseAdam(**HP), cuda.to_device(x0)
    dense, b = numopt.SparseAdam(**HP), cuda.to_device(x0)
    for idx, values in grads:
        g = np.zeros_like(x0)
        np.add.at(g, idx, values)
        sparse.step(a, (cuda.to_device(idx), cuda.to_device(values)))
        dense.step(b, cuda.to_device(g))
    np.testing.assert_allclose(a.copy_to_host(), b.copy_to_host(), rtol=1e-12)


# -- bounds, state dicts, minimize ---------------------------------------------------------
@pytest.mark.parametrize("dense", [False, True], ids=["sparse", "dense"])
def test_bounds_clamp_the_device_table(dense):
    x0, grads = sparse_steps((8, 2), np.float64, steps=5)
    x0 = np.clip(x0, -0.5, 0.5)
    lo, hi = np.full((8, 2), -0.5), 0.5
    host, x = numopt.SparseAdam(learning_rate=0.3), x0.copy()
    gpu, d_x = numopt.SparseAdam(learning_rate=0.3), cuda.to_device(x0)
    host.bounds = gpu.bounds = (lo, hi)
    for idx, values in grads:
        g = np.zeros_like(x0)
        np.add.at(g, idx, values)
        host.step(x, g if dense else (idx, values))
        gpu.step(d_x, cuda.to_device(g) if dense else (idx, cuda.to_device(values)))
    assert_same_run(host, x, gpu, d_x)
    assert x.min() == -0.5 and x.max() == 0.5  # the box was reached


def test_a_host_state_dict_continues_on_the_device():
    x0, grads = sparse_steps((9, 3), np.float32)
    host, x = numopt.SparseAdam(**HP), x0.copy()
    for idx, values in grads[:4]:
        host.step(x, (idx, values))
    gpu = numopt.SparseAdam(**HP)
    gpu.load_state_dict(host.state_dict())
    d_x = cuda.to_device(x)
    for idx, values in grads[4:]:
        host.step(x, (idx, values))
        gpu.step(d_x, (cuda.to_device(idx), cuda.to_device(values)))
    assert_same_run(host, x, gpu, d_x)
    saved = gpu.state_dict()  # back on the host, shaped like x
    assert saved["step"] == STEPS and saved["state"]["v"].shape == (9, 3)


def embedding_objective():
    """A table whose rows 1 and 3 never appear in the data: their gradient rows are zero."""
    rng = np.random.default_rng(7)
    used, target = np.array([0, 2, 4]), rng.standard_normal((3, 2))

    def fg(p):
        table = p if isinstance(p, np.ndarray) else p.copy_to_host()
        r = table[used] - target
        g = np.zeros_like(table)
        g[used] = r
        return 0.5 * float(np.sum(r * r)), g

    return fg, rng.standard_normal((5, 2))


@pytest.mark.parametrize("x0_on", ["host", "device"])
def test_minimize_on_the_device_equals_the_host_run(x0_on):
    fg, x0 = embedding_objective()
    options = {"learning_rate": 0.05, "maxiter": 20, "gtol": 0.0, "clip_norm": 1.0}
    host = numopt.minimize(fg, x0, jac=True, method="sparse_adam", options=options)
    start = cuda.to_device(x0) if x0_on == "device" else x0
    gpu = numopt.minimize(
        fg, start, jac=True, method="sparse_adam", options={**options, "device": "cuda"}
    )
    assert gpu.nit == host.nit == 20
    np.testing.assert_array_max_ulp(gpu.x, host.x, maxulp=MAXULP)
    np.testing.assert_array_equal(gpu.x[[1, 3]], x0[[1, 3]])
    assert gpu.fun < fg(x0)[0]


def test_minimize_steps_each_table_of_a_dict_on_the_device():
    """A dict x0: minimize gives SparseAdam the arrays' shapes (one table each)."""
    rng = np.random.default_rng(2)
    used, target = np.array([0, 2, 4]), rng.standard_normal((3, 2))

    def fg(p):
        p = {k: a if isinstance(a, np.ndarray) else a.copy_to_host() for k, a in p.items()}
        r = p["table"][used] + p["bias"] - target
        g_table = np.zeros_like(p["table"])
        g_table[used] = r
        return 0.5 * float(np.sum(r * r)), {"table": g_table, "bias": r.sum(axis=0)}

    x0 = {"table": rng.standard_normal((5, 2)), "bias": np.zeros(2)}
    options = {"learning_rate": 0.05, "maxiter": 15, "gtol": 0.0}
    host = numopt.minimize(fg, x0, jac=True, method="sparse_adam", options=options)
    gpu = numopt.minimize(
        fg, x0, jac=True, method="sparse_adam", options={**options, "device": "cuda"}
    )
    for key in x0:
        np.testing.assert_array_max_ulp(gpu.x[key], host.x[key], maxulp=MAXULP)
    np.testing.assert_array_equal(gpu.x["table"][[1, 3]], x0["table"][[1, 3]])


def test_minimize_with_bounds_on_the_device():
    fg, x0 = embedding_objective()
    bounds = scipy.optimize.Bounds(-0.4, 0.4)
    x0 = np.clip(x0, -0.4, 0.4)
    options = {"learning_rate": 0.1, "maxiter": 10, "gtol": 0.0}
    host = numopt.minimize(fg, x0, jac=True, method="sparse_adam", bounds=bounds, options=options)
    gpu = numopt.minimize(
        fg, x0, jac=True, method="sparse_adam", bounds=bounds, options={**options, "device": "cuda"}
    )
    np.testing.assert_array_max_ulp(gpu.x, host.x, maxulp=MAXULP)


# -- what is refused -------------------------------------------------------------------
@pytest.mark.parametrize("which", ["indices", "values"])
def test_a_host_table_refuses_device_indices_or_values(which):
    x = np.zeros((4, 2))
    idx, values = np.array([1]), np.ones((1, 2))
    g = (cuda.to_device(idx), values) if which == "indices" else (idx, cuda.to_device(values))
    with pytest.raises(TypeError, match=f"g's {which} is a CUDA device array but x is a host"):
        numopt.SparseAdam().step(x, g)
    np.testing.assert_array_equal(x, 0.0)


@pytest.mark.parametrize(
    ("g", "exc", "match"),
    [
        ((np.array([0.5]), np.ones((1, 2))), TypeError, "indices must be a 1-D integer array"),
        ((np.array([4]), np.ones((1, 2))), IndexError, r"lie in \[0, 4\) .* got 4"),
        ((np.array([0, 1]), np.ones((2, 3))), ValueError, r"values must have shape \(2, 2\)"),
        ((np.array([0]), np.ones((1, 2), np.float32)), TypeError, "x's dtype float64"),
    ],
)
def test_bad_device_gradients_are_named_and_change_nothing(g, exc, match):
    d_x = cuda.to_device(np.zeros((4, 2)))
    opt = numopt.SparseAdam()
    with pytest.raises(exc, match=match):
        opt.step(d_x, tuple(cuda.to_device(a) for a in g))
    np.testing.assert_array_equal(d_x.copy_to_host(), 0.0)
    assert opt.step_count == 0


def test_a_device_table_refuses_a_cpu_backend_and_a_host_dense_gradient():
    d_x = cuda.to_device(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="backend='serial' runs on the CPU"):
        numopt.SparseAdam(backend="serial").step(d_x, (np.array([1]), np.ones((1, 2))))
    with pytest.raises(TypeError, match="but g is a host array"):
        numopt.SparseAdam().step(d_x, np.ones((4, 2)))
