"""Adafactor on the GPU against the host's step: a few ulps apart, state included.

The device sums rows by a shared-memory tree where the host adds lanes, so the
two agree to a few ulps (the column sums and the mean of r are the same bits).
Matrices are tiny: the simulator runs each CUDA thread as a Python thread.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import config, cuda

import numopt

MAXULP = 4 if config.ENABLE_CUDASIM else 64

HARD = {
    "learning_rate": 0.05,
    "weight_decay": 0.1,
    "maximize": True,
    "eps": (1e-20, 1e-2),
    "d": 1.3,
}

CASES = [
    ((5, 7), np.float64, {}, "C"),
    ((5, 7), np.float32, HARD, "C"),
    ((5, 7), np.float64, {"learning_rate": 0.03}, "F"),
    ((2, 3, 4), np.float32, {}, "C"),
    ((2, 3, 4), np.float64, HARD, "C"),
    ((6,), np.float64, HARD, "C"),
    ((6,), np.float32, {"beta2_decay": -0.5}, "C"),
    ((), np.float64, {}, "C"),
]


def problem(shape, dtype, order="C", steps=3, seed=0):
    rng = np.random.default_rng(seed)
    x0 = np.asarray(rng.standard_normal(shape), dtype, order=order)
    gs = [np.asarray(rng.standard_normal(shape), dtype, order=order) for _ in range(steps)]
    gs[-1][...] = 0  # a zero gradient: the factors decay, u at the ε₁ floor where V is 0
    return x0, gs


def assert_close(device, host):
    """Within MAXULP ulps of each value, or of the array's largest where θ - s u
    cancels (an entry near 0 among entries near 1)."""
    got, eps = device.copy_to_host(), np.finfo(host.dtype).eps
    scale = float(np.abs(host).max(initial=0.0))
    np.testing.assert_allclose(got, host, rtol=MAXULP * eps, atol=MAXULP * eps * scale)


def assert_state_close(device, host):
    """The factors: sums of squares, no cancellation: within MAXULP ulps each."""
    np.testing.assert_array_max_ulp(device.copy_to_host(), host, maxulp=MAXULP)


@pytest.mark.parametrize(("shape", "dtype", "hp", "order"), CASES, ids=str)
def test_steps_match_the_host(shape, dtype, hp, order):
    x0, gs = problem(shape, dtype, order)
    ref, x = numopt.Adafactor(backend="numpy", **hp), x0.copy(order="K")
    gpu, d_x = numopt.Adafactor(**hp), cuda.to_device(x0)
    for g in gs:
        ref.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    assert_close(d_x, x)
    assert_state_close(gpu.state["v"], ref.state["v"])
    assert gpu.state["v"].shape == ref.state["v"].shape


def test_clipping_and_shapes_on_the_device():
    x0, gs = problem((12,), np.float64)
    hp = {"clip_norm": 0.5, "shapes": [(2, 3), (6,)], "learning_rate": 0.1}
    ref, x = numopt.Adafactor(backend="numpy", **hp), x0.copy()
    gpu, d_x = numopt.Adafactor(**hp), cuda.to_device(x0)
    for g in gs:
        ref.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    assert_close(d_x, x)
    assert gpu.state["v"].shape == (2 + 3 + 6,)


def test_a_host_state_dict_continues_on_the_device():
    x0, gs = problem((4, 3), np.float64, steps=5)
    cpu, x = numopt.Adafactor(learning_rate=0.03), x0.copy()
    for g in gs[:3]:
        cpu.step(x, g)
    gpu = numopt.Adafactor(learning_rate=0.03)
    gpu.load_state_dict(cpu.state_dict())
    d_x = cuda.to_device(x)
    for g in gs[3:]:
        cpu.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    assert_close(d_x, x)
    assert_state_close(gpu.state["v"], cpu.state["v"])
    assert gpu.state_dict()["shape"] == [4, 3]


def test_minimize_on_the_device_follows_the_host():
    rng = np.random.default_rng(3)
    a, target = rng.uniform(0.5, 2.0, (3, 4)), rng.standard_normal((3, 4))

    seen = []

    def fg(x):
        seen.append(isinstance(x, np.ndarray))
        host = x if isinstance(x, np.ndarray) else x.copy_to_host()
        r = host - target
        g = a * r
        return 0.5 * float(np.sum(a * r * r)), (
            g if isinstance(x, np.ndarray) else cuda.to_device(g)
        )

    options = {"learning_rate": 0.05, "maxiter": 4, "gtol": 0.0}
    x0 = np.zeros((3, 4))
    host = numopt.minimize(fg, x0, jac=True, method="adafactor", options=options)
    assert all(seen)
    seen.clear()
    dev = numopt.minimize(
        fg, x0, jac=True, method="adafactor", options={**options, "device": "cuda"}
    )
    assert_close(cuda.to_device(np.asarray(dev.x)), host.x)
    assert dev.nit == host.nit == 4
    assert not any(seen)  # the device run's x: device arrays
