"""The transforms' kernels on device arrays (numopt.transforms), against the host.

Accumulation, EMA/Polyak, Lookahead and SAM run the CUDA kernel built from the same
element bodies as the CPU loops; their state stays on the device.  Small sizes:
the simulator runs each CUDA thread as a Python thread.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import config, cuda

import numopt

MAXULP = 4 if config.ENABLE_CUDASIM else 64

WRAPPERS = {
    "multisteps": lambda: numopt.MultiSteps(numopt.Adam(0.05), every_k=3),
    "lookahead": lambda: numopt.Lookahead(numopt.Adam(0.05), k=2, alpha=0.3),
    "ema": lambda: numopt.Averaged(numopt.Adam(0.05), numopt.EMA(0.8)),
    "ema-torch": lambda: numopt.Averaged(numopt.Adam(0.05), numopt.EMA(0.8, debias=False)),
    "polyak": lambda: numopt.Averaged(numopt.Adam(0.05), numopt.Polyak(start=1)),
    "all": lambda: numopt.Averaged(
        numopt.Lookahead(numopt.MultiSteps(numopt.Momentum(0.05), 2), k=2), numopt.EMA(0.5)
    ),
}


def problem(n, dtype, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(dtype), rng.standard_normal((steps, n)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(WRAPPERS))
def test_device_steps_match_the_host(case, dtype):
    x0, gs = problem(37, dtype)
    cpu, x = WRAPPERS[case](), x0.copy()
    gpu, d_x = WRAPPERS[case](), cuda.to_device(x0)
    for g in gs:
        cpu.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x, maxulp=MAXULP)
    for name, a in cpu.state_dict()["state"].items():
        b = gpu.state_dict()["state"][name]
        np.testing.assert_array_max_ulp(b, a, maxulp=MAXULP)
    if hasattr(cpu, "average"):
        np.testing.assert_array_max_ulp(gpu.average, cpu.average, maxulp=MAXULP)


def test_a_host_state_dict_continues_on_the_device():
    x0, gs = problem(17, np.float64, steps=9)
    cpu, x = WRAPPERS["all"](), x0.copy()
    for g in gs[:5]:
        cpu.step(x, g)
    gpu, d_x = WRAPPERS["all"](), cuda.to_device(x)
    gpu.load_state_dict(cpu.state_dict())
    for g in gs[5:]:
        cpu.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x, maxulp=MAXULP)
    np.testing.assert_array_max_ulp(gpu.average, cpu.average, maxulp=MAXULP)


@pytest.mark.parametrize("kind", ["ema", "polyak"])
def test_trackers_on_device_arrays(kind):
    xs = np.random.default_rng(1).standard_normal((5, 9))
    host = numopt.EMA(0.7) if kind == "ema" else numopt.Polyak()
    device = numopt.EMA(0.7) if kind == "ema" else numopt.Polyak()
    for x in xs:
        host.update(x)
        device.update(cuda.to_device(x))
    assert isinstance(device.average, np.ndarray)
    np.testing.assert_array_max_ulp(device.average, host.average, maxulp=MAXULP)
    with pytest.raises(ValueError, match="live on the GPU but x does not"):
        device.update(xs[0])


def quadratic(x):
    h = x if isinstance(x, np.ndarray) else x.copy_to_host()
    r = h - 1.0
    return 0.5 * float(r @ r), (r if isinstance(x, np.ndarray) else cuda.to_device(r))


def test_minimize_on_the_device_with_transforms():
    options = {
        "learning_rate": 0.1,
        "maxiter": 8,
        "gtol": 0.0,
        "lookahead": 3,
        "average": "polyak",
        "param_groups": [{"params": [1], "learning_rate": 0.05}],
    }
    x0 = [np.zeros(3), np.zeros(2)]

    def fun(xs):
        parts = [quadratic(x) for x in xs]
        return sum(f for f, _ in parts), [g for _, g in parts]

    host = numopt.minimize(fun, x0, jac=True, method="adam", options=options)
    device = numopt.minimize(
        fun, x0, jac=True, method="adam", options={**options, "device": "cuda"}
    )
    for a, b in zip(device.x, host.x, strict=True):
        np.testing.assert_array_max_ulp(a, b, maxulp=MAXULP)
    for a, b in zip(device.x_average, host.x_average, strict=True):
        np.testing.assert_array_max_ulp(a, b, maxulp=MAXULP)


def test_minimize_on_the_device_accumulates_micro_batches():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 3))
    y = X @ np.array([1.0, -1.0, 2.0])

    def loss(w, X, y):
        h = w if isinstance(w, np.ndarray) else w.copy_to_host()
        r = X @ h - y
        return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)  # a host gradient

    options = {"learning_rate": 0.1, "batch_size": 2, "accumulate": 4, "epochs": 2, "seed": 0}
    host = numopt.minimize(loss, np.zeros(3), args=(X, y), jac=True, method="sgd", options=options)
    device = numopt.minimize(
        loss,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method="sgd",
        options={**options, "device": "cuda"},
    )
    assert device.nit == host.nit == 4
    np.testing.assert_array_max_ulp(device.x, host.x, maxulp=MAXULP)


@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sam_climbs_and_returns_on_the_device(dtype, adaptive):
    x0, gs = problem(41, dtype, steps=8)
    cpu, x = numopt.SAM(numopt.Adam(0.05), rho=0.2, adaptive=adaptive), x0.copy()
    gpu, d_x = numopt.SAM(numopt.Adam(0.05), rho=0.2, adaptive=adaptive), cuda.to_device(x0)
    for g0, g1 in zip(gs[::2], gs[1::2], strict=True):
        cpu.perturb(x, g0)
        gpu.perturb(d_x, cuda.to_device(g0))
        np.testing.assert_array_max_ulp(d_x.copy_to_host(), x, maxulp=MAXULP)
        cpu.step(x, g1)
        gpu.step(d_x, cuda.to_device(g1))
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x, maxulp=MAXULP)


def test_minimize_on_the_device_with_sam():
    options = {"learning_rate": 0.1, "maxiter": 6, "gtol": 0.0, "sam": 0.1}
    host = numopt.minimize(quadratic, np.zeros(5), jac=True, method="adam", options=options)
    device = numopt.minimize(
        quadratic, np.zeros(5), jac=True, method="adam", options={**options, "device": "cuda"}
    )
    assert device.nfev == host.nfev == 13
    np.testing.assert_array_max_ulp(device.x, host.x, maxulp=MAXULP)
