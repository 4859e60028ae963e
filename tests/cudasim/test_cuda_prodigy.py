"""Prodigy on the GPU (:mod:`numopt.rules.prodigy_cuda`) against the same steps on the host.

The device adds each block of its two sums by a tree, the CPU in order, and so the
estimate d differs in its last bits, and with it every later step (m, v and s scale
with d and d²; a θ near 0 collects the step's relative error).  So the device is held
to the host in two ways:

* exactly, in the device's order: the host's NumPy reference with its sums taken in
  the device's order (:func:`tree_sum` patched in for ``prodigy._block_sum``) gives θ
  and the state to :data:`MAXULP` and d to a relative ``1e-12`` (bit for bit in the
  simulator; on a real GPU, where the kernels may contract ``a*b + c`` into an FMA, d
  moves in its last bits and the arrays are held as in the next point);
* near the CPU's own steps (``"auto"``), to a relative ``1e-12`` of each array's scale
  in float64 (``1e-5`` in float32).

Every run feeds both sides the host's gradients (those of ½ Σ A (x − B)² at the host's
x), so a difference shows in one step and does not grow through the gradients.  Sizes
are small: the simulator runs each CUDA thread as a Python thread; the two tests of the
sums themselves take three blocks of 2048.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import config, cuda

import numopt
from numopt.kernels import reduce
from numopt.rules import prodigy, prodigy_cuda

SIMULATOR = bool(config.ENABLE_CUDASIM)
MAXULP = 4 if SIMULATOR else 64
#: The estimate's relative tolerance by dtype (a float32 θ that differs by an ulp moves
#: the next ⟨g, x₀ − θ⟩ by about float32's ε).
D_RTOL = {np.float32: 1e-5, np.float64: 1e-12}

CASES = {
    "defaults": {},
    "decay-warmup-beta3": {
        "weight_decay": 0.1,
        "safeguard_warmup": True,
        "beta3": 0.95,
        "beta2": 0.99,
    },
    "maximize": {"maximize": True},
    "clip_norm": {"clip_norm": 0.5},
    "clip_value": {"clip_value": 0.3},
    "schedule": {"learning_rate": lambda k: 1.0 / (1.0 + k / 4)},
    "coef": {"estim_lr0": 1e-3, "estim_lr_coef": 2.0, "beta1": 0.8, "eps": 1e-6},
}


def tree_sum(w):
    """Σ w in the device's order: blocks of 2048 (zero-padded), neighbours paired, a
    halving tree, then the blocks' partials in order from 0 (all in float64)."""
    total = 0.0
    for k in range(0, w.size, reduce.BLOCK):
        q = np.zeros(reduce.BLOCK)
        block = w[k : k + reduce.BLOCK]
        q[: block.size] = block
        q = q[0::2] + q[1::2]
        while q.size > 1:
            h = q.size // 2
            q = q[:h] + q[h:]
        total += q[0]
    return total


@pytest.fixture
def device_order(monkeypatch):
    """The host's NumPy reference sums in the device's order (for ``backend="numpy"``)."""
    monkeypatch.setattr(prodigy, "_block_sum", tree_sum)


def problem(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, n).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    return rng.standard_normal(n).astype(dtype), a, b


def gradient(x, a, b, maximize=False):
    """∇ of ½ Σ a (x − b)², or of its negative for ``maximize`` (so both go to b)."""
    g = (a * (x - b)).astype(x.dtype)
    return -g if maximize else g


def run_both(host, device, x, d_x, a, b, steps, maximize=False):
    """``steps`` steps of ``host`` on ``x`` and ``device`` on ``d_x``, the host's gradients."""
    for _ in range(steps):
        g = gradient(x, a, b, maximize)
        host.step(x, g)
        device.step(d_x, cuda.to_device(g))


def assert_equal(got, want):
    """To :data:`MAXULP` in the simulator; on a real GPU as :func:`assert_near`."""
    if SIMULATOR:
        np.testing.assert_array_max_ulp(got, want, maxulp=MAXULP)
    else:  # pragma: no cover - real GPU
        assert_near(got, want)


def assert_same(host, device, x, d_x):
    """θ and the state by :func:`assert_equal`, the estimate to :data:`D_RTOL`."""
    dtype = x.dtype.type
    assert_equal(d_x.copy_to_host(), x)
    for name, s in host.state.items():
        assert not isinstance(device.state[name], np.ndarray)  # the state stays on the device
        assert_equal(device.state[name].copy_to_host(), s)
    assert_same_estimate(host, device, dtype)


def assert_same_estimate(host, device, dtype):
    np.testing.assert_allclose(device.estimate, host.estimate, rtol=D_RTOL[dtype])
    want, got = host.state_dict()["estimate"], device.state_dict()["estimate"]
    np.testing.assert_allclose(got["numerator"], want["numerator"], rtol=D_RTOL[dtype])


def assert_near(got, want):
    """Equal to a relative ``1e-12`` (float64; ``1e-5`` float32) of ``want``'s scale."""
    tol = D_RTOL[want.dtype.type]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


