"""The CUDA kernel of every rule against the NumPy reference, and the device API."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from numba import config, cuda

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rule_table import VARIANTS, make

import numopt

HP = {
    "gd": {"learning_rate": 0.05, "weight_decay": 0.01},
    "momentum": {"learning_rate": 0.05, "beta": 0.8},
    "nesterov": {"learning_rate": 0.05, "beta": 0.8},
    "rmsprop-inside": {"learning_rate": 0.01, "beta": 0.7, "eps": 1e-3},
    "rmsprop-outside": {"learning_rate": 0.01, "beta": 0.7, "eps": 1e-3},
    "adam": {"learning_rate": 0.01, "weight_decay": 0.1},
    "adamw": {"learning_rate": 0.01, "weight_decay": 0.1},
    "momentum-damped": {"learning_rate": 0.05, "beta": 0.8, "dampening": 0.3},
    "nesterov-damped": {"learning_rate": 0.05, "beta": 0.8, "dampening": 0.3},
    "rmsprop-decay": {"learning_rate": 0.01, "beta": 0.7, "eps": 1e-3},
    "rmsprop-centered": {"learning_rate": 0.01, "beta": 0.7, "eps": 1e-3},
    "rmsprop-momentum": {"learning_rate": 0.01, "beta": 0.7, "eps": 1e-3, "momentum": 0.6},
    "rmsprop-centered-momentum": {
        "learning_rate": 0.01,
        "beta": 0.7,
        "eps": 1e-3,
        "eps_placement": "outside",
        "weight_decay": 0.05,
    },
    "adam-amsgrad": {"learning_rate": 0.01, "weight_decay": 0.1},
    "adamw-amsgrad": {"learning_rate": 0.01, "weight_decay": 0.1},
    "adagrad": {"learning_rate": 0.05, "lr_decay": 0.1, "initial_accumulator_value": 0.5},
    "adadelta": {"learning_rate": 0.5, "rho": 0.8, "weight_decay": 0.1},
    "adamax": {"learning_rate": 0.01, "weight_decay": 0.1},
    "nadam": {"learning_rate": 0.01, "weight_decay": 0.1},
    "nadam-decoupled": {"learning_rate": 0.01, "weight_decay": 0.1},
    # RAdam's rectified phase starts at step 6: test_cuda_new_rules.py runs it longer
    "radam": {"learning_rate": 0.01, "weight_decay": 0.1},
    "radam-decoupled": {"learning_rate": 0.01, "weight_decay": 0.1},
    "rprop": {"learning_rate": 0.05, "etas": (0.4, 1.3), "step_sizes": (1e-3, 0.2)},
    "lion": {"learning_rate": 0.01, "weight_decay": 0.1},
    "lamb": {"learning_rate": 0.01, "weight_decay": 0.1},
    # issue 19; ASGD averages from step 3 (t0 = 1), ADOPT's first step only sets v
    "asgd": {"learning_rate": 0.05, "lambd": 0.1, "t0": 1.0, "weight_decay": 0.1},
    "adabelief": {"learning_rate": 0.01, "eps_root": 1e-10},
    "adabelief-nesterov": {"learning_rate": 0.01},
    "yogi": {"learning_rate": 0.01, "initial_accumulator_value": 0.5},
    "adan": {"learning_rate": 0.01, "weight_decay": 0.1},
    "adopt": {"learning_rate": 0.01, "beta2": 0.9},
    "adopt-nesterov": {"learning_rate": 0.01, "beta2": 0.9},
    "adopt-unclipped": {"learning_rate": 0.01, "beta2": 0.9},
    "ademamix": {"learning_rate": 0.01, "beta3": 0.9, "weight_decay": 0.1},
    "sign_sgd": {"learning_rate": 0.01},
    "signum": {"learning_rate": 0.01, "beta": 0.5},
    "lars": {"learning_rate": 0.5, "trust_coefficient": 0.1, "nesterov": True},
    "schedule_free_sgd": {"learning_rate": 0.05, "beta1": 0.8, "weight_decay": 0.1},
    "schedule_free_adamw": {"learning_rate": 0.01, "beta2": 0.9, "weight_decay": 0.1},
}
# The simulator computes like NumPy; a real GPU may contract a*b+c into an FMA.
MAXULP = 4 if config.ENABLE_CUDASIM else 64


def problem(n, dtype, steps=4, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    return x0, [rng.standard_normal(n).astype(dtype) for _ in range(steps)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 300])  # 300 > the simulator's grid: grid-stride
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cuda_kernel_matches_reference(variant, n, dtype):
    x0, grads = problem(n, dtype)
    ref = make(variant, "numpy", **HP[variant])
    x = x0.copy()
    for g in grads:
        ref.step(x, g)
    opt = make(variant, "auto", **HP[variant])
    d_x = cuda.to_device(x0)
    for g in grads:
        assert opt.step(d_x, cuda.to_device(g)) is d_x
    got = d_x.copy_to_host()
    assert got.dtype == dtype
    np.testing.assert_array_max_ulp(got, x, maxulp=MAXULP)
    for name, a in ref.state.items():
        np.testing.assert_array_max_ulp(opt.state[name].copy_to_host(), a, maxulp=MAXULP)


def test_multidimensional_device_array_is_updated_in_place():
    x0 = np.arange(12, dtype=np.float64).reshape(3, 4)
    d_x = cuda.to_device(x0)
    numopt.GD(0.5).step(d_x, cuda.to_device(np.ones_like(x0)))
    np.testing.assert_array_equal(d_x.copy_to_host(), x0 - 0.5)


def test_state_stays_on_device_and_state_dict_is_on_host():
    opt = numopt.Adam(0.1)
    d_x = cuda.to_device(np.ones(4, np.float32))
    opt.step(d_x, cuda.to_device(np.full(4, 2.0, np.float32)))
    assert not isinstance(opt.state["m"], np.ndarray)
    sd = opt.state_dict()
    assert isinstance(sd["state"]["m"], np.ndarray)
    np.testing.assert_allclose(sd["state"]["m"], 0.2, rtol=1e-6)


def test_cpu_state_dict_resumes_on_device():
    x0, grads = problem(17, np.float64, steps=6)
    cpu, x_cpu = numopt.Adam(0.01), x0.copy()
    for g in grads[:3]:
        cpu.step(x_cpu, g)
    gpu = numopt.Adam(0.01)
    gpu.load_state_dict(cpu.state_dict())
    d_x = cuda.to_device(x_cpu)
    for g in grads[3:]:
        cpu.step(x_cpu, g)
        gpu.step(d_x, cuda.to_device(g))
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x_cpu, maxulp=MAXULP)


def test_mixed_host_and_device_arrays_are_rejected():
    d_x = cuda.to_device(np.ones(3))
    with pytest.raises(TypeError, match=r"x is a CUDA device array \(.*\) but g is a host array"):
        numopt.Adam().step(d_x, np.ones(3))
    with pytest.raises(TypeError, match=r"x is a host array .* but g is a CUDA device array"):
        numopt.Adam().step(np.ones(3), d_x)


def test_device_arrays_are_checked():
    with pytest.raises(TypeError, match="x must have dtype float32 or float64"):
        numopt.GD().step(cuda.to_device(np.ones(3, np.int64)), cuda.to_device(np.ones(3, np.int64)))
    with pytest.raises(TypeError, match="g has dtype float32 but x has float64"):
        numopt.GD().step(cuda.to_device(np.ones(3)), cuda.to_device(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="g has shape"):
        numopt.GD().step(cuda.to_device(np.ones(3)), cuda.to_device(np.ones(4)))


def test_device_state_cannot_continue_on_host():
    opt = numopt.Momentum(0.1)
    opt.step(cuda.to_device(np.ones(3)), cuda.to_device(np.ones(3)))
    with pytest.raises(ValueError, match="state lives on the GPU"):
        opt.step(np.ones(3), np.ones(3))


@pytest.mark.parametrize("backend", ["serial", "parallel", "numpy"])
def test_cpu_backends_refuse_device_arrays(backend):
    d = cuda.to_device(np.ones(3))
    with pytest.raises(ValueError, match="runs on the CPU but x is a device array"):
        numopt.GD(backend=backend).step(d, cuda.to_device(np.ones(3)))
