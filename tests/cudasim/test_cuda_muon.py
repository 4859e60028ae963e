"""Muon on device arrays (numopt.rules.muon_cuda) against the host's NumPy/BLAS step.

The products are summed in another order than the BLAS, so the two agree to
rounding: relative 1e-10 in float64 and 1e-4 in float32 after several steps of
five Newton–Schulz iterations each.  Small matrices: the simulator runs each CUDA
thread as a Python thread.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import cuda

import numopt

TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}

OPTIONS = {
    "defaults": {},
    "plain": {"nesterov": False, "weight_decay": 0.0, "learning_rate": 0.05},
    "adamw-rms": {"adjust_lr_fn": "match_rms_adamw", "ns_steps": 3, "maximize": True},
    "clipped": {"clip_norm": 0.5, "clip_value": 0.05, "ns_steps": 0},
}


def trajectories(shape, dtype, options, steps=4, order="C", bounds=None):
    rng = np.random.default_rng(0)
    x0 = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    gs = [np.asarray(rng.standard_normal(shape), dtype=dtype, order=order) for _ in range(steps)]
    host, device = numopt.Muon(**options), numopt.Muon(**options)
    if bounds is not None:
        host.bounds = device.bounds = bounds
    x, d_x = x0.copy(order="K"), cuda.to_device(x0)
    for g in gs:
        host.step(x, g)
        device.step(d_x, cuda.to_device(g))
    return x, d_x.copy_to_host(), host, device


#: Every shape with the defaults in both dtypes; the other options on one shape each.
CASES = [
    *((shape, "defaults", dtype) for shape in [(5, 7), (7, 5), (2, 3, 4)]
      for dtype in (np.float32, np.float64)),
    *((shape, case, dtype) for case in sorted(set(OPTIONS) - {"defaults"})
      for shape, dtype in [((7, 5), np.float64), ((5, 7), np.float32)]),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "case", "dtype"), CASES)
def test_device_steps_match_the_host(shape, case, dtype):
    x, on_device, host, device = trajectories(shape, dtype, OPTIONS[case])
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(on_device, x, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        device.state_dict()["state"]["m"], host.state_dict()["state"]["m"], rtol=tol, atol=tol
    )


def test_fortran_order_and_bounds():
    x, on_device, _, _ = trajectories((6, 4), np.float64, {}, order="F", bounds=(-0.9, 0.9))
    np.testing.assert_allclose(on_device, x, rtol=1e-10, atol=1e-10)
    assert np.all(np.abs(on_device) <= 0.9)


def test_a_host_state_dict_continues_on_the_device():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6))
    gs = rng.standard_normal((6, 4, 6))
    host = numopt.Muon(learning_rate=0.02)
    for g in gs[:3]:
        host.step(x, g)
    device = numopt.Muon(learning_rate=0.02)
    device.load_state_dict(host.state_dict())
    d_x = cuda.to_device(x)
    for g in gs[3:]:
        host.step(x, g)
        device.step(d_x, cuda.to_device(g))
    np.testing.assert_allclose(d_x.copy_to_host(), x, rtol=1e-10, atol=1e-12)


def test_minimize_on_the_device_with_a_group_for_the_vector():
    target = {"w": np.arange(12.0).reshape(3, 4) / 10, "b": np.ones(3)}

    def fun(p):
        host = {k: (v if isinstance(v, np.ndarray) else v.copy_to_host()) for k, v in p.items()}
        r = {k: host[k] - target[k] for k in host}
        return 0.5 * sum(float(np.sum(v * v)) for v in r.values()), r

    options = {
        "learning_rate": 0.05,
        "maxiter": 5,
        "gtol": 0.0,
        "param_groups": [{"params": ["b"], "optimizer": numopt.AdamW(learning_rate=0.05)}],
    }
    x0 = {"w": np.zeros((3, 4)), "b": np.zeros(3)}
    host = numopt.minimize(fun, x0, jac=True, method="muon", options=options)
    device = numopt.minimize(
        fun, x0, jac=True, method="muon", options={**options, "device": "cuda"}
    )
    for key in x0:
        np.testing.assert_allclose(device.x[key], host.x[key], rtol=1e-10, atol=1e-12)