# -- optimizer steps ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ten_steps_equal_the_host_in_the_device_order(device_order, case, dtype):
    hp = CASES[case]
    x0, a, b = problem(70, dtype)
    host, x = numopt.Prodigy(backend="numpy", **hp), x0.copy()
    device, d_x = numopt.Prodigy(**hp), cuda.to_device(x0)
    run_both(host, device, x, d_x, a, b, 10, hp.get("maximize", False))
    assert device.step_count == 10
    assert host.estimate > hp.get("estim_lr0", 1e-6)  # the estimate has grown
    assert_same(host, device, x, d_x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ten_steps_are_near_the_cpu(case, dtype):
    hp = CASES[case]
    x0, a, b = problem(70, dtype)
    host, x = numopt.Prodigy(**hp), x0.copy()
    device, d_x = numopt.Prodigy(**hp), cuda.to_device(x0)
    run_both(host, device, x, d_x, a, b, 10, hp.get("maximize", False))
    assert_near(d_x.copy_to_host(), x)
    for name, s in host.state.items():
        assert_near(device.state[name].copy_to_host(), s)
    assert_same_estimate(host, device, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bounds_clamp_on_the_device(device_order, dtype):
    x0, a, b = problem(40, dtype, seed=1)
    x0 = np.clip(x0, -0.5, 0.5)
    lo = np.full(40, -0.5, dtype)
    host, x = numopt.Prodigy(estim_lr0=1e-2, backend="numpy"), x0.copy()
    device, d_x = numopt.Prodigy(estim_lr0=1e-2), cuda.to_device(x0)
    host.bounds = (lo, 0.5)
    device.bounds = (cuda.to_device(lo), 0.5)
    run_both(host, device, x, d_x, a, b, 10)
    got = d_x.copy_to_host()
    assert got.min() >= -0.5 and got.max() <= 0.5
    assert np.any(got == 0.5) and np.any(got == -0.5)  # the box was reached
    assert_same(host, device, x, d_x)


def test_host_state_dict_continues_on_the_device(device_order):
    x0, a, b = problem(50, np.float64, seed=2)
    hp = {"weight_decay": 0.05, "learning_rate": lambda k: 1.0 / (1.0 + k / 10)}
    host, x = numopt.Prodigy(backend="numpy", **hp), x0.copy()
    for _ in range(5):
        host.step(x, gradient(x, a, b))
    saved = host.state_dict()
    device = numopt.Prodigy(**hp)
    device.load_state_dict(saved)
    d_x = cuda.to_device(x)
    run_both(host, device, x, d_x, a, b, 5)
    assert device.step_count == 10
    assert_same(host, device, x, d_x)


def test_device_state_dict_continues_on_the_host(device_order):
    x0, a, b = problem(50, np.float64, seed=4)
    host, x = numopt.Prodigy(backend="numpy"), x0.copy()
    device, d_x = numopt.Prodigy(), cuda.to_device(x0)
    run_both(host, device, x, d_x, a, b, 5)
    saved = device.state_dict()
    assert all(type(s) is np.ndarray for s in saved["state"].values())
    again, y = numopt.Prodigy(backend="numpy"), d_x.copy_to_host()
    again.load_state_dict(saved)
    for _ in range(5):
        g = gradient(x, a, b)
        host.step(x, g)
        again.step(y, g)
    assert_equal(y, x)
    assert_same_estimate(host, again, np.float64)


class Exported:
    """A host buffer exported through ``__cuda_array_interface__`` (CuPy's and torch's
    way); in the simulator device memory is host memory, so a step updates it in place."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    @property
    def __cuda_array_interface__(self) -> dict:
        a = self.a
        return {"shape": a.shape, "typestr": a.dtype.str, "data": (a.ctypes.data, False)}


@pytest.mark.skipif(not SIMULATOR, reason="reads a host buffer through the interface")
def test_interface_arrays_step_in_place(device_order):
    x0, a, b = problem(24, np.float32, seed=8)
    host, x = numopt.Prodigy(backend="numpy", estim_lr0=1e-3), x0.copy()
    device, y = numopt.Prodigy(estim_lr0=1e-3), x0.reshape(4, 6).copy()
    exported = Exported(y)
    for _ in range(6):
        g = gradient(x, a, b)
        host.step(x, g)
        assert device.step(exported, Exported(g.reshape(4, 6))) is exported
    assert_equal(y.reshape(-1), x)  # the exporter's own buffer moved
    assert_same_estimate(host, device, np.float32)


def test_state_on_the_device_refuses_host_x():
    device = numopt.Prodigy()
    device.step(cuda.to_device(np.ones(3)), cuda.to_device(np.ones(3)))
    with pytest.raises(ValueError, match="state lives on the GPU"):
        device.step(np.ones(3), np.ones(3))


@pytest.mark.parametrize("backend", ["serial", "parallel", "numpy"])
def test_cpu_backends_refuse_device_arrays(backend):
    opt = numopt.Prodigy(backend=backend)
    with pytest.raises(ValueError, match="runs on the CPU but x is a device array"):
        opt.step(cuda.to_device(np.ones(3)), cuda.to_device(np.ones(3)))
    assert opt.step_count == 0


# -- the sums of pass 1 ------------------------------------------------------------------
@pytest.mark.parametrize("grid", [1, None])
def test_sums_follow_the_tree_for_any_grid(monkeypatch, grid):
    n = 2 * reduce.BLOCK + 99  # three blocks, the last one short (and of odd length)
    rng = np.random.default_rng(6)
    g, x0, theta, m, v, s = (rng.standard_normal(n) for _ in range(6))
    v = v * v
    c = (0.5, 0.9, 0.1, 0.999, 0.001, 0.95, 0.25, 1e-6, -1.0)
    if grid is not None:
        monkeypatch.setattr(prodigy_cuda, "grid_size", lambda nb: grid)
    arrays = [cuda.to_device(a) for a in (g, x0, theta, m, v, s)]
    along, l1 = prodigy_cuda.moments(*arrays, tuple(np.float64(a) for a in c))
    gi = g * c[8]
    dg = c[0] * gi
    s_new = s * c[5] + c[6] * dg / c[7]
    np.testing.assert_array_max_ulp(arrays[5].copy_to_host(), s_new, maxulp=MAXULP)
    np.testing.assert_array_max_ulp(arrays[3].copy_to_host(), m * c[1] + c[2] * dg, MAXULP)
    np.testing.assert_array_equal(arrays[2].copy_to_host(), theta)  # θ: pass 2's
    assert along == tree_sum(gi * (x0 - theta))  # the product rounded, never contracted
    if SIMULATOR:  # on a GPU s itself may differ in its last bit (FMA)
        assert l1 == tree_sum(np.abs(s_new))
    else:  # pragma: no cover - real GPU
        np.testing.assert_allclose(l1, tree_sum(np.abs(s_new)), rtol=1e-14)


def test_empty_x_is_a_step_that_changes_nothing():
    opt = numopt.Prodigy()
    opt.step(cuda.to_device(np.zeros(0)), cuda.to_device(np.zeros(0)))
    assert opt.step_count == 1 and opt.estimate == 1e-6


# -- minimize ----------------------------------------------------------------------------
A, B = problem(16, np.float64, seed=7)[1:]


def quadratic(x):
    """f and ∇f of ½ Σ A (x − B)²: the gradient on the device when x is."""
    h = x if isinstance(x, np.ndarray) else x.copy_to_host()
    r = h - B.astype(h.dtype)
    g = (A.astype(h.dtype) * r).astype(h.dtype)
    f = 0.5 * float(r @ (A * r))
    return f, (g if isinstance(x, np.ndarray) else cuda.to_device(g))


MINIMIZE = {"maxiter": 12, "estim_lr0": 1e-3, "learning_rate": lambda k: 1.0 / (1.0 + k / 8)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", ["options", "x0"])
def test_minimize_on_the_device_equals_the_host(device_order, where, dtype):
    x0 = np.zeros(16, dtype)
    hp = {k: v for k, v in MINIMIZE.items() if k != "maxiter"}
    host, device = numopt.Prodigy(backend="numpy", **hp), numopt.Prodigy(**hp)
    options = {"maxiter": MINIMIZE["maxiter"], "history": True}
    ref = numopt.minimize(quadratic, x0, jac=True, method=host, options=options)
    if where == "options":
        res = numopt.minimize(
            quadratic, x0, jac=True, method=device, options={**options, "device": "cuda"}
        )
    else:
        d_x0 = cuda.to_device(x0)
        res = numopt.minimize(quadratic, d_x0, jac=True, method=device, options=options)
        np.testing.assert_array_equal(d_x0.copy_to_host(), 0)  # x0 untouched
    assert res.nit == ref.nit == MINIMIZE["maxiter"]
    assert type(res.x) is np.ndarray and res.x.dtype == dtype
    assert_equal(res.x, ref.x)
    np.testing.assert_allclose(res.history["fun"], ref.history["fun"], rtol=1e-6)
    assert host.estimate > 1e-3 and device.step_count == MINIMIZE["maxiter"]
    assert_same_estimate(host, device, dtype)


def test_minimize_by_name_with_bounds_on_the_device(device_order):
    x0 = np.zeros(16)
    options = {**MINIMIZE, "history": True}
    bounds = [(-0.01, 0.01)] * 16
    ref = numopt.minimize(
        quadratic,
        x0,
        jac=True,
        method="prodigy",
        bounds=bounds,
        options={**options, "backend": "numpy"},
    )
    res = numopt.minimize(
        quadratic,
        x0,
        jac=True,
        method="prodigy",
        bounds=bounds,
        options={**options, "device": "cuda"},
    )
    assert np.abs(res.x).max() <= 0.01 and np.any(np.abs(res.x) == 0.01)
    assert_equal(res.x, ref.x)


def test_minimize_near_the_cpu():
    x0 = np.zeros(16)
    ref = numopt.minimize(quadratic, x0, jac=True, method="prodigy", options=MINIMIZE)
    res = numopt.minimize(
        quadratic, x0, jac=True, method="prodigy", options={**MINIMIZE, "device": "cuda"}
    )
    assert_near(res.x, ref.x)
